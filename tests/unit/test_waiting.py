"""Long-running commands wait out an unreachable Kafka or Elasticsearch; one-shot ones with
``--wait``. No server is needed: the services "down" here are closed ports on this machine
(the real outages, with a service coming back, are tests/faults/test_start_during_outage.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from kafka.errors import KafkaTimeoutError

from newsflow.core.retry import Backoff, Waiting, until_reachable
from newsflow.core.service_errors import unreachable
from tests.support import VENV_BIN, free_port, wait_for

KAFKA_DOWN = "127.0.0.1:1"
ES_DOWN = "http://127.0.0.1:1"
FAST = Backoff(base=0.001, cap=0.001)


def test_until_reachable_waits_out_unreachable_services_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = [KafkaTimeoutError("Unable to bootstrap from ['x:1']")] * 3
    waiting = Waiting()
    seen: list[dict[str, object]] = []

    def call() -> str:
        if failures:
            seen.append(waiting.body())
            raise failures.pop()
        return "ready"

    with caplog.at_level(logging.INFO, logger="newsflow.worker"):
        result = asyncio.run(until_reachable(call, "start-up", waiting, unreachable, FAST))
    assert result == "ready"
    lines = [r.getMessage() for r in caplog.records if ": waiting:" in r.getMessage()]
    assert len(lines) == 3, lines  # one line per attempt
    assert all("start-up: waiting: cannot reach Kafka at" in line for line in lines), lines
    assert all("since 20" in line for line in lines), lines
    # /healthz shows the reason from the first failure on; cleared once done.
    assert seen[0] == {"status": "starting"}
    assert seen[1]["status"] == "waiting" and "cannot reach Kafka" in str(seen[1]["reason"])
    assert waiting.body() == {"status": "starting"}


def test_until_reachable_raises_what_is_not_an_unreachable_service() -> None:
    def call() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(until_reachable(call, "start-up", Waiting(), unreachable, FAST))


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    # Both services down unless a test says otherwise: nothing is created anywhere.
    down = {"NEWSFLOW_KAFKA_BOOTSTRAP": KAFKA_DOWN, "NEWSFLOW_ES_URL": ES_DOWN}
    return {
        **env,
        **down,
        "NEWSFLOW_NAMESPACE": "waiting",
        "NEWSFLOW_LOG_FORMAT": "text",
        **settings,
    }


@contextmanager
def running(*args: str, **settings: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [str(VENV_BIN / "newsflow"), *args],
        env=_env(**settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _waiting(port: int) -> httpx.Response | None:
    """The ``/healthz`` answer once it says what is awaited (the first attempt is on)."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    return answer if answer.json().get("status") != "starting" else None


# (command, what it waits for, the port of its /healthz or None)
LONG_RUNNING = [
    (["worker", "--concurrency", "1", "--web-port"], "Kafka", True),
    (["ingest-server", "--port"], "Kafka", True),
    (["ui", "--port"], "Elasticsearch", True),
    (["feeds", "http://127.0.0.1:1/feed.xml"], "Kafka", False),
    (["bootstrap", "--wait"], "Kafka", False),  # one-shot commands, told to wait
    (["status", "--wait"], "Kafka", False),
]


def test_long_running_commands_and_wait_flags_wait_with_healthz_503_saying_why() -> None:
    ports = [free_port() if served else None for _, _, served in LONG_RUNNING]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(running(*args, *([str(port)] if port else [])))
            for (args, _, _), port in zip(LONG_RUNNING, ports, strict=True)
        ]
        for (args, service, _), port in zip(LONG_RUNNING, ports, strict=True):
            if port is None:
                continue
            answer = wait_for(lambda p=port: _waiting(p), 60, f"/healthz of {args[0]}")
            assert answer.status_code == 503, answer.text
            body = answer.json()
            assert body["status"] == "waiting", body
            assert f"cannot reach {service} at" in body["reason"], body
            assert body["since"].startswith("20"), body
        # kafka-python gives up a bootstrap after 10 s: one attempt at least for each.
        time.sleep(12)
        outputs = []
        for (args, _, _), proc in zip(LONG_RUNNING, procs, strict=True):
            assert proc.poll() is None, f"{args[0]} exited: {proc.communicate()[0][-2000:]}"
            proc.kill()
            outputs.append(proc.communicate()[0])
    for (args, service, _), out in zip(LONG_RUNNING, outputs, strict=True):
        assert "Traceback" not in out, f"{args[0]}: {out[-3000:]}"
        assert f": waiting: cannot reach {service} at" in out, f"{args[0]}: {out[-2000:]}"
