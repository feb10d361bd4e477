"""ECB+ through the real worker: a fresh namespace on the local stack, a worker process,
the articles sent as ``newsflow replay`` sends them, the ``story_id`` of each document read
back from Elasticsearch; the namespace is deleted afterwards.

Kafka and Elasticsearch are the ones the settings name (``NEWSFLOW_KAFKA_BOOTSTRAP``,
``NEWSFLOW_ES_URL``; the local stack by default); ``newsflow stack up`` starts them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.external.stories import EcbArticle

SETTLE_SECONDS = 1800.0  # NER of 462 articles on a loaded 2-core machine takes minutes


def through_worker(items: Sequence[EcbArticle]) -> tuple[dict[str, str], dict[str, Any]]:
    """Article id -> story id as one real worker assigns them; and what the run cost."""
    from newsflow.cli.localworker import LocalWorker
    from newsflow.cli.teardown import drop_namespace
    from newsflow.core.bootstrap import bootstrap_namespace
    from newsflow.core.clients import es_client, kafka_producer
    from newsflow.core.names import Names
    from newsflow.core.settings import load_settings
    from producers.files import read_corpus
    from producers.replay import Pacer, replay

    # Namespaces allow lowercase letters, digits and "_" only.
    settings = load_settings(namespace=f"ecb_{uuid.uuid4().hex[:10]}")
    names = Names(settings.namespace)
    env = {**os.environ, "NEWSFLOW_NAMESPACE": settings.namespace, "NEWSFLOW_LOG_FORMAT": "text"}
    bootstrap_namespace(settings)
    es = es_client(settings)
    with tempfile.TemporaryDirectory(prefix="ecb-") as tmp:
        corpus = Path(tmp) / "ecbplus.jsonl"
        corpus.write_text("".join(json.dumps(i.raw()) + "\n" for i in items), encoding="utf-8")
        worker = LocalWorker(env, Path(tmp) / "worker.log")
        try:
            worker.start(timeout=600)
            started = time.monotonic()
            producer = kafka_producer(settings)
            try:
                sent = replay(
                    producer, names.raw_topic, read_corpus([corpus]), pacer=Pacer(None, None)
                )
            finally:
                producer.close(timeout=10)
            if sent.failed or sent.skipped:
                raise RuntimeError(f"replay failed: {sent.failed[:3]} {sent.skipped[:3]}")
            _settle(es, names, len(items))
            seconds = time.monotonic() - started
            predicted = _stories(es, names)
            cost = {
                "seconds_to_index": round(seconds, 1),
                "stories_changelog_records_per_article": round(
                    _changelog_records(settings, names) / max(1, len(items)), 1
                ),
                "duplicates": _count(es, names.articles_index, {"term": {"is_duplicate": True}}),
                "dead_letters": _count(es, names.deadletter_index),
                "namespace": settings.namespace,
            }
        finally:
            worker.stop()
            es.close()
            drop_namespace(settings)
    return predicted, cost


def _count(es: Any, index: str, query: dict[str, Any] | None = None) -> int:
    es.options(ignore_status=404).indices.refresh(index=index)
    found = es.options(ignore_status=404).count(index=index, query=query or {"match_all": {}})
    return int(found.get("count", 0))


def _settle(es: Any, names: Any, expected: int) -> None:
    """Wait until every article is a document or a dead letter."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        done = _count(es, names.articles_index) + _count(es, names.deadletter_index)
        if done >= expected:
            return
        time.sleep(2)
    raise TimeoutError(f"{expected} articles not all indexed after {SETTLE_SECONDS:.0f} s")


def _stories(es: Any, names: Any) -> dict[str, str]:
    es.indices.refresh(index=names.articles_index)
    hits = es.search(
        index=names.articles_index, size=10_000, source=["id", "story_id"], query={"match_all": {}}
    )["hits"]["hits"]
    return {h["_source"]["id"]: h["_source"]["story_id"] for h in hits}


def _changelog_records(settings: Any, names: Any) -> int:
    """Records in the stories table's changelog topic (one per key written per batch)."""
    from newsflow.cli.offsets import end_offsets
    from newsflow.core.clients import kafka_admin

    admin = kafka_admin(settings)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(f"{names.app_id}-stories")]
    finally:
        admin.close()
    return sum(end_offsets(settings, topics).values())
