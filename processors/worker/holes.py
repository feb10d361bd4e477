"""A message that was never processed must hold its partition's commit, then be read again.

faust-streaming 0.15.3 commits the run of consecutive acked offsets of a partition
(``Consumer._new_offset``), and refuses only when the smallest acked offset is more than one
past the committed offset: the committed offset is the *next* offset to read, so a hole of
exactly one message (acked ``[3, 4, 5]`` over committed ``2``) is committed past and that
message is lost without a trace. Holes arise in a rebalance: the fetcher drops what it
fetched while the flow was suspended yet records it as read, and a later delivery past it
registers the skipped offsets as a "gap" that counts as acked (gaps exist for compacted
topics and transaction markers, which newsflow's topics do not have). Seen in
``tests/faults/test_rebalance.py``: one raw article of 68 neither processed nor dead-lettered,
its offset committed.

Two changes close it: a hole at the head of the acked offsets (gap or not) holds the commit
(:func:`hole_at_head`), and a hole still there after ``HOLE_SECONDS`` is read again: the
partition is sought back to its committed offset (:class:`HoleHealer`, run by a timer).
Every stage is idempotent, so what is read twice is written to the same ids.
Installed by :mod:`processors.worker.patches` (version and code checks, the upstream issues).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from faust.transport.consumer import Consumer

log = logging.getLogger("newsflow.worker")

# A hole this old is no batch in flight (a batch acks in order, within seconds).
HOLE_SECONDS = 20.0
CHECK_EVERY_SECONDS = 5.0

_faust_new_offset = Consumer._new_offset


def hole_at_head(acked: Iterable[int], committed: int | None) -> bool:
    """Whether the acked offsets start past the committed one (the next offset to read)."""
    offsets = list(acked)
    return bool(offsets) and committed is not None and min(offsets) > committed


def _new_offset(self: Any, tp: Any) -> int | None:
    """``Consumer._new_offset`` that never commits past an unacked head."""
    if hole_at_head(self._acked[tp], self._committed_offset[tp]):
        return None
    result: int | None = _faust_new_offset(self, tp)
    return result


class HoleHealer:
    """Seeks back the partitions whose head hole outlived ``HOLE_SECONDS``."""

    def __init__(self, hole_seconds: float = HOLE_SECONDS) -> None:
        self.hole_seconds = hole_seconds
        self._since: dict[Any, tuple[int, float]] = {}  # tp -> (committed, first seen)

    def due(self, holes: dict[Any, int], now: float) -> list[tuple[Any, int]]:
        """The partitions (with their committed offset) to seek back now (pure)."""
        self._since = {
            tp: self._since[tp] if self._since.get(tp, (None,))[0] == c else (c, now)
            for tp, c in holes.items()
        }
        ready = [(tp, c) for tp, (c, at) in self._since.items() if now - at >= self.hole_seconds]
        for tp, _ in ready:
            del self._since[tp]
        return ready

    async def check(self, consumer: Any) -> None:
        """Find head holes in ``consumer``'s assigned partitions; read the old ones again."""
        if consumer.app.rebalancing:  # recovery seeks every partition to its commit anyway
            self._since.clear()
            return
        holes = {
            tp: consumer._committed_offset[tp]
            for tp in consumer.assignment()
            if hole_at_head(consumer._acked.get(tp, ()), consumer._committed_offset.get(tp))
        }
        for tp, committed in self.due(holes, time.monotonic()):
            log.warning(
                "offsets never processed; reading the partition again from its commit",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": committed},
            )
            consumer._gap.pop(tp, None)
            try:
                await consumer.seek(tp, committed)
            except Exception as exc:  # revoked meanwhile: its new owner reads from the commit
                log.warning("seek failed", extra={"topic": tp.topic, "why": repr(exc)})
