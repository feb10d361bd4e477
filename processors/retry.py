"""Backoff for transient failures (exponential, capped, jittered) and batch retries."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from processors import metrics

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
    attempt = 0
    while True:
        try:
            await handle(batch)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            delay = backoff.delay(attempt)
            log.exception(
                "batch failed; it will be retried",
                extra={"stage": stage, "attempt": attempt + 1, "delay_s": round(delay, 2)},
            )
            metrics.BATCH_RETRIES.labels(stage).inc()
            await asyncio.sleep(delay)
            attempt += 1
