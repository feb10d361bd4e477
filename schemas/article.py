"""The enriched article: the value of ``<ns>.enriched`` and a document of ``<ns>-articles``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The top level of the IPTC Media Topics, as slugs (the contract's list, in its order).
TOPIC_SLUGS: tuple[str, ...] = (
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
)
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
EntityLabel = Literal["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT"]


class Entity(BaseModel):
    """One canonical named entity of an article, with how often it is mentioned."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    label: EntityLabel
    count: int = Field(ge=1)


class Article(BaseModel):
    """A cleaned, deduplicated, enriched article; ``id`` is the Elasticsearch ``_id``."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str | None = None
    source: str | None = None
    title: str | None = None
    body: str = Field(min_length=1, description="Clean text, no markup.")
    published_at: datetime | None = None
    ingested_at: datetime = Field(
        description="When newsflow first saw the article; a re-send or replay keeps it."
    )
    processed_at: datetime | None = Field(
        None, description="When this version of the document was made (live tails follow it)."
    )
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
    is_duplicate: bool = False
    duplicate_of: str | None = None
    story_id: str | None = None
    content_hash: str | None = Field(None, description="Hash of the normalized clean body.")
    meta: dict[str, Any] = Field(default_factory=dict, description="Producer metadata (stored).")
    replay_tag: str | None = Field(None, description="Tag of the replay that sent it, if any.")
    alerts_suppressed: bool = Field(False, description="True: this article fires no alert.")
    enriched_by: dict[str, str] = Field(
        default_factory=dict,
        description=("Versions that enriched it: pipeline, model, aliases, taxonomy, topic_model."),
    )
