"""End to end: first produce to last document searchable, with real worker processes."""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.corpus import BenchArticle
from benchmarks.machine import CpuMeter, peak_rss_mb, process_tree
from newsflow.cli.drained import Snapshot, wait_drained
from newsflow.cli.localworker import LocalWorker
from newsflow.cli.teardown import drop_namespace
from newsflow.core.bootstrap import bootstrap_namespace
from newsflow.core.clients import es_client, kafka_producer
from newsflow.core.errors import PipelineError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from newsflow.stack.services import running, service
from schemas import codec
from schemas.raw import RawArticle


@contextmanager
def namespace(base: Settings, log_dir: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A fresh namespace for one measurement, deleted afterwards."""
    ns = f"bench{uuid.uuid4().hex[:8]}"
    settings = load_settings(namespace=ns, partitions=base.partitions)
    bootstrap_namespace(settings)
    env = {**os.environ, "NEWSFLOW_NAMESPACE": ns, "NEWSFLOW_LOG_FORMAT": "text"}
    try:
        yield settings, env
    finally:
        drop_namespace(settings)


def _produce(settings: Settings, articles: list[BenchArticle]) -> None:
    producer = kafka_producer(settings)
    topic = Names(settings.namespace).raw_topic
    futures = [
        producer.send(
            topic, key=a.id.encode(), value=codec.dumps(RawArticle.model_validate(a.raw()))
        )
        for a in articles
    ]
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    producer.close()


def _wait_done(settings: Settings, expected: int, timeout: float = 1200) -> float:
    """Until drained (:mod:`newsflow.cli.drained`) with ``expected`` documents; returns the
    ``perf_counter`` time of the first poll that found them all searchable.

    That time is what the figures measure (as a user would see the articles); the wait goes
    on until every stage has committed, so no run ends with work in flight. The polls keep
    their clients open and refresh only once drained: on two cores, anything the bench burns
    is taken from the pipeline it measures (opening Kafka clients and forcing refreshes each
    poll cost the first version 15 CPU-seconds per 600 articles).
    """
    seen: list[float] = []

    def note(snap: Snapshot) -> None:
        if not seen and snap.documents >= expected:
            seen.append(time.perf_counter())

    try:
        final = wait_drained(settings, timeout, messages=expected, on_poll=note)
    except PipelineError as exc:
        raise TimeoutError(f"pipeline did not finish {expected} articles: {exc}") from None
    if final.documents < expected:
        raise RuntimeError(f"drained with {final.documents} of {expected} documents")
    return seen[0]


def throughput(
    base: Settings,
    articles: list[BenchArticle],
    log_dir: Path,
    workers: int = 1,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """Articles/s from first produce to last searchable, and peak memory per worker."""
    with namespace(base, log_dir) as (settings, env):
        procs = [
            LocalWorker(env, log_dir / f"{settings.namespace}-{n}.log", concurrency).start()
            for n in range(workers)
        ]
        try:
            meter = CpuMeter(_cpu_groups(base, [p.proc.pid for p in procs if p.proc]))
            meter.start()
            started = time.perf_counter()
            _produce(settings, articles)
            elapsed = _wait_done(settings, len(articles)) - started
            cpu = meter.stop()
            rss = [
                {
                    "worker_mb": peak_rss_mb(p.proc.pid),
                    "nlp_mb": [peak_rss_mb(c) for c in process_tree(p.proc.pid)[1:]],
                }
                for p in procs
                if p.proc
            ]
        finally:
            for p in procs:
                p.stop()
    return {
        "articles": len(articles),
        "seconds": elapsed,
        "aps": len(articles) / elapsed,
        "rss": rss,
        "cpu_seconds": cpu,
        "cpu_ms_per_article": {
            k: round(1000 * v / len(articles), 1) for k, v in cpu.items() if k != "wall"
        },
    }


def _cpu_groups(base: Settings, workers: list[int]) -> dict[str, list[int]]:
    """The processes whose CPU time a run accounts for, by role."""
    groups = {
        "worker": workers,
        "nlp": [c for w in workers for c in process_tree(w)[1:]],
        "bench": [os.getpid()],
    }
    for name in ("kafka", "elasticsearch"):
        state = running(service(base, name))
        groups[name] = process_tree(state.pid) if state else []
    return groups


def latency(
    base: Settings,
    articles: list[BenchArticle],
    log_dir: Path,
    rate: float = 5.0,
    seconds: float = 60.0,
) -> dict[str, Any]:
    """Produce → searchable at a steady ``rate``: p50 and p99 in seconds."""
    with namespace(base, log_dir) as (settings, env):
        worker = LocalWorker(env, log_dir / f"{settings.namespace}-latency.log").start()
        names = Names(settings.namespace)
        sent: dict[str, float] = {}
        seen: dict[str, float] = {}
        stop = threading.Event()

        def watch() -> None:
            es = es_client(settings)
            try:
                while not stop.is_set() or len(seen) < len(sent):
                    pending = [i for i in sent if i not in seen]
                    if pending:
                        hits = es.search(
                            index=names.articles_index,
                            query={"ids": {"values": pending}},
                            size=len(pending),
                            source=False,
                        )
                        now = time.perf_counter()
                        for hit in hits["hits"]["hits"]:
                            seen.setdefault(hit["_id"], now)
                    time.sleep(0.05)
                    if stop.is_set() and time.perf_counter() - stopped_at[0] > 60:
                        return
            finally:
                es.close()

        stopped_at = [0.0]
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        producer = kafka_producer(settings, linger_ms=0)
        try:
            count = int(rate * seconds)
            start = time.perf_counter()
            for n, article in enumerate(articles[:count]):
                due = start + n / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                value = codec.dumps(RawArticle.model_validate(article.raw()))
                sent[article.id] = time.perf_counter()
                producer.send(names.raw_topic, key=article.id.encode(), value=value).get(timeout=30)
            stopped_at[0] = time.perf_counter()
            stop.set()
            watcher.join(timeout=90)
        finally:
            producer.close()
            worker.stop()
    delays = sorted(seen[i] - sent[i] for i in seen)
    q = statistics.quantiles(delays, n=100) if len(delays) >= 2 else delays * 99
    return {
        "sent": len(sent),
        "seen": len(seen),
        "p50_s": q[49],
        "p99_s": q[98],
        "max_s": delays[-1] if delays else None,
    }
