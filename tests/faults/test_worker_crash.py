"""Fault 1: a worker SIGKILLed mid-stream, again and again, and restarted.

Kills fall at two kinds of moments: right after Elasticsearch has acknowledged a bulk write
(the documents are in, their offsets not yet committed: the read-again window) and at
random moments while the worker indexes. A replay keeps producing meanwhile.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import (
    FaultNamespace,
    Worker,
    assert_conserved,
    finish,
    labelled_stream,
    replaying,
    value_of,
    write_jsonl,
)
from tests.faults.proxy import EsFaultProxy
from tests.support import wait_for

# Messages a worker can never process: they must come out as dead letters, once each.
POISON = [b"not json {", b'{"title": "a headline but no body"}', b'{"body": 42}', b"[1, 2]"]


def corpus(tmp_path: Path, rounds: int) -> tuple[Path, list[str]]:
    """The labelled stream ``rounds`` times (new ids each round), poison spread in it."""
    items = labelled_stream()
    values: list[bytes] = []
    ids: list[str] = []
    for r in range(rounds):
        suffix = f"~r{r}" if r else ""
        values += [value_of(i, suffix) for i in items]
        ids += [i.id + suffix for i in items]
    step = len(values) // (len(POISON) + 1)
    for n, bad in enumerate(POISON, start=1):
        values.insert(n * step + n - 1, bad)
    return write_jsonl(tmp_path / "corpus.jsonl", values), ids


def arm_kill_after_bulk(proxy: EsFaultProxy, worker: Worker, index: str) -> threading.Event:
    """SIGKILL ``worker`` as soon as a bulk write to ``index`` has been answered with success."""
    fired = threading.Event()
    pid = worker.pid

    def hook(indexed: dict[str, int]) -> None:
        if index in indexed and not fired.is_set():
            fired.set()
            os.killpg(pid, signal.SIGKILL)

    proxy.on_bulk_indexed = hook
    return fired


def kill_while_indexing(ns: FaultNamespace, worker: Worker, rng: random.Random) -> None:
    """SIGKILL ``worker`` at a random moment once it is indexing again."""
    before = ns.count(ns.names.articles_index)
    wait_for(
        lambda: ns.count(ns.names.articles_index) > before or not worker.alive(),
        120,
        "the worker to index again",
        every=0.2,
    )
    time.sleep(rng.uniform(0.0, 1.5))
    worker.kill()


def run_with_kills(
    ns: FaultNamespace,
    proxy: EsFaultProxy,
    worker: Worker,
    corpus_path: Path,
    kills: int,
    seed: int,
) -> dict[str, Any]:
    """Replay the corpus and kill the worker ``kills`` times, alternating the two moments."""
    rng = random.Random(seed)
    restarts: list[float] = []
    with replaying(ns, "--send-invalid", "--rate", "60", str(corpus_path)) as producer:
        for n in range(kills):
            if n % 2 == 0:
                fired = arm_kill_after_bulk(proxy, worker, ns.names.articles_index)
                index = ns.names.articles_index
                assert fired.wait(180), f"kill {n + 1}: no bulk write to {index}"
                proxy.on_bulk_indexed = None
                worker.kill()  # reap it (and its spaCy processes)
            else:
                kill_while_indexing(ns, worker, rng)
            killed = time.monotonic()
            worker.start()
            restarts.append(round(time.monotonic() - killed, 1))
        finish(producer)
    return {"kills": kills, "restart_seconds": restarts}


@pytest.mark.parametrize(
    ("rounds", "kills"),
    [
        pytest.param(1, 2, marks=pytest.mark.stack, id="2-kills"),
        # Each restart takes over a minute here (the dead member's session must expire
        # first): eight of them do not fit in the suite's 600 s timeout.
        pytest.param(
            4, 8, marks=[pytest.mark.slow, pytest.mark.timeout(1800)], id="8-kills-long-stream"
        ),
    ],
)
def test_sigkill_after_bulk_success_and_mid_stream_loses_and_repeats_nothing(
    tmp_path: Path,
    shared_ns: FaultNamespace,
    es_proxy: Callable[..., EsFaultProxy],
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
    rounds: int,
    kills: int,
) -> None:
    path, ids = corpus(tmp_path, rounds)
    proxy = es_proxy(shared_ns)
    worker = workers(shared_ns, NEWSFLOW_ES_URL=proxy.url)
    figures = run_with_kills(shared_ns, proxy, worker, path, kills, seed=kills)
    outcome = assert_conserved(shared_ns, ids, dead=len(POISON))
    letters = {(d["topic"], d["stage"]) for d in shared_ns.dead_letters()}
    assert letters == {(shared_ns.names.raw_topic, "clean")}, letters
    record(outcome.figures(**figures))
