"""The one stage adapter: what every stage of :mod:`processors.worker.topology` gets done the
same way, so that a stage itself is only a function from a batch to emits and rejections.

For each batch of its topic, in this order (the guarantees live in the order):

1. values parsed into the stage's input model; a value that is not one is a rejection;
2. the stage's step: ``Batch -> Out`` (records to emit, more rejections);
3. every emit sent to a topic the stage declares, every rejection sent as a dead letter with
   the original bytes, all confirmed by Kafka (:meth:`Runtime.send_confirmed`);
4. the stage's table changelog flushed (a decision must be in Kafka before its input is acked);
5. the batch acked. An exception anywhere before retries the same batch (``until_done``), so
   a crash or an error leaves the offsets uncommitted, and every write is idempotent.

Metrics (messages in and out, seconds, dead letters) and the log field ``stage`` carry the
stage id, which is also the agent's name and the dead letter's ``stage``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from newsflow.core import metrics
from newsflow.core.errors import InvalidArticle
from newsflow.core.retry import Backoff, until_done
from processors.stages.deadletter import dead_letter, dead_letter_id
from processors.worker.health import ProgressTracker, offsets_of
from schemas import codec

if TYPE_CHECKING:
    from processors.worker.runtime import Runtime
    from processors.worker.topology import Stage

log = logging.getLogger("newsflow.worker")

# The decision stages take batches of hundreds (a few ms each with their changelog writes):
# a soak run with Faust's blocking detector caught them holding the loop over 2 s. Letting
# the loop run every few dozen items keeps consumers, sends and the other agents going; only
# the stage's own agent touches its table, so nothing changes between the slices.
YIELD_EVERY = 32
# A batch that failed unexpectedly (a bug, a service answering nonsense) is retried this way.
BATCH_BACKOFF = Backoff(base=1.0, cap=60.0)

T = TypeVar("T")
State = MutableMapping[str, Any]


@dataclass(frozen=True)
class Message:
    """What a stage needs of a Kafka message."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, event: Any) -> Message:
        """The parts of a Faust event."""
        msg = event.message
        return cls(event.value, event.key, msg.topic, msg.partition, msg.offset)


@dataclass(frozen=True)
class Rejected:
    """A message a stage cannot process, with the error that says why (its dead letter)."""

    message: Message
    error: InvalidArticle


@dataclass(frozen=True)
class Emit:
    """A record for a topic (a ``Names`` property the stage's row lists in ``emits``).

    ``value`` is a model (encoded once here) or bytes forwarded as they are.
    """

    to: str
    key: str
    value: BaseModel | bytes


@dataclass
class Out:
    """What a step made of a batch."""

    emits: list[Emit] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def emit(self, to: str, key: str, value: BaseModel | bytes) -> None:
        """Send ``value`` to the topic ``to`` once the batch is done."""
        self.emits.append(Emit(to, key, value))

    def reject(self, message: Message, error: InvalidArticle) -> None:
        """Dead-letter ``message`` with ``error``."""
        self.rejected.append(Rejected(message, error))


@dataclass
class Batch(Generic[T]):
    """The parsed messages of one batch, and the stage's table when it has one."""

    items: list[tuple[Message, T]]
    state: State | None = None

    async def paced(self) -> AsyncIterator[tuple[Message, T]]:
        """The items, letting the event loop run every ``YIELD_EVERY`` (see there)."""
        for n, item in enumerate(self.items):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            yield item


Step = Callable[[Batch[Any]], Awaitable[Out]]


class Every:
    """A chore a stage does at most every ``seconds`` (expiring its table), per process."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self._last = 0.0

    def due(self, now: float) -> bool:
        """Whether the chore is due at ``now`` (it then counts as done)."""
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True


class Adapter:
    """Runs one stage's step over its batches with every guarantee of the module."""

    def __init__(
        self,
        stage: Stage,
        step: Step,
        runtime: Runtime,
        state: State | None = None,
        flush: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.stage = stage
        self.step = step
        self.runtime = runtime
        self.state = state
        self.flush = flush

    async def handle(self, events: Sequence[Any]) -> None:
        """One batch: parse, step, confirmed sends, changelog flush (the caller acks)."""
        sid = self.stage.id
        messages = [Message.of(e) for e in events]
        metrics.MESSAGES_IN.labels(sid).inc(len(messages))
        started = time.monotonic()
        items, rejected = await self._parse(messages)
        out = await self.step(Batch(items, self.state))
        await self._send(out.emits, rejected + out.rejected)
        if self.flush is not None:
            await self.flush()
        metrics.STAGE_SECONDS.labels(sid).observe(time.monotonic() - started)

    async def _parse(
        self, messages: Sequence[Message]
    ) -> tuple[list[tuple[Message, Any]], list[Rejected]]:
        model = self.stage.model
        if model is None:  # the step reads the bytes itself (clean decodes, deadletters keeps)
            return [(m, m.value) for m in messages], []
        items: list[tuple[Message, Any]] = []
        rejected: list[Rejected] = []
        for n, m in enumerate(messages):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a decision stage's batch is hundreds of records
            try:
                items.append((m, codec.loads(model, m.value or b"")))
            except ValidationError as exc:
                rejected.append(Rejected(m, InvalidArticle("schema", str(exc)[:500])))
        return items, rejected

    async def _send(self, emits: Sequence[Emit], rejected: Sequence[Rejected]) -> None:
        names = self.runtime.names
        sends: list[tuple[str, bytes | None, bytes]] = []
        for e in emits:
            if e.to not in self.stage.emits:  # the topology is the whole truth
                raise ValueError(f"stage {self.stage.id} emits to {e.to}, not in its row")
            value = e.value if isinstance(e.value, bytes) else codec.dumps(e.value)
            topic = getattr(names, e.to)
            sends.append((topic, e.key.encode(), value))
            metrics.MESSAGES_OUT.labels(self.stage.id, topic).inc()
        for r in rejected:
            sends.append((names.deadletter_topic, *self._letter(r)))
        await self.runtime.send_confirmed(sends)

    def _letter(self, rejected: Rejected) -> tuple[bytes, bytes]:
        """The key and value of ``rejected``'s dead letter, counted and logged."""
        m, error = rejected.message, rejected.error
        letter = dead_letter(
            m.value,
            m.key,
            error,
            stage=self.stage.id,
            topic=m.topic,
            partition=m.partition,
            offset=m.offset,
        )
        metrics.DEAD_LETTERS.labels(self.stage.id, error.kind).inc()
        log.warning(
            "dead letter",
            extra={"stage": self.stage.id, "error": error.kind, "reason": error.reason[:300],
                   "topic": m.topic, "partition": m.partition, "offset": m.offset},
        )  # fmt: skip
        return dead_letter_id(letter).encode(), codec.dumps(letter)


def agent_loop(
    handle: Callable[[Sequence[Any]], Awaitable[None]],
    stage_id: str,
    size: int,
    within: float,
    progress: ProgressTracker,
) -> Callable[[Any], Awaitable[None]]:
    """The body of a stage's Faust agent: take a batch unacked, ``handle`` it until it is
    done, then ack it (and tell ``/healthz`` the partitions moved)."""

    async def run(stream: Any) -> None:
        async for events in stream.noack_take(size, within=within):
            progress.received(offsets_of(events))
            await until_done(handle, events, stage_id, BATCH_BACKOFF)
            for event in events:
                await stream.ack(event)
            progress.acked(offsets_of(events))

    run.__name__ = stage_id
    return run
