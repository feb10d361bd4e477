"""Online story clustering: articles about the same event share a ``story_id``.

Pure logic over a ``MutableMapping[str, Any]`` of JSON primitives (a dict in tests, a
changelog-backed Faust table in the app), like :mod:`processors.dedup`.

An article is described by :class:`StoryFeatures`: its canonical named entities (counts) and
its salient terms (TF-IDF weights). :func:`assign_story` compares it with the open stories that
share an entity or a top term with it (an inverted index, so the cost does not grow with the
number of open stories) and joins the best one when

``score = entity_weight * cos(entities) + (1 - entity_weight) * cos(terms) >= threshold``

where entity vectors are ``(1 + ln count) * idf`` and ``idf`` comes from the number of open
stories that mention the entity: "Russia" or "the government" in a hundred stories weighs
little, a minister named in one story weighs a lot. A story's vectors are the sums of its
articles' unit vectors (a centroid), truncated to the top entries. Time decides which
stories are open to an article: within ``window_seconds`` of the story's time span, and the
span may not exceed ``max_span_seconds`` (a long-running topic becomes a series of stories).

State layout (keys -> JSON values)::

    a:<article_id>   {"s": story_id, "n": is_new, "x": score|None}
    s:<story_id>     {"f": first, "l": last, "c": articles, "src": {source: n},
                      "e": {entity: centroid}, "ec": {entity: mentions},
                      "w": {term: centroid}, "k": [posting keys]}
    i:e:<entity>     [story ids mentioning it, newest last, at most max_postings]
    i:w:<term>       [story ids with that top term]
    m:stories        number of stories held
    m:now            newest published_at assigned (stream time)
    ta:... / ts:...  time indexes of articles and stories (processors.timeindex)

Bounds: :func:`expire` drops articles and stories older than
``window_seconds + max_span_seconds`` before ``now`` (a story that old can take no article);
the article index is also capped at ``max_articles``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from processors.timeindex import TimeIndex

StoryState = MutableMapping[str, Any]

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")
_STOPWORD_TEXT = """
    a about above after again against all also although am among an and another any are
    around as at be because been before being below between both but by can could did do
    does doing down during each either even ever every few for from further had has have
    having he her here hers herself him himself his how however i if in into is it its
    itself just last least less like made make many may me might more most much must my
    myself near neither next no nor not now of off on once one only or other others our ours
    out over own per said same says saying see she should since so some such than that the
    their theirs them themselves then there these they this those though through to told too
    two under until up upon us very via was we were what when where whether which while who
    whom whose why will with within without would yet you your yours new first second three
    four five six seven eight nine ten year years week weeks day days time monday tuesday
    wednesday thursday friday saturday sunday today yesterday percent according added
    including still well back people mr mrs ms dr
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


# Who and what tell events apart better than where: places and nationalities weigh less.
LABEL_WEIGHTS: dict[str, float] = {"GPE": 0.4, "NORP": 0.2, "LOC": 0.6}


@dataclass(frozen=True)
class StoryConfig:
    """Knobs of :func:`assign_story` and :func:`expire` (defaults measured, see the docs)."""

    threshold: float = 0.4
    entity_weight: float = 0.4
    time_decay: float = 0.5
    window_seconds: float = 3 * 24 * 3600.0
    max_span_seconds: float = 7 * 24 * 3600.0
    top_entities: int = 25
    top_terms: int = 20
    index_terms: int = 5
    max_postings: int = 64
    max_keys: int = 64
    max_sources: int = 20
    max_articles: int = 500_000
    slot_seconds: float = 600.0

    @property
    def retention_seconds(self) -> float:
        """How long articles and stories are kept: a story older than this takes no article."""
        return self.window_seconds + self.max_span_seconds


@dataclass(frozen=True)
class StoryFeatures:
    """What :func:`assign_story` knows of an article."""

    article_id: str
    published_at: float
    entities: Mapping[str, int] = field(default_factory=dict)
    terms: Mapping[str, float] = field(default_factory=dict)
    source: str | None = None
    entity_weights: Mapping[str, float] = field(default_factory=dict)  # prior, default 1.0


@dataclass(frozen=True)
class StoryAssignment:
    """The story an article belongs to; ``score`` is its match score when it joined one."""

    story_id: str
    is_new: bool
    score: float | None


