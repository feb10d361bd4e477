"""The clients and pools of one worker process, shared by its stages, and its confirmed sends.

Clients are opened by :meth:`Runtime.start` inside the worker's event loop (never at import);
the stages that need Elasticsearch or the spaCy pool await it first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from newsflow.core import metrics, transient
from newsflow.core.bootstrap import bootstrap_namespace
from newsflow.core.clients import async_es_client
from newsflow.core.names import Names
from newsflow.core.retry import Backoff, Waiting, retry_if, retrying, until_reachable
from newsflow.core.service_errors import unreachable
from newsflow.core.settings import Settings
from processors.alerting.stage import AlertStage
from processors.worker.nlp import NlpPool
from processors.worker.pipeline import Enricher
from processors.worker.sink import BulkSink

log = logging.getLogger("newsflow.worker")

Send = Callable[[str, bytes | None, bytes], Awaitable[Any]]


class Runtime:
    """What the stages of one worker process share: settings, names, clients, the pool."""

    def __init__(self, settings: Settings, names: Names, send: Send) -> None:
        self.settings = settings
        self.names = names
        self.send = send
        self.backoff = Backoff()
        self.enricher: Enricher | None = None
        self.waiting = Waiting()  # what the warm-up waits for (Elasticsearch gone, ...)
        self.es: Any = None
        self.sinks: dict[str, BulkSink] = {}
        self.alerts: AlertStage | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Bootstrap the namespace, load the model in every spaCy process, open clients."""
        async with self._lock:
            if self.enricher is not None:
                return
            # Topics and templates first: a worker on a fresh namespace needs no extra step.
            # Kafka or Elasticsearch may have gone away since the command started: wait.
            await until_reachable(
                lambda: bootstrap_namespace(self.settings), "warm-up", self.waiting, unreachable
            )
            pool = NlpPool(self.settings.cpu_processes, max_chars=self.settings.max_body_chars)
            started = time.monotonic()
            await pool.warm_up()
            log.info(
                "spaCy pool ready",
                extra={
                    "processes": pool.processes,
                    "seconds": round(time.monotonic() - started, 1),
                },
            )
            self.es = async_es_client(self.settings)
            for index in (
                self.names.articles_index,
                self.names.deadletter_index,
                self.names.stories_index,
            ):
                self.sinks[index] = BulkSink(self.es, index, self.backoff)
            self.alerts = AlertStage(self.es, self.names, self.settings, self._send_alert)
            self.enricher = Enricher(pool)

    async def stop(self) -> None:
        """Close the pool and the client."""
        if self.enricher is not None:
            self.enricher.pool.close()
        if self.es is not None:
            await self.es.close()

    async def _send_alert(self, key: bytes, value: bytes) -> None:
        await self.send_confirmed([(self.names.alerts_topic, key, value)])

    async def send_confirmed(self, sends: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        """Send every record and wait for Kafka's acknowledgement; retry the lot on failure.

        A retry may write a record twice: every consumer of these topics is idempotent
        (documents and dead letters are keyed by stable ids, decisions by article id).
        """

        async def send_all() -> None:
            futures = [await self.send(topic, key, value) for topic, key, value in sends]
            await asyncio.gather(*futures)

        if sends:
            count = metrics.SEND_RETRIES.labels("*").inc
            await retrying(send_all, self.backoff, retry_if(transient.kafka, "send", count, log))
