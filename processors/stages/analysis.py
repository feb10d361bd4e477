"""Stage ``nlp``, the CPU-bound part: language, NER, canonical entities and topics.

:func:`analyze` runs inside the spaCy worker processes (see :mod:`processors.worker.nlp`), so the
worker's event loop does none of this work; it gets back small, picklable results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from processors.stages.cues import Context
from processors.stages.datelines import dateline_places
from processors.stages.entities import (
    AliasTable,
    EntityFacets,
    Mention,
    canonical_entities,
    load_aliases,
)
from processors.stages.language import detect_language
from processors.stages.tables import table_names
from processors.stages.topic_model import TopicModel, load_topic_model
from processors.stages.topics import Taxonomy, TopicScore, load_taxonomy, tag_topics
from processors.stages.versions import enrichment_versions

# The NER model reads English; other languages are indexed without entities or topics.
NER_LANGUAGES = frozenset({"en"})
NO_FACETS = EntityFacets(persons=[], organizations=[], locations=[], entities=[])


@dataclass(frozen=True)
class Text:
    """What the analysis reads of an article."""

    title: str | None
    body: str
    language: str | None = None  # given by the producer, else detected


@dataclass(frozen=True)
class Analysis:
    """What the analysis found in one article."""

    language: str
    facets: EntityFacets
    topics: list[TopicScore]
    tags: list[str]
    topic_scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Analyzer:
    """A loaded spaCy pipeline with the alias table, the topic taxonomy and topic model."""

    nlp: Any
    aliases: AliasTable
    taxonomy: Taxonomy
    topic_model: TopicModel
    max_chars: int = 200_000

    @property
    def versions(self) -> dict[str, str]:
        """What enriched a document (see :mod:`processors.stages.versions`)."""
        return enrichment_versions(self.nlp.meta, self.aliases, self.taxonomy, self.topic_model)

    def analyze(self, texts: Sequence[Text], batch_size: int = 32) -> list[Analysis]:
        """One analysis per text, in order; NER only for English texts."""
        languages = [t.language or detect_language(t.body) or "en" for t in texts]
        english = [n for n, lang in enumerate(languages) if lang in NER_LANGUAGES]
        docs = self.nlp.pipe(
            (ner_text(texts[n])[: self.max_chars] for n in english), batch_size=batch_size
        )
        facets: dict[int, EntityFacets] = {
            n: entity_facets(texts[n], *doc_mentions(doc), self.aliases)
            for n, doc in zip(english, docs, strict=True)
        }
        results = []
        for n, (text, language) in enumerate(zip(texts, languages, strict=True)):
            if n in facets:
                results.append(self._topics(text, language, facets[n]))
            else:
                results.append(Analysis(language, NO_FACETS, [], []))
        return results

    def _topics(self, text: Text, language: str, facets: EntityFacets) -> Analysis:
        """Topics from the model (with the rules' share), tags from the rules under them."""
        scores: dict[str, float] = {}

        def choose(rules: list[TopicScore]) -> list[TopicScore]:
            chosen, found = self.topic_model.topics(text.title, text.body, rules)
            scores.update(found)
            return chosen

        topics, tags = tag_topics(text.title, text.body, facets, self.taxonomy, choose)
        return Analysis(language, facets, topics, tags, scores)


def doc_mentions(doc: Any) -> tuple[list[Mention], list[Context]]:
    """A spaCy doc's ``(text, label)`` mentions and the words around each."""
    mentions = [(e.text, e.label_) for e in doc.ents]
    return mentions, [(_word(doc, e.start - 1), _word(doc, e.end)) for e in doc.ents]


def _word(doc: Any, i: int) -> str:
    # "" at a boundary: the start or end of the text, a line break, a sentence end.
    if i < 0 or i >= len(doc) or doc[i].is_space:
        return ""
    return str(doc[i].lower_)


def entity_facets(
    text: Text,
    mentions: Sequence[Mention],
    contexts: Sequence[Context],
    aliases: AliasTable,
    disabled: frozenset[str] = frozenset(),
) -> EntityFacets:
    """The canonical entities of one article from spaCy's mentions, its dateline and tables."""
    return canonical_entities(
        mentions,
        aliases,
        places=dateline_places(text.body),
        hints=table_names(text.body),
        contexts=contexts,
        disabled=disabled,
    )


def ner_text(text: Text) -> str:
    """The text NER reads: the headline (if any) as its own paragraph, then the body."""
    return f"{text.title}\n\n{text.body}" if text.title else text.body


def load_analyzer(model_loader: Any, max_chars: int = 200_000) -> Analyzer:
    """The analyzer with the default alias table, taxonomy and topic model from ``deploy/``."""
    return Analyzer(model_loader(), load_aliases(), load_taxonomy(), load_topic_model(), max_chars)
