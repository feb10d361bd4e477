"""Faults 2 and 3: Elasticsearch down longer than a bulk timeout; the Kafka broker restarted.

Both run on a private stack (its own Kafka and Elasticsearch, see :mod:`tests.faults.stack`)
because they stop a service. Articles keep arriving throughout (``newsflow replay`` in a
subprocess); the worker is never restarted: it must recover by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from newsflow.core.settings import Settings
from newsflow.stack import start_service, stop_service
from tests.faults.harness import Corpus, FaultNamespace, Worker, assert_conserved, replaying
from tests.support import wait_for

# A private stack to start (about 50 s here) and a service restart each (ES takes about a
# minute to come back): too long for make test.
pytestmark = pytest.mark.slow

# The worker's Elasticsearch request timeout (newsflow.core.clients.es_options).
BULK_TIMEOUT_S = 30.0
# Below the outage, so that the outage is a stall /healthz must report (default 120 s).
STALL_SECONDS = 10.0


def outage_mid_stream(
    ns: FaultNamespace,
    worker: Worker,
    corpus: Corpus,
    stack: Settings,
    service: str,
    down_for: float,
    while_down: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Replay ``corpus``; once indexing, stop ``service`` for ``down_for`` s; settle; check."""
    pid = worker.pid
    # 393 articles at 10 a second: the replay is still sending when the service stops.
    with replaying(ns, "--rate", "10", str(corpus.path)) as producer:
        wait_for(lambda: ns.count(ns.names.articles_index) >= 20, 180, "20 documents")
        assert producer.poll() is None, f"the replay ended before {service} stopped"
        down = time.monotonic()
        assert stop_service(stack, service, grace=20), f"{service} was not running"
        try:
            time.sleep(down_for)
            while_down()
        finally:  # the private stack serves the next tests too
            start_service(stack, service)
        up = time.monotonic()
        out, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, f"replay failed across the {service} outage: {err[-2000:]}"
    assert f"sent {len(corpus.items)}" in out, out
    outcome = assert_conserved(ns, corpus.ids)
    assert worker.alive() and worker.pid == pid, "the worker had to be restarted"
    return outcome.figures(
        down_seconds=round(up - down, 1),
        settled_after_up_seconds=round(time.monotonic() - up, 1),
    )


@pytest.mark.parametrize(
    ("service", "down_for"),
    [
        pytest.param("elasticsearch", BULK_TIMEOUT_S + 5, id="elasticsearch-down-35s"),
        pytest.param("kafka", 5.0, id="kafka-restart"),
    ],
)
def test_a_service_outage_mid_stream_loses_nothing_and_needs_no_worker_restart(
    private_stack: Settings,
    private_ns: FaultNamespace,
    workers: Callable[..., Worker],
    corpus: Corpus,
    record: Callable[[dict[str, Any]], None],
    service: str,
    down_for: float,
) -> None:
    es_down = service == "elasticsearch"
    worker = workers(
        private_ns, **({"NEWSFLOW_STALL_SECONDS": str(STALL_SECONDS)} if es_down else {})
    )

    def backoff_observed() -> None:
        """While Elasticsearch is down: retries in the log and /metrics, and a stall."""
        if es_down:
            assert "will be retried" in worker.log_text(), "no retry logged with ES down"
            retries = worker.metric("newsflow_bulk_retries_total")
            assert retries > 0, "newsflow_bulk_retries_total is 0 while ES is down"
            # Articles keep arriving and none can be indexed: the lag must show it.
            assert worker.metric("newsflow_lag") > 0, "newsflow_lag is 0 with ES down"
            # Behind with no progress for longer than the threshold: the liveness check fails.
            health = httpx.get(f"{worker.url}/healthz", timeout=5)
            assert (health.status_code, health.json()["status"]) == (503, "stalled"), health.text

    figures = outage_mid_stream(
        private_ns, worker, corpus, private_stack, service, down_for, backoff_observed
    )
    assert worker.metric("newsflow_lag") == 0, "newsflow_lag is not 0 once settled"
    assert worker.healthy(), "/healthz is not 200 once settled"
    bulk_retries = worker.metric("newsflow_bulk_retries_total")
    if es_down:
        assert bulk_retries > 0, "newsflow_bulk_retries_total stayed 0"
    sends = worker.metric("newsflow_send_retries_total")
    record({**figures, "bulk_retries": bulk_retries, "send_retries": sends})
