"""Keyword alerts: matching cost per article with 1,000 subscriptions, and ingest throughput
with alerts on over alerts off.

``python -m benchmarks.bench_alerts [--subscriptions N] [--batches B] [--throughput N]``
prints JSON figures.

Matching (no worker): ``B`` batches of 64 generated articles (``benchmarks/corpus.py``) are
bulk-indexed into a fresh namespace as the sink writes them, and
:meth:`processors.alerting.AlertStage.on_indexed` runs on each, for real: refresh, the
match ``_msearch`` (subscriptions as named clauses, in chunks), the alerts index, highlights,
Kafka. The baseline, on the same batches and subscriptions, is the first design considered:
one search per subscription (``_msearch`` of 200 searches at a time), matching only.

Subscriptions are drawn (seeded) from the corpus vocabulary by document frequency, so most
are selective, as real keyword alerts are: rare words, AND pairs, phrases, prefixes, OR
groups, NOT; a fifth filter on a source.

Throughput (real worker processes): the same articles through the pipeline in two fresh
namespaces, one with the ``N`` subscriptions and one with none; the ratio is alerts-on
articles/s over alerts-off articles/s (target >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpus import BenchArticle, generate
from newsflow.clients import async_es_client, es_client, kafka_producer
from newsflow.names import Names
from newsflow.settings import Settings, load_settings
from newsflow.subscriptions import kafka_send
from processors.alerting import AlertStage
from processors.alerts import Subscription, msearch_body, subscription_query
from schemas.article import Article

BATCH = 64  # NEWSFLOW_BATCH_SIZE's default
SOURCES = [f"source-{n}" for n in range(10)]
_WORD = re.compile(r"[A-Za-z]{4,}")
_NAME = re.compile(r"[A-Z][a-z]{3,} [A-Z][a-z]{3,}")


def articles_of(bench: Sequence[BenchArticle], seed: int) -> list[Article]:
    """Benchmark articles as indexed documents, each with one of ten sources."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [
        Article(id=a.id, title=a.title, body=a.body, source=rng.choice(SOURCES), ingested_at=now)
        for a in bench
    ]


def subscriptions(
    texts: Sequence[str], n: int, seed: int, created_at: datetime
) -> list[Subscription]:
    """``n`` subscriptions over the vocabulary of ``texts``, selective as keyword alerts are.

    Words are drawn among those in 0.5-5 % of the texts and combined (AND, phrases,
    prefixes, OR groups, NOT) so that an article matches about one subscription in a
    thousand: the corpus recombines a pool of sentences, so words co-occur far more than in
    real news and pairs alone match too often. The figures report the rate measured.
    """
    rng = random.Random(seed)
    docs = [{w.lower() for w in _WORD.findall(t)} for t in texts]
    df = Counter(w for d in docs for w in d)
    low, high = len(texts) // 200, len(texts) * 5 // 100
    single = sorted(w for w, c in df.items() if low <= c <= high)
    long = [w for w in single if len(w) >= 9]
    name_df = Counter(m for t in texts for m in set(_NAME.findall(t)))
    names = sorted(m for m, c in name_df.items() if c <= high)

    def word() -> str:
        return rng.choice(single)

    shapes = [
        lambda: f"{word()} AND {word()} AND {word()}",
        lambda: f"{word()} {word()} {word()}",
        lambda: f'"{rng.choice(names)}" AND {word()}',
        lambda: f"{rng.choice(long)[:-2]}* AND {word()} AND {word()}",
        lambda: f"title:{word()} OR ({word()} AND {word()} AND {word()})",
        lambda: f"{word()} AND {word()} AND {word()} AND NOT {word()}",
        lambda: f"({word()} OR {word()}) AND {word()} AND {word()}",
    ]
    subs = []
    for i in range(n):
        sources = [rng.choice(SOURCES)] if rng.random() < 0.2 else []
        query = rng.choice(shapes)() if rng.random() > 0.01 else word()
        subs.append(Subscription(id=f"b{i}", query=query, sources=sources, created_at=created_at))
    return subs