def features(
    article_id: str,
    published_at: float,
    title: str | None,
    body: str,
    entity_names: Mapping[str, int],
    df: Mapping[str, int] | None = None,
    *,
    source: str | None = None,
    entity_labels: Mapping[str, str] | None = None,
    top_terms: int = 20,
) -> StoryFeatures:
    """The story features of an article: its entities and its ``top_terms`` TF-IDF terms.

    Terms are casefolded words (stop words dropped); the title counts twice. ``df`` maps a
    term to the number of documents containing it, and ``df["__docs__"]`` to the number of
    documents (else the largest count is used); without ``df`` the weight is ``1 + ln tf``.
    ``entity_labels`` (name -> spaCy label) lowers the weight of places and nationalities,
    which many unrelated events share (:data:`LABEL_WEIGHTS`).
    """
    text = f"{title or ''} {title or ''} {body}".casefold()
    counts = Counter(_terms(text))
    docs = float(df.get("__docs__") or max(df.values(), default=1)) if df else 0.0

    def weight(term: str, tf: int) -> float:
        idf = math.log((docs + 1.0) / (df.get(term, 0) + 1.0)) + 1.0 if df else 1.0
        return (1.0 + math.log(tf)) * idf

    weighted = sorted(((weight(t, n), t) for t, n in counts.items()), reverse=True)[:top_terms]
    terms = {t: round(w, 4) for w, t in weighted}
    entities = {name: int(n) for name, n in entity_names.items() if n > 0 and name.strip()}
    labels = entity_labels or {}
    priors = {n: LABEL_WEIGHTS[labels[n]] for n in entities if labels.get(n) in LABEL_WEIGHTS}
    return StoryFeatures(article_id, float(published_at), entities, terms, source, priors)


def assign_story(f: StoryFeatures, state: StoryState, config: StoryConfig) -> StoryAssignment:
    """Join ``f`` to the best-matching open story, or start a story; update ``state``.

    Idempotent per article id: a redelivered article gets its stored assignment back.
    """
    known = state.get(f"a:{f.article_id}")
    if known is not None:
        return StoryAssignment(known["s"], known["n"], known["x"])
    entity_keys = [f"e:{name}" for name in f.entities]
    term_keys = [f"w:{t}" for t in _top(f.terms, config.index_terms)]
    postings = {key: list(state.get(f"i:{key}", ())) for key in entity_keys + term_keys}
    idf = _entity_idf(f.entities, postings, int(state.get("m:stories", 0)))
    best: tuple[float, str] | None = None
    for story_id in sorted({s for ids in postings.values() for s in ids}):
        story = state.get(f"s:{story_id}")
        if story is None or not _open_to(story, f.published_at, config):
            continue
        score = _score(f, idf, story, config)
        if score >= config.threshold and (best is None or score > best[0]):
            best = (score, story_id)
    if best is None:
        assignment = StoryAssignment(_new_story_id(f.article_id), True, None)
    else:
        assignment = StoryAssignment(best[1], False, round(best[0], 4))
    _record(f, assignment, entity_keys + term_keys, state, config)
    return assignment


def expire(state: StoryState, now: float, config: StoryConfig) -> int:
    """Forget articles and stories older than ``config.retention_seconds`` before ``now``
    (and the oldest articles beyond ``max_articles``); returns how many stories closed.

    Time is publication time, so ``now`` is capped at the newest ``published_at`` assigned
    (``m:now``): a wall-clock ``now`` must not close the stories of a replayed old corpus.
    """
    now = min(now, float(state.get("m:now", now)))
    cutoff = TimeIndex("ta:", config.slot_seconds).slot(now - config.retention_seconds) - 1
    articles, stories = _indexes(config)
    while (popped := articles.pop_next(state, cutoff)) is not None:
        for article_id in popped[1]:
            state.pop(f"a:{article_id}", None)
    while articles.size(state) > config.max_articles:
        if (popped := articles.pop_next(state, articles.slot(now))) is None:
            break
        for article_id in popped[1]:
            state.pop(f"a:{article_id}", None)
    closed = 0
    while (popped := stories.pop_next(state, cutoff)) is not None:
        for story_id in popped[1]:
            closed += _close(state, story_id)
    return closed


