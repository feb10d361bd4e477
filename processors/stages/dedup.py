"""Exact and near-duplicate detection over a bounded, serializable state.

Pure logic: :func:`decide` reads and updates a ``MutableMapping[str, Any]`` (a dict in tests,
a changelog-backed Faust table in the app) whose values are JSON primitives only.

How it runs. The ``prepare`` step computes :func:`content_hash` and :func:`signature`
(the costly part, parallel across workers); every candidate then goes through ONE partition to
the ``dedup`` step, which calls :func:`decide`. One ordered stream is what makes the decision
right under concurrency: two copies processed at the same moment by two workers still meet
in one sequence, and the first one wins. ``decide`` costs tens of microseconds, so one
partition is not the bottleneck (see ``docs/DEDUP_STORIES.md`` for the measurement).

Decision, in order:

1. ``a:<id>`` exists with the same content hash: a redelivery; the stored decision is
   returned unchanged (idempotence: a message never becomes a duplicate of itself).
2. ``a:<id>`` exists with another content hash: the article was re-published under the same
   id (the document is overwritten in the index). Its old entry is dropped and it is decided
   again; if it is a copy of no other article the kind is ``same_id`` (not a duplicate).
3. ``h:<content hash>`` is known: an ``exact`` duplicate of the first-seen copy.
4. LSH: the signature's band keys ``b:<band>:<key>`` give candidate first-seen copies; each
   is verified on the full signatures: estimated Jaccard similarity at or over
   ``config.threshold``, or at least ``config.min_jaccard`` with an estimated overlap
   coefficient (containment of the shorter text in the longer, from the Jaccard and the set
   sizes estimated from the signatures) at or over ``config.containment``: a syndicated copy
   of a short article without its last paragraph has a low Jaccard but is contained in the
   original. The most similar verified candidate makes a ``near`` duplicate.
5. Otherwise ``new``: the article is indexed (hash, bands) as a first-seen copy.

Only first-seen copies are indexed in the bands, so ``duplicate_of`` is always a first-seen
copy and the state grows with distinct content, not with copies.

State layout (keys -> JSON values)::

    a:<article_id>  {"h": hash, "t": seen_at, "q": slot, "k": kind, "d": dup_of|None,
                     "x": similarity|None, "s": base64 signature (first-seen copies only),
                     "o": 1 when this record owns h:<hash>}
    h:<hash>        article id of the first-seen copy with that normalized text
    b:<band>:<key>  the id (or list of ids) of first-seen copies in that LSH bucket
    t:...           the time index of records (see processors.stages.timeindex)

Bounds: a record expires ``config.window_seconds`` after it was seen (slot-granular), and the
oldest slots are expired early while more than ``config.max_entries`` records are filed.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from processors.stages import minhash
from processors.stages.shingles import normalize_for_hash, shingle_hashes
from processors.stages.timeindex import TimeIndex

DedupState = MutableMapping[str, Any]
Kind = Literal["new", "same_id", "exact", "near"]

DEFAULT_SHINGLE = 4


@dataclass(frozen=True)
class DedupConfig:
    """Knobs of :func:`decide` and :func:`expire` (defaults measured, see the docs)."""

    num_perm: int = 128
    bands: int = 42
    rows: int = 3
    threshold: float = 0.5
    containment: float = 0.8
    min_jaccard: float = 0.2
    window_seconds: float = 3 * 24 * 3600.0
    max_entries: int = 500_000
    slot_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")

    @property
    def index(self) -> TimeIndex:
        """Where records are filed by time."""
        return TimeIndex("t:", self.slot_seconds)


@dataclass(frozen=True)
class DedupDecision:
    """Whether an article duplicates an earlier one, which, how, and how similar."""

    is_duplicate: bool
    duplicate_of: str | None
    kind: Kind
    similarity: float | None


def content_hash(text: str) -> str:
    """The exact-duplicate key: BLAKE2b-128 (hex) of :func:`normalize_for_hash` of ``text``."""
    normalized = normalize_for_hash(text)
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()


def signature(text: str, *, num_perm: int = 128, shingle: int = DEFAULT_SHINGLE) -> list[int]:
    """MinHash signature (``num_perm`` ints < 2**32) of the ``shingle``-word shingles of the
    normalized ``text``; identical in every process (stable hashes, fixed constants)."""
    hashes = shingle_hashes(normalize_for_hash(text), shingle)
    values: list[int] = minhash.minhash(hashes, num_perm).tolist()
    return values


def decide(
    article_id: str,
    content_hash: str,
    sig: Sequence[int],
    seen_at: float,
    state: DedupState,
    config: DedupConfig,
) -> DedupDecision:
    """Decide whether ``article_id`` duplicates an earlier article, and record it in ``state``.

    Idempotent per article id and content; see the module docstring for the rules.
    """
    record = state.get(f"a:{article_id}")
    previous: npt.NDArray[np.uint32] | None = None
    if record is not None:
        if record["h"] == content_hash:
            return _stored_decision(record)
        previous = minhash.decode(record["s"]) if record.get("s") else None
        _drop(state, article_id, record, config)
    values = np.asarray(sig, dtype=np.uint32)
    keys = [] if minhash.is_empty(values) else minhash.band_keys(values, config.bands, config.rows)
    decision = _exact(state, content_hash) or _near(state, values, keys, config)
    if decision is None:
        kind: Kind = "new" if record is None else "same_id"
        updated = None if previous is None else minhash.similarity(values, previous)
        decision = DedupDecision(False, None, kind, updated)
    _insert(state, article_id, content_hash, values, keys, seen_at, decision, config)
    return decision


def expire(state: DedupState, now: float, config: DedupConfig) -> int:
    """Drop records seen more than ``window_seconds`` before ``now``, then the oldest ones
    while more than ``max_entries`` are filed; returns how many records were dropped."""
    index = config.index
    dropped = 0
    last_expired = index.slot(now - config.window_seconds) - 1
    while (popped := index.pop_next(state, last_expired)) is not None:
        dropped += _drop_slot(state, *popped, config)
    newest = index.slot(now)
    while index.size(state) > config.max_entries:
        popped = index.pop_next(state, newest)
        if popped is None:
            break
        dropped += _drop_slot(state, *popped, config)
    return dropped


def _stored_decision(record: dict[str, Any]) -> DedupDecision:
    kind: Kind = record["k"]
    return DedupDecision(kind in ("exact", "near"), record["d"], kind, record["x"])


def _exact(state: DedupState, content_hash: str) -> DedupDecision | None:
    first = state.get(f"h:{content_hash}")
    if first is None:
        return None
    return DedupDecision(True, first, "exact", 1.0)


def _near(
    state: DedupState, values: npt.NDArray[np.uint32], keys: list[str], config: DedupConfig
) -> DedupDecision | None:
    best: tuple[float, float, str] | None = None  # (similarity, -seen_at, id)
    candidates: set[str] = set()
    for key in keys:
        candidates.update(_bucket(state.get(f"b:{key}")))
    if not candidates:
        return None
    size = minhash.cardinality(values)
    for candidate in candidates:
        record = state.get(f"a:{candidate}")
        if record is None or not record.get("s"):
            continue
        other = minhash.decode(record["s"])
        score = minhash.similarity(values, other)
        rank = (score, -float(record["t"]), candidate)
        if _is_copy(score, size, other, config) and (best is None or rank > best):
            best = rank
    if best is None:
        return None
    return DedupDecision(True, best[2], "near", round(best[0], 4))


def first_seen(state: DedupState, article_id: str, default: float) -> datetime:
    """When ``article_id`` with its current content was first decided (``default`` if never)."""
    record = state.get(f"a:{article_id}")
    seen_at = float(record["t"]) if record else default
    return datetime.fromtimestamp(seen_at, UTC)


def _bucket(value: str | list[str] | None) -> list[str]:
    """The ids of a bucket value: absent, one id, or a list of ids."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _is_copy(score: float, size: float, other: npt.NDArray[np.uint32], config: DedupConfig) -> bool:
    """Similar enough (Jaccard), or one text nearly contained in the other (a copy with a
    paragraph dropped or added) while sharing a real part of the other's text."""
    if score >= config.threshold:
        return True
    if score < config.min_jaccard:
        return False
    return minhash.overlap(score, size, minhash.cardinality(other)) >= config.containment


