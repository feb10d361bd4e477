"""Fault 12: a seeded random schedule of faults (:mod:`tests.faults.nemesis`) for N minutes.

Steady replay at 4 articles/s on a private three-broker cluster while brokers are SIGKILLed
and restarted, workers SIGKILLed, paused (SIGSTOP/SIGCONT) and started in the middle of
broker outages. At the end everything is healed and the namespace must settle with every
article indexed exactly once, no dead letter and no alert twice.

``NEMESIS_SECONDS`` (default 1200: 20 minutes) sets the length, and
``NEMESIS_SEED`` the seed (default: drawn, and printed first, so that a failure
replays: the same seed gives the same schedule). In ``make soak``.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.settings import Settings
from tests.faults.harness import (
    FaultNamespace,
    Worker,
    alert_count,
    assert_conserved,
    finish,
    labelled_stream,
    replaying,
    subscribe_to_everything,
    value_of,
    write_jsonl,
)
from tests.faults.nemesis import Nemesis, draw

RATE = 4


def test_the_same_seed_draws_the_same_schedule_within_the_rules() -> None:
    assert draw(42, 1200) == draw(42, 1200) != draw(43, 1200)
    for seed in range(50):
        schedule = draw(seed, 1200)
        down: set[int] = set()
        for action in schedule:
            if action.kind == "kill-broker":
                assert not down, f"seed {seed}: two brokers down at {action.at:.0f}s"
                down.add(action.target)
            elif action.kind == "start-broker":
                down.discard(action.target)
        assert not down, f"seed {seed}: a broker never restarted"
        assert all(a.at <= 1200 for a in schedule)
        assert {a.kind for a in draw(seed, 1200)} >= {"kill-broker", "start-broker"}


def corpus(path: Path, count: int) -> tuple[Path, list[str]]:
    """``count`` articles: the labelled stream again and again, new ids each round."""
    items = labelled_stream()
    rounds = math.ceil(count / len(items))
    pairs = [
        (i.id + (f"~n{r}" if r else ""), value_of(i, f"~n{r}" if r else ""))
        for r in range(rounds)
        for i in items
    ][:count]
    return write_jsonl(path, (v for _, v in pairs)), [i for i, _ in pairs]


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_a_seeded_schedule_of_faults_loses_and_repeats_nothing(
    tmp_path: Path,
    private_cluster: Settings,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    seconds = float(os.environ.get("NEMESIS_SECONDS", "1200"))
    seed = int(os.environ.get("NEMESIS_SEED") or random.randrange(1_000_000))
    print(f"NEMESIS seed={seed} seconds={seconds:.0f} (NEMESIS_SEED={seed} replays it)")
    schedule = draw(seed, seconds)
    ns = FaultNamespace(private_cluster)
    try:
        path, ids = corpus(tmp_path / "corpus.jsonl", int(seconds * RATE))
        subscribe_to_everything(ns)

        def new_worker() -> Worker:
            worker = workers(ns, start=False)
            worker.launch()
            return worker

        nemesis = Nemesis(private_cluster, new_worker)
        nemesis.workers.append(workers(ns))
        started = time.monotonic()
        with replaying(ns, "--wait", "--rate", str(RATE), str(path)) as producer:
            try:
                nemesis.run(schedule)
            finally:
                nemesis.heal()
                print("\n".join(nemesis.log))
            finish(producer, timeout=seconds + 600)
        healed = time.monotonic() - started
        outcome = assert_conserved(ns, ids, timeout=900)
        assert nemesis.alive(), "no worker survived the healing"
        kinds = [a.kind for a in schedule]
        record(
            outcome.figures(
                seed=seed,
                seconds=seconds,
                articles=len(ids),
                lost=0,  # assert_conserved: every id indexed, none twice, no dead letter
                duplicated=outcome.documents - len(set(ids)),
                faults={k: kinds.count(k) for k in sorted(set(kinds))},
                workers_started=len(nemesis.workers),
                run_seconds=round(healed, 1),
                alerts=alert_count(ns),  # before ns.close(): it closes the ES client
            )
        )
    finally:
        ns.close()
