"""Keyword alerts: matching cost per article with 1,000 subscriptions, and ingest throughput
with alerts on over alerts off.

``python -m benchmarks.bench_alerts [--subscriptions N] [--batches B] [--throughput N]
[--rounds R] [--only names|pool]`` prints JSON figures.

Two workloads, because the cost depends on how selective subscriptions are:

- ``names``: each generated article (``benchmarks/corpus.py``) also names four people or
  places drawn by a Zipf law from 20,000 synthetic names, the long tail of proper nouns real
  news has; subscriptions are on names, alone or with common words (OR, AND, NOT, phrases).
- ``pool``: subscriptions combine words of the corpus itself (AND of three, phrases,
  prefixes, OR groups, NOT). The corpus recombines a small pool of sentences, so every word
  is in a few % of articles: about one alert per article and little for the word
  pre-selection to skip. A harsh case.

A fifth of the subscriptions also filter on one of ten sources.

Matching (no worker): ``B`` batches of 64 articles are bulk-indexed into a fresh namespace
as the sink writes them, and :meth:`processors.alerting.stage.AlertStage.on_indexed` runs on each,
for real (pre-selection, refresh, match ``_msearch``, alerts index, highlights, Kafka). The
baseline, on the same batches and subscriptions, is the first design considered: one
search per subscription (``_msearch`` of 200 searches at a time), matching only.

Throughput (real worker processes): the same articles through the pipeline in fresh
namespaces with the subscriptions and with none, alternated ``R`` times; the ratio is
alerts-on articles/s over alerts-off articles/s (medians; target >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpus import BenchArticle, generate
from newsflow.cli.subscriptions import kafka_send
from newsflow.core.clients import async_es_client, es_client, kafka_producer
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from processors.alerting.searches import msearch_body, subscription_query
from processors.alerting.stage import AlertStage
from processors.alerting.subscription import Subscription
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
        Article.model_validate(
            {
                "id": a.id,
                "title": a.title,
                "body": a.body,
                "source": rng.choice(SOURCES),
                "ingested_at": now,
            }
        )
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
    single: list[str] = sorted(w for w, c in df.items() if low <= c <= high)
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
    return _subscriptions(
        rng, lambda: rng.choice(shapes)() if rng.random() > 0.01 else word(), n, created_at
    )


_SYLLABLES = [
    *("ka", "lo", "mi", "ne", "tor", "va", "ris", "pe", "du", "sa", "len", "gho", "bri"),
    *("fa", "zu", "qui", "mor", "tel", "an", "ex", "bel", "cor", "dan", "fen", "gal"),
    *("hul", "ist", "jor", "kel", "lim"),
]


def _names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    made = (
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        for _ in range(count * 3)
    )
    return list(dict.fromkeys(made))[:count]


def with_names(bench: Sequence[BenchArticle], seed: int, count: int = 20_000) -> list[BenchArticle]:
    """Articles with four names each, drawn from ``count`` names by a Zipf law: the long
    tail of proper nouns real news has and the recombined corpus lacks."""
    rng = random.Random(seed)
    names = _names(count, seed)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(count)))
    out = []
    for article in bench:
        picked = rng.choices(names, cum_weights=weights, k=4)
        line = f"Also named in this report: {', '.join(picked[:3])} and {picked[3]}."
        out.append(dataclasses.replace(article, body=f"{article.body}\n\n{line}"))
    return out


def name_subscriptions(
    texts: Sequence[str], n: int, seed: int, created_at: datetime, count: int = 20_000
) -> list[Subscription]:
    """``n`` subscriptions on names (see :func:`with_names`), mostly of the long tail, alone or
    with common words: what keyword alerts on people, firms and places look like."""
    rng = random.Random(seed)
    names = _names(count, seed)
    df = Counter(w.lower() for t in texts for w in set(_WORD.findall(t)))
    common = sorted(w for w, c in df.items() if c > len(texts) // 20)

    def name() -> str:
        return names[rng.randrange(50, count)]

    shapes = [
        lambda: name(),
        lambda: f"{name()} AND {rng.choice(common)}",
        lambda: f"{name()} OR {name()}",
        lambda: f"{name()} AND NOT {rng.choice(common)}",
        lambda: f'"{rng.choice(common)} {rng.choice(common)}" AND {name()}',
    ]
    return _subscriptions(rng, lambda: rng.choice(shapes)(), n, created_at)


def _subscriptions(
    rng: random.Random, make_query: Callable[[], str], n: int, created_at: datetime
) -> list[Subscription]:
    """``n`` subscriptions, a fifth filtered on a source."""
    subs = []
    for i in range(n):
        sources = [rng.choice(SOURCES)] if rng.random() < 0.2 else []
        query = make_query()
        subs.append(Subscription(id=f"b{i}", query=query, sources=sources, created_at=created_at))
    return subs


def workload(
    kind: str, n_articles: int, n_subs: int, seed: int
) -> tuple[list[BenchArticle], Callable[[datetime], list[Subscription]]]:
    """Articles and a maker of subscriptions (given their creation time) for ``kind``:
    ``pool`` (words of the recombined corpus: a harsh case, about one alert per article and
    little to pre-select on) or ``names`` (the long tail of proper nouns)."""
    bench = generate(n_articles, seed=seed)
    if kind == "names":
        bench = with_names(bench, seed)
    texts = [f"{a.title}\n{a.body}" for a in bench]
    make = name_subscriptions if kind == "names" else subscriptions
    return bench, lambda created: make(texts, n_subs, seed, created)


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
    settings: Settings, kind: str, n_subs: int, batches: int, seed: int, batch: int
) -> dict[str, Any]:
    names = Names(settings.namespace)
    bench, make = workload(kind, batch * batches + 500, n_subs, seed)
    subs = make(datetime.now(UTC))
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
        "workload": kind,
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
    base: Settings,
    kind: str = "pool",
    n_subs: int = 1000,
    batches: int = 20,
    seed: int = 5,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Matching cost per article of :meth:`AlertStage.on_indexed` and of the baseline."""
    from benchmarks.bench_pipeline import namespace

    with namespace(base, Path("/tmp")) as (settings, _):
        try:
            return asyncio.run(_matching(settings, kind, n_subs, batches, seed, batch))
        finally:
            _drop_indices(settings)