async def _naive_match(es: Any, index: str, subs: Sequence[Subscription], ids: list[str]) -> int:
    """The baseline: one search per subscription, 200 searches per ``_msearch``."""
    matches = 0
    for start in range(0, len(subs), 200):
        searches = [
            {"size": len(ids), "_source": False, "query": subscription_query(s, ids)}
            for s in subs[start : start + 200]
        ]
        response = await es.msearch(index=index, searches=msearch_body(searches))
        matches += sum(len(r["hits"]["hits"]) for r in response["responses"])
    return matches


async def _matching(
    settings: Settings, n_subs: int, batches: int, seed: int, batch: int
) -> dict[str, Any]:
    names = Names(settings.namespace)
    bench = generate(batch * batches + 500, seed=seed)
    created = datetime.now(UTC)
    subs = subscriptions([f"{a.title}\n{a.body}" for a in bench], n_subs, seed, created)
    sync = es_client(settings)
    try:
        ops: list[dict[str, Any]] = []
        for sub in subs:
            ops += [{"index": {"_id": sub.id}}, sub.model_dump(mode="json")]
        sync.bulk(index=names.subscriptions_index, operations=ops, refresh=True)
        # Some history, so the index is not only the batches being matched.
        history = articles_of(bench[:500], seed)
        ops = []
        for a in history:
            ops += [{"index": {"_id": a.id}}, a.model_dump(mode="json")]
        sync.bulk(index=names.articles_index, operations=ops, refresh=True)
    finally:
        sync.close()
    es = async_es_client(settings)
    producer = kafka_producer(settings)
    stage = AlertStage(es, names, settings, kafka_send(producer, names.alerts_topic))
    ours: list[float] = []
    match_only: list[float] = []
    naive: list[float] = []
    fired = matched = naive_matches = 0
    try:
        await stage.subscriptions.get()
        stage.subscriptions.take_new()  # made before every article: nothing to catch up on
        for b in range(batches):
            part = articles_of(bench[500 + b * batch : 500 + (b + 1) * batch], seed + b)
            ops = []
            for a in part:
                ops += [{"index": {"_id": a.id}}, a.model_dump(mode="json")]
            await es.bulk(index=names.articles_index, operations=ops)
            started = time.perf_counter()
            fired += await stage.on_indexed(part)
            ours.append(time.perf_counter() - started)
            ids = [a.id for a in part]
            started = time.perf_counter()
            eligible = {s.id: ids for s in subs}
            matched += sum(len(v) for v in (await stage._match(subs, eligible)).values())
            match_only.append(time.perf_counter() - started)
            started = time.perf_counter()
            naive_matches += await _naive_match(es, names.articles_index, subs, ids)
            naive.append(time.perf_counter() - started)
    finally:
        await es.close()
        await asyncio.to_thread(producer.close)
    articles = batches * batch
    return {
        "subscriptions": n_subs,
        "batches": batches,
        "batch_size": batch,
        "alerts": fired,
        "alerts_per_article": fired / articles,
        "matches_per_article": matched / articles,
        "baseline_matches_per_article": naive_matches / articles,
        "ms_per_article": 1000 * sum(ours) / articles,
        "ms_per_batch_median": 1000 * statistics.median(ours),
        "match_search_ms_per_article": 1000 * sum(match_only) / articles,
        "baseline_ms_per_article": 1000 * sum(naive) / articles,
        "baseline_ms_per_batch_median": 1000 * statistics.median(naive),
    }


def matching(
    base: Settings, n_subs: int = 1000, batches: int = 20, seed: int = 5, batch: int = BATCH
) -> dict[str, Any]:
    """Matching cost per article of :meth:`AlertStage.on_indexed` and of the baseline."""
    from benchmarks.bench_pipeline import namespace

    with namespace(base, Path("/tmp")) as (settings, _):
        try:
            return asyncio.run(_matching(settings, n_subs, batches, seed, batch))
        finally:
            _drop_indices(settings)


