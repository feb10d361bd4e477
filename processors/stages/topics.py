"""IPTC Media Topics (top level) and finer tags of one article, from weighted term rules.

The rules live in ``deploy/taxonomy.yaml``: per topic, terms (words, phrases, ``prefix*``) with
weights, entity names with weights, and finer tags with their own terms. Scoring is one pass
over the article's words with dictionary look-ups, so it costs next to nothing beside spaCy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newsflow.core.errors import ConfigError
from processors.stages.aliases import (
    DEPLOY_DIR,
    content_version,
    parse_yaml_model,
    read_config_text,
)
from processors.stages.entities import EntityFacets
from processors.stages.words import folded_words
from schemas import TOPIC_SLUGS

DEFAULT_TAXONOMY = DEPLOY_DIR / "taxonomy.yaml"
_MIN_PREFIX = 3
# What a "stem*" term allows after its stem (on plural-stripped words): inflections and the
# common derivations, so "vaccin*" finds "vaccination" and "gene*" finds "genetic" but
# neither "Geneva" nor "general".
_FAMILY_SUFFIXES = frozenset(
    {
        "", "e", "s", "es", "d", "ed", "ing", "er", "or", "ion", "ation", "al", "ally", "ic",
        "ical", "tic", "ist", "ism", "y", "ied", "ment", "ive", "ity", "ate", "ated", "ating",
        "ly", "ness", "ise", "ize", "ised", "ized", "ising", "izing", "an", "ian", "ous",
        "ary", "ory", "oral", "orate", "ee", "ship", "ry", "ful", "less", "ure", "ant", "ent",
        "ance", "ence", "ial", "ional",
    }
)  # fmt: skip


@dataclass(frozen=True)
class TopicScore:
    """One topic of an article with its share of the topic evidence (0..1)."""

    slug: str
    score: float


# --------------------------------------------------------------------------- taxonomy file
class _TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: dict[str, float] = Field(default_factory=dict)
    entities: dict[str, float] = Field(default_factory=dict)
    tags: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("terms", "entities")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [term for term, weight in value.items() if weight <= 0 or not term.strip()]
        if bad:
            raise ValueError(f"weights must be > 0 and terms non-blank: {bad[:3]}")
        return value


class TaxonomySettings(BaseModel):
    """The thresholds of the taxonomy file (documented in ``deploy/taxonomy.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title_weight: float = Field(3.0, ge=1)
    max_hits_per_term: int = Field(3, ge=1)
    min_evidence: float = Field(2.0, gt=0)
    min_share: float = Field(0.25, gt=0, le=1)
    max_topics: int = Field(3, ge=1, le=len(TOPIC_SLUGS))
    tag_min_evidence: float = Field(2.0, gt=0)


class _TaxonomyFile(TaxonomySettings):
    version: str | int
    topics: dict[str, _TopicSpec]

    @field_validator("topics")
    @classmethod
    def _known_slugs(cls, value: dict[str, _TopicSpec]) -> dict[str, _TopicSpec]:
        unknown = sorted(set(value) - set(TOPIC_SLUGS))
        if unknown:
            raise ValueError(f"unknown IPTC topic slugs {unknown}; allowed: {list(TOPIC_SLUGS)}")
        return value


_SETTINGS = set(TaxonomySettings.model_fields)

# A key of the term index is either a topic slug or "tag:<tag>" (a finer tag).
_Index = Mapping[tuple[str, ...], list[tuple[str, float]]]


@dataclass(frozen=True)
class Taxonomy:
    """Compiled topic and tag rules; ``version`` is the file version plus a content hash."""

    version: str
    settings: TaxonomySettings
    phrases: _Index = field(repr=False)
    prefixes: Mapping[str, list[tuple[str, float]]] = field(repr=False)
    entities: Mapping[str, list[tuple[str, float]]] = field(repr=False)
    tag_topic: Mapping[str, str] = field(repr=False)
    max_phrase_words: int = 1


def parse_taxonomy(text: str, source: str = "<string>") -> Taxonomy:
    """Build a :class:`Taxonomy` from YAML text; any problem is a :class:`ConfigError`."""
    spec = parse_yaml_model(text, _TaxonomyFile, source)
    phrases: dict[tuple[str, ...], list[tuple[str, float]]] = defaultdict(list)
    prefixes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    entities: dict[str, list[tuple[str, float]]] = defaultdict(list)
    tag_topic: dict[str, str] = {}

    def add(term: str, key: str, weight: float) -> None:
        if term.endswith("*") and len(folded_words(term)) == 1 and len(term) > _MIN_PREFIX:
            prefixes[term[:-1].casefold()].append((key, weight))
        elif folded_words(term):
            phrases[tuple(folded_words(term))].append((key, weight))
        else:
            raise ConfigError(f"{source}: term {term!r} ({key}) has no words")

    for slug, topic in spec.topics.items():
        for term, weight in topic.terms.items():
            add(term, slug, weight)
        for name, weight in topic.entities.items():
            entities[name.casefold()].append((slug, weight))
        for tag, tag_terms in topic.tags.items():
            if tag_topic.setdefault(tag, slug) != slug:
                raise ConfigError(f"{source}: tag {tag!r} is under two topics")
            for term in tag_terms:
                add(term, f"tag:{tag}", 1.0)
    return Taxonomy(
        version=content_version(spec.version, text),
        settings=TaxonomySettings.model_validate(spec.model_dump(include=_SETTINGS)),
        phrases=dict(phrases),
        prefixes=dict(prefixes),
        entities=dict(entities),
        tag_topic=tag_topic,
        max_phrase_words=max((len(p) for p in phrases), default=1),
    )


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate the topic taxonomy (default ``deploy/taxonomy.yaml``)."""
    path = path or DEFAULT_TAXONOMY
    return parse_taxonomy(read_config_text(path), source=str(path))


# --------------------------------------------------------------------------- scoring
_Hit = tuple[str, str, float]  # (topic slug or "tag:<name>", term, weight)


def _term_hits(tokens: list[str], taxonomy: Taxonomy) -> dict[_Hit, int]:
    """How often each rule term matches: phrases up to the longest, and prefixes."""
    hits: dict[_Hit, int] = defaultdict(int)
    longest = taxonomy.max_phrase_words
    for i, token in enumerate(tokens):
        for n in range(1, min(longest, len(tokens) - i) + 1):
            gram = tuple(tokens[i : i + n])
            for key, weight in taxonomy.phrases.get(gram, ()):
                hits[(key, " ".join(gram), weight)] += 1
        for end in range(_MIN_PREFIX, len(token) + 1):
            if token[end:] in _FAMILY_SUFFIXES:
                for key, weight in taxonomy.prefixes.get(token[:end], ()):
                    hits[(key, token[:end] + "*", weight)] += 1
    return hits


def evidence(
    title: str | None, body: str, facets: EntityFacets | None, taxonomy: Taxonomy
) -> tuple[dict[str, float], dict[str, float]]:
    """Raw evidence per topic slug and per ``tag:<name>``, and the part of it from the title.

    Title hits count ``title_weight`` times; each term's hits are capped per field.
    """
    cap = taxonomy.settings.max_hits_per_term
    totals: dict[str, float] = defaultdict(float)
    from_title: dict[str, float] = defaultdict(float)
    title_hits = _term_hits(folded_words(title or ""), taxonomy)
    body_hits = _term_hits(folded_words(body), taxonomy)
    for term in set(title_hits) | set(body_hits):
        in_title = taxonomy.settings.title_weight * min(title_hits.get(term, 0), cap)
        totals[term[0]] += term[2] * (in_title + min(body_hits.get(term, 0), cap))
        from_title[term[0]] += term[2] * in_title
    for name in _facet_names(facets):
        for slug, weight in taxonomy.entities.get(name.casefold(), ()):
            totals[slug] += weight
    return dict(totals), dict(from_title)


def _facet_names(facets: EntityFacets | None) -> Iterable[str]:
    if facets is None:
        return ()
    return [entity.name for entity in facets.entities]


def tag_topics(
    title: str | None,
    body: str,
    facets: EntityFacets | None,
    taxonomy: Taxonomy,
    choose: Callable[[list[TopicScore]], list[TopicScore]] | None = None,
) -> tuple[list[TopicScore], list[str]]:
    """The article's IPTC top-level topics (best first, with scores) and its finer tags.

    The best topic is always returned when there is any evidence; others need a share of at
    least ``min_share`` of all topic evidence and ``min_evidence`` points. ``choose``, when
    given, turns the rules' topics into the final ones (the topic model does, see
    :mod:`processors.stages.analysis`). Tags need their parent topic among the final topics and
    ``tag_min_evidence`` points.
    """
    rules = taxonomy.settings
    raw, from_title = evidence(title, body, facets, taxonomy)
    topic_raw = {k: v for k, v in raw.items() if not k.startswith("tag:") and v > 0}
    total = sum(topic_raw.values())
    if not total:
        return (choose([]) if choose else []), []
    # Ties go to the topic the headline speaks of, then to the contract's order.
    ranked = sorted(
        topic_raw.items(),
        key=lambda kv: (-kv[1], -from_title.get(kv[0], 0.0), TOPIC_SLUGS.index(kv[0])),
    )
    chosen = [
        TopicScore(slug, round(value / total, 3))
        for i, (slug, value) in enumerate(ranked[: rules.max_topics])
        if i == 0 or (value / total >= rules.min_share and value >= rules.min_evidence)
    ]
    if choose is not None:
        chosen = choose(chosen)
    slugs = {t.slug for t in chosen}
    tags = sorted(
        (
            (k.removeprefix("tag:"), v)
            for k, v in raw.items()
            if k.startswith("tag:")
            and v >= rules.tag_min_evidence
            and taxonomy.tag_topic[k.removeprefix("tag:")] in slugs
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return chosen, [tag for tag, _ in tags]
