"""``newsflow replay`` against a bare kafka-python send loop with the same settings."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import BenchArticle
from newsflow.core.bootstrap import ensure_topics
from newsflow.core.clients import kafka_producer
from newsflow.core.names import Names
from newsflow.core.settings import Settings
from producers.files import read_corpus
from producers.replay import Pacer, replay


def _bare(settings: Settings, topic: str, path: Path) -> float:
    producer = kafka_producer(settings)
    started = time.perf_counter()
    futures = []
    with path.open("rb") as lines:
        for line in lines:
            key = json.loads(line)["id"].encode()
            futures.append(producer.send(topic, key=key, value=line.rstrip(b"\n")))
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    elapsed = time.perf_counter() - started
    producer.close()
    return len(futures) / elapsed


def _replay(settings: Settings, topic: str, path: Path) -> float:
    producer = kafka_producer(settings)
    started = time.perf_counter()
    summary = replay(producer, topic, read_corpus([path]), pacer=Pacer(None, None))
    elapsed = time.perf_counter() - started
    producer.close()
    assert not summary.failed and not summary.skipped
    return summary.sent / elapsed


def run(settings: Settings, articles: list[BenchArticle], rounds: int = 3) -> dict[str, Any]:
    """Best of ``rounds`` for each, alternating, so neither gets a warmer broker."""
    names = Names(settings.namespace)
    ensure_topics(settings, names)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for article in articles:
                out.write(json.dumps(article.raw(), ensure_ascii=False) + "\n")
        bare, ours = [], []
        for _ in range(rounds):
            bare.append(_bare(settings, names.raw_topic, path))
            ours.append(_replay(settings, names.raw_topic, path))
    return {"articles": len(articles), "bare_send_aps": max(bare), "replay_aps": max(ours)}
