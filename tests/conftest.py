"""Fixtures for tests on the real stack (Kafka and Elasticsearch started by the project)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Namespace, WorkerProcess


@pytest.fixture(scope="session")
def stack() -> None:
    """The local Kafka and Elasticsearch, started once per session if not running."""
    from newsflow.settings import load_settings
    from newsflow.stack import ensure_up

    ensure_up(load_settings())


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture
def namespace(stack: None) -> Iterator[Namespace]:
    """A fresh namespace (topics, indices, consumer group) for one test."""
    ns = Namespace()
    yield ns
    ns.close()


@pytest.fixture
def worker(namespace: Namespace, log_dir: Path) -> Iterator[WorkerProcess]:
    """A running ``newsflow worker`` in the test's namespace."""
    proc = WorkerProcess(namespace, log_dir).start()
    yield proc
    proc.stop()
