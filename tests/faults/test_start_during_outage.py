"""Fault 9: a worker that starts while Kafka or Elasticsearch cannot be reached.

It must wait (``/healthz`` 503 saying what for, one log line per attempt), then process
everything once the service is back, without a restart. Two sizes:

* in ``make test``, on the shared stack: the service is a closed port in front of the real
  one (an HTTP proxy for Elasticsearch, a TCP forwarder for Kafka's bootstrap) that opens
  after 15 s, while 50 articles arrive;
* in ``make soak``, on a private stack, with the service really stopped: the scenario of
  issue 12 (300 articles at 10/s, the worker SIGKILLed after 8 s, a new one started,
  Elasticsearch stopped 10 s later for 45 s), and Kafka stopped for 45 s while a worker
  starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsflow.core.settings import Settings
from newsflow.stack import start_service, stop_service
from tests.faults.harness import (
    Corpus,
    FaultNamespace,
    HealthSampler,
    Worker,
    alert_count,
    assert_conserved,
    finish,
    labelled_stream,
    replaying,
    subscribe_to_everything,
)
from tests.faults.proxy import EsFaultProxy
from tests.faults.tcpproxy import TcpForwarder
from tests.support import free_port, wait_for

SERVICE_NAMES = {"elasticsearch": "Elasticsearch", "kafka": "Kafka"}


def waiting_reason(worker: Worker) -> str | None:
    """The reason ``/healthz`` gives while the worker waits (None before it says one)."""
    try:
        answer = httpx.get(f"{worker.url}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    body = answer.json()
    if answer.status_code == 503 and body.get("status") == "waiting":
        return str(body["reason"])
    return None


def assert_waits_for(worker: Worker, service: str, timeout: float = 120) -> str:
    """The worker is alive and says, on ``/healthz``, that it waits for ``service``."""
    reason = wait_for(lambda: waiting_reason(worker), timeout, f"/healthz naming {service}")
    assert f"cannot reach {SERVICE_NAMES[service]}" in reason, reason
    assert worker.alive(), f"the worker exited: {worker.log_text()[-3000:]}"
    return reason


# --- make test: a closed port that opens -----------------------------------------------

DOWN_AT_START_S = 15.0
SHORT_RUN = 50


@pytest.mark.stack
@pytest.mark.parametrize("service", ["elasticsearch", "kafka"])
def test_a_worker_started_while_a_service_is_unreachable_waits_then_loses_nothing(
    tmp_path: Path,
    shared_ns: FaultNamespace,
    es_proxy: Callable[..., EsFaultProxy],
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
    service: str,
) -> None:
    corpus = Corpus.write(tmp_path / "corpus.jsonl", labelled_stream()[:SHORT_RUN])
    port = free_port()
    subscribe_to_everything(shared_ns)
    if service == "elasticsearch":
        env = {"NEWSFLOW_ES_URL": f"http://127.0.0.1:{port}"}
    else:
        env = {"NEWSFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"}
    worker = workers(shared_ns, start=False, **env)
    forwarder: TcpForwarder | None = None
    launched = time.monotonic()
    worker.launch()
    try:
        # The replay talks to the real services: articles arrive while the worker waits.
        with replaying(shared_ns, "--rate", "10", str(corpus.path)) as producer:
            reason = assert_waits_for(worker, service)
            time.sleep(max(0.0, DOWN_AT_START_S - (time.monotonic() - launched)))
            assert worker.alive(), "the worker exited while waiting"
            opened = time.monotonic()
            if service == "elasticsearch":
                es_proxy(shared_ns, port=port)
            else:
                forwarder = TcpForwarder(shared_ns.settings.kafka_bootstrap, port).start()
            worker.wait_healthy(180)
            healthy_after = time.monotonic() - opened
            finish(producer)
        outcome = assert_conserved(shared_ns, corpus.ids)
    finally:
        if forwarder is not None:
            forwarder.stop()
    log = worker.log_text()
    waits = log.count("start-up: waiting: cannot reach")
    assert waits >= 1, "no waiting line in the worker's log"
    assert "Traceback" not in log, log[-3000:]
    record(
        outcome.figures(
            service=service,
            down_seconds=DOWN_AT_START_S,
            healthy_after_up_seconds=round(healthy_after, 1),
            waiting_lines=waits,
            reason=reason,
            alerts=alert_count(shared_ns),
        )
    )


# --- make soak: the services really stopped ------------------------------------------------

OUTAGE_S = 45.0
LONG_RUN = 300


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_worker_restarted_during_an_elasticsearch_outage_waits_and_loses_nothing(
    tmp_path: Path,
    private_stack: Settings,
    private_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    """Issue 12's run: 300 articles at 10/s; SIGKILL after 8 s; a new worker; Elasticsearch
    stopped 10 s later for 45 s, then started."""
    corpus = Corpus.write(tmp_path / "corpus.jsonl", labelled_stream()[:LONG_RUN])
    subscribe_to_everything(private_ns)
    first = workers(private_ns)
    with replaying(private_ns, "--rate", "10", str(corpus.path)) as producer:
        time.sleep(8)
        first.kill()
        second = workers(private_ns, start=False)
        second.launch()
        time.sleep(10)
        assert stop_service(private_stack, "elasticsearch", grace=20), "ES was not running"
        stopped = time.monotonic()
        sampler = HealthSampler(second)
        sampler.start()
        try:
            time.sleep(OUTAGE_S)
            assert second.alive(), f"the new worker exited: {second.log_text()[-3000:]}"
        finally:
            start_service(private_stack, "elasticsearch")
        up = time.monotonic()
        second.wait_healthy(300)
        seen = sampler.stop()  # from the stop to the new worker's first 200
        finish(producer)
    assert {code for code, _ in seen} == {503}, seen
    outcome = assert_conserved(private_ns, corpus.ids, timeout=600)
    assert second.alive(), "the new worker did not survive"
    log = second.log_text()
    assert "App crashed" not in log, log[-3000:]
    reasons = sorted({r for _, r in seen if r.startswith("cannot reach Elasticsearch")})
    if "warm-up: waiting" in log:  # it met the outage in its warm-up: /healthz said so
        assert reasons, f"/healthz never gave the reason: {seen}"
    record(
        outcome.figures(
            down_seconds=round(up - stopped, 1),
            settled_after_up_seconds=round(time.monotonic() - up, 1),
            healthz_until_healthy=sorted({status for _, status in seen} - set(reasons)),
            waiting_reasons=reasons,
            waiting_lines=log.count("waiting: cannot reach Elasticsearch"),
            alerts=alert_count(private_ns),
        )
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_worker_started_while_kafka_is_stopped_waits_and_loses_nothing(
    tmp_path: Path,
    private_stack: Settings,
    private_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    corpus = Corpus.write(tmp_path / "corpus.jsonl", labelled_stream()[:LONG_RUN])
    subscribe_to_everything(private_ns)
    assert stop_service(private_stack, "kafka", grace=20), "Kafka was not running"
    stopped = time.monotonic()
    worker = workers(private_ns, start=False)
    try:
        worker.launch()
        # A one-shot command told to wait: the replay starts during the outage too.
        with replaying(private_ns, "--wait", "--rate", "10", str(corpus.path)) as producer:
            reason = assert_waits_for(worker, "kafka")
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
            assert worker.alive(), f"the worker exited: {worker.log_text()[-3000:]}"
            start_service(private_stack, "kafka")
            up = time.monotonic()
            worker.wait_healthy(300)
            finish(producer, timeout=600)
    finally:
        start_service(private_stack, "kafka")  # the private stack serves the next tests
    outcome = assert_conserved(private_ns, corpus.ids, timeout=600)
    record(
        outcome.figures(
            down_seconds=round(up - stopped, 1),
            settled_after_up_seconds=round(time.monotonic() - up, 1),
            reason=reason,
            alerts=alert_count(private_ns),
        )
    )
