"""Fixtures of the fault tests: namespaces, workers that never outlive a test, the ES proxy,
the private stack for the faults that stop a service, and the figures of each run.

Set ``NEWSFLOW_FAULT_REPORT=/some/file.jsonl`` to collect each test's figures (recovery
times, retries, re-processed articles) in one file; ``docs/RELIABILITY.md`` quotes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.settings import Settings
from tests.faults.harness import Corpus, FaultNamespace, Worker, labelled_stream
from tests.faults.proxy import EsFaultProxy
from tests.faults.stack import private_stack as start_private_stack


@pytest.fixture(scope="session")
def private_stack() -> Iterator[Settings]:
    """Kafka and Elasticsearch of the fault tests alone, on their own ports and home."""
    with start_private_stack() as settings:
        yield settings


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[Settings]:
    """A private stack whose Kafka is three brokers; topics at replication factor 3."""
    with start_private_stack(brokers=3) as settings:
        yield settings


@pytest.fixture(scope="session")
def private_es_cluster() -> Iterator[Settings]:
    """A private stack whose Elasticsearch is two nodes; indices with one replica."""
    with start_private_stack(es_nodes=2) as settings:
        yield settings


@pytest.fixture
def shared_ns(stack: None) -> Iterator[FaultNamespace]:
    """A fresh namespace on the shared stack (for faults that leave the services running)."""
    ns = FaultNamespace()
    yield ns
    ns.close()


@pytest.fixture
def private_ns(private_stack: Settings) -> Iterator[FaultNamespace]:
    """A fresh namespace on the private stack (for faults that stop Kafka or Elasticsearch)."""
    ns = FaultNamespace(private_stack)
    yield ns
    ns.close()


@pytest.fixture
def es_proxy(request: pytest.FixtureRequest) -> Iterator[Callable[..., EsFaultProxy]]:
    """A factory of fault proxies in front of a namespace's Elasticsearch."""
    proxies: list[EsFaultProxy] = []

    def make(ns: FaultNamespace, **faults: Any) -> EsFaultProxy:
        proxy = EsFaultProxy(ns.settings.es_url, **faults).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def workers(log_dir: Path) -> Iterator[Callable[..., Worker]]:
    """A factory of worker processes; each is SIGKILLed at the end of the test.

    The test has made its assertions by then; a graceful stop would only cost time.
    """
    started: list[Worker] = []

    def make(ns: FaultNamespace, start: bool = True, **env: str) -> Worker:
        worker = Worker(ns, log_dir, **env)
        started.append(worker)
        return worker.start() if start else worker

    yield make
    for worker in started:
        if worker.proc is not None:
            worker.kill()


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    """The labelled stream (393 articles: 68 first copies, 325 copies) in a corpus file."""
    return Corpus.write(tmp_path / "corpus.jsonl", labelled_stream())


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """Print a test's figures; append them to ``$NEWSFLOW_FAULT_REPORT`` when set."""

    def write(figures: dict[str, Any]) -> None:
        line = json.dumps({"test": request.node.name, **figures}, sort_keys=True)
        print(f"FAULT {line}")
        target = os.environ.get("NEWSFLOW_FAULT_REPORT")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(line + "\n")

    return write
