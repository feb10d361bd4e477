"""Two ``newsflow worker`` on one machine with default settings (docs/SCALING.md): the second
picks another web port instead of dying on 6066, both are healthy and share the partitions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from newsflow.cli.localworker import LocalWorker
from tests.support import Namespace, run_newsflow, wait_for

pytestmark = pytest.mark.stack


def _raw_partitions(worker: LocalWorker, raw: str) -> set[int]:
    body = httpx.get(f"{worker.url}/healthz", timeout=5).json()
    return {p["partition"] for p in body.get("partitions", []) if p["topic"] == raw}


def test_two_workers_with_default_settings_share_the_partitions(
    namespace: Namespace, log_dir: Path
) -> None:
    ns = namespace
    env = {k: v for k, v in ns.env.items() if k != "NEWSFLOW_WEB_PORT"}
    # port=0: no --web-port, as a user starts it; one spaCy process each, for the machine.
    workers = [
        LocalWorker(env, log_dir / f"{ns.settings.namespace}-default-{n}.log", 1, port=0)
        for n in range(2)
    ]
    try:
        for worker in workers:
            worker.start(timeout=180)
        first, second = workers
        assert first.port != second.port
        assert f"/healthz and /metrics on 127.0.0.1:{second.port}" in second.log_path.read_text()

        raw = ns.names.raw_topic

        def shared() -> bool:
            mine, theirs = (_raw_partitions(w, raw) for w in workers)
            return bool(mine and theirs and not mine & theirs and mine | theirs == {0, 1, 2, 3})

        wait_for(shared, 120, f"both workers assigned part of {raw}")
        assert all(w.healthy() for w in workers)

        status = json.loads(run_newsflow(ns, "status", "--json").stdout)
        ports = sorted(w["web_port"] for w in status["workers"])
        assert ports == sorted(w.port for w in workers), status["workers"]
        text = run_newsflow(ns, "status").stdout
        for worker in workers:
            assert f"web port {worker.port}" in text, text

        articles = [
            json.dumps({"id": f"w-{n}", "body": f"Article {n} about the harbour of Calvera."})
            for n in range(8)
        ]
        ns.produce(a.encode() for a in articles)
        ns.settled(documents=8, messages=8)
    finally:
        for worker in workers:
            worker.stop()
