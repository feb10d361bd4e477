"""NLP stage (NER + canonical entities + topics + language) against bare ``nlp.pipe``."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from benchmarks.corpus import BenchArticle
from processors.stages.decode import clean_article
from processors.worker.nlp import NlpPool, load_model
from processors.worker.pipeline import Enricher
from schemas.raw import RawArticle
from schemas.work import Deduped


def _timed_pipe(nlp: Any, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of single-process ``nlp.pipe`` over ``texts``, in batches of 32
    as the pool's. The CPU time does not depend on what else runs on the machine."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    return time.perf_counter() - started, time.process_time() - cpu


async def _stage(items: list[Deduped], processes: int, batch: int) -> float:
    pool = NlpPool(processes)
    await pool.warm_up()
    enricher = Enricher(pool)
    started = time.perf_counter()
    for i in range(0, len(items), batch):
        await enricher.enrich_batch(items[i : i + batch])
    elapsed = time.perf_counter() - started
    pool.close()
    return len(items) / elapsed


def run(articles: list[BenchArticle], batch: int = 64, sample: int = 500) -> dict[str, Any]:
    """Bare ``nlp.pipe`` over every article (the end-to-end baseline); the NLP stage with
    one process and with one per core over the first ``sample`` of them, against bare
    ``nlp.pipe`` on the same sample (the stage ratios need no more, and time is short)."""
    clean = [clean_article(RawArticle.model_validate(a.raw())) for a in articles]
    items = [Deduped(article=c, is_duplicate=False, kind="new") for c in clean]
    texts = [f"{c.title}\n\n{c.body}" if c.title else c.body for c in clean]
    head = min(sample, len(texts))
    nlp = load_model()
    list(nlp.pipe(texts[:20]))  # warm caches, as the pool's warm-up does
    head_s, head_cpu = _timed_pipe(nlp, texts[:head])
    rest_s, rest_cpu = _timed_pipe(nlp, texts[head:]) if head < len(texts) else (0.0, 0.0)
    one = asyncio.run(_stage(items[:head], 1, batch))
    cores = os.cpu_count() or 1
    every = asyncio.run(_stage(items[:head], cores, batch)) if cores > 1 else one
    return {
        "articles": len(texts),
        "bare_nlp_pipe_aps": len(texts) / (head_s + rest_s),
        "bare_nlp_pipe_cpu_ms_per_article": 1000 * (head_cpu + rest_cpu) / len(texts),
        "stage_sample": head,
        "bare_nlp_pipe_sample_aps": head / head_s,
        "stage_1_process_aps": one,
        "stage_all_cores_aps": every,
        "cores": cores,
    }
