"""The worker's adapters: Kafka messages in, pure stages, confirmed sends and writes, acks.

Every handler returns only when each message of its batch has a confirmed outcome (a
record acknowledged by Kafka, a document acknowledged by Elasticsearch, or a confirmed
dead letter); the agent acks the batch after that, never before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import ValidationError

from newsflow.bootstrap import bootstrap_namespace
from newsflow.clients import async_es_client
from newsflow.errors import InvalidArticle
from newsflow.names import Names
from newsflow.settings import Settings
from processors import metrics
from processors.deadletter import dead_letter, dead_letter_id
from processors.entities import load_aliases
from processors.nlp import NlpPool
from processors.pipeline import Enricher, Message, Rejected
from processors.retry import Backoff
from processors.sink import BulkSink
from processors.topics import load_taxonomy
from schemas import codec
from schemas.article import Article
from schemas.deadletter import DeadLetter

log = logging.getLogger("newsflow.worker")

# Kafka's default max.message.bytes is 1 MiB; anything larger never reaches us anyway.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

Send = Callable[[bytes | None, bytes], Awaitable[Any]]


def message_of(event: Any) -> Message:
    """The parts of a Faust event the pipeline needs."""
    msg = event.message
    return Message(event.value, event.key, msg.topic, msg.partition, msg.offset)


class Runtime:
    """Clients and pools of one worker process, created on start and closed on stop."""

    def __init__(self, settings: Settings, names: Names) -> None:
        self.settings = settings
        self.names = names
        self.backoff = Backoff()
        self.enricher: Enricher | None = None
        self.es: Any = None
        self.articles: BulkSink | None = None
        self.dead_letters: BulkSink | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Load the model in every spaCy process and open the Elasticsearch client."""
        async with self._lock:
            if self.enricher is not None:
                return
            # Topics and templates first: a worker on a fresh namespace needs no extra step.
            await asyncio.to_thread(bootstrap_namespace, self.settings)
            pool = NlpPool(self.settings.cpu_processes)
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
            self.articles = BulkSink(self.es, self.names.articles_index, self.backoff)
            self.dead_letters = BulkSink(self.es, self.names.deadletter_index, self.backoff)
            self.enricher = Enricher(
                pool=pool,
                aliases=load_aliases(),
                taxonomy=load_taxonomy(),
                max_message_bytes=MAX_MESSAGE_BYTES,
                max_nlp_chars=self.settings.max_body_chars,
            )

    async def stop(self) -> None:
        """Close the pool and the client."""
        if self.enricher is not None:
            self.enricher.pool.close()
        if self.es is not None:
            await self.es.close()

    # --- stage handlers -------------------------------------------------------------------

    async def handle_raw(self, events: Sequence[Any], enriched: Send, dlq: Send) -> None:
        """Raw messages to enriched records or dead letters, all confirmed by Kafka."""
        await self.start()
        assert self.enricher is not None
        messages = [message_of(e) for e in events]
        metrics.MESSAGES_IN.labels("decode").inc(len(messages))
        started = time.monotonic()
        outcomes = await self.enricher.enrich_batch(messages)
        metrics.STAGE_SECONDS.labels("nlp").observe(time.monotonic() - started)
        sends: list[tuple[Send, bytes | None, bytes]] = []
        for outcome in outcomes:
            if isinstance(outcome, Rejected):
                sends.append(self._dead_letter_send(dlq, outcome))
            else:
                sends.append((enriched, outcome.id.encode(), codec.dumps(outcome)))
        await self._send_confirmed(sends)
        metrics.ARTICLES_OUT.labels("nlp").inc(sum(not isinstance(o, Rejected) for o in outcomes))

    async def handle_enriched(self, events: Sequence[Any], dlq: Send) -> None:
        """Enriched records to documents; documents the index rejects become dead letters."""
        await self.start()
        assert self.articles is not None
        messages = [message_of(e) for e in events]
        metrics.MESSAGES_IN.labels("sink").inc(len(messages))
        docs: dict[str, tuple[Message, dict[str, Any]]] = {}
        rejected: list[Rejected] = []
        for message in messages:
            try:
                article = codec.loads(Article, message.value or b"")
            except ValidationError as exc:
                rejected.append(Rejected(message, "sink", InvalidArticle("schema", str(exc)[:500])))
                continue
            docs[article.id] = (message, article.model_dump(mode="json"))
        started = time.monotonic()
        result = await self.articles.write([(i, d) for i, (_, d) in docs.items()])
        metrics.STAGE_SECONDS.labels("sink").observe(time.monotonic() - started)
        metrics.BULK_RETRIES.labels(self.names.articles_index).inc(result.retries)
        metrics.ARTICLES_OUT.labels("sink").inc(result.indexed)
        for doc_id, (kind, reason) in result.rejected.items():
            rejected.append(Rejected(docs[doc_id][0], "sink", InvalidArticle(kind, reason)))
        await self._send_confirmed([self._dead_letter_send(dlq, r) for r in rejected])

    async def handle_dead_letters(self, events: Sequence[Any]) -> None:
        """Dead letters into ``<ns>-deadletter``, so they can be searched."""
        await self.start()
        assert self.dead_letters is not None
        docs: list[tuple[str, dict[str, Any]]] = []
        for event in events:
            message = message_of(event)
            try:
                letter = codec.loads(DeadLetter, message.value or b"")
            except ValidationError as exc:
                # Someone else wrote to our dead-letter topic: keep it, say what it is.
                letter = dead_letter(
                    message.value,
                    message.key,
                    InvalidArticle("invalid_dead_letter", str(exc)[:500]),
                    stage="deadletter",
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                )
            docs.append((dead_letter_id(letter), letter.model_dump(mode="json")))
        result = await self.dead_letters.write(docs)
        for doc_id, (kind, reason) in result.rejected.items():
            log.error(
                "dead letter not indexable", extra={"id": doc_id, "kind": kind, "why": reason}
            )

    # --- helpers --------------------------------------------------------------------------

    def _dead_letter_send(self, dlq: Send, rejected: Rejected) -> tuple[Send, bytes | None, bytes]:
        m = rejected.message
        letter = dead_letter(
            m.value,
            m.key,
            rejected.error,
            stage=rejected.stage,
            topic=m.topic,
            partition=m.partition,
            offset=m.offset,
        )
        metrics.DEAD_LETTERS.labels(rejected.stage, rejected.error.kind).inc()
        log.warning(
            "dead letter",
            extra={
                "stage": rejected.stage,
                "error": rejected.error.kind,
                "reason": rejected.error.reason[:300],
                "topic": m.topic,
                "partition": m.partition,
                "offset": m.offset,
            },
        )
        return dlq, dead_letter_id(letter).encode(), codec.dumps(letter)

    async def _send_confirmed(self, sends: Sequence[tuple[Send, bytes | None, bytes]]) -> None:
        """Send every record and wait for Kafka's acknowledgement; retry the lot on failure.

        A retry may write a record twice: every consumer of these topics is idempotent
        (documents and dead letters are keyed by stable ids).
        """
        attempt = 0
        while True:
            try:
                futures = [await send(key, value) for send, key, value in sends]
                await asyncio.gather(*futures)
                return
            except Exception as exc:  # KafkaError, KafkaTimeoutError, ConnectionError...
                if not _transient_kafka_error(exc):
                    raise
                delay = self.backoff.delay(attempt)
                metrics.SEND_RETRIES.labels("*").inc()
                log.warning(
                    "send failed, retrying", extra={"delay_s": round(delay, 2), "why": repr(exc)}
                )
                await asyncio.sleep(delay)
                attempt += 1


def _transient_kafka_error(exc: Exception) -> bool:
    from aiokafka.errors import KafkaError

    return isinstance(exc, KafkaError | ConnectionError | asyncio.TimeoutError)