def throughput(
    base: Settings, n: int = 600, n_subs: int = 1000, seed: int = 5, rounds: int = 1
) -> dict[str, Any]:
    """Ingest articles/s through a real worker with ``n_subs`` subscriptions and with none,
    alternating ``rounds`` times on the same articles; the ratio is on over off."""
    import tempfile

    from benchmarks.bench_pipeline import _produce, _wait_done, namespace
    from newsflow.localworker import LocalWorker

    articles = generate(n, seed=seed)
    texts = [f"{a.title}\n{a.body}" for a in articles]
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    alerts = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for mode in ("off", "on"):
                with namespace(base, Path(tmp)) as (settings, env):
                    names = Names(settings.namespace)
                    if mode == "on":
                        subs = subscriptions(texts, n_subs, seed, datetime.now(UTC))
                        _store(settings, names.subscriptions_index, subs)
                    log = Path(tmp) / f"{settings.namespace}.log"
                    worker = LocalWorker(env, log).start()
                    try:
                        started = time.perf_counter()
                        _produce(settings, articles)
                        _wait_done(settings, len(articles))
                        seconds[mode].append(time.perf_counter() - started)
                    finally:
                        worker.stop()
                    if mode == "on":
                        alerts += _count(settings, names.alerts_index)
                    _drop_indices(settings)
    off, on = (n / statistics.median(seconds[m]) for m in ("off", "on"))
    return {
        "articles": n,
        "subscriptions": n_subs,
        "alerts_per_article": alerts / (n * rounds),
        "alerts_off_aps": off,
        "alerts_on_aps": on,
        "ratio": on / off,
        "seconds": seconds,
    }


def _store(settings: Settings, index: str, subs: Sequence[Subscription]) -> None:
    es = es_client(settings)
    try:
        ops: list[dict[str, Any]] = []
        for sub in subs:
            ops += [{"index": {"_id": sub.id}}, sub.model_dump(mode="json")]
        es.bulk(index=index, operations=ops, refresh=True)
    finally:
        es.close()


def _drop_indices(settings: Settings) -> None:
    """Delete the namespace's indices by name (wildcard deletes are refused by default)."""
    es = es_client(settings)
    try:
        found = es.cat.indices(index=f"{settings.namespace}-*", format="json")
        if found:
            es.indices.delete(index=",".join(r["index"] for r in found))
    finally:
        es.close()


def _count(settings: Settings, index: str) -> int:
    es = es_client(settings)
    try:
        es.indices.refresh(index=index)
        return int(es.count(index=index)["count"])
    finally:
        es.close()


def run(
    base: Settings | None = None,
    n_subs: int = 1000,
    batches: int = 20,
    seed: int = 5,
    articles: int = 600,
) -> dict[str, Any]:
    """Every figure of this benchmark (the stack must be up): matching in batches of 64 and
    of 256 (what the sink hands over when a backlog fills its batches), and throughput."""
    base = base or load_settings()
    figures = {
        "matching": matching(base, n_subs, batches, seed),
        "matching_256": matching(base, n_subs, max(5, batches // 4), seed, batch=256),
    }
    if articles > 0:
        figures["throughput"] = throughput(base, articles, n_subs, seed)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_alerts", description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--throughput", type=int, default=600, help="articles (0: skip)")
    parser.add_argument("--rounds", type=int, default=1, help="throughput: off/on pairs")
    parser.add_argument("--only-throughput", action="store_true")
    args = parser.parse_args(argv)
    if args.only_throughput:
        base = load_settings()
        figures = {
            "throughput": throughput(
                base, args.throughput, args.subscriptions, args.seed, args.rounds
            )
        }
    else:
        figures = run(None, args.subscriptions, args.batches, args.seed, args.throughput)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
