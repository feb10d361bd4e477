"""The enrichment of one batch: decode, language, NER, entities, topics, document.

This module is the seam between the pure stages and the I/O: it takes message values and
returns outcomes (a document or a dead letter per message, in order), calling the spaCy
pool for the only slow step. It sends, writes and acks nothing itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from newsflow.errors import InvalidArticle
from processors.decode import decode
from processors.enrich import NO_FACETS, enrich, nlp_text
from processors.entities import AliasTable, canonical_entities
from processors.language import detect_language
from processors.nlp import Mention, NlpPool
from processors.topics import Taxonomy, tag_topics
from schemas.article import Article
from schemas.clean import CleanArticle

log = logging.getLogger("newsflow.pipeline")

# The NER model reads English; other languages are indexed without entities.
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


Outcome = Article | Rejected


@dataclass(frozen=True)
class Enricher:
    """The loaded tables and the spaCy pool that enrich batches of raw messages."""

    pool: NlpPool
    aliases: AliasTable
    taxonomy: Taxonomy
    max_message_bytes: int
    max_nlp_chars: int

    async def enrich_batch(self, messages: Sequence[Message]) -> list[Outcome]:
        """One outcome per message, in order."""
        outcomes: list[Outcome | CleanArticle] = []
        for message in messages:
            try:
                outcomes.append(decode(message.value, self.max_message_bytes))
            except InvalidArticle as exc:
                outcomes.append(Rejected(message, "decode", exc))
        clean = [o for o in outcomes if isinstance(o, CleanArticle)]
        languages = [a.language or detect_language(a.body) or "en" for a in clean]
        to_nlp = [a for a, lang in zip(clean, languages, strict=True) if lang in NER_LANGUAGES]
        mentions = await self.pool.mentions([nlp_text(a)[: self.max_nlp_chars] for a in to_nlp])
        by_id: dict[int, list[Mention]] = {id(a): m for a, m in zip(to_nlp, mentions, strict=True)}
        now = datetime.now(UTC)
        lang_of = {id(a): lang for a, lang in zip(clean, languages, strict=True)}
        result: list[Outcome] = []
        for outcome, message in zip(outcomes, messages, strict=True):
            if isinstance(outcome, Rejected):
                result.append(outcome)
                continue
            try:
                result.append(
                    self._finish(outcome, lang_of[id(outcome)], by_id.get(id(outcome)), now)
                )
            except InvalidArticle as exc:
                result.append(Rejected(message, "enrich", exc))
        return result

    def _finish(
        self, article: CleanArticle, language: str, mentions: list[Mention] | None, now: datetime
    ) -> Article:
        facets = canonical_entities(mentions, self.aliases) if mentions is not None else NO_FACETS
        english = language in NER_LANGUAGES
        topics, tags = (
            tag_topics(article.title, article.body, facets, self.taxonomy) if english else ([], [])
        )
        return enrich(
            article, language=language, facets=facets, topics=topics, tags=tags, ingested_at=now
        )
