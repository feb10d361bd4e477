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

from newsflow.errors import InvalidArticle
from processors import minhash
from processors.decode import decode
from processors.dedup import signature
from processors.enrich import NO_FACETS, enrich, nlp_text
from processors.entities import AliasTable, EntityFacets, canonical_entities
from processors.language import detect_language
from processors.nlp import Mention, NlpPool
from processors.topics import Taxonomy, tag_topics
from schemas.article import Article, Entity
from schemas.work import Deduped, Prepared

log = logging.getLogger("newsflow.pipeline")

# The NER model reads English; other languages are indexed without entities or topics.
NER_LANGUAGES = frozenset({"en"})


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
    """A duplicate's document: its own text, the first-seen copy's entities, topics, story."""
    facets = EntityFacets(
        persons=original.get("persons", []),
        organizations=original.get("organizations", []),
        locations=original.get("locations", []),
        entities=[Entity.model_validate(e) for e in original.get("entities", [])],
    )
    article = enrich(
        item.article,
        language=original.get("language"),
        facets=facets,
        topics=[],
        tags=original.get("tags", []),
        ingested_at=now,
    )
    return article.model_copy(
        update={
            "topics": original.get("topics", []),
            "is_duplicate": True,
            "duplicate_of": item.duplicate_of,
            "story_id": original.get("story_id"),
        }
    )


@dataclass(frozen=True)
class Enricher:
    """The loaded tables and the spaCy pool that enrich batches of first-seen articles."""

    pool: NlpPool
    aliases: AliasTable
    taxonomy: Taxonomy
    max_nlp_chars: int

    async def enrich_batch(
        self, items: Sequence[Deduped], messages: Sequence[Message]
    ) -> list[Article | Rejected]:
        """Stage ``nlp``: one document (or rejection) per item, in order."""
        languages = [i.article.language or detect_language(i.article.body) or "en" for i in items]
        english = [n for n, lang in enumerate(languages) if lang in NER_LANGUAGES]
        texts = [nlp_text(items[n].article)[: self.max_nlp_chars] for n in english]
        mentions: dict[int, list[Mention]] = dict(
            zip(english, await self.pool.mentions(texts), strict=True)
        )
        now = datetime.now(UTC)
        results: list[Article | Rejected] = []
        for n, (item, message) in enumerate(zip(items, messages, strict=True)):
            try:
                results.append(self._finish(item, languages[n], mentions.get(n), now))
            except InvalidArticle as exc:
                results.append(Rejected(message, "nlp", exc))
            except Exception as exc:  # a bug on one input must not stop the worker
                results.append(Rejected(message, "nlp", unexpected(exc)))
        return results

    def _finish(
        self, item: Deduped, language: str, mentions: list[Mention] | None, now: datetime
    ) -> Article:
        article = item.article
        facets = canonical_entities(mentions, self.aliases) if mentions is not None else NO_FACETS
        topics, tags = (
            tag_topics(article.title, article.body, facets, self.taxonomy)
            if language in NER_LANGUAGES
            else ([], [])
        )
        enriched = enrich(
            article, language=language, facets=facets, topics=topics, tags=tags, ingested_at=now
        )
        if not item.is_duplicate:
            return enriched
        return enriched.model_copy(update={"is_duplicate": True, "duplicate_of": item.duplicate_of})
