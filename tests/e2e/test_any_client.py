"""Any Kafka client, any codec: batches that our own producers never write.

librdkafka (confluent-kafka's bundled copy: the C client under kcat, the Go and .NET
clients and many Kafka Connect set-ups) produces to ``<ns>.raw`` once per codec Kafka
defines, with keys, headers and a null key; then ``newsflow replay`` (kafka-python) sends
with each codec too. Every article must be indexed exactly once, with no dead letter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow.core.settings import KAFKA_CODECS
from tests.support import Namespace, WorkerProcess, run_newsflow, wait_for

pytestmark = pytest.mark.stack

PER_CODEC = 3  # a keyed record with headers, a null key, a keyed record without headers


def _article(prefix: str, codec: str, n: int) -> dict[str, str]:
    return {
        "id": f"{prefix}-{codec}-{n}",
        "title": f"Harbour authority report {n} ({codec})",
        "body": f"The harbour authority of Velmora published report {n} on shipping "
        f"traffic, sent by a {prefix} producer with {codec} compression.",
    }


def _produce_with_librdkafka(ns: Namespace, codec: str) -> list[str]:
    """One compressed batch of ``PER_CODEC`` records from librdkafka; their article ids."""
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": ns.settings.kafka_bootstrap,
            "compression.type": codec,
            # Hold the records until flush: they go out as one batch, compressed together.
            "linger.ms": 1000,
            "acks": "all",
            "enable.idempotence": True,
        }
    )
    errors: list[str] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    articles = [_article("librdkafka", codec, n) for n in range(PER_CODEC)]
    keys: list[bytes | None] = [articles[0]["id"].encode(), None, articles[2]["id"].encode()]
    headers = [[("source-system", b"wire"), ("trace", b"\x00\xff")], [("x", b"1")], None]
    for article, key, header in zip(articles, keys, headers, strict=True):
        producer.produce(
            ns.names.raw_topic,
            value=json.dumps(article).encode(),
            key=key,
            headers=header,
            # One partition per codec's batch: every codec lands in a partition of its own
            # batch, and the partitions of the worker all see compressed data.
            partition=KAFKA_CODECS.index(codec) % ns.settings.partitions,
            on_delivery=delivered,
        )
    assert producer.flush(30) == 0, f"librdkafka ({codec}) did not deliver everything"
    assert not errors, f"librdkafka ({codec}) delivery failed: {errors}"
    return [a["id"] for a in articles]


def _replay_with_codec(ns: Namespace, codec: str, folder: Path) -> list[str]:
    """``newsflow replay`` with ``NEWSFLOW_KAFKA_COMPRESSION=codec``; the article ids."""
    articles = [_article("replay", codec, n) for n in range(PER_CODEC)]
    path = folder / f"{codec}.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles))
    ns.env["NEWSFLOW_KAFKA_COMPRESSION"] = codec
    try:
        done = run_newsflow(ns, "replay", "--quiet", str(path))
    finally:
        del ns.env["NEWSFLOW_KAFKA_COMPRESSION"]
    assert done.returncode == 0, f"replay with {codec}: {done.stderr[-2000:]}"
    assert f"sent {PER_CODEC}" in done.stdout, done.stdout
    return [a["id"] for a in articles]


def test_every_codec_from_librdkafka_and_from_replay_is_indexed_once(
    namespace: Namespace, worker: WorkerProcess, tmp_path: Path
) -> None:
    ids: list[str] = []
    for codec in KAFKA_CODECS:
        ids += _produce_with_librdkafka(namespace, codec)
    for codec in KAFKA_CODECS:
        ids += _replay_with_codec(namespace, codec, tmp_path)
    index = namespace.names.articles_index

    def state() -> tuple[int, int, int]:
        return (
            namespace.committed_raw(),
            namespace.count(index),
            namespace.count(namespace.names.deadletter_index),
        )

    want = (len(ids), len(ids), 0)
    wait_for(lambda: state() == want, 180, f"(committed, documents, dead letters) == {want}")
    assert worker.proc is not None and worker.proc.poll() is None, "the worker exited"
    namespace.es.indices.refresh(index=index)
    hits = namespace.es.search(index=index, size=100, version=True)["hits"]["hits"]
    assert sorted(h["_id"] for h in hits) == sorted(ids)
    rewritten = [h["_id"] for h in hits if h["_version"] != 1]
    assert not rewritten, f"documents written more than once: {rewritten}"
    assert namespace.raw_end_offsets() == len(ids), "more raw messages than articles sent"
