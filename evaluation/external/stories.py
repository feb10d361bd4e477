"""``python -m evaluation.external.stories [--data DIR] [--offline [--orders N] [--baseline REV]]``.

Stories on real news.

ECB+ (``stories/ecbplus-dev.jsonl`` under ``--data``, default ``../shared/data`` beside the
repository): per topic, articles about two different real events of the same kind. Each
article is sent as a raw article (its ``id``, its text as ``body``, one ``published_at`` for
all, since ECB+ has no dates) and its ``story_id`` is scored against the gold ``event``:

* B-cubed precision, recall and F1 (per article: the share of its story that is its event,
  and of its event that is its story; averaged over the articles);
* the share of same-topic, different-event pairs that share a story (the events of one kind
  that the stories fail to tell apart).

By default the articles go through the real worker (:mod:`.stories_worker`: a worker
process on the local stack, a fresh namespace, ``newsflow replay``'s sender). ``--offline``
runs the same pure functions in-process, in file order, without Kafka: decode, dedup, the
NLP analysis (spaCy, alias table, canonical names), ``stories.assign_story`` by batches; no
worker to start, and the stories stage can be re-run on the same analyses, for iterating on
:mod:`processors.stages.stories`. It also reports the stage's cost per article (time, state
writes, state size); ``--orders N`` the spread over N arrival orders (a worker run is one
draw of them), ``--baseline REV`` another revision's stories module in the same run.

For ``python -m evaluation.external``: :func:`run` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
FILE = Path("stories") / "ecbplus-dev.jsonl"
# ECB+ has no dates: every article gets this one, so time neither joins nor parts stories.
PUBLISHED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BATCH = 64  # articles per stories batch offline (the worker's batches vary up to 512)
REPEATS = 5


@dataclass(frozen=True)
class EcbArticle:
    """One ECB+ article: its id, topic (kind of event), gold event and text."""

    id: str
    topic: int
    event: str
    text: str

    def raw(self) -> dict[str, Any]:
        """The raw article sent for it (the text as body, the shared publication time)."""
        return {"id": self.id, "body": self.text, "published_at": PUBLISHED_AT.isoformat()}


def load(path: Path) -> list[EcbArticle]:
    """The articles of an ECB+ JSONL file, in file order."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [EcbArticle(r["id"], int(r["topic"]), r["event"], r["text"]) for r in rows]


def score(items: Sequence[EcbArticle], predicted: Mapping[str, str]) -> dict[str, Any]:
    """B-cubed precision/recall/F1 of ``predicted`` (id -> story) against the gold events,
    and how many same-topic different-event pairs share a story."""
    gold = {i.id: i.event for i in items}
    by_story: dict[str, set[str]] = defaultdict(set)
    by_event: dict[str, set[str]] = defaultdict(set)
    for i in items:
        by_story[predicted[i.id]].add(i.id)
        by_event[i.event].add(i.id)
    precision = recall = 0.0
    for i in items:
        story, event = by_story[predicted[i.id]], by_event[i.event]
        both = len(story & event)
        precision += both / len(story)
        recall += both / len(event)
    precision, recall = precision / len(items), recall / len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pairs = merged = 0
    for a, b in combinations(items, 2):
        if a.topic == b.topic and gold[a.id] != gold[b.id]:
            pairs += 1
            merged += predicted[a.id] == predicted[b.id]
    return {
        "articles": len(items),
        "events": len(by_event),
        "stories": len(by_story),
        "bcubed_precision": round(precision, 4),
        "bcubed_recall": round(recall, 4),
        "bcubed_f1": round(f1, 4),
        "same_kind_pairs": pairs,
        "same_kind_pairs_in_one_story": merged,
        "same_kind_share": round(merged / pairs, 4) if pairs else 0.0,
    }


