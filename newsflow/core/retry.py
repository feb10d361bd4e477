"""Backoff for transient failures (exponential, capped, jittered), batch retries, and
waiting for a service that cannot be reached yet.

One retry loop (:func:`retrying`) serves every loop of the worker: a batch retried until its
handler returns (:func:`until_done`), a send or a bulk write retried while its service says
"not now" (:func:`retry_if`, with the rules of :mod:`newsflow.core.transient`), a copy polling
for its first copy (:func:`poll`), and a start-up step retried while Kafka or Elasticsearch is
unreachable (:func:`until_reachable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from newsflow.core import metrics

log = logging.getLogger("newsflow.worker")
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delays ``min(cap, base * 2**attempt)`` scaled by a random factor in [0.5, 1]."""

    base: float = 0.2
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        ceiling: float = min(self.cap, self.base * 2.0 ** min(attempt, 30))
        return ceiling * (0.5 + random.random() / 2)


# Waiting for a service at start-up: the first retries come fast (a service being started
# answers within seconds), then one attempt, and one log line, every 10 to 20 seconds.
SERVICE_BACKOFF = Backoff(base=1.0, cap=20.0)

# Called inside the ``except`` block with the error, the attempt (0-based) and the delay
# before the next one; it may raise to give up.
OnError = Callable[[Exception, int, float], None]


async def retrying(call: Callable[[], Awaitable[T]], backoff: Backoff, on_error: OnError) -> T:
    """``await call()`` until it returns, sleeping ``backoff`` between attempts."""
    attempt = 0
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = backoff.delay(attempt)
            on_error(exc, attempt, delay)
            await asyncio.sleep(delay)
            attempt += 1


def retry_if(
    transient: Callable[[BaseException], bool],
    what: str,
    count: Callable[[], None] = lambda: None,
    logger: logging.Logger = log,
    **fields: Any,
) -> OnError:
    """An ``on_error`` that re-raises what ``transient`` does not accept, and otherwise counts
    the retry (``count``, as it happens: during an outage the call does not return, and the
    retries are what an operator sees on /metrics) and logs one line about ``what``."""

    def on_error(exc: Exception, attempt: int, delay: float) -> None:
        if not transient(exc):
            raise exc
        count()
        logger.warning(
            "%s will be retried",
            what,
            extra={**fields, "attempt": attempt + 1, "delay_s": round(delay, 2), "why": repr(exc)},
        )

    return on_error


class NotYet(Exception):
    """Raised by a :func:`poll` check: what it waits for is not there yet."""


async def poll(check: Callable[[], Awaitable[bool]], backoff: Backoff, seconds: float) -> bool:
    """``await check()`` until it returns True (then True) or ``seconds`` have passed (then
    False), sleeping ``backoff`` between checks. An error of ``check`` is raised."""
    deadline = time.monotonic() + seconds

    async def once() -> bool:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        raise NotYet

    def again(exc: Exception, attempt: int, delay: float) -> None:
        if not isinstance(exc, NotYet):
            raise exc

    return await retrying(once, backoff, again)


async def until_done(
    handle: Callable[[T], Awaitable[None]], batch: T, stage: str, backoff: Backoff
) -> None:
    """``await handle(batch)`` until it returns, retrying the same batch on any error.

    A handler turns every bad message into a dead letter and retries transient failures
    itself, so what reaches here is unexpected (a bug, a service answering nonsense). The
    batch is never acked past it: it is retried with backoff, visible in the logs, the
    ``newsflow_batch_retries`` metric and ``/healthz``, instead of crashing the agent with
    its offsets stuck until a restart.
    """

    def report(exc: Exception, attempt: int, delay: float) -> None:
        log.exception(
            "batch failed; it will be retried",
            extra={"stage": stage, "attempt": attempt + 1, "delay_s": round(delay, 2)},
        )
        metrics.BATCH_RETRIES.labels(stage).inc()

    await retrying(lambda: handle(batch), backoff, report)


@dataclass
class Waiting:
    """What a starting process waits for, and since when (for its logs and ``/healthz``)."""

    reason: str | None = None
    since: float | None = None  # time.time() of the first failed attempt

    def body(self) -> dict[str, Any]:
        """The JSON body of a ``/healthz`` 503 while waiting (or still starting)."""
        if self.reason is None or self.since is None:
            return {"status": "starting"}
        return {
            "status": "waiting",
            "reason": self.reason,
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds"),
            "waited_seconds": round(time.time() - self.since, 1),
        }


# The clients log each failed connection (kafka-python several lines per attempt,
# elastic_transport a traceback per retry): while waiting, the one line above says it all.
CLIENT_LOGGERS = ("kafka", "elastic_transport")


@contextlib.contextmanager
def _quiet(names: tuple[str, ...]) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def until_reachable(
    call: Callable[[], T],
    step: str,
    waiting: Waiting,
    unreachable: Callable[[BaseException], str | None],
    backoff: Backoff = SERVICE_BACKOFF,
    logger: logging.Logger = log,
) -> T:
    """Run the blocking ``call`` in a thread until no service is unreachable.

    ``unreachable(exc)`` says in one line which service cannot be reached (Kafka or
    Elasticsearch down, refusing connections, timing out), or None for any other error,
    which is raised. While waiting, ``waiting`` holds the reason and ``logger`` gets one
    line per attempt: what ``step`` waits for and since when.
    """

    def wait(exc: Exception, attempt: int, delay: float) -> None:
        reason = unreachable(exc)
        if reason is None:
            raise exc
        if waiting.since is None:
            waiting.since = time.time()
        waiting.reason = reason
        body = waiting.body()
        logger.warning(
            "%s: waiting: %s (since %s, %.0f s; next attempt in %.0f s)",
            step,
            reason,
            body["since"],
            body["waited_seconds"],
            delay,
            extra={"event": "waiting", "step": step, "reason": reason, "since": body["since"]},
        )

    with _quiet(CLIENT_LOGGERS):
        result = await retrying(lambda: asyncio.to_thread(call), backoff, wait)
    if waiting.since is not None:
        logger.info(
            "%s: done after waiting %.0f s",
            step,
            time.time() - waiting.since,
            extra={"event": "waited", "step": step},
        )
    waiting.reason = waiting.since = None
    return result