def _insert(
    state: DedupState,
    article_id: str,
    content_hash: str,
    values: npt.NDArray[np.uint32],
    keys: list[str],
    seen_at: float,
    decision: DedupDecision,
    config: DedupConfig,
) -> None:
    first_seen = not decision.is_duplicate
    owns_hash = decision.kind != "exact"
    slot = config.index.add(state, article_id, seen_at)
    record: dict[str, Any] = {
        "h": content_hash,
        "t": seen_at,
        "q": slot,
        "k": decision.kind,
        "d": decision.duplicate_of,
        "x": decision.similarity,
    }
    if owns_hash:
        record["o"] = 1
        state[f"h:{content_hash}"] = decision.duplicate_of or article_id
    if first_seen and keys:
        record["s"] = minhash.encode(values)
        for key in keys:
            bucket = _bucket(state.get(f"b:{key}"))
            # A lone id is stored as a string (most buckets); a new list otherwise, since a
            # table sees only assignments, never a list changed in place.
            state[f"b:{key}"] = [*bucket, article_id] if bucket else article_id
    state[f"a:{article_id}"] = record


def _drop(state: DedupState, article_id: str, record: dict[str, Any], config: DedupConfig) -> None:
    """Remove a record and everything indexed for it (not its time-index entry)."""
    del state[f"a:{article_id}"]
    if record.get("o") and state.get(f"h:{record['h']}") in (article_id, record["d"]):
        del state[f"h:{record['h']}"]
    if record.get("s"):
        values = minhash.decode(record["s"])
        for key in minhash.band_keys(values, config.bands, config.rows):
            bucket = [i for i in _bucket(state.get(f"b:{key}")) if i != article_id]
            if len(bucket) > 1:
                state[f"b:{key}"] = bucket
            elif bucket:
                state[f"b:{key}"] = bucket[0]
            else:
                state.pop(f"b:{key}", None)


def _drop_slot(state: DedupState, slot: int, ids: list[str], config: DedupConfig) -> int:
    dropped = 0
    for article_id in ids:
        record = state.get(f"a:{article_id}")
        if record is not None and record["q"] == slot:  # else re-filed later (same_id)
            _drop(state, article_id, record, config)
            dropped += 1
    return dropped
