"""The enriched article: the value of ``<ns>.enriched`` and a document of ``<ns>-articles``.

Each field of the document is declared once, in one of three groups:

- :class:`schemas.clean.CleanArticle`: what the ``clean`` stage makes of the raw article;
- :class:`Enrichment`: what the ``nlp`` stage finds in it (a duplicate takes its first
  copy's enrichment as a whole, see ``processors.worker.pipeline.copy_enrichment``);
- :class:`Article` itself: the times and the dedup and story decisions.

To add an enrichment field (say ``sentiment``): declare it in :class:`Enrichment`, set it in
``processors.stages.enrich.enrichment``, map it in ``deploy/elasticsearch/v8/articles.json``
(the index is strict) and run ``make schemas``. ``tests/unit/test_schemas.py`` names any field
the mapping or ``schemas/json/`` lacks. If the value depends on a new model or table, add its
version in ``processors.stages.versions``: the worker and ``newsflow reprocess`` both use it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from schemas.clean import CleanArticle

# The top level of the IPTC Media Topics, as slugs (the contract's list, in its order).
TopicSlug = Literal[
    "arts",
    "crime",
    "disaster",
    "economy",
    "education",
    "environment",
    "health",
    "human-interest",
    "labour",
    "lifestyle",
    "politics",
    "religion",
    "science",
    "society",
    "sport",
    "conflict",
    "weather",
]
TOPIC_SLUGS: tuple[str, ...] = get_args(TopicSlug)
EntityLabel = Literal["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT"]
# The keys of ``enriched_by``, each the version of one thing that shapes the enrichment
# (``processors.stages.versions`` computes them; the index maps each one).
ENRICHED_BY_KEYS = ("pipeline", "model", "aliases", "taxonomy", "topic_model")


class Entity(BaseModel):
    """One canonical named entity of an article, with how often it is mentioned."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    label: EntityLabel
    count: int = Field(ge=1)


class Enrichment(BaseModel):
    """What the ``nlp`` stage found in an article, and the versions of what found it."""

    model_config = ConfigDict(frozen=True)

    language: str | None = None
    persons: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    topics: list[TopicSlug] = Field(default_factory=list)
    topic_scores: dict[TopicSlug, float] = Field(
        default_factory=dict,
        description="Probability of each IPTC top-level topic from the topic model (0..1).",
    )
    tags: list[str] = Field(default_factory=list)
    enriched_by: dict[str, str] = Field(
        default_factory=dict,
        description="Versions that enriched it: pipeline, model, aliases, taxonomy, topic_model.",
    )


class Article(Enrichment, CleanArticle):
    """A cleaned, deduplicated, enriched article; ``id`` is the Elasticsearch ``_id``."""

    # Its fields: the clean article's, then the enrichment's (whose ``language``, the detected
    # one, replaces the given one), then its own.

    # Optional in a document, unlike in the clean article (so an Article is not quite a
    # CleanArticle, hence the ignore): fixtures and benchmarks build documents without one;
    # every document the pipeline indexes has one.
    content_hash: str | None = Field(  # type: ignore[assignment]
        None, description="Hash of the normalized clean body."
    )
    ingested_at: datetime = Field(
        description="When newsflow first saw the article; a re-send or replay keeps it."
    )
    processed_at: datetime | None = Field(
        None, description="When this version of the document was made (live tails follow it)."
    )
    is_duplicate: bool = False
    duplicate_of: str | None = None
    story_id: str | None = None

    @classmethod
    def assemble(cls, article: CleanArticle, enrichment: Enrichment, **fields: object) -> Article:
        """The document of ``article`` with ``enrichment`` (each group copied whole) and
        ``fields`` (``ingested_at`` at least)."""
        return cls.model_validate({**dict(article), **dict(enrichment), **fields})
