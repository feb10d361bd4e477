"""The work of each stage on one batch, between the pure functions and the I/O.

Functions here take message values (or stage records) and return outcomes, one per input
and in order: a record for the next stage, or a :class:`Rejected` with the reason. Only
NER is slow, and it runs in the spaCy pool; nothing here sends, writes or acks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from newsflow.core.errors import InvalidArticle
from processors.stages import minhash
from processors.stages.analysis import Text
from processors.stages.decode import decode
from processors.stages.dedup import signature
from processors.stages.enrich import enrich
from processors.worker.nlp import NlpPool
from schemas.article import Article, Enrichment
from schemas.work import Deduped, Prepared

log = logging.getLogger("newsflow.pipeline")


@dataclass(frozen=True)
class Message:
    """What the pipeline needs of a Kafka message."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Rejected:
    """A message that failed a stage, with the error that says why."""

    message: Message
    stage: str
    error: InvalidArticle


def unexpected(exc: Exception) -> InvalidArticle:
    """A bug met on one message: dead-letter it with the error, keep the worker going."""
    log.exception("unexpected error on one message")
    return InvalidArticle("processing_error", f"{type(exc).__name__}: {exc}"[:500])


def prepare(message: Message, max_bytes: int) -> Prepared | Rejected:
    """Stage ``clean``: decode, validate and clean a raw message; sign it for dedup."""
    try:
        article = decode(message.value, max_bytes)
        sig = minhash.encode(signature(article.body))
    except InvalidArticle as exc:
        return Rejected(message, "decode", exc)
    except Exception as exc:  # a bug on one input must not stop the worker
        return Rejected(message, "decode", unexpected(exc))
    return Prepared(article=article, signature=sig)


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

    async def enrich_batch(
        self, items: Sequence[Deduped], messages: Sequence[Message]
    ) -> list[Article | Rejected]:
        """Stage ``nlp``: one document (or rejection) per item, in order."""
        texts = [Text(i.article.title, i.article.body, i.article.language) for i in items]
        analyses = await self.pool.analyze(texts)
        now = datetime.now(UTC)
        results: list[Article | Rejected] = []
        for item, analysis, message in zip(items, analyses, messages, strict=True):
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
                results.append(Rejected(message, "nlp", unexpected(exc)))
        return results