def offline(
    items: Sequence[EcbArticle], orders: int = 0, baseline: str | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """Article id -> story id through the worker's pure stages, in file order; the
    ``stories`` stage's cost per article; with ``orders``, the figures' spread over that many
    shuffled arrival orders of the stories stage; with ``baseline`` (a git revision), that
    revision's stories module next to this one on the same documents."""
    from processors.stages import dedup, stories
    from processors.stages.analysis import Text, load_analyzer
    from processors.stages.decode import decode
    from processors.stages.enrich import enrich
    from processors.worker.nlp import load_model
    from processors.worker.steps.clean import MAX_MESSAGE_BYTES

    clean = [decode(json.dumps(i.raw()).encode(), MAX_MESSAGE_BYTES) for i in items]
    seen: dict[str, Any] = {}
    copy_of: dict[str, str] = {}
    for a in clean:  # as the dedup stage: copies take their first copy's story
        sig = dedup.signature(a.body)
        decision = dedup.decide(a.id, a.content_hash, sig, time.time(), seen, dedup.DedupConfig())
        if decision.is_duplicate and decision.duplicate_of:
            copy_of[a.id] = decision.duplicate_of
    firsts = [a for a in clean if a.id not in copy_of]
    analyzer = load_analyzer(load_model)
    analyses = analyzer.analyze([Text(a.title, a.body, a.language) for a in firsts])
    now = datetime.now(UTC)
    docs = [
        enrich(a, x, ingested_at=now, processed_at=now, enriched_by=analyzer.versions)
        for a, x in zip(firsts, analyses, strict=True)
    ]
    predicted, cost = assign_all(docs, stories.StoryConfig())
    cost["duplicates"] = len(copy_of)
    if orders:
        cost["arrival_orders"] = order_spread(items, docs, copy_of, orders, stories)
    if baseline:
        cost["baseline"] = compare(items, docs, copy_of, baseline, orders)
    return {**predicted, **_copies(copy_of, predicted)}, cost


def order_spread(
    items: Sequence[EcbArticle],
    docs: Sequence[Any],
    copy_of: Mapping[str, str],
    orders: int,
    stories: Any,
) -> dict[str, Any]:
    """The figures over ``orders`` shuffled arrival orders: the one-partition ``stories``
    topic merges 4 upstream partitions, so the worker sees one of these, not file order."""
    from evaluation.dedup_stories.evaluate import arrival_orders, summary

    runs = []
    for order in arrival_orders(docs, orders):
        shuffled = assign_all(order, stories.StoryConfig(), stories)[0]
        runs.append(score(items, {**shuffled, **_copies(copy_of, shuffled)}))
    keys = ("bcubed_precision", "bcubed_recall", "bcubed_f1", "same_kind_share")
    return {key: summary([r[key] for r in runs]) for key in keys}


def _copies(copy_of: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, str]:
    """A duplicate takes the story of its first copy, as in the worker."""
    return {copy: predicted[first] for copy, first in copy_of.items()}


def assign_all(
    docs: Sequence[Any], config: Any, stories: Any = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """Assign the documents in order by batches of :data:`BATCH`, as the ``stories`` stage
    does, with ``stories`` (a module like :mod:`processors.stages.stories`, that one by default);
    returns the stories and the cost per article (features and assignment time, changelog
    records, state JSON)."""
    from evaluation.dedup_stories.evaluate import WriteCountingDict

    if stories is None:
        from processors.stages import stories
    state = WriteCountingDict()
    predicted: dict[str, str] = {}
    spent_features = spent_assign = 0.0
    for start in range(0, len(docs), BATCH):
        batch = stories.BatchState(state)
        for doc in docs[start : start + BATCH]:
            t0 = time.perf_counter()
            feats = stories.article_features(doc)
            t1 = time.perf_counter()
            predicted[doc.id] = stories.assign_story(feats, batch, config).story_id
            spent_features += t1 - t0
            spent_assign += time.perf_counter() - t1
        batch.flush()
    n = max(1, len(docs))
    return predicted, {
        "features_us_per_article": round(spent_features / n * 1e6),
        "assign_us_per_article": round(spent_assign / n * 1e6),
        f"state_writes_per_article_batch_{BATCH}": round(state.writes / n, 1),
        "state_json_bytes_per_article": round(len(json.dumps(state)) / n),
        "state_keys": len(state),
    }


def baseline_module(rev: str) -> Any:
    """``processors/stages/stories.py`` as it is at git revision ``rev``, loaded as a module."""
    import subprocess
    import types

    text = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:processors/stages/stories.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"stories_at_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(text, f"{rev}:processors/stages/stories.py", "exec"), module.__dict__)
    if not hasattr(module, "article_features"):  # older: this one, with its features()
        from processors.stages.stories import article_features

        rebound = types.FunctionType(article_features.__code__, module.__dict__)
        setattr(module, "article_features", rebound)  # noqa: B010 (a module built at run time)
    return module


def compare(
    items: Sequence[EcbArticle],
    docs: Sequence[Any],
    copy_of: Mapping[str, str],
    rev: str,
    orders: int = 0,
) -> dict[str, Any]:
    """The figures and cost of ``rev``'s stories module and of this one on the same
    documents, in the same run (cost: the best of :data:`REPEATS` alternating passes, since
    the machine is shared), and their spread over ``orders`` arrival orders."""
    from processors.stages import stories

    modules = {rev: baseline_module(rev), "now": stories}
    result: dict[str, Any] = {}
    for name, module in modules.items():
        predicted, cost = assign_all(docs, module.StoryConfig(), module)
        result[name] = {**score(items, {**predicted, **_copies(copy_of, predicted)}), **cost}
    for _ in range(REPEATS - 1):
        for name, module in modules.items():
            cost = assign_all(docs, module.StoryConfig(), module)[1]
            for key in ("features_us_per_article", "assign_us_per_article"):
                result[name][key] = min(result[name][key], cost[key])
    if orders:
        for name, module in modules.items():
            result[name]["arrival_orders"] = order_spread(items, docs, copy_of, orders, module)
    return result


def run(
    data: Path, use_worker: bool = True, orders: int = 0, baseline: str | None = None
) -> dict[str, Any]:
    """The figures on ``data``'s ECB+ file (raises FileNotFoundError when it is absent)."""
    path = data / FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    items = load(path)
    started = time.monotonic()
    if use_worker:
        from evaluation.external.stories_worker import through_worker

        predicted, extra = through_worker(items)
    else:
        predicted, extra = offline(items, orders, baseline)
    missing = [i.id for i in items if i.id not in predicted]
    predicted = {**predicted, **{m: f"missing-{m}" for m in missing}}
    return {
        "data": str(path),
        "mode": "worker" if use_worker else "offline",
        **score(items, predicted),
        "missing": len(missing),
        "seconds": round(time.monotonic() - started, 1),
        "cost": extra,
    }


REQUIRES = (str(FILE),)


def section(data: Path) -> None:
    """Print the story figures through the real worker (``python -m evaluation.external``)."""
    figures = run(data)
    print(json.dumps({k: v for k, v in figures.items() if k != "cost"}, indent=2))


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON; exit 0 with a reason when the data is absent."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.external.stories",
        description="Story B-cubed precision/recall/F1 on ECB+ (real news), through the real "
        "worker or (--offline) the same pure stages in-process.",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument(
        "--offline", action="store_true", help="the pure stages in-process, no Kafka (fast)"
    )
    parser.add_argument(
        "--orders",
        type=int,
        default=0,
        metavar="N",
        help="--offline: also the spread over N shuffled arrival orders (the worker's merge)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="--offline: also processors/stages/stories.py at git revision REV, in the same run",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    try:
        figures = run(args.data, not args.offline, args.orders, args.baseline)
    except FileNotFoundError as exc:
        print(f"skipped: {exc} (ECB+ is not bundled; pass --data DIR)", file=sys.stderr)
        return 0
    text = json.dumps(figures, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
