"""Measure dedup and story clustering on the labelled stream of :mod:`.dataset`.

Duplicates: an article is counted correct when it is flagged and ``duplicate_of`` is its
first-seen copy; precision = correct / flagged, recall = correct / true duplicates.
Stories: pairwise precision and recall over the non-duplicate articles (a pair is positive
when both articles carry the same event label).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, TypeVar

import numpy as np

from evaluation.dedup_stories.dataset import Item
from processors.stages import dedup, stories
from processors.stages.shingles import normalize_for_hash, shingle_hashes

T = TypeVar("T")


@dataclass(frozen=True)
class Fingerprint:
    """What the prepare stage computes once per article."""

    content_hash: str
    signature: list[int]


def fingerprints(items: Sequence[Item], shingle: int, num_perm: int) -> list[Fingerprint]:
    """Content hash and signature of every item's body."""
    return [
        Fingerprint(
            dedup.content_hash(i.body), dedup.signature(i.body, num_perm=num_perm, shingle=shingle)
        )
        for i in items
    ]


def run_dedup(
    items: Sequence[Item], prints: Sequence[Fingerprint], config: dedup.DedupConfig
) -> dict[str, Any]:
    """Decide every item in order; precision, recall, misses by kind, false positives."""
    state = _CountingDict()
    flagged = correct = 0
    truth = Counter(i.kind for i in items if i.duplicate_of)
    caught: Counter[str] = Counter()
    wrong: list[str] = []
    for item, fp in zip(items, prints, strict=True):
        seen_at = item.published_at or 0.0
        decision = dedup.decide(item.id, fp.content_hash, fp.signature, seen_at, state, config)
        if not decision.is_duplicate:
            continue
        flagged += 1
        if item.duplicate_of and decision.duplicate_of == item.duplicate_of:
            correct += 1
            caught[item.kind] += 1
        else:
            wrong.append(f"{item.id} -> {decision.duplicate_of} ({decision.similarity})")
    true_total = sum(truth.values())
    return {
        "precision": correct / flagged if flagged else 1.0,
        "recall": correct / true_total if true_total else 1.0,
        "flagged": flagged,
        "duplicates": true_total,
        "articles": len(items),
        "candidates_per_article": round((state.record_reads - len(items)) / len(items), 3),
        "recall_by_kind": {k: round(caught[k] / n, 4) for k, n in sorted(truth.items())},
        "false_positives": wrong,
    }


class _CountingDict(dict[str, Any]):
    """A dict state that counts record reads: one per article, plus one per LSH candidate."""

    record_reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        if key.startswith("a:"):
            self.record_reads += 1
        return super().get(key, default)


def pair_similarities(
    items: Sequence[Item], shingle: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Exact shingle Jaccard of each duplicate with its original (by kind), and of every pair
    of distinct originals: how far apart the two populations are."""
    sets = {i.id: set(shingle_hashes(normalize_for_hash(i.body), shingle).tolist()) for i in items}

    def jaccard(a: str, b: str) -> float:
        union = len(sets[a] | sets[b])
        return len(sets[a] & sets[b]) / union if union else 1.0

    by_kind: dict[str, list[float]] = {}
    for item in items:
        if item.duplicate_of:
            by_kind.setdefault(item.kind, []).append(jaccard(item.id, item.duplicate_of))
    originals = [i.id for i in items if not i.duplicate_of]
    return by_kind, [jaccard(a, b) for a, b in combinations(originals, 2)]


def lsh_recall(bands: int, rows: int, similarity: float) -> float:
    """Probability that a pair of that Jaccard similarity shares at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def story_features(item: Item, found: Mapping[str, tuple[int, str]]) -> stories.StoryFeatures:
    """What the ``stories`` stage computes of an article (entities: name -> (count, label))."""
    return stories.features(
        item.id,
        item.published_at or 0.0,
        item.title,
        item.body,
        {name: n for name, (n, _) in found.items()},
        source=item.source,
        entity_labels={name: label for name, (_, label) in found.items()},
    )


def run_stories(
    items: Sequence[Item],
    entities: Mapping[str, Mapping[str, tuple[int, str]]],
    config: stories.StoryConfig,
) -> dict[str, Any]:
    """Assign every non-duplicate item in order, as the pipeline's ``stories`` stage does
    (document frequencies learnt online in the story state, nothing computed beforehand);
    pairwise precision and recall, and what an assignment costs."""
    state = WriteCountingDict()
    predicted: dict[str, str] = {}
    spent = 0.0
    for item in items:
        f = story_features(item, entities[item.id])
        started = time.perf_counter()
        predicted[item.id] = stories.assign_story(f, state, config).story_id
        spent += time.perf_counter() - started
    label = {i.id: i.story for i in items}
    tp = fp = fn = 0
    for a, b in combinations(predicted, 2):
        same_true, same_pred = label[a] == label[b], predicted[a] == predicted[b]
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "articles": len(items),
        "events": len(set(label.values())),
        "stories": len(set(predicted.values())),
        "us_per_assignment": round(spent / max(1, len(items)) * 1e6, 1),
        "state_writes_per_article": round(state.writes / max(1, len(items)), 1),
        "state_json_bytes_per_article": round(len(json.dumps(state)) / max(1, len(items))),
        "predicted": predicted,
        "wrong_joins": sorted(
            f"{a} + {b}"
            for a, b in combinations(predicted, 2)
            if predicted[a] == predicted[b] and label[a] != label[b]
        ),
        "missed_pairs": sorted(
            f"{a} + {b}"
            for a, b in combinations(predicted, 2)
            if predicted[a] != predicted[b] and label[a] == label[b]
        ),
    }


