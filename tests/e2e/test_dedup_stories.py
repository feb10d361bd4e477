"""Duplicates and stories on the real stack, with one worker and with two and a crash."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest

from evaluation.dedup_stories.dataset import Item, base_articles, variants
from producers.files import read_file
from tests.support import SAMPLE, VENV_BIN, Namespace, WorkerProcess, wait_for

pytestmark = pytest.mark.stack


def _settle(ns: Namespace, messages: int, documents: int) -> list[dict]:
    ns.settled(documents, messages=messages, timeout=300)
    return ns.articles()


def _by_file(docs: list[dict], folder: Path) -> dict[str, dict]:
    """Documents keyed by the 3-digit prefix of the corpus file they came from."""
    by_id = {d["id"]: d for d in docs}
    return {
        path.name[:3]: by_id[next(read_file(path)).key.decode()]  # type: ignore[union-attr]
        for path in sorted(folder.glob("*.txt"))
    }


def _ner_count(worker: WorkerProcess) -> float:
    found = re.search(r'newsflow_articles_out_total\{stage="nlp"\} (\S+)', worker.metrics())
    return float(found.group(1)) if found else 0.0


def test_sample_corpus_flags_copies_without_ner_and_groups_stories(
    namespace: Namespace, worker: WorkerProcess, seeds: Path
) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), "replay", "--quiet", str(SAMPLE), str(seeds)],
        env=namespace.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # 028 is a byte-identical copy of 020: same content id, so the same document.
    docs = _settle(namespace, messages=33, documents=32)
    sample, seed_docs = _by_file(docs, SAMPLE), _by_file(docs, seeds)

    for copy, first in {"026": "001", "027": "013"}.items():
        assert sample[copy]["is_duplicate"], copy
        assert sample[copy]["duplicate_of"] == sample[first]["id"], copy
        assert sample[copy]["persons"] == sample[first]["persons"]
        assert sample[copy]["story_id"] == sample[first]["story_id"]
    flagged = {d["id"] for d in docs if d["is_duplicate"]}
    assert flagged == {sample["026"]["id"], sample["027"]["id"]}
    # Copies cost no NER pass: every message but the two copies went through NER.
    assert _ner_count(worker) == 33 - 2

    def story(*files: str, of: dict[str, dict] = sample) -> set[str]:
        return {of[f]["story_id"] for f in files}

    for group in (("001", "002", "003"), ("004", "005"), ("006", "007"), ("008", "009")):
        assert len(story(*group)) == 1, f"{group} split over stories"
    assert len(story("001", "004", "006", "008", "010", "013", "018")) == 7
    assert len(story("000", "001", "004", of=seed_docs)) == 1
    assert len(story("000", "002", "003", of=seed_docs)) == 3
    assert all(d["story_id"] for d in docs)
    assert namespace.count(namespace.names.stories_index) == len({d["story_id"] for d in docs})


def _copies(seed: int = 11, groups: int = 10) -> list[Item]:
    rng = random.Random(seed)
    originals = [i for i in base_articles() if i.kind == "original" and i.origin != "own"]
    chosen = rng.sample(originals, groups)
    items = [x for o in chosen for x in (o, *variants(o, rng))]
    rng.shuffle(items)
    return items


def _value(item: Item) -> bytes:
    return json.dumps({"id": item.id, "title": item.title, "body": item.body}).encode()


def test_copies_in_shuffled_order_through_two_workers_and_a_crash(
    namespace: Namespace, log_dir: Path
) -> None:
    items = _copies()
    half = len(items) // 2
    first = WorkerProcess(namespace, log_dir).start()
    second = WorkerProcess(namespace, log_dir).start()
    try:
        namespace.produce(_value(i) for i in items[:half])
        wait_for(
            lambda: namespace.count(namespace.names.articles_index) > 0, 120, "first documents"
        )
        first.kill()  # mid-stream, no shutdown
        namespace.produce(_value(i) for i in items[half:])
        first.start()
        docs = _settle(namespace, messages=len(items), documents=len(items))
    finally:
        first.stop()
        second.stop()

    by_id = {d["id"]: d for d in docs}
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item.duplicate_of or item.id, []).append(by_id[item.id])
    for group, members in groups.items():
        firsts = [d for d in members if not d["is_duplicate"]]
        assert len(firsts) == 1, f"group {group}: {len(firsts)} first copies"
        for copy in members:
            if copy["is_duplicate"]:
                assert copy["duplicate_of"] == firsts[0]["id"], f"group {group}: {copy['id']}"
    assert namespace.count(namespace.names.deadletter_index) == 0
