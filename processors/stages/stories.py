"""Online story clustering: articles about the same event share a ``story_id``.

Pure logic over a ``MutableMapping[str, Any]`` of JSON primitives (a dict in tests, a
changelog-backed Faust table in the app), like :mod:`processors.stages.dedup`.

An article is described by :class:`StoryFeatures`: its canonical named entities (counts) and
its term counts. :func:`assign_story` weighs the terms by TF-IDF with document frequencies
that the same state learns from the stream itself (time-decayed counts, see below), compares
the article with the open stories that share an entity or a top term with it (an inverted
index, so the cost does not grow with the number of open stories) and joins the best one when

``score = recency * (entity_weight * cos(entities) + (1 - entity_weight) * cos(terms))``

reaches ``threshold``. Entity vectors are ``(1 + ln count) * label prior * idf``, ``idf``
from the number of other held stories naming the entity: "Russia" in a hundred stories weighs
little, a minister named in no other story weighs a lot. Rarity is always measured *leaving
the candidate story out* (for entities and terms alike): the story's own articles must not
make its words look common, which on a young stream would penalize exactly the words a
follow-up shares with it. A story's vectors are sums of its articles' unit vectors (a
centroid) truncated to the top entries; its terms keep their term-frequency part only and are
weighed with the document frequencies of the moment they are compared, so a story started
when the stream was young gets better weights as the stream grows. Time decides which stories
are open to an article (within ``window_seconds`` of the story's span, the span at most
``max_span_seconds``) and lowers the score beyond ``time_grace_seconds``.

Document frequencies are counted on a *document clock* (``m:docs``, one tick per article
assigned), not on publication time: a count halves every ``df_half_life_docs`` articles, so
the weights follow what the stream talks about lately, and neither a gap in the stream nor a
replayed old corpus nor a wrong date wipes them. A term whose count fell below
``df_min_count`` is dropped (it is as rare as an unseen one).

State layout (keys -> JSON values)::

    a:<article_id>   {"s": story_id, "n": is_new, "x": score|None}   (written last)
    s:<story_id>     {"f": first, "l": last, "c": articles, "src": {source: n},
                      "e": {entity: centroid}, "ec": {entity: mentions},
                      "w": {term: tf centroid}, "k": [posting keys]}
    i:e:<entity>     [story ids mentioning it, newest last, at most max_postings]
    i:w:<term>       [story ids with that top term]
    d:<term>         [decayed document count, clock of the last count]
    m:docs           the document clock: articles counted (int)
    m:stories        number of stories held
    m:now            newest published_at assigned (stream time)
    ta:... / ts:...  time indexes of articles and stories (processors.stages.timeindex)
    td:...           terms filed by the clock at which they fade (processors.stages.timeindex)

Bounds: :func:`expire` drops articles and stories older than
``window_seconds + max_span_seconds`` before ``now`` (a story that old can take no article)
beyond the newest ``keep_articles`` / ``keep_stories``; the article index is also capped at
``max_articles``. It drops the terms that faded, and,
beyond ``df_max_terms``, those that fade soonest (the rare tail).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from processors.stages.timeindex import TimeIndex
from processors.stages.words import singular
from schemas.article import Article

StoryState = MutableMapping[str, Any]

# Story terms keep inner apostrophes and hyphens (why they differ from the other word splits:
# processors.stages.words).
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")
# Numbers of three characters or more ("2013", "5.6", "20,000"): years, magnitudes, tolls
# and sums tell one event from another of its kind; shorter ones (days, small counts) don't.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MIN_NUMBER_CHARS = 3
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


# Who and what tell events apart better than where: places and nationalities weigh less,
# as entities and as the words of their names ("north", "korea" in "North Korea").
LABEL_WEIGHTS: dict[str, float] = {"GPE": 0.4, "NORP": 0.2, "LOC": 0.6}
TITLE_WEIGHT = 2.0  # a title word counts as two body words


@dataclass(frozen=True)
class StoryConfig:
    """Knobs of :func:`assign_story` and :func:`expire` (defaults measured, see the docs)."""

    threshold: float = 0.42
    entity_weight: float = 0.2
    time_decay: float = 0.5
    # Dates are often days ("date 2026-10-27"): follow-ups a day or two later are common.
    time_grace_seconds: float = 49 * 3600.0
    window_seconds: float = 3 * 24 * 3600.0
    max_span_seconds: float = 7 * 24 * 3600.0
    top_entities: int = 25  # entries kept in a story's entity centroid
    top_terms: int = 20  # ... and in its term centroid
    match_terms: int = 20  # an article's heaviest terms compared with the stories
    index_terms: int = 5  # ... of which these find candidate stories
    max_postings: int = 64
    max_keys: int = 64
    max_sources: int = 20
    max_articles: int = 500_000
    keep_articles: int = 50_000  # expiry never goes below these (it only bounds memory)
    keep_stories: int = 5_000
    slot_seconds: float = 600.0
    df_half_life_docs: float = 10_000.0  # a document count halves every that many articles
    df_min_count: float = 0.5  # a term counted less than this is forgotten
    df_max_terms: int = 200_000  # beyond, the terms that fade soonest are dropped
    df_slot_docs: float = 64.0  # clock ticks per slot of the term expiry index

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
    terms: Mapping[str, float] = field(default_factory=dict)  # term -> (title-weighted) count
    source: str | None = None
    entity_weights: Mapping[str, float] = field(default_factory=dict)  # prior, default 1.0
    term_weights: Mapping[str, float] = field(default_factory=dict)  # prior, default 1.0


@dataclass(frozen=True)
class StoryAssignment:
    """The story an article belongs to; ``score`` is its match score when it joined one."""

    story_id: str
    is_new: bool
    score: float | None


class BatchState(MutableMapping[str, Any]):
    """A write-back view of a story state for one batch of articles.

    Reads see the batch's own writes; :meth:`flush` then writes each changed key once. On a
    changelog-backed table that is one record per key per batch instead of one per
    assignment (a common word's count changes with every article), and a batch that fails
    before its flush leaves the table as it was, so its redelivery starts from a clean state.
    """

    def __init__(self, state: StoryState) -> None:
        self._state = state
        self._changed: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self._changed:
            value = self._changed[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self._state[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key`` as this batch sees it, else ``default``."""
        value = self._changed.get(key, _MISSING)
        if value is _MISSING:
            return self._state.get(key, default)
        return default if value is _DELETED else value

    def __contains__(self, key: object) -> bool:
        if key in self._changed:
            return self._changed[key] is not _DELETED
        return key in self._state

    def __setitem__(self, key: str, value: Any) -> None:
        self._changed[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._changed[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        for key in self._state:
            if key not in self._changed:
                yield key
        yield from (k for k, v in self._changed.items() if v is not _DELETED)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def flush(self) -> int:
        """Write the batch's changes to the state; returns how many keys were written."""
        for key, value in self._changed.items():
            if value is _DELETED:
                self._state.pop(key, None)
            else:
                self._state[key] = value
        written = len(self._changed)
        self._changed = {}
        return written


_DELETED: Any = object()
_MISSING: Any = object()


def features(
    article_id: str,
    published_at: float,
    title: str | None,
    body: str,
    entity_names: Mapping[str, int],
    *,
    source: str | None = None,
    entity_labels: Mapping[str, str] | None = None,
) -> StoryFeatures:
    """The story features of an article: its entities and its term counts.

    Terms are casefolded words, plurals folded, stop words dropped; a title word counts
    twice. :func:`assign_story` weighs them with the document frequencies of the state.
    ``entity_labels`` (name -> spaCy label) lowers the weight of places and nationalities,
    which many unrelated events share (:data:`LABEL_WEIGHTS`), and of the words of their names.
    """
    terms: dict[str, float] = {}
    for term in _terms(title or ""):
        terms[term] = terms.get(term, 0.0) + TITLE_WEIGHT
    for term in _terms(body):
        terms[term] = terms.get(term, 0.0) + 1.0
    entities = {name: int(n) for name, n in entity_names.items() if n > 0 and name.strip()}
    labels = entity_labels or {}
    priors = {n: LABEL_WEIGHTS[labels[n]] for n in entities if labels.get(n) in LABEL_WEIGHTS}
    term_priors: dict[str, float] = {}
    for name, prior in priors.items():
        for term in _terms(name):
            if term in terms:
                term_priors[term] = min(term_priors.get(term, 1.0), prior)
    return StoryFeatures(
        article_id, float(published_at), entities, terms, source, priors, term_priors
    )


def article_features(article: Article) -> StoryFeatures:
    """The story features of an enriched article, as the ``stories`` stage computes them
    (publication time, else ingestion time)."""
    published = article.published_at or article.ingested_at
    return features(
        article.id,
        published.timestamp(),
        article.title,
        article.body,
        {e.name: e.count for e in article.entities},
        source=article.source,
        entity_labels={e.name: e.label for e in article.entities},
    )


def assign_story(f: StoryFeatures, state: StoryState, config: StoryConfig) -> StoryAssignment:
    """Join ``f`` to the best-matching open story, or start a story; update ``state``.

    The article is weighed with the document frequencies held in ``state``, which then count
    it. Idempotent per article id: a redelivered article gets its stored assignment back and
    changes nothing (document frequencies included).
    """
    known = state.get(f"a:{f.article_id}")
    if known is not None:
        return StoryAssignment(known["s"], known["n"], known["x"])
    stats = _term_stats(f.terms, f.term_weights, state, config)
    top = stats.top(config.match_terms)
    entity_keys = [f"e:{name}" for name in f.entities]
    term_keys = [f"w:{t}" for t in list(top)[: config.index_terms]]
    postings = {key: list(state.get(f"i:{key}", ())) for key in entity_keys + term_keys}
    held = int(state.get("m:stories", 0))
    best: tuple[float, str] | None = None
    for story_id in sorted({s for ids in postings.values() for s in ids}):
        story = state.get(f"s:{story_id}")
        if story is None or not _open_to(story, f.published_at, config):
            continue
        idf = _entity_idf(f.entities, postings, held, story_id)
        article, centroid = stats.against(top, story, state, config)
        score = _score(f, idf, article, centroid, story, config)
        if score >= config.threshold and (best is None or score > best[0]):
            best = (score, story_id)
    if best is None:
        assignment = StoryAssignment(_new_story_id(f.article_id), True, None)
    else:
        assignment = StoryAssignment(best[1], False, round(best[0], 4))
    tf_part = {t: stats.tf[t] for t in top}
    _record(f, tf_part, assignment, entity_keys + term_keys, state, config)
    _count_terms(stats, state, config)
    _mark_done(f, assignment, state, config)
    return assignment


def expire(state: StoryState, now: float, config: StoryConfig) -> int:
    """Forget articles and stories older than ``config.retention_seconds`` before ``now``
    (and the oldest articles beyond ``max_articles``), and the faded terms (and the rare
    tail beyond ``df_max_terms``); returns how many stories closed.

    Time is publication time, so ``now`` is capped at the newest ``published_at`` assigned
    (``m:now``). Expiry bounds memory, nothing else (whether a story may take an article
    depends on their times only), so it never shrinks the state below ``keep_stories``
    stories and ``keep_articles`` articles: a replayed corpus whose dates span more than the
    retention, or one article dated far ahead of the rest, must not close stories that the
    rest of the replay still feeds.
    """
    now = min(now, float(state.get("m:now", now)))
    cutoff = TimeIndex("ta:", config.slot_seconds).slot(now - config.retention_seconds) - 1
    articles, stories = _indexes(config)
    while articles.size(state) > config.keep_articles:
        last = articles.slot(now) if articles.size(state) > config.max_articles else cutoff
        if (popped := articles.pop_next(state, last)) is None:
            break
        for article_id in popped[1]:
            state.pop(f"a:{article_id}", None)
    closed = 0
    while int(state.get("m:stories", 0)) > config.keep_stories:
        if (popped := stories.pop_next(state, cutoff)) is None:
            break
        for story_id in popped[1]:
            closed += _close(state, story_id)
    _expire_terms(state, config)
    return closed


def document_frequency(term: str, state: StoryState, config: StoryConfig) -> float:
    """The decayed number of documents containing ``term`` (a word as :func:`features`
    makes it), 0 when it is not held; ``document_frequency("", ...)`` is the decayed number
    of documents."""
    clock = int(state.get("m:docs", 0))
    if not term:
        return _documents(clock, config)
    return _decayed(state.get(f"d:{term}"), clock, config)


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
    """Casefolded words without possessive endings, stop words and words under 3 letters,
    plurals folded to the singular; then the numbers of :data:`MIN_NUMBER_CHARS` or more."""
    words = (t.removesuffix("'s").removesuffix("’s") for t in _TOKEN.findall(text.casefold()))
    # "n't" is a contraction split off by tokenized text ("was n't"), never a topic word.
    found = [singular(t) for t in words if len(t) > 2 and t not in _STOPWORDS and t != "n't"]
    return found + [n for n in _NUMBER.findall(text) if len(n) >= MIN_NUMBER_CHARS]


@dataclass(frozen=True)
class _TermStats:
    """An article's terms: ``tf`` = ``(1 + ln count) * prior``, ``df`` = document frequency
    in the state, ``docs`` = number of documents (both decayed)."""

    tf: dict[str, float]
    df: dict[str, float]
    docs: float

    def idf(self, df: float, own: float = 0.0) -> float:
        """``1 + ln((N + 1) / (df + 1))``, the ``own`` documents of a story left out."""
        return 1.0 + math.log((self.docs + 1.0) / (max(0.0, df - own) + 1.0))

    def top(self, n: int) -> dict[str, float]:
        """The ``n`` heaviest terms (TF-IDF), heaviest first."""
        base = 1.0 + math.log(self.docs + 1.0)
        weights = [(w * (base - math.log(self.df[t] + 1.0)), t) for t, w in self.tf.items()]
        return {t: w for w, t in heapq.nsmallest(n, weights, key=_desc)}

    def against(
        self,
        top: Mapping[str, float],
        story: Mapping[str, Any],
        state: StoryState,
        config: StoryConfig,
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The article's and the story's term vectors for their comparison: the article's
        top terms plus those it shares with the story, both weighed with the document
        frequencies of now, less the story's own articles."""
        own = float(story["c"])
        article = dict(top)
        centroid = {}
        for term, weight in story["w"].items():
            if term in self.tf:
                idf = self.idf(self.df[term], own)
                article[term] = self.tf[term] * idf
            else:
                idf = self.idf(document_frequency(term, state, config), own)
            centroid[term] = weight * idf
        return article, centroid


def _desc(weighted: tuple[float, str]) -> tuple[float, str]:
    return -weighted[0], weighted[1]


def _term_stats(
    counts: Mapping[str, float],
    priors: Mapping[str, float],
    state: StoryState,
    config: StoryConfig,
) -> _TermStats:
    clock = int(state.get("m:docs", 0))
    tf = {t: (1.0 + math.log(n)) * priors.get(t, 1.0) for t, n in counts.items()}
    df = {t: _decayed(state.get(f"d:{t}"), clock, config) for t in counts}
    return _TermStats(tf, df, _documents(clock, config))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _top(weights: Mapping[str, float], n: int) -> list[str]:
    return [k for k, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _new_story_id(article_id: str) -> str:
    return "st-" + hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).hexdigest()


def _indexes(config: StoryConfig) -> tuple[TimeIndex, TimeIndex]:
    return TimeIndex("ta:", config.slot_seconds), TimeIndex("ts:", config.slot_seconds)


def _entity_idf(
    entities: Mapping[str, int], postings: Mapping[str, list[str]], stories: int, story: str
) -> dict[str, float]:
    """Rarity of each entity among the stories held other than ``story`` (more stories
    naming it: less weight)."""
    idf = {}
    for name in entities:
        ids = postings.get(f"e:{name}", ())
        others = len(ids) - (story in ids)
        idf[name] = math.log((stories + 1.0) / (others + 1.0)) + 1.0
    return idf


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
    f: StoryFeatures,
    idf: Mapping[str, float],
    article_terms: Mapping[str, float],
    story_terms: Mapping[str, float],
    story: Mapping[str, Any],
    config: StoryConfig,
) -> float:
    terms = _cosine(article_terms, story_terms)
    if not f.entities:
        return terms * _recency(f, story, config)
    article = {k: v * idf[k] for k, v in _entity_vector(f).items()}
    centroid = {k: v * idf.get(k, 1.0) for k, v in story["e"].items()}
    entities = _cosine(article, centroid)
    if entities <= 0.0 and story["e"] and not _share_name_words(f.entities, story["e"]):
        return 0.0  # both name people or places, none in common: another event
    mixed = config.entity_weight * entities + (1 - config.entity_weight) * terms
    return mixed * _recency(f, story, config)


def _share_name_words(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    """Whether two sets of entity names share a word: "LaCalamita" and "Anthony LaCalamita",
    "Surrey Police" and "Surrey" are spelt apart by NER but name the same people or places."""
    words = _name_words(mine)
    return any(w in words for w in _name_words(theirs))


def _name_words(names: Iterable[str]) -> set[str]:
    # A plain split (this runs per candidate story): "of" in "Gulf of Aden" is no name word.
    found = (w for name in names for w in name.casefold().split())
    return {w for w in found if len(w) > 2 and w not in _STOPWORDS}


def _recency(f: StoryFeatures, story: Mapping[str, Any], config: StoryConfig) -> float:
    """1 up to ``time_grace_seconds`` from the story's time span, then down to
    ``1 - time_decay`` at ``window_seconds`` away."""
    late = max(0.0, _gap(story, f.published_at) - config.time_grace_seconds)
    ramp = max(1.0, config.window_seconds - config.time_grace_seconds)
    return 1.0 - config.time_decay * min(1.0, late / ramp)


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
    weights: Mapping[str, float],
    assignment: StoryAssignment,
    keys: list[str],
    state: StoryState,
    config: StoryConfig,
) -> None:
    stories = _indexes(config)[1]
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
        "w": _add(story["w"], _unit(weights), config.top_terms),
        "k": story["k"] + new_keys,
    }
    for key in new_keys:
        ids = [s for s in state.get(f"i:{key}", ()) if s != story_id]
        state[f"i:{key}"] = [*ids, story_id][-config.max_postings :]
    if assignment.is_new:
        state["m:stories"] = int(state.get("m:stories", 0)) + 1
        stories.add(state, story_id, f.published_at)


def _mark_done(
    f: StoryFeatures, assignment: StoryAssignment, state: StoryState, config: StoryConfig
) -> None:
    """The article's record, written last: once it exists, a redelivery changes nothing."""
    state[f"a:{f.article_id}"] = {
        "s": assignment.story_id,
        "n": assignment.is_new,
        "x": assignment.score,
    }
    _indexes(config)[0].add(state, f.article_id, f.published_at)
    if f.published_at > float(state.get("m:now", f.published_at - 1.0)):
        state["m:now"] = f.published_at  # stream time, for expire


def _documents(clock: int, config: StoryConfig) -> float:
    """The decayed number of documents at ``clock``: the sum of ``2 ** (-age / half-life)``."""
    keep = 0.5 ** (1.0 / config.df_half_life_docs)
    return float((1.0 - math.pow(keep, clock)) / (1.0 - keep))


def _decayed(held: Any, clock: int, config: StoryConfig) -> float:
    """A held ``[count, clock]`` decayed to ``clock``; 0 below ``df_min_count`` (dropped)."""
    if held is None:
        return 0.0
    count, at = float(held[0]), int(held[1])
    value = count * 0.5 ** (max(0, clock - at) / config.df_half_life_docs)
    return value if value >= config.df_min_count else 0.0


def _fades_at(held: Any, config: StoryConfig) -> float:
    """The clock at which a held ``[count, clock]`` decays below ``df_min_count``."""
    count, at = float(held[0]), int(held[1])
    halvings = math.log2(max(count, config.df_min_count) / config.df_min_count)
    return at + config.df_half_life_docs * halvings


def _count_terms(stats: _TermStats, state: StoryState, config: StoryConfig) -> None:
    """Count one more document, containing the terms of ``stats``: the clock ticks.

    The terms seen for the first time are filed together (one group) in the ``td:`` index
    at the clock they fade at; :func:`expire` drops them then unless counted again meanwhile.
    """
    clock = int(state.get("m:docs", 0)) + 1
    state["m:docs"] = clock
    step = 0.5 ** (1.0 / config.df_half_life_docs)
    new = []
    for term, df in stats.df.items():
        key = f"d:{term}"
        if not df and key not in state:
            new.append(term)
        state[key] = [round(df * step + 1.0, 4), clock]
    if new:
        state["m:terms"] = int(state.get("m:terms", 0)) + len(new)
        _file_terms(state, new, _fades_at([1.0, clock], config), config)


def _file_terms(state: StoryState, terms: list[str], fades: float, config: StoryConfig) -> None:
    group = int(state.get("m:groups", 0)) + 1
    state["m:groups"] = group
    state[f"tg:{group}"] = terms
    _term_index(config).add(state, str(group), fades)


def _expire_terms(state: StoryState, config: StoryConfig) -> int:
    """Drop the terms that faded below ``df_min_count``, then, while more than
    ``df_max_terms`` are held, those that fade soonest (the rare tail); returns how many.

    Terms are filed by the clock at which they fade if not counted again; those counted
    meanwhile are filed again at their new fading clock instead of being dropped.
    """
    fading = _term_index(config)
    clock = int(state.get("m:docs", 0))
    # No fading clock lies beyond this: counts never exceed 2**64 documents.
    horizon = fading.slot(clock + 64 * config.df_half_life_docs)
    dropped = 0
    while True:
        over = int(state.get("m:terms", 0)) > config.df_max_terms
        popped = fading.pop_next(state, horizon if over else fading.slot(clock) - 1)
        if popped is None:
            return dropped
        slot, groups = popped
        later: dict[int, list[str]] = {}
        gone = 0
        for group in groups:
            for term in state.pop(f"tg:{group}", ()):
                held = state.get(f"d:{term}")
                if held is None:
                    continue
                fades = fading.slot(_fades_at(held, config))
                if fades <= slot:
                    del state[f"d:{term}"]
                    gone += 1
                else:
                    later.setdefault(fades, []).append(term)
        for fades, terms in sorted(later.items()):
            _file_terms(state, terms, fades * config.df_slot_docs, config)
        state["m:terms"] = max(0, int(state.get("m:terms", 0)) - gone)
        dropped += gone


def _term_index(config: StoryConfig) -> TimeIndex:
    return TimeIndex("td:", config.df_slot_docs)


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
