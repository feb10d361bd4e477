"""The enrichment of a batch, between :func:`processors.stages.enrich.enrich` and the stages
``nlp`` and ``copies``: documents from the spaCy pool's analyses, or from a first copy's.

Only NER is slow, and it runs in the spaCy pool; nothing here sends, writes or acks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from newsflow.core.errors import InvalidArticle
from processors.stages.analysis import Text
from processors.stages.enrich import enrich
from processors.worker.nlp import NlpPool
from schemas.article import Article, Enrichment
from schemas.work import Deduped

log = logging.getLogger("newsflow.pipeline")


def unexpected(exc: Exception) -> InvalidArticle:
    """A bug met on one message: dead-letter it with the error, keep the worker going."""
    log.exception("unexpected error on one message")
    return InvalidArticle("processing_error", f"{type(exc).__name__}: {exc}"[:500])


def copy_enrichment(item: Deduped, original: dict[str, Any], now: datetime) -> Article:
    """A duplicate's document: its own text, the first-seen copy's enrichment and story."""
    return Article.assemble(
        item.article,
        Enrichment.model_validate(original),
        ingested_at=item.first_seen or now,
        processed_at=now,
        is_duplicate=True,
        duplicate_of=item.duplicate_of,
        story_id=original.get("story_id"),
    )


@dataclass(frozen=True)
class Enricher:
    """Turns batches of first-seen articles into documents, with the analysis pool."""

    pool: NlpPool

    async def enrich_batch(self, items: Sequence[Deduped]) -> list[Article | InvalidArticle]:
        """Stage ``nlp``: one document (or the error of a bug) per item, in order."""
        texts = [Text(i.article.title, i.article.body, i.article.language) for i in items]
        analyses = await self.pool.analyze(texts)
        now = datetime.now(UTC)
        results: list[Article | InvalidArticle] = []
        for item, analysis in zip(items, analyses, strict=True):
            try:
                article = enrich(
                    item.article,
                    analysis,
                    ingested_at=item.first_seen or now,
                    processed_at=now,
                    enriched_by=self.pool.versions,
                )
                if item.is_duplicate:  # a copy whose first copy never reached the index
                    article = article.model_copy(
                        update={"is_duplicate": True, "duplicate_of": item.duplicate_of}
                    )
                results.append(article)
            except Exception as exc:  # a bug on one input must not stop the worker
                results.append(unexpected(exc))
        return results
