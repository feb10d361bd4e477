"""The worker's adapters: Kafka messages in, pure stages, confirmed sends and writes.

Every handler returns only when each message of its batch has a confirmed outcome (a
record acknowledged by Kafka, a document acknowledged by Elasticsearch, or a confirmed
dead letter); the agent acks the batch after that, never before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from newsflow.core import metrics, transient
from newsflow.core.bootstrap import bootstrap_namespace
from newsflow.core.clients import async_es_client
from newsflow.core.errors import InvalidArticle
from newsflow.core.names import Names
from newsflow.core.retry import Backoff, Waiting, until_reachable
from newsflow.core.service_errors import unreachable
from newsflow.core.settings import Settings
from processors.alerting.stage import AlertStage
from processors.stages import dedup, minhash, stories
from processors.stages.deadletter import dead_letter, dead_letter_id
from processors.worker.nlp import NlpPool
from processors.worker.pipeline import Enricher, Message, Rejected, copy_enrichment, prepare
from processors.worker.sink import BulkSink
from schemas import codec
from schemas.article import Article
from schemas.deadletter import DeadLetter
from schemas.work import Deduped, Prepared

log = logging.getLogger("newsflow.worker")

# Kafka's default max.message.bytes: a larger value cannot be a message of ours, and the
# markup of a larger body would hold a batch for seconds while it is parsed.
MAX_MESSAGE_BYTES = 1024 * 1024
# How long a duplicate waits for its first-seen copy to be indexed before it gets its own
# NER pass (the first copy may have been dead-lettered, or be far behind in a backlog), and
# how long one batch waits before its copies are requeued (see handle_duplicates).
DUPLICATE_WAIT_SECONDS = 600.0
REQUEUE_AFTER_SECONDS = 5.0
EXPIRE_EVERY_SECONDS = 60.0
# The dedup and stories stages decide batches of up to 512 articles on the event loop (a
# few ms each with their changelog writes): a soak run with Faust's blocking detector caught
# both holding the loop over 2 s. Letting the loop run every few dozen articles keeps
# consumers, sends and the other agents going; only the stage's own agent touches its table,
# so nothing changes between the slices.
YIELD_EVERY = 32

Send = Callable[[str, bytes | None, bytes], Awaitable[Any]]
State = MutableMapping[str, Any]
M = TypeVar("M", bound=BaseModel)


def message_of(event: Any) -> Message:
    """The parts of a Faust event the pipeline needs."""
    msg = event.message
    return Message(event.value, event.key, msg.topic, msg.partition, msg.offset)


class Runtime:
    """Clients, pools and stage handlers of one worker process."""

    def __init__(self, settings: Settings, names: Names, send: Send) -> None:
        self.settings = settings
        self.names = names
        self.send = send
        self.backoff = Backoff()
        self.dedup_config = dedup.DedupConfig()
        self.story_config = stories.StoryConfig()
        self.enricher: Enricher | None = None
        self.waiting = Waiting()  # what the warm-up waits for (Elasticsearch gone, ...)
        self.es: Any = None
        self.sinks: dict[str, BulkSink] = {}
        self.alerts: AlertStage | None = None
        self._lock = asyncio.Lock()
        self._expired_at: dict[str, float] = {}

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

    # --- stage handlers, in pipeline order ---------------------------------------------

    async def handle_raw(self, events: Sequence[Any]) -> None:
        """Stage ``clean``: raw messages to signed clean articles (or dead letters)."""
        messages = [message_of(e) for e in events]
        metrics.MESSAGES_IN.labels("clean").inc(len(messages))
        # Markup parsing and MinHash cost about a millisecond an article: off the loop.
        outcomes = await asyncio.to_thread(
            lambda: [prepare(m, MAX_MESSAGE_BYTES) for m in messages]
        )
        await self._send_outcomes(
            (self.names.dedup_topic, o.article.id, o) if isinstance(o, Prepared) else o
            for o in outcomes
        )

    async def handle_dedup(self, events: Sequence[Any], state: State) -> None:
        """Stage ``dedup``: decide, in one ordered stream, which articles are copies."""
        outputs: list[tuple[str, str, BaseModel] | Rejected] = []
        now = time.time()
        for n, (_, item) in enumerate(self._parse(events, Prepared, "dedup")):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # see YIELD_EVERY
            if isinstance(item, Rejected):
                outputs.append(item)
                continue
            article = item.article
            sig = minhash.decode(item.signature).tolist()
            decision = dedup.decide(
                article.id, article.content_hash, sig, now, state, self.dedup_config
            )
            record = Deduped(
                article=article,
                is_duplicate=decision.is_duplicate,
                duplicate_of=decision.duplicate_of,
                kind=decision.kind,
                similarity=decision.similarity,
                first_seen=dedup.first_seen(state, article.id, now),
            )
            topic = self.names.duplicates_topic if decision.is_duplicate else self.names.work_topic
            outputs.append((topic, article.id, record))
            metrics.ARTICLES_OUT.labels(f"dedup_{decision.kind}").inc()
        if self._due("dedup", now):
            dedup.expire(state, now, self.dedup_config)
        await self._send_outcomes(outputs)

    async def handle_work(self, events: Sequence[Any]) -> None:
        """Stage ``nlp``: NER, canonical entities and topics for first-seen articles."""
        await self.start()
        assert self.enricher is not None
        parsed = list(self._parse(events, Deduped, "nlp"))
        items = [(m, i) for m, i in parsed if isinstance(i, Deduped)]
        started = time.monotonic()
        enriched = await self.enricher.enrich_batch([i for _, i in items], [m for m, _ in items])
        metrics.STAGE_SECONDS.labels("nlp").observe(time.monotonic() - started)
        metrics.ARTICLES_OUT.labels("nlp").inc(sum(isinstance(a, Article) for a in enriched))
        await self._send_outcomes(
            [i for _, i in parsed if isinstance(i, Rejected)]
            + [
                (self.names.stories_topic, a.id, a) if isinstance(a, Article) else a
                for a in enriched
            ]
        )

    async def handle_duplicates(self, events: Sequence[Any]) -> None:
        """Stage ``dedup`` (copies): take entities, topics and story from the first copy.

        A copy whose first copy is not indexed yet waits a few seconds at most, then goes
        back to the end of ``<ns>.duplicates``: a batch held longer would hold the group's
        rebalances (Faust waits for batches in flight), and the first copy may be behind
        that very rebalance. After ``DUPLICATE_WAIT_SECONDS`` it gets its own NER pass.
        """
        await self.start()
        parsed = list(self._parse(events, Deduped, "dedup"))
        waiting = [i for _, i in parsed if isinstance(i, Deduped)]
        outputs: list[tuple[str, str, BaseModel] | Rejected] = [
            i for _, i in parsed if isinstance(i, Rejected)
        ]
        deadline = time.monotonic() + REQUEUE_AFTER_SECONDS
        attempt = 0
        while waiting:
            originals = await self._originals({i.duplicate_of or "" for i in waiting})
            now = datetime.now(UTC)
            still: list[Deduped] = []
            for item in waiting:
                original = originals.get(item.duplicate_of or "")
                if original is not None:
                    copy = copy_enrichment(item, original, now)
                    outputs.append((self.names.enriched_topic, copy.id, copy))
                else:
                    still.append(item)
            waiting = still
            if waiting and time.monotonic() > deadline:
                outputs.extend(self._requeue(waiting, now))
                break
            if waiting:
                await asyncio.sleep(min(1.0, self.backoff.delay(attempt)))
                attempt += 1
        await self._send_outcomes(outputs)

    def _requeue(self, waiting: list[Deduped], now: datetime) -> list[tuple[str, str, BaseModel]]:
        """Copies still without their first copy: back to the queue, or to NER when overdue."""
        outputs: list[tuple[str, str, BaseModel]] = []
        for item in waiting:
            since = item.waiting_since or now
            if (now - since).total_seconds() < DUPLICATE_WAIT_SECONDS:
                requeued = item.model_copy(update={"waiting_since": since})
                outputs.append((self.names.duplicates_topic, item.article.id, requeued))
            else:  # the NLP stage keeps it flagged as a copy (Enricher.enrich_batch)
                outputs.append((self.names.work_topic, item.article.id, item))
        overdue = sum(t == self.names.work_topic for t, _, _ in outputs)
        if overdue:
            log.warning("first copies never indexed; copies get NER", extra={"n": overdue})
        metrics.ARTICLES_OUT.labels("dedup_requeued").inc(len(outputs) - overdue)
        return outputs

    async def handle_stories(self, events: Sequence[Any], state: State) -> None:
        """Stage ``stories``: join each article to the best open story or start one."""
        # A restart may hand us a backlog before warm_up has opened the stories sink.
        await self.start()
        outputs: list[tuple[str, str, BaseModel] | Rejected] = []
        touched: set[str] = set()
        now = time.time()
        # One changelog record per key per batch; nothing reaches the table if this fails.
        batch = stories.BatchState(state)
        for n, (_, item) in enumerate(self._parse(events, Article, "stories")):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # see YIELD_EVERY
            if isinstance(item, Rejected):
                outputs.append(item)
                continue
            feats = stories.article_features(item)
            assignment = stories.assign_story(feats, batch, self.story_config)
            touched.add(assignment.story_id)
            article = item.model_copy(update={"story_id": assignment.story_id})
            outputs.append((self.names.enriched_topic, article.id, article))
        # Summaries before expiry: a story closed by this very expiry still gets its document.
        summaries = [
            (sid, stories.story_summary(sid, batch))
            for sid in sorted(touched)
            if f"s:{sid}" in batch
        ]
        if self._due("stories", now):
            stories.expire(batch, now, self.story_config)
        batch.flush()
        await self.sinks[self.names.stories_index].write(summaries)
        await self._send_outcomes(outputs)

    async def handle_enriched(self, events: Sequence[Any]) -> None:
        """Stage ``sink``: documents to ``<ns>-articles``; rejected ones become dead letters."""
        await self.start()
        messages = [message_of(e) for e in events]
        metrics.MESSAGES_IN.labels("sink").inc(len(messages))
        docs: dict[str, tuple[Message, Article]] = {}
        rejected: list[Rejected] = []
        for message, item in self._parse(events, Article, "sink"):
            if isinstance(item, Rejected):
                rejected.append(item)
            else:
                docs[item.id] = (message, item)
        started = time.monotonic()
        sink = self.sinks[self.names.articles_index]
        result = await sink.write([(i, a.model_dump(mode="json")) for i, (_, a) in docs.items()])
        metrics.STAGE_SECONDS.labels("sink").observe(time.monotonic() - started)
        metrics.ARTICLES_OUT.labels("sink").inc(result.indexed)
        for doc_id, (kind, reason) in result.rejected.items():
            rejected.append(Rejected(docs[doc_id][0], "sink", InvalidArticle(kind, reason)))
        # Stage ``alerts``: what was just indexed, before the batch is acked (idempotent).
        assert self.alerts is not None
        indexed = [a for i, (_, a) in docs.items() if i not in result.rejected]
        await self.alerts.on_indexed([a for a in indexed if not a.is_duplicate])
        await self._send_outcomes(rejected)

    async def handle_dead_letters(self, events: Sequence[Any]) -> None:
        """Dead letters into ``<ns>-deadletter``, so they can be searched."""
        await self.start()
        docs: list[tuple[str, dict[str, Any]]] = []
        for event in events:
            message = message_of(event)
            try:
                letter = codec.loads(DeadLetter, message.value or b"")
            except ValidationError as exc:
                # Someone else wrote to our dead-letter topic: keep it, say what it is.
                letter = self._letter(
                    Rejected(
                        message, "deadletter", InvalidArticle("invalid_dead_letter", str(exc)[:500])
                    )
                )
            docs.append((dead_letter_id(letter), letter.model_dump(mode="json")))
        result = await self.sinks[self.names.deadletter_index].write(docs)
        for doc_id, (kind, reason) in result.rejected.items():
            log.error(
                "dead letter not indexable", extra={"id": doc_id, "kind": kind, "why": reason}
            )

    # --- helpers --------------------------------------------------------------------------

    def _parse(
        self, events: Sequence[Any], model: type[M], stage: str
    ) -> Iterable[tuple[Message, M | Rejected]]:
        """Each event's value as ``model``; a value that is not becomes a rejection."""
        for event in events:
            message = message_of(event)
            try:
                yield message, codec.loads(model, message.value or b"")
            except ValidationError as exc:
                yield message, Rejected(message, stage, InvalidArticle("schema", str(exc)[:500]))

    async def _originals(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """First-seen copies already in the index (``mget`` reads in real time)."""
        response = await self.es.mget(index=self.names.articles_index, ids=sorted(ids))
        return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}

    def _due(self, name: str, now: float) -> bool:
        if now - self._expired_at.get(name, 0.0) < EXPIRE_EVERY_SECONDS:
            return False
        self._expired_at[name] = now
        return True

    def _letter(self, rejected: Rejected) -> DeadLetter:
        m = rejected.message
        return dead_letter(
            m.value,
            m.key,
            rejected.error,
            stage=rejected.stage,
            topic=m.topic,
            partition=m.partition,
            offset=m.offset,
        )

    async def _send_outcomes(
        self, outcomes: Iterable[tuple[str, str, BaseModel] | Rejected]
    ) -> None:
        """Send records to their topics and rejections to the dead-letter topic, confirmed."""
        sends: list[tuple[str, bytes | None, bytes]] = []
        for outcome in outcomes:
            if isinstance(outcome, Rejected):
                letter = self._letter(outcome)
                metrics.DEAD_LETTERS.labels(outcome.stage, outcome.error.kind).inc()
                log.warning(
                    "dead letter",
                    extra={
                        "stage": outcome.stage,
                        "error": outcome.error.kind,
                        "reason": outcome.error.reason[:300],
                        "topic": letter.topic,
                        "partition": letter.partition,
                        "offset": letter.offset,
                    },
                )
                key = dead_letter_id(letter).encode()
                sends.append((self.names.deadletter_topic, key, codec.dumps(letter)))
            else:
                topic, key_text, record = outcome
                sends.append((topic, key_text.encode(), codec.dumps(record)))
        await self._send_confirmed(sends)

    async def _send_alert(self, key: bytes, value: bytes) -> None:
        await self._send_confirmed([(self.names.alerts_topic, key, value)])

    async def _send_confirmed(self, sends: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        """Send every record and wait for Kafka's acknowledgement; retry the lot on failure.

        A retry may write a record twice: every consumer of these topics is idempotent
        (documents and dead letters are keyed by stable ids, decisions by article id).
        """
        attempt = 0
        while True:
            try:
                futures = [await self.send(topic, key, value) for topic, key, value in sends]
                await asyncio.gather(*futures)
                return
            except Exception as exc:  # KafkaError, KafkaTimeoutError, ConnectionError...
                if not transient.kafka(exc):
                    raise
                delay = self.backoff.delay(attempt)
                metrics.SEND_RETRIES.labels("*").inc()
                log.warning(
                    "send failed, retrying", extra={"delay_s": round(delay, 2), "why": repr(exc)}
                )
                await asyncio.sleep(delay)
                attempt += 1
