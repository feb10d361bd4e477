"""``newsflow reprocess``: enrich again what an upgrade changed, idempotently.

``--from index`` (default) sends the documents whose ``enriched_by`` differs from what the
pipeline would use now (model, alias table, taxonomy, topic model, pipeline version) back through
``<ns>.raw`` under their own id: same id, same document, new enrichment. First copies go
before duplicates, which take their enrichment from the first copy. ``--from raw`` rewinds
the workers' consumer group to the start of ``<ns>.raw`` (workers must be stopped), so the
whole topic is read again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import click

from newsflow.core.errors import ConfigError
from newsflow.core.settings import Settings, load_settings
from schemas.raw import RawArticle

# What a producer may send is what is read back: a document from ``replay --tag T
# --no-alerts`` stays tagged and silent once reprocessed (it lost both before).
SOURCE_FIELDS = tuple(RawArticle.model_fields)


def raw_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The raw article to send again for a stored document: its raw fields that are set."""
    return {k: v for k, v in doc.items() if k in SOURCE_FIELDS and v is not None}


def stale_query(versions: dict[str, str]) -> dict[str, Any]:
    """Documents enriched by anything else than ``versions``."""
    current = [{"term": {f"enriched_by.{k}": v}} for k, v in sorted(versions.items())]
    return {"bool": {"must_not": [{"bool": {"filter": current}}]}}


def _documents(es: Any, index: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from elasticsearch.helpers import scan

    # First copies before duplicates: a duplicate takes the enrichment of its first copy.
    for duplicates in (False, True):
        scoped = {"bool": {"filter": [query, {"term": {"is_duplicate": duplicates}}]}}
        for hit in scan(es, index=index, query={"query": scoped}, _source=list(SOURCE_FIELDS)):
            yield hit["_source"]


def from_index(settings: Settings, everything: bool) -> int:
    """Send stale (or all) documents back through the pipeline; returns how many."""
    from tqdm import tqdm

    from newsflow.core.clients import es_client, kafka_producer
    from newsflow.core.names import Names
    from processors.stages.versions import installed_versions

    names = Names(settings.namespace)
    es = es_client(settings)
    query = {"match_all": {}} if everything else stale_query(installed_versions())
    producer = kafka_producer(settings)
    futures = []
    try:
        total = es.count(index=names.articles_index, query=query)["count"]
        with tqdm(total=total, desc="reprocess", unit=" articles") as bar:
            for doc in _documents(es, names.articles_index, query):
                value = json.dumps(raw_of(doc), ensure_ascii=False).encode("utf-8")
                futures.append(producer.send(names.raw_topic, key=doc["id"].encode(), value=value))
                bar.update(1)
        producer.flush()
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close()
        es.close()
    return len(futures)


def _wait_until_empty(admin: Any, group: str, wait: float) -> None:
    """A stopped worker stays a member until its session times out: give it that long."""
    deadline = time.monotonic() + wait
    while admin.describe_groups([group]).get(group, {}).get("members"):
        if time.monotonic() > deadline:
            raise ConfigError(f"stop the workers of {group} first: the group is active")
        time.sleep(1.0)


def from_raw(settings: Settings, wait: float = 0.0) -> int:
    """Rewind the workers' group to the start of ``<ns>.raw``; returns partitions rewound."""
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec

    from newsflow.core.clients import kafka_admin
    from newsflow.core.names import Names

    names = Names(settings.namespace)
    admin = kafka_admin(settings)
    try:
        _wait_until_empty(admin, names.app_id, wait)
        partitions = admin.describe_topics([names.raw_topic])[0]["partitions"]
        specs = {
            TopicPartition(names.raw_topic, p["partition_index"]): OffsetSpec.EARLIEST
            for p in partitions
        }
        admin.reset_group_offsets(names.app_id, specs)
    finally:
        admin.close()
    return len(specs)


@click.command()
@click.option(
    "--from",
    "source",
    type=click.Choice(["index", "raw"]),
    default="index",
    show_default=True,
    help="index: re-send stale documents; raw: rewind the workers to the start of <ns>.raw.",
)
@click.option("--all", "everything", is_flag=True, help="With --from index: every document.")
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=0,
    show_default=True,
    help="With --from raw: seconds to wait for stopped workers to leave the group.",
)
def reprocess(source: str, everything: bool, wait: float) -> None:
    """Enrich again what an upgrade changed (model, alias table, taxonomy, pipeline)."""
    settings = load_settings()
    if source == "raw":
        rewound = from_raw(settings, wait)
        click.echo(f"rewound {rewound} partitions; start the workers to reprocess")
        return
    sent = from_index(settings, everything)
    click.echo(f"sent {sent} documents back through the pipeline")
