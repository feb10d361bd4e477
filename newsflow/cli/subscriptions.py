"""``newsflow subscribe``, ``subscriptions`` and ``unsubscribe``: keyword alert subscriptions.

A subscription is refused, and nothing is stored, when its query is abusive
(:func:`processors.alerting.query.check_query`) or does not parse (Elasticsearch's
``indices.validate_query`` on ``<ns>-articles``, with the exact query matching will run).
Teams may keep subscriptions in git as YAML (``deploy/subscriptions.example.yaml``) and
apply them with ``newsflow subscriptions --load FILE``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from newsflow.core.errors import ConfigError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from newsflow.core.waiting import maybe_waiting, wait_option
from processors.alerting import channels as registry
from processors.alerting.query import check_query
from processors.alerting.searches import string_query
from processors.alerting.subscription import (
    DEFAULT_THROTTLE,
    Subscription,
    parse_throttle,
    reason,
)

# What a subscription is, without when it was made: a reload that changes none keeps it as is.
_DEFINITION = (
    "query", "topics", "entities", "sources", "channels", "backfill", "per_story", "throttle"
)  # fmt: skip


def build_subscription(fields: Mapping[str, Any], created_at: datetime) -> Subscription:
    """A :class:`Subscription` from user input; a bad field is a one-line ``ConfigError``."""
    values = dict(fields)
    throttle = values.get("throttle", DEFAULT_THROTTLE)
    if isinstance(throttle, str):
        values["throttle"] = parse_throttle(throttle)
    try:
        sub = Subscription.model_validate({**values, "created_at": created_at})
    except ValidationError as exc:
        raise ConfigError(reason(exc)) from None
    check_query(sub.query)
    return sub


def parse_channel(spec: str) -> tuple[str, dict[str, str]]:
    """``--channel NAME`` or ``NAME:KEY=VALUE,KEY=VALUE`` as (name, options)."""
    name, _, rest = spec.partition(":")
    options: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise ConfigError(f"--channel {spec!r}: expected NAME or NAME:KEY=VALUE,KEY=VALUE")
        options[key.strip()] = value.strip()
    return name.strip(), options


def parse_file(text: str, now: datetime) -> list[Subscription]:
    """Subscriptions of a YAML document: a list, or a mapping with a ``subscriptions`` list.

    Every entry is checked; the errors of all of them are reported together, one a line.
    """
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not YAML: {str(exc).splitlines()[0]}") from None
    entries = data.get("subscriptions") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError("expected a list of subscriptions (or a 'subscriptions:' list)")
    subs: list[Subscription] = []
    errors: list[str] = []
    for n, entry in enumerate(entries, 1):
        label = f"entry {n}"
        try:
            if not isinstance(entry, dict):
                raise ConfigError("not a mapping")
            label = f"subscription {entry.get('id', f'#{n}')!r}"
            subs.append(build_subscription(entry, now))
        except ConfigError as exc:
            errors.append(f"{label}: {exc}")
    ids = [s.id for s in subs]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    errors += [f"subscription {i!r}: defined twice" for i in twice]
    if errors:
        raise ConfigError("; ".join(errors))
    return subs


def validation_error(error: str) -> str:
    """The useful line of an ``indices.validate_query`` error (the parser's own message)."""
    first = error.strip().splitlines()[0] if error.strip() else "invalid query"
    parts = re.split(r"\w+(?:\.\w+)*Exception: ", first)
    reason = parts[-1].strip() or first
    return reason.removesuffix(".")


def validate_with_es(es: Any, names: Names, sub: Subscription) -> None:
    """Refuse a query Elasticsearch cannot parse (the ``query_string`` clause matching runs).

    Only that clause: in a whole subscription query a filter that matches nothing (a
    recent ``created_at`` on an idle index) lets Elasticsearch skip parsing the rest.
    """
    response = es.indices.validate_query(
        index=names.articles_index, query=string_query(sub.query), explain=True
    )
    if not response.get("valid"):
        explanations = response.get("explanations") or [{}]
        error = explanations[0].get("error") or str(response.get("error", "invalid query"))
        raise ConfigError(f"query {sub.query!r} does not parse: {validation_error(error)}")


def _definition(sub: Subscription) -> dict[str, Any]:
    data = sub.model_dump(mode="json")
    return {k: data[k] for k in _DEFINITION}


def _stored_definition(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The definition of a stored subscription (one stored as ``webhook: URL`` reads as its
    channel), or None when it no longer validates (an unregistered channel)."""
    try:
        return _definition(Subscription.model_validate(doc))
    except ValidationError:
        return None


def _ready(settings: Settings) -> tuple[Any, Names]:
    """An Elasticsearch client, with the namespace's indices and templates in place."""
    from newsflow.core.bootstrap import ensure_templates
    from newsflow.core.clients import es_client

    names = Names(settings.namespace)
    ensure_templates(settings, names)
    return es_client(settings), names


def _existing(es: Any, names: Names) -> dict[str, dict[str, Any]]:
    from elasticsearch import NotFoundError

    try:
        hits = es.search(index=names.subscriptions_index, size=10_000, sort=[{"id": "asc"}])
    except NotFoundError:
        return {}
    return {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}


def kafka_send(producer: Any, topic: str) -> Callable[[bytes, bytes], Awaitable[None]]:
    """An ``AlertStage`` send over a kafka-python producer: returns once Kafka acknowledged
    the record, without a thread per record waiting on it."""

    async def send(key: bytes, value: bytes) -> None:
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if acked.done():
                return
            if error is None:
                acked.set_result(None)
            else:
                acked.set_exception(error)

        future = producer.send(topic, key=key, value=value)
        future.add_callback(lambda _: loop.call_soon_threadsafe(settle, None))
        future.add_errback(lambda exc: loop.call_soon_threadsafe(settle, exc))
        await acked

    return send


def run_backfill(settings: Settings, subs: Sequence[Subscription]) -> int:
    """Fire ``subs`` over the articles already indexed, as a worker would; returns new alerts."""
    return asyncio.run(_backfill(settings, subs))


async def _backfill(settings: Settings, subs: Sequence[Subscription]) -> int:
    from newsflow.core.bootstrap import ensure_topics
    from newsflow.core.clients import async_es_client, kafka_producer
    from processors.alerting.stage import AlertStage

    names = Names(settings.namespace)
    await asyncio.to_thread(ensure_topics, settings, names)
    producer = kafka_producer(settings)
    es = async_es_client(settings)
    try:
        stage = AlertStage(es, names, settings, kafka_send(producer, names.alerts_topic))
        return sum([await stage.backfill(sub) for sub in subs])
    finally:
        await es.close()
        await asyncio.to_thread(producer.close)


# --- commands -----------------------------------------------------------------------------------


@click.command()
@click.argument("subscription_id", metavar="ID")
@click.argument("query")
@click.option("--topic", "topics", multiple=True, help="Only articles with this topic slug.")
@click.option("--entity", "entities", multiple=True, help="Only articles naming this entity.")
@click.option("--source", "sources", multiple=True, help="Only articles from this source.")
@click.option(
    "--channel",
    "channel_specs",
    multiple=True,
    metavar="NAME[:K=V,...]",
    help="Deliver each alert through this channel, with its options (repeatable): "
    f"{', '.join(n for n, c in sorted(registry.CHANNELS.items()) if not c.record)}. "
    "Every alert is also stored in <ns>-alerts and sent to <ns>.alerts.",
)
@click.option(
    "--webhook",
    help="POST each alert here (JSON with a Slack-compatible 'text'): "
    "short for --channel webhook:url=URL.",
)
@click.option("--backfill", is_flag=True, help="Also fire for articles indexed before now.")
@click.option("--per-story", is_flag=True, help="Fire once per story, not once per article.")
@click.option(
    "--throttle",
    default="10/10m",
    show_default=True,
    help="At most N notifications per period and channel (N/PERIOD, units s m h d; 'none'); "
    "the rest go out as one digest.",
)
@wait_option
def subscribe(
    subscription_id: str,
    query: str,
    topics: tuple[str, ...],
    entities: tuple[str, ...],
    sources: tuple[str, ...],
    channel_specs: tuple[str, ...],
    webhook: str | None,
    backfill: bool,
    per_story: bool,
    throttle: str,
    wait: bool,
) -> None:
    """Alert on articles matching QUERY (Lucene query-string syntax over title and body).

    Words must all match (AND), anywhere in the title or body; OR, NOT, "phrases",
    prefix* and title:/body: work as in Lucene. Repeated --topic/--entity/--source values
    match any of them. A subscription fires once per matching non-duplicate article
    ingested after it was made (with --backfill: every matching article, existing ones now).

    \b
    newsflow subscribe strikes 'strike AND (port OR dock*)' --topic labour
    newsflow subscribe quakes '"earthquake" OR "aftershock"' --per-story --webhook URL
    newsflow subscribe storms '"Storm Greer"' --channel log --channel webhook:url=URL
    """
    settings = load_settings()
    fields = {
        "id": subscription_id,
        "query": query,
        "topics": list(topics),
        "entities": list(entities),
        "sources": list(sources),
        "channels": dict(parse_channel(spec) for spec in channel_specs),
        "webhook": webhook,
        "backfill": backfill,
        "per_story": per_story,
        "throttle": throttle,
    }
    sub = build_subscription(fields, datetime.now(UTC))
    from elasticsearch import ConflictError

    es, names = maybe_waiting(wait, lambda: _ready(settings), "subscribe")
    try:
        validate_with_es(es, names, sub)
        es.index(
            index=names.subscriptions_index,
            id=sub.id,
            document=sub.model_dump(mode="json"),
            op_type="create",
            refresh="wait_for",
        )
    except ConflictError:
        raise ConfigError(
            f"subscription {sub.id!r} exists; unsubscribe it first or manage it in a file "
            "(newsflow subscriptions --load FILE)"
        ) from None
    finally:
        es.close()
    click.echo(f"subscribed {sub.id}: {sub.query}")
    if sub.backfill:
        click.echo(f"backfill: {run_backfill(settings, [sub])} alerts fired")


@click.command()
@click.option(
    "--load",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Create or update the subscriptions of a YAML file (all checked before any is stored).",
)
@click.option("--prune", is_flag=True, help="With --load: remove subscriptions not in the file.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def subscriptions(path: Path | None, prune: bool, as_json: bool) -> None:
    """List the keyword alert subscriptions (secrets such as webhook paths hidden), or --load
    a YAML file."""
    settings = load_settings()
    if prune and path is None:
        raise ConfigError("--prune needs --load FILE")
    if path is not None:
        _load(settings, path, prune)
        return
    from newsflow.core.clients import es_client

    es = es_client(settings)
    try:
        found = _existing(es, Names(settings.namespace))
    finally:
        es.close()
    rows = [_row(doc) for doc in found.values()]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif not rows:
        click.echo("no subscriptions")
    else:
        click.echo("\n".join(_table(rows)))


@dataclass(frozen=True)
class LoadPlan:
    """What loading a file changes: subscriptions to write, and ids to remove."""

    created: list[Subscription]
    updated: list[Subscription]
    unchanged: list[str]
    removed: list[str]


def plan_load(
    subs: Sequence[Subscription], existing: Mapping[str, Mapping[str, Any]], prune: bool
) -> LoadPlan:
    """Compare a file with the stored subscriptions; an updated one keeps its ``created_at``
    (it still fires only for articles ingested after it was first made)."""
    plan = LoadPlan([], [], [], [])
    for sub in subs:
        stored = existing.get(sub.id)
        if stored is None:
            plan.created.append(sub)
            continue
        kept = Subscription.model_validate({**sub.model_dump(), "created_at": stored["created_at"]})
        if _definition(kept) == _stored_definition(stored):
            plan.unchanged.append(sub.id)
        else:
            plan.updated.append(kept)
    if prune:
        plan.removed.extend(sorted(set(existing) - {s.id for s in subs}))
    return plan


def _load(settings: Settings, path: Path, prune: bool) -> None:
    subs = parse_file(path.read_text(encoding="utf-8"), datetime.now(UTC))
    es, names = _ready(settings)
    try:
        errors = []
        for sub in subs:
            try:
                validate_with_es(es, names, sub)
            except ConfigError as exc:
                errors.append(f"subscription {sub.id!r}: {exc}")
        if errors:
            raise ConfigError(f"{path}: " + "; ".join(errors) + " (nothing stored)")
        plan = plan_load(subs, _existing(es, names), prune)
        ops: list[dict[str, Any]] = []
        for sub in plan.created + plan.updated:
            ops += [{"index": {"_id": sub.id}}, sub.model_dump(mode="json")]
        ops += [{"delete": {"_id": i}} for i in plan.removed]
        if ops:
            es.bulk(index=names.subscriptions_index, operations=ops, refresh="wait_for")
    finally:
        es.close()
    click.echo(
        f"{path}: {len(plan.created)} created, {len(plan.updated)} updated, "
        f"{len(plan.unchanged)} unchanged, {len(plan.removed)} removed"
    )
    backfills = [s for s in plan.created + plan.updated if s.backfill]
    if backfills:
        click.echo(f"backfill: {run_backfill(settings, backfills)} alerts fired")


def _row(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored subscription as listed: its delivery channels with their secrets hidden."""
    try:
        sub = Subscription.model_validate(doc)
    except ValidationError as exc:  # stored, but ignored by workers: say why
        row = {k: v for k, v in doc.items() if k not in ("webhook", "channels")}
        return {**row, "channels": "-", "invalid": reason(exc)}
    row = sub.model_dump(mode="json")
    return {**row, "channels": registry.shown(sub.channels)}


def _table(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = []
    for row in rows:
        filters = [f"{k}={','.join(row[k])}" for k in ("topics", "entities", "sources") if row[k]]
        flags = [f for f in ("backfill", "per_story") if row.get(f)]
        flags += [f"invalid ({row['invalid']})"] if "invalid" in row else []
        lines.append(
            f"{row['id']}\t{row['query']}\t{' '.join(filters) or '-'}\t{row['channels']}"
            f"\t{row['created_at']}\t{' '.join(flags) or '-'}"
        )
    return ["ID\tQUERY\tFILTERS\tCHANNELS\tCREATED\tFLAGS", *lines]


@click.command()
@click.argument("subscription_id", metavar="ID")
def unsubscribe(subscription_id: str) -> None:
    """Remove a subscription (its alerts stay in <ns>-alerts)."""
    from elasticsearch import NotFoundError

    from newsflow.core.clients import es_client

    settings = load_settings()
    es = es_client(settings)
    try:
        index = Names(settings.namespace).subscriptions_index
        es.delete(index=index, id=subscription_id, refresh="wait_for")
    except NotFoundError:
        raise ConfigError(f"no subscription {subscription_id!r}") from None
    finally:
        es.close()
    click.echo(f"unsubscribed {subscription_id}")
