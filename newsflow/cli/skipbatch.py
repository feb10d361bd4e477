"""``newsflow deadletter skip``: move the workers past a record batch they cannot decode.

A worker that meets such a batch pauses its partition and names it (log, ``/healthz``),
with this command filled in (see ``processors/worker/undecodable.py``). Check the reason first: a
codec library missing from the worker's installation is fixed by installing it, not by
skipping. The command refuses while a worker of the namespace runs (Kafka does not let
anyone move the offsets of a group with members), and unless the group's committed offset
of the partition is the batch's first offset. It writes one dead letter per skipped offset
to ``<ns>.deadletter`` (error ``undecodable_batch``, empty value: the bytes could not be
read), then commits the offset after the batch; the workers index the letters when started.
"""

from __future__ import annotations

import click

from newsflow.core.errors import ConfigError, InvalidArticle
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from schemas.deadletter import DeadLetter

MAX_SKIP = 100_000  # a batch holds far fewer; a bigger range is a typo


def skipped_letters(
    topic: str, partition: int, first: int, end: int, reason: str
) -> list[DeadLetter]:
    """One dead letter for each offset of ``[first, end)``, none with readable bytes."""
    from processors.stages.deadletter import dead_letter

    error = InvalidArticle("undecodable_batch", reason)
    return [
        dead_letter(
            b"", None, error, stage="fetch", topic=topic, partition=partition, offset=offset
        )
        for offset in range(first, end)
    ]


def _commit(settings: Settings, group: str, topic: str, partition: int, offset: int) -> None:
    """Commit ``offset`` for the group; a one-line error while the group has members."""
    from kafka import TopicPartition
    from kafka.errors import NoError
    from kafka.structs import OffsetAndMetadata

    from newsflow.core.clients import kafka_admin

    admin = kafka_admin(settings)
    try:
        tp = TopicPartition(topic, partition)
        result = admin.alter_group_offsets(group, {tp: OffsetAndMetadata(offset, "", -1)})
    finally:
        admin.close()
    error = result.get(tp, NoError)
    if error is not NoError:
        raise ConfigError(
            f"cannot move the offsets of {group} ({error.__name__}): stop its workers first"
        )


def _send(settings: Settings, topic: str, letters: list[DeadLetter]) -> None:
    from newsflow.core.clients import kafka_producer
    from processors.stages.deadletter import dead_letter_id
    from schemas import codec

    producer = kafka_producer(settings)
    try:
        futures = [
            producer.send(topic, key=dead_letter_id(letter).encode(), value=codec.dumps(letter))
            for letter in letters
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


@click.command()
@click.option("--topic", required=True, help="Topic of the batch, as the worker names it.")
@click.option("--partition", type=click.IntRange(0), required=True, help="Its partition.")
@click.option("--offset", type=click.IntRange(0), required=True, help="Its first offset.")
@click.option(
    "--to",
    "end",
    type=click.IntRange(1),
    required=True,
    help="The offset after the batch (the worker names it).",
)
@click.option("--reason", default="record batch the worker could not decode", show_default=True)
def skip(topic: str, partition: int, offset: int, end: int, reason: str) -> None:
    """Dead-letter the undecodable record batch [OFFSET, TO) and move the workers past it.

    Stop the namespace's workers first; start them again after.
    """
    from newsflow.cli.offsets import committed_offsets

    if not offset < end <= offset + MAX_SKIP:
        raise ConfigError(f"--to must be after --offset, by at most {MAX_SKIP}")
    settings = load_settings()
    names = Names(settings.namespace)
    group = names.app_id
    committed = committed_offsets(settings, group).get((topic, partition))
    if committed != offset:
        raise ConfigError(
            f"{group} has committed {committed} on {topic}:{partition}, not {offset}: "
            "nothing to skip there"
        )
    _commit(settings, group, topic, partition, offset)  # a no-op that fails with members
    letters = skipped_letters(topic, partition, offset, end, reason)
    _send(settings, names.deadletter_topic, letters)
    _commit(settings, group, topic, partition, end)
    click.echo(
        f"skipped {topic}:{partition} offsets {offset}..{end - 1}: {len(letters)} dead letters "
        f"to {names.deadletter_topic}; {group} resumes at {end}"
    )