class WriteCountingDict(dict[str, Any]):
    """A dict state that counts assignments (a Faust table sends one changelog record each)."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def writes_per_article(
    items: Sequence[Item],
    entities: Mapping[str, Mapping[str, tuple[int, str]]],
    config: stories.StoryConfig,
    batch: int,
) -> float:
    """State writes (changelog records) per article when the ``stories`` stage assigns the
    items ``batch`` at a time through a :class:`stories.BatchState`."""
    state = WriteCountingDict()
    for start in range(0, len(items), batch):
        view = stories.BatchState(state)
        for item in items[start : start + batch]:
            stories.assign_story(story_features(item, entities[item.id]), view, config)
        view.flush()
    return round(state.writes / max(1, len(items)), 1)


def arrival_orders(items: Sequence[T], count: int, seed: int = 5) -> list[list[T]]:
    """``count`` arrival orders as the one-partition ``stories`` topic may see them: the
    articles spread over 4 partitions upstream, then merged back by batches of 1-8."""
    rng = random.Random(seed)
    orders = []
    for _ in range(count):
        parts: list[list[T]] = [[] for _ in range(4)]
        for item in items:
            parts[rng.randrange(4)].append(item)
        order: list[T] = []
        while any(parts):
            part = rng.choice([p for p in parts if p])
            take = rng.randint(1, 8)
            order += part[:take]
            del part[:take]
        orders.append(order)
    return orders


def seed_check(predicted: Mapping[str, str]) -> dict[str, Any]:
    """Seeds 000, 001, 004 share one story; 002 and 003 are each in another one."""
    seeds = {k[-3:]: v for k, v in predicted.items() if k.startswith("seed-")}
    if len(seeds) < 5:
        return {"present": False}
    visit = {seeds["000"], seeds["001"], seeds["004"]}
    holds = len(visit) == 1 and len({seeds["002"], seeds["003"], *visit}) == 3
    return {"present": True, "holds": holds, "stories": seeds}


def sample_groups_check(predicted: Mapping[str, str]) -> list[str]:
    """What the end-to-end test asserts of the sample corpus and the seeds, as a list of the
    groups it finds broken (empty: all hold)."""

    def stories_of(*ids: str) -> int:
        return len({predicted[i] for i in ids})

    broken = [
        f"{'/'.join(group)} split"
        for group in (("001", "002", "003"), ("004", "005"), ("006", "007"), ("008", "009"))
        if stories_of(*(f"sample-{n}" for n in group)) != 1
    ]
    if stories_of(*(f"sample-{n}" for n in ("001", "004", "006", "008", "010", "013", "018"))) < 7:
        broken.append("distinct sample events merged")
    if stories_of("seed-000", "seed-001", "seed-004") != 1:
        broken.append("seed visit split")
    if stories_of("seed-000", "seed-002", "seed-003") != 3:
        broken.append("seeds 000/002/003 merged")
    return broken


def summary(values: Sequence[float]) -> dict[str, float]:
    """Min, 5th percentile, median and max of a list of similarities."""
    if not values:
        return {}
    arr = np.asarray(values)
    return {
        "min": round(float(arr.min()), 4),
        "p05": round(float(np.percentile(arr, 5)), 4),
        "median": round(float(np.median(arr)), 4),
        "max": round(float(arr.max()), 4),
    }