def throughput(
    base: Settings,
    kind: str = "names",
    n: int = 600,
    n_subs: int = 1000,
    seed: int = 5,
    rounds: int = 1,
) -> dict[str, Any]:
    """Ingest articles/s through a real worker with ``n_subs`` subscriptions and with none,
    alternating ``rounds`` times on the same articles; the ratio is on over off."""
    import tempfile

    from benchmarks.bench_pipeline import _produce, _wait_done, namespace
    from newsflow.cli.localworker import LocalWorker

    articles, make = workload(kind, n, n_subs, seed)
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    alerts = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for mode in ("off", "on"):
                with namespace(base, Path(tmp)) as (settings, env):
                    names = Names(settings.namespace)
                    if mode == "on":
                        _store(settings, names.subscriptions_index, make(datetime.now(UTC)))
                    log = Path(tmp) / f"{settings.namespace}.log"
                    worker = LocalWorker(env, log).start()
                    try:
                        started = time.perf_counter()
                        _produce(settings, articles)
                        done = _wait_done(settings, len(articles))
                        seconds[mode].append(done - started)
                    finally:
                        worker.stop()
                    if mode == "on":
                        alerts += _count(settings, names.alerts_index)
                    _drop_indices(settings)
    off, on = (n / statistics.median(seconds[m]) for m in ("off", "on"))
    return {
        "workload": kind,
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
    rounds: int = 2,
) -> dict[str, Any]:
    """Every figure of this benchmark (the stack must be up): matching in batches of 64 (and
    of 256, what the sink hands over when a backlog fills its batches) on both workloads,
    and throughput on both."""
    base = base or load_settings()
    figures: dict[str, Any] = {
        "matching_names": matching(base, "names", n_subs, batches, seed),
        "matching_pool": matching(base, "pool", n_subs, batches, seed),
        "matching_pool_256": matching(base, "pool", n_subs, max(5, batches // 4), seed, 256),
    }
    if articles > 0:
        for kind in ("names", "pool"):
            figures[f"throughput_{kind}"] = throughput(base, kind, articles, n_subs, seed, rounds)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_alerts", description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--throughput", type=int, default=600, help="articles (0: skip)")
    parser.add_argument("--rounds", type=int, default=2, help="throughput: off/on pairs")
    parser.add_argument("--only", choices=["names", "pool"], help="throughput of one workload")
    args = parser.parse_args(argv)
    if args.only:
        base = load_settings()
        figures = {
            f"throughput_{args.only}": throughput(
                base, args.only, args.throughput, args.subscriptions, args.seed, args.rounds
            )
        }
    else:
        figures = run(
            None, args.subscriptions, args.batches, args.seed, args.throughput, args.rounds
        )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
