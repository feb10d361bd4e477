"""``newsflow deadletter list|requeue``: read the dead letters, send fixed ones back.

Dead letters are searched in ``<ns>-deadletter`` (the worker indexes every one). A
requeue re-sends the ORIGINAL bytes of each chosen letter to ``<ns>.raw`` (every send
confirmed by Kafka), then marks the letter with ``requeued_at``, so that the same letter is
not requeued twice by accident. A requeued message that fails again becomes a new dead
letter (with its new offset); one that now passes becomes an article.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from newsflow.cli.skipbatch import skip
from newsflow.core.errors import ConfigError, PipelineError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from schemas.deadletter import DeadLetter

REQUEUED_MAPPING = {"requeued_at": {"type": "date"}}
_REASON_WIDTH = 60


@dataclass(frozen=True)
class Stored:
    """A dead letter as stored in ``<ns>-deadletter``, with its document id."""

    id: str
    letter: DeadLetter


def selection(
    kinds: Sequence[str] = (), ids: Sequence[str] = (), pending_only: bool = False
) -> dict[str, Any]:
    """The Elasticsearch query for dead letters of ``kinds`` and/or ``ids``."""
    filters: list[dict[str, Any]] = []
    if kinds:
        filters.append({"terms": {"error": list(kinds)}})
    if ids:
        filters.append({"ids": {"values": list(ids)}})
    must_not = [{"exists": {"field": "requeued_at"}}] if pending_only else []
    return {"bool": {"filter": filters, "must_not": must_not}}


def row(stored: Stored) -> dict[str, Any]:
    """One dead letter for ``list --json``: where, when, why, and the original value."""
    letter = stored.letter
    return {
        "id": stored.id,
        "failed_at": letter.failed_at.isoformat(),
        "stage": letter.stage,
        "error": letter.error,
        "reason": letter.reason,
        "topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "requeued_at": letter.requeued_at.isoformat() if letter.requeued_at else None,
        "value": letter.value,
        "value_encoding": letter.value_encoding,
    }


def table(letters: Sequence[Stored], total: int) -> Iterator[str]:
    """The lines of ``list``: newest first, one letter a line, the reason shortened."""
    yield f"{'failed at':<20} {'stage':<8} {'error':<22} {'origin (id)':<34} reason"
    for stored in letters:
        letter = stored.letter
        when = letter.failed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        reason = " ".join(letter.reason.split())
        if len(reason) > _REASON_WIDTH:
            reason = reason[: _REASON_WIDTH - 1] + "…"
        mark = " [requeued]" if letter.requeued_at else ""
        yield f"{when:<20} {letter.stage:<8} {letter.error:<22} {stored.id:<34} {reason}{mark}"
    yield f"{len(letters)} of {total} dead letters shown"


def plan(found: Iterable[Stored], again: bool) -> tuple[list[Stored], list[Stored]]:
    """Split the chosen letters into those to send and those already requeued."""
    send: list[Stored] = []
    skip: list[Stored] = []
    for stored in found:
        (skip if stored.letter.requeued_at and not again else send).append(stored)
    return send, skip


# --- adapters: Elasticsearch and Kafka ---------------------------------------------------


def _stored(hit: dict[str, Any]) -> Stored:
    return Stored(hit["_id"], DeadLetter.model_validate(hit["_source"]))


def search(es: Any, index: str, query: dict[str, Any], limit: int) -> tuple[list[Stored], int]:
    """The newest ``limit`` dead letters matching ``query``, and how many match in all."""
    response = es.search(
        index=index,
        query=query,
        size=limit,
        sort=[{"failed_at": "desc"}, {"offset": "desc"}],
        track_total_hits=True,
        ignore_unavailable=True,  # no index yet: no dead letters
    )
    hits = response["hits"]
    return [_stored(h) for h in hits["hits"]], int(hits["total"]["value"])


def fetch(es: Any, index: str, query: dict[str, Any]) -> list[Stored]:
    """Every dead letter matching ``query``, oldest first (the order they are re-sent in)."""
    from elasticsearch.helpers import scan

    body = {"query": query, "sort": [{"failed_at": "asc"}, {"offset": "asc"}]}
    hits = scan(es, index=index, query=body, preserve_order=True, ignore_unavailable=True)
    return [_stored(h) for h in hits]


def send(settings: Settings, topic: str, letters: Sequence[Stored]) -> list[tuple[int, int]]:
    """Send each letter's original bytes (and key) to ``topic``; (partition, offset) each."""
    from newsflow.core.clients import kafka_producer

    producer = kafka_producer(settings)
    try:
        futures = [
            producer.send(
                topic,
                key=s.letter.key.encode("utf-8") if s.letter.key is not None else None,
                value=s.letter.original_bytes(),
            )
            for s in letters
        ]
        producer.flush()
        return [(meta.partition, meta.offset) for meta in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close(timeout=10)


def mark_requeued(es: Any, index: str, ids: Sequence[str], when: datetime) -> None:
    """Set ``requeued_at`` on the letters, visible to the next search when this returns."""
    # Indices made before the field existed get it now (adding a field is always allowed).
    es.indices.put_mapping(index=index, properties=REQUEUED_MAPPING)
    operations: list[dict[str, Any]] = []
    for doc_id in ids:
        operations.append({"update": {"_index": index, "_id": doc_id}})
        operations.append({"doc": {"requeued_at": when.isoformat()}})
    response = es.bulk(operations=operations, refresh="wait_for")
    if response.get("errors"):
        failed = [i["update"] for i in response["items"] if i["update"].get("error")]
        first = failed[0]
        raise PipelineError(
            f"sent, but {len(failed)} dead letters not marked requeued "
            f"(first: {first['_id']}: {first['error'].get('reason', first['error'])})"
        )


# --- the commands ------------------------------------------------------------------------


@click.group()
def deadletter() -> None:
    """Dead letters of the namespace: list them; requeue them after a fix; skip a batch."""


@deadletter.command("list")
@click.option("--error", "kinds", multiple=True, help="Only this error kind (repeatable).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, with the value.")
def list_letters(kinds: tuple[str, ...], limit: int, as_json: bool) -> None:
    """The newest dead letters: when, stage, error, reason and where they were read."""
    from newsflow.core.clients import es_client

    settings = load_settings()
    es = es_client(settings)
    try:
        index = Names(settings.namespace).deadletter_index
        letters, total = search(es, index, selection(kinds), limit)
    finally:
        es.close()
    if as_json:
        for stored in letters:
            click.echo(json.dumps(row(stored), ensure_ascii=False))
        return
    for line in table(letters, total):
        click.echo(line)


@deadletter.command()
@click.option("--error", "kinds", multiple=True, help="Requeue letters of this error kind.")
@click.option("--id", "ids", multiple=True, help="Requeue this letter (id as listed).")
@click.option("--all", "everything", is_flag=True, help="Requeue every pending letter.")
@click.option("--again", is_flag=True, help="Also requeue letters that were requeued before.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and mark nothing.")
def requeue(
    kinds: tuple[str, ...], ids: tuple[str, ...], everything: bool, again: bool, dry_run: bool
) -> None:
    """Send the original bytes of chosen dead letters to <ns>.raw again, after a fix.

    Each send is confirmed by Kafka before the letter is marked requeued; a marked letter
    is skipped unless --again is given.
    """
    from newsflow.core.clients import es_client

    if not (kinds or ids or everything):
        raise ConfigError("say which dead letters to requeue: --error KIND, --id ID or --all")
    settings = load_settings()
    names = Names(settings.namespace)
    es = es_client(settings)
    try:
        found = fetch(es, names.deadletter_index, selection(kinds, ids, pending_only=not again))
        missing = sorted(set(ids) - {s.id for s in found})
        if missing and not again:
            # Skipped as requeued, or no such letter: look them up to say which.
            found += fetch(es, names.deadletter_index, selection(kinds, missing))
            missing = sorted(set(ids) - {s.id for s in found})
        if missing:
            raise ConfigError(f"no dead letter with id {', '.join(missing)}")
        to_send, skipped = plan(found, again)
        for stored in skipped:
            when = stored.letter.requeued_at.isoformat() if stored.letter.requeued_at else "?"
            click.echo(f"skipped {stored.id}: requeued at {when} (--again to send it again)")
        if dry_run:
            for stored in to_send:
                click.echo(f"would requeue {stored.id} ({stored.letter.error}) → {names.raw_topic}")
            click.echo(f"dry run: {len(to_send)} would be sent to {names.raw_topic}; none sent")
            return
        if not to_send:
            click.echo(f"nothing to requeue ({len(skipped)} already requeued)")
            return
        offsets = send(settings, names.raw_topic, to_send)
        mark_requeued(es, names.deadletter_index, [s.id for s in to_send], datetime.now(UTC))
    finally:
        es.close()
    for stored, (partition, offset) in zip(to_send, offsets, strict=True):
        click.echo(f"requeued {stored.id} → {names.raw_topic}:{partition}:{offset}")
    click.echo(f"requeued {len(to_send)} dead letters to {names.raw_topic}")


deadletter.add_command(skip)  # newsflow deadletter skip: past a batch no worker can decode
