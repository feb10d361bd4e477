"""``newsflow replay``: the command-line adapter of :mod:`producers.replay`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from newsflow.core.settings import load_settings
from newsflow.core.waiting import maybe_waiting, wait_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--rate", type=float, default=None, help="At most this many articles per second.")
@click.option(
    "--speedup",
    type=float,
    default=None,
    help="Event-time replay: keep the gaps between published_at, divided by X.",
)
@click.option("--loop", is_flag=True, help="Start again at the end, until interrupted.")
@click.option(
    "--tag",
    metavar="NAME",
    default=None,
    help="Mark every article with replay_tag: NAME, so that dashboards can filter the replay "
    "out (letters, digits, '.', '_', ':', '-').",
)
@click.option(
    "--no-alerts",
    is_flag=True,
    help="The articles of this replay fire no alert (alerts_suppressed: true).",
)
@click.option(
    "--send-invalid",
    is_flag=True,
    help="Also publish records that are not valid articles (to exercise the dead-letter path).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@wait_option
def replay(
    paths: tuple[Path, ...],
    rate: float | None,
    speedup: float | None,
    loop: bool,
    tag: str | None,
    no_alerts: bool,
    send_invalid: bool,
    quiet: bool,
    wait: bool,
) -> None:
    """Replay corpus files or folders (.txt, .jsonl, .json, and .gz of them) to <ns>.raw.

    Each record is keyed by its article id and every send is confirmed by Kafka (acks=all);
    invalid records are listed with file and line and skipped. An article already indexed
    takes the tag (or its absence) of the latest replay that sent it.
    """
    from tqdm import tqdm

    from newsflow.core.bootstrap import ensure_topics
    from newsflow.core.clients import kafka_producer
    from newsflow.core.names import Names
    from producers.files import corpus_files
    from producers.replay import Pacer, check_pacing, records, replay_stamp
    from producers.replay import replay as run_replay

    check_pacing(rate, speedup)
    stamp = replay_stamp(tag, no_alerts)
    settings = load_settings()
    names = Names(settings.namespace)
    corpus_files(list(paths))  # fail fast on a bad path, before connecting

    def connect() -> Any:
        ensure_topics(settings, names)
        return kafka_producer(settings)

    producer = maybe_waiting(wait, connect, "replay")
    try:
        with tqdm(desc=f"replay → {names.raw_topic}", unit=" articles", disable=quiet) as bar:
            summary = run_replay(
                producer,
                names.raw_topic,
                records(list(paths), loop, stamp),
                pacer=Pacer(rate, speedup),
                send_invalid=send_invalid,
                on_sent=lambda: bar.update(1),
            )
    finally:
        producer.close(timeout=10)
    for path, line, why in summary.skipped:
        click.echo(f"skipped {path}:{line}: {why}", err=True)
    for failure in summary.failed:
        click.echo(f"failed {failure}", err=True)
    click.echo(
        f"sent {summary.sent} to {names.raw_topic}; {len(summary.skipped)} invalid"
        f"{' (sent anyway)' if send_invalid else ' skipped'}; {len(summary.failed)} failed"
    )
    if summary.failed:
        raise SystemExit(1)
