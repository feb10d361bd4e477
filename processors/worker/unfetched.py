"""An assigned partition that Faust stopped fetching must be fetched again.

Faust (0.15.3) fetches only the partitions in its consumer's *active* set. A partition leaves
it when its agent's buffer is full (``Consumer.on_buffer_full``, back on ``on_buffer_drop``)
or while recovery pauses it, and comes back when recovery resumes it. Seen in
``tests/e2e/test_dedup_stories.py`` (two workers, one killed): after the surviving worker took
over the dedup and stories tables, it logged "Worker ready" and then read nothing of
``<ns>.dedup`` and ``<ns>.stories`` for five minutes while Kafka held their messages (Faust's
own check: "Stream has not started processing ... started 6.34 minutes ago"), whatever
removed them from the set. Nothing else put them back, so the partitions stalled until a
restart.

:class:`UnfetchedHealer` (run by the same timer as :class:`processors.worker.holes.HoleHealer`)
finds assigned stream partitions that have been out of the active set, or paused, for
``UNFETCHED_SECONDS`` outside a rebalance, logs which of Faust's sets held them (so the
cause can be found), resumes them and seeks them to their committed offset. Every stage is
idempotent, so anything read twice is written to the same ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("newsflow.worker")

# Longer than any buffer-full spell of a working agent (a batch takes seconds), shorter than
# the liveness check's stall (NEWSFLOW_STALL_SECONDS, 300 s by default).
UNFETCHED_SECONDS = 30.0


class UnfetchedHealer:
    """Resumes the assigned partitions left out of Faust's fetch set for too long."""

    def __init__(
        self,
        unfetched_seconds: float = UNFETCHED_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unfetched_seconds = unfetched_seconds
        self.clock = clock
        self._since: dict[Any, float] = {}  # tp -> first seen left out

    def due(self, left_out: Iterable[Any], now: float) -> list[Any]:
        """The partitions left out for ``unfetched_seconds`` by now (pure; forgets the rest)."""
        self._since = {tp: self._since.get(tp, now) for tp in left_out}
        ready = [tp for tp, at in self._since.items() if now - at >= self.unfetched_seconds]
        for tp in ready:
            del self._since[tp]
        return ready

    async def check(self, consumer: Any) -> None:
        """Resume and re-read the partitions of ``consumer`` that are not being fetched."""
        if consumer.app.rebalancing or consumer.app.in_recovery:
            self._since.clear()  # recovery pauses and resumes partitions itself
            return
        active = consumer._get_active_partitions()
        paused = consumer._paused_partitions
        streams = [tp for tp in consumer.assignment() if not consumer._is_changelog_tp(tp)]
        left_out = [tp for tp in streams if tp not in active or tp in paused]
        for tp in self.due(left_out, self.clock()):
            committed = consumer._committed_offset.get(tp)
            log.warning(
                "partition not fetched; resuming it and reading again from its commit",
                extra={
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": committed,
                    "paused": tp in paused,
                    "buffered": tp in consumer._buffered_partitions,
                },
            )
            consumer._buffered_partitions.discard(tp)
            consumer.resume_partitions({tp})
            if committed is None:
                continue  # nothing committed yet: the fetch position is where reading starts
            try:
                await consumer.seek(tp, committed)
            except Exception as exc:  # revoked meanwhile: its new owner reads from the commit
                log.warning("seek failed", extra={"topic": tp.topic, "why": repr(exc)})
