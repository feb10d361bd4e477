"""The Elasticsearch sink stage against ``helpers.async_streaming_bulk`` on the same documents."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch.helpers import async_streaming_bulk

from benchmarks.corpus import BenchArticle
from newsflow.core.bootstrap import template_body
from newsflow.core.clients import async_es_client
from newsflow.core.settings import Settings
from processors.worker.sink import BulkSink
from schemas.article import Article

SIZES = (64, 256, 1024)


def _docs(articles: list[BenchArticle]) -> list[tuple[str, dict[str, Any]]]:
    now = datetime.now(UTC)
    return [
        (
            a.id,
            Article.model_validate(
                {"id": a.id, "title": a.title, "body": a.body, "ingested_at": now}
            ).model_dump(mode="json"),
        )
        for a in articles
    ]


async def _fresh(es: Any, index: str) -> None:
    if await es.indices.exists(index=index):
        await es.indices.delete(index=index)
    body = template_body("articles", index)["template"]
    await es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])


async def _ours(es: Any, index: str, docs: list[tuple[str, dict[str, Any]]], size: int) -> float:
    await _fresh(es, index)
    sink = BulkSink(es, index)
    started = time.perf_counter()
    for i in range(0, len(docs), size):
        result = await sink.write(docs[i : i + size])
        assert not result.rejected
    return len(docs) / (time.perf_counter() - started)


async def _helper(es: Any, index: str, docs: list[tuple[str, dict[str, Any]]], size: int) -> float:
    await _fresh(es, index)
    actions = ({"_index": index, "_id": i, "_source": d} for i, d in docs)
    started = time.perf_counter()
    async for ok, _ in async_streaming_bulk(es, actions, chunk_size=size, max_retries=3):
        assert ok
    return len(docs) / (time.perf_counter() - started)


async def _run(settings: Settings, articles: list[BenchArticle]) -> dict[str, Any]:
    es = async_es_client(settings)
    index = f"{settings.namespace}-bench-sink"
    docs = _docs(articles)
    try:
        by_size = {}
        for size in SIZES:
            by_size[size] = {
                "helper": await _helper(es, index, docs, size),
                "sink": await _ours(es, index, docs, size),
            }
        await es.indices.delete(index=index)
    finally:
        await es.close()
    best = max(by_size, key=lambda s: by_size[s]["sink"])
    return {
        "docs": len(docs),
        "by_size": by_size,
        "best_size": best,
        "sink_dps": by_size[best]["sink"],
        "helper_dps": by_size[best]["helper"],
    }


def run(settings: Settings, articles: list[BenchArticle]) -> dict[str, Any]:
    """Docs/s of both at several bulk sizes; the ratio at the sink's best size."""
    return asyncio.run(_run(settings, articles))
