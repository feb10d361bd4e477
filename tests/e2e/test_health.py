"""A worker whose NLP stalls: ``/healthz`` turns 503 after the threshold, and 200 again.

The spaCy processes are children of the worker; SIGSTOP freezes them with articles
pending, while the worker's event loop keeps serving ``/healthz``. Nothing in the
production code knows about this test.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Namespace, WorkerProcess, wait_for

pytestmark = pytest.mark.stack

STALL_SECONDS = 6


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (the spaCy pool and its resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _health(worker: WorkerProcess) -> tuple[int, dict[str, Any]]:
    started = time.monotonic()
    response = httpx.get(f"http://127.0.0.1:{worker.port}/healthz", timeout=5)
    assert time.monotonic() - started < 3, "the event loop must keep answering"
    return response.status_code, response.json()


# Unrelated stories: near-duplicates would skip NLP (and so never wait for the pool).
BODIES = [
    "Mayor Ana Ruiz of Ravenholt opened the new harbour bridge on Monday after two years.",
    "The central bank of Norland kept its interest rate at four percent, citing inflation.",
    "Heavy snow closed the mountain pass near Eastvale; drivers were stuck overnight.",
    "Lisbon Rovers beat Porto United three goals to one in the cup final on Saturday.",
]


def _article(n: int) -> bytes:
    return json.dumps({"id": f"h-{n}", "title": f"Story {n}", "body": BODIES[n]}).encode()


@pytest.fixture
def slow_to_notice_worker(namespace: Namespace, log_dir: Path) -> Iterator[WorkerProcess]:
    namespace.env["NEWSFLOW_STALL_SECONDS"] = str(STALL_SECONDS)
    proc = WorkerProcess(namespace, log_dir).start()
    yield proc
    proc.stop()


def test_a_stalled_nlp_pool_turns_healthz_503_and_recovery_turns_it_back(
    namespace: Namespace, slow_to_notice_worker: WorkerProcess
) -> None:
    worker = slow_to_notice_worker
    namespace.produce([_article(0)])
    wait_for(lambda: namespace.count(namespace.names.articles_index) == 1, 120, "first article")
    status, body = _health(worker)
    assert status == 200 and body["status"] == "ok", body

    assert worker.proc is not None
    pool = _children(worker.proc.pid)
    assert pool, "the worker has no spaCy processes to stop"
    for pid in pool:
        os.kill(pid, signal.SIGSTOP)
    try:
        namespace.produce([_article(n) for n in range(1, 4)])
        status, body = wait_for(
            lambda: (h := _health(worker))[0] == 503 and h,
            STALL_SECONDS + 60,
            "/healthz to report the stall",
        )
        stalled = [p for p in body["partitions"] if p["stalled"]]
        assert body["status"] == "stalled" and stalled, body
        assert {p["topic"] for p in stalled} == {namespace.names.work_topic}, body
        assert all(p["lag"] > 0 and p["stalled_seconds"] >= STALL_SECONDS for p in stalled), body
        assert namespace.count(namespace.names.articles_index) == 1
    finally:
        for pid in pool:
            os.kill(pid, signal.SIGCONT)

    wait_for(lambda: namespace.count(namespace.names.articles_index) == 4, 120, "the backlog")
    status, body = wait_for(lambda: (h := _health(worker))[0] == 200 and h, 60, "recovery")
    assert body["status"] == "ok" and not any(p["stalled"] for p in body["partitions"])