def story_summary(story_id: str, state: StoryState) -> dict[str, Any]:
    """A document for the ``<ns>-stories`` index: article count, sources, first and last
    publication time (ISO 8601, UTC), top entities and terms. Raises ``KeyError`` when the
    story is unknown (never seen, or expired)."""
    story = state[f"s:{story_id}"]
    entities = sorted(story["ec"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "story_id": story_id,
        "article_count": story["c"],
        "sources": sorted(story["src"], key=lambda s: (-story["src"][s], s)),
        "first_seen": _iso(story["f"]),
        "last_seen": _iso(story["l"]),
        "top_entities": [{"name": name, "count": int(n)} for name, n in entities],
        "top_terms": _top(story["w"], 10),
    }


def _terms(text: str) -> list[str]:
    """Casefolded words without possessive endings, stop words and words under 3 letters."""
    words = (t.removesuffix("'s").removesuffix("’s") for t in _TOKEN.findall(text))
    return [t for t in words if len(t) > 2 and t not in _STOPWORDS]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _top(weights: Mapping[str, float], n: int) -> list[str]:
    return [k for k, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _new_story_id(article_id: str) -> str:
    return "st-" + hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).hexdigest()


def _indexes(config: StoryConfig) -> tuple[TimeIndex, TimeIndex]:
    return TimeIndex("ta:", config.slot_seconds), TimeIndex("ts:", config.slot_seconds)


def _entity_idf(
    entities: Mapping[str, int], postings: Mapping[str, list[str]], stories: int
) -> dict[str, float]:
    """Rarity of each entity among the stories held (more stories naming it: less weight)."""
    return {
        name: math.log((stories + 1.0) / (len(postings.get(f"e:{name}", ())) + 1.0)) + 1.0
        for name in entities
    }


def _unit(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _cosine(left: Mapping[str, float], right: Mapping[str, float]) -> float:
    if len(left) > len(right):
        left, right = right, left
    dot = sum(v * right.get(k, 0.0) for k, v in left.items())
    norms = math.sqrt(sum(v * v for v in left.values()) * sum(v * v for v in right.values()))
    return dot / norms if norms else 0.0


def _entity_vector(f: StoryFeatures) -> dict[str, float]:
    prior = f.entity_weights
    return _unit({k: (1.0 + math.log(n)) * prior.get(k, 1.0) for k, n in f.entities.items()})


def _score(
    f: StoryFeatures, idf: Mapping[str, float], story: Mapping[str, Any], config: StoryConfig
) -> float:
    terms = _cosine(f.terms, story["w"])
    if not f.entities:
        return terms * _recency(f, story, config)
    article = {k: v * idf[k] for k, v in _entity_vector(f).items()}
    centroid = {k: v * idf.get(k, 1.0) for k, v in story["e"].items()}
    entities = _cosine(article, centroid)
    mixed = config.entity_weight * entities + (1 - config.entity_weight) * terms
    return mixed * _recency(f, story, config)


def _recency(f: StoryFeatures, story: Mapping[str, Any], config: StoryConfig) -> float:
    """1 inside the story's time span, down to ``1 - time_decay`` at ``window_seconds`` away."""
    gap = _gap(story, f.published_at)
    return 1.0 - config.time_decay * min(1.0, gap / config.window_seconds)


def _gap(story: Mapping[str, Any], t: float) -> float:
    """Distance in seconds from ``t`` to the story's time span (0 inside it)."""
    first, last = float(story["f"]), float(story["l"])
    return max(0.0, first - t, t - last)


def _open_to(story: Mapping[str, Any], t: float, config: StoryConfig) -> bool:
    span = max(float(story["l"]), t) - min(float(story["f"]), t)
    return _gap(story, t) <= config.window_seconds and span <= config.max_span_seconds


def _add(total: Mapping[str, float], part: Mapping[str, float], keep: int) -> dict[str, float]:
    summed = dict(total)
    for k, v in part.items():
        summed[k] = summed.get(k, 0.0) + v
    return {k: round(summed[k], 4) for k in _top(summed, keep)}


def _record(
    f: StoryFeatures,
    assignment: StoryAssignment,
    keys: list[str],
    state: StoryState,
    config: StoryConfig,
) -> None:
    articles, stories = _indexes(config)
    story_id = assignment.story_id
    empty = {"c": 0, "src": {}, "e": {}, "ec": {}, "w": {}, "k": []}
    story = state.get(f"s:{story_id}") or {"f": f.published_at, "l": f.published_at, **empty}
    new_keys = [k for k in keys if k not in story["k"]][: config.max_keys - len(story["k"])]
    counts = {k: float(v) for k, v in f.entities.items()}
    state[f"s:{story_id}"] = {
        "f": min(story["f"], f.published_at),
        "l": max(story["l"], f.published_at),
        "c": story["c"] + 1,
        "src": _add(story["src"], {f.source: 1} if f.source else {}, config.max_sources),
        "e": _add(story["e"], _entity_vector(f), config.top_entities),
        "ec": _add(story["ec"], counts, config.top_entities),
        "w": _add(story["w"], _unit(f.terms), config.top_terms),
        "k": story["k"] + new_keys,
    }
    for key in new_keys:
        ids = [s for s in state.get(f"i:{key}", ()) if s != story_id]
        state[f"i:{key}"] = [*ids, story_id][-config.max_postings :]
    if assignment.is_new:
        state["m:stories"] = int(state.get("m:stories", 0)) + 1
        stories.add(state, story_id, f.published_at)
    state[f"a:{f.article_id}"] = {"s": story_id, "n": assignment.is_new, "x": assignment.score}
    articles.add(state, f.article_id, f.published_at)
    if f.published_at > float(state.get("m:now", f.published_at - 1.0)):
        state["m:now"] = f.published_at  # stream time, for expire


def _close(state: StoryState, story_id: str) -> int:
    story = state.pop(f"s:{story_id}", None)
    if story is None:
        return 0
    for key in story["k"]:
        ids = [s for s in state.get(f"i:{key}", ()) if s != story_id]
        if ids:
            state[f"i:{key}"] = ids
        else:
            state.pop(f"i:{key}", None)
    state["m:stories"] = max(0, int(state.get("m:stories", 0)) - 1)
    return 1
