"""Liveness: is every assigned partition either caught up or making progress?

A consumer that silently stops (a wedged NLP process, a lost future, a stuck send) still
answers heartbeats, so Kafka keeps its partitions assigned to it and nothing else notices.
The worker records, per partition, where processing stands (the next offset to process:
acked batches, committed offsets) and where the partition ends; ``/healthz`` answers 503
when a partition has been behind, with no progress, for longer than ``stall_seconds``.

The bookkeeping (:class:`ProgressTracker`) and the decision (:func:`assess`) are pure,
with the clock passed in; :func:`observe` is the small adapter that reads a Faust app.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from newsflow.core import metrics

TP = tuple[str, int]


@dataclass
class PartitionState:
    """What the worker knows of one partition it consumes."""

    position: int | None = None  # next offset to process (everything before is done)
    end: int | None = None  # end offset: the next offset to be written
    behind_since: float | None = None  # first seen behind since the last progress

    @property
    def lag(self) -> int | None:
        """Messages written but not yet processed, when both ends are known."""
        if self.position is None or self.end is None:
            return None
        return max(0, self.end - self.position)


@dataclass(frozen=True)
class PartitionHealth:
    """One partition in the ``/healthz`` answer."""

    topic: str
    partition: int
    lag: int | None
    stalled_seconds: float  # how long it has been behind without progress (0 if not)
    stalled: bool


@dataclass(frozen=True)
class Health:
    """The liveness verdict: ``ok`` unless some partition is stalled."""

    partitions: tuple[PartitionHealth, ...]
    stall_seconds: float

    @property
    def ok(self) -> bool:
        """No partition is stalled."""
        return not any(p.stalled for p in self.partitions)

    def body(self) -> dict[str, Any]:
        """The JSON body of ``/healthz``."""
        return {
            "status": "ok" if self.ok else "stalled",
            "stall_seconds": self.stall_seconds,
            "partitions": [
                {
                    "topic": p.topic,
                    "partition": p.partition,
                    "lag": p.lag,
                    "stalled_seconds": round(p.stalled_seconds, 1),
                    "stalled": p.stalled,
                }
                for p in self.partitions
            ],
        }


def assess(states: dict[TP, PartitionState], now: float, stall_seconds: float) -> Health:
    """Stalled: behind (lag > 0) for longer than ``stall_seconds`` with no progress.

    "Behind since" restarts at every advance of the position and is cleared whenever the
    partition is seen caught up, so a lag that shrinks, or that only appeared a moment ago
    on a long-idle partition, is never a stall. A partition whose lag is unknown (nothing
    read or committed yet) cannot be shown stalled and counts as healthy.
    """
    report = []
    for (topic, partition), state in sorted(states.items()):
        lag = state.lag
        behind = now - state.behind_since if lag and state.behind_since is not None else 0.0
        stalled = behind > stall_seconds
        report.append(PartitionHealth(topic, partition, lag, max(0.0, behind), stalled))
    return Health(tuple(report), stall_seconds)


class ProgressTracker:
    """Per-partition progress of one worker, fed by its agents and by :func:`observe`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.states: dict[TP, PartitionState] = {}

    def update(self, tp: TP, position: int | None = None, end: int | None = None) -> None:
        """Record a position (only forward counts) and/or an end offset for ``tp``."""
        now = self.clock()
        state = self.states.setdefault(tp, PartitionState())
        if position is not None and (state.position is None or position > state.position):
            state.position = position
            state.behind_since = None  # progress
        if end is not None and (state.end is None or end > state.end):
            state.end = end
        lag = state.lag
        if lag == 0:
            state.behind_since = None
        elif lag is not None and state.behind_since is None:
            state.behind_since = now

    def received(self, offsets: Iterable[tuple[TP, int]]) -> None:
        """A batch was taken: its messages are in flight (at least this far to go)."""
        first: dict[TP, int] = {}
        last: dict[TP, int] = {}
        for tp, offset in offsets:
            first[tp] = min(first.get(tp, offset), offset)
            last[tp] = max(last.get(tp, offset), offset)
        for tp, offset in first.items():
            state = self.states.get(tp)
            # Before any ack or commit, everything before this batch was done earlier.
            known = state is not None and state.position is not None
            self.update(tp, position=None if known else offset, end=last[tp] + 1)

    def acked(self, offsets: Iterable[tuple[TP, int]]) -> None:
        """A batch was processed and acked: the position moves past its last offsets."""
        done: dict[TP, int] = {}
        for tp, offset in offsets:
            done[tp] = max(done.get(tp, offset), offset + 1)
        for tp, position in done.items():
            self.update(tp, position=position)

    def retain(self, assigned: Iterable[TP]) -> None:
        """Forget partitions no longer assigned (a later assignment starts afresh)."""
        keep = set(assigned)
        for tp in [tp for tp in self.states if tp not in keep]:
            del self.states[tp]

    def health(self, assigned: Iterable[TP], stall_seconds: float) -> Health:
        """The verdict over the ``assigned`` partitions."""
        chosen = {tp: self.states.get(tp, PartitionState()) for tp in assigned}
        return assess(chosen, self.clock(), stall_seconds)


# --- adapter: a Faust app ------------------------------------------------------------------


def offsets_of(events: Sequence[Any]) -> list[tuple[TP, int]]:
    """The (topic, partition) and offset of each Faust event of a batch."""
    return [((e.message.topic, e.message.partition), e.message.offset) for e in events]


def observe(
    app: Any, tracker: ProgressTracker, topics: Iterable[str], stall_seconds: float
) -> Health:
    """Read the app's assignment, committed and end offsets into ``tracker``; assess."""
    wanted = set(topics)
    assigned = [tp for tp in app.consumer.assignment() if tp.topic in wanted]
    keys = [(tp.topic, tp.partition) for tp in assigned]
    tracker.retain(keys)
    committed, ends = app.monitor.tp_committed_offsets, app.monitor.tp_end_offsets
    for tp, key in zip(assigned, keys, strict=True):
        tracker.update(key, position=committed.get(tp), end=ends.get(tp))
    return tracker.health(keys, stall_seconds)


def record_lag(health: Health) -> None:
    """Publish the lag of each assigned partition as ``newsflow_lag`` (unknown ones left out)."""
    metrics.LAG.clear()  # partitions given to another worker must not linger
    for p in health.partitions:
        if p.lag is not None:
            metrics.LAG.labels(p.topic, str(p.partition)).set(p.lag)
