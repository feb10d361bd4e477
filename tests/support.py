"""Helpers for tests on the real stack: namespaces, producing, counting, worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from newsflow.cli.drained import Snapshot, wait_drained
from newsflow.cli.localworker import LocalWorker, free_port
from newsflow.cli.offsets import committed_offsets, end_offsets
from newsflow.cli.teardown import drop_namespace
from newsflow.core.bootstrap import bootstrap_namespace
from newsflow.core.clients import es_client, kafka_producer
from newsflow.core.errors import PipelineError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "corpus" / "seeds"
SAMPLE = ROOT / "corpus" / "sample"
VENV_BIN = Path(sys.executable).parent

# ``invoke(*args, **env)``: ``newsflow ARGS`` run in this process (tests/conftest.py).
Invoke = Callable[..., subprocess.CompletedProcess[str]]


def new_namespace(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


class Namespace:
    """A private namespace on the real stack: its settings, names and clients."""

    def __init__(self, partitions: int = 4, name: str | None = None) -> None:
        name = name or new_namespace()
        self.settings: Settings = load_settings(namespace=name, partitions=partitions)
        self.names = Names(self.settings.namespace)
        self.env = {
            **os.environ,
            "NEWSFLOW_NAMESPACE": self.settings.namespace,
            "NEWSFLOW_PARTITIONS": str(partitions),
            "NEWSFLOW_LOG_FORMAT": "text",
        }
        bootstrap_namespace(self.settings)
        self.es = es_client(self.settings)

    def produce(
        self,
        values: Iterable[bytes],
        key: bytes | None = None,
        partition: int | None = None,
        **options: Any,
    ) -> int:
        """Send ``values`` to ``<ns>.raw`` (``options``: of the producer), each confirmed."""
        producer = kafka_producer(self.settings, **options)
        topic = self.names.raw_topic
        try:
            futures = [producer.send(topic, key=key, value=v, partition=partition) for v in values]
            producer.flush()
            for future in futures:
                future.get(timeout=30)
        finally:
            producer.close()
        return len(futures)

    def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        self.es.indices.refresh(index=index)
        return int(self.es.count(index=index, query=query or {"match_all": {}})["count"])

    def articles(self) -> list[dict[str, Any]]:
        self.es.indices.refresh(index=self.names.articles_index)
        hits = self.es.search(index=self.names.articles_index, size=1000)["hits"]["hits"]
        return [h["_source"] for h in hits]

    def dead_letters(self) -> list[dict[str, Any]]:
        self.es.indices.refresh(index=self.names.deadletter_index)
        hits = self.es.search(index=self.names.deadletter_index, size=1000)["hits"]["hits"]
        return [h["_source"] for h in hits]

    def raw_end_offsets(self) -> int:
        """Messages ever written to ``<ns>.raw``."""
        return sum(end_offsets(self.settings, [self.names.raw_topic]).values())

    def committed_raw(self) -> int:
        """Messages of ``<ns>.raw`` the worker group has committed (processed and acked)."""
        committed = committed_offsets(self.settings, self.names.app_id)
        return sum(off for (topic, _), off in committed.items() if topic == self.names.raw_topic)

    def drained(self, messages: int = 0, timeout: float = 240) -> Snapshot:
        """Wait until the namespace is drained (:mod:`newsflow.cli.drained`) with at least
        ``messages`` in ``<ns>.raw``; the final snapshot, or a failure naming the stages behind.
        """
        try:
            return wait_drained(self.settings, timeout, messages=messages)
        except PipelineError as exc:
            raise AssertionError(str(exc)) from None

    def settled(
        self, documents: int, dead: int = 0, messages: int | None = None, timeout: float = 240
    ) -> Snapshot:
        """Drained, then exactly ``documents`` and ``dead`` letters (and ``messages`` raw)."""
        snap = self.drained(messages or 0, timeout)
        found = (snap.documents, snap.dead_letters, snap.raw_messages)
        wanted = (documents, dead, snap.raw_messages if messages is None else messages)
        assert found == wanted, (
            f"drained with {found[2]} raw messages, {found[0]} documents, {found[1]} dead "
            f"letters; expected {wanted[2]}, {wanted[0]}, {wanted[1]}"
        )
        return snap

    def close(self) -> None:
        """Delete the namespace (indices, templates, topics, group): a test leaves nothing."""
        self.es.close()
        drop_namespace(self.settings)


def run_newsflow(
    ns: Namespace, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real ``newsflow`` command in ``ns``, its output captured."""
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), *args],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class WorkerProcess(LocalWorker):
    """A real ``newsflow worker`` subprocess in a test namespace, its log in ``log_dir``."""

    def __init__(self, ns: Namespace, log_dir: Path, concurrency: int = 1) -> None:
        port = free_port()
        super().__init__(ns.env, log_dir / f"worker-{port}.log", concurrency, port)
        self.ns = ns

    def start(self, timeout: float = 120) -> WorkerProcess:
        try:
            super().start(timeout)
        except PipelineError as exc:
            raise AssertionError(str(exc)) from None
        return self
