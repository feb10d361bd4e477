"""Liveness decisions with a fake clock: stalled means behind, with no progress, too long."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from processors.worker.health import PartitionState, ProgressTracker, assess, observe, record_lag

RAW0 = ("ns.raw", 0)
RAW1 = ("ns.raw", 1)
WORK = ("ns.work", 0)
STALL = 120.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(clock: Clock) -> ProgressTracker:
    return ProgressTracker(clock)


def _stalled(tracker: ProgressTracker, *tps: tuple[str, int]) -> set[tuple[str, int]]:
    health = tracker.health(tps or tuple(tracker.states), STALL)
    return {(p.topic, p.partition) for p in health.partitions if p.stalled}


def test_a_partition_behind_with_no_progress_past_the_threshold_is_stalled(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.received([(WORK, 10), (WORK, 11), (WORK, 12)])  # a batch in flight, never acked
    clock.advance(STALL - 1)
    assert tracker.health([WORK], STALL).ok
    clock.advance(2)
    health = tracker.health([WORK], STALL)
    assert not health.ok
    (part,) = health.partitions
    assert (part.lag, part.stalled, round(part.stalled_seconds)) == (3, True, STALL + 1)
    assert health.body()["status"] == "stalled"


def test_progress_resets_the_clock_and_recovery_is_ok(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.update(RAW0, position=0, end=100)
    for offset in range(0, 100, 10):
        clock.advance(STALL / 2)  # slow, but moving: never stalled
        tracker.acked([(RAW0, offset + 9)])
        assert not _stalled(tracker)
    assert tracker.states[RAW0].lag == 0
    tracker.update(RAW0, end=150)
    clock.advance(STALL + 1)
    assert _stalled(tracker) == {RAW0}
    tracker.acked([(RAW0, 149)])  # it moved again
    assert not _stalled(tracker) and tracker.health([RAW0], STALL).body()["status"] == "ok"


def test_a_shrinking_lag_is_progress_even_while_new_messages_arrive(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.update(RAW0, position=0, end=1000)
    for step in range(1, 20):
        clock.advance(STALL / 3)
        tracker.update(RAW0, position=step * 10, end=1000 + step * 20)  # lag grows, still moving
    assert not _stalled(tracker)


def test_an_idle_partition_is_never_stalled_and_a_new_message_gets_time(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.update(RAW0, position=50, end=50)
    clock.advance(10 * STALL)  # hours of nothing to do
    assert not _stalled(tracker)
    tracker.update(RAW0, end=51)  # a message arrives after a long quiet spell
    assert not _stalled(tracker), "a fresh backlog must get the full threshold"
    clock.advance(STALL + 1)
    assert _stalled(tracker) == {RAW0}


def test_only_the_stuck_partition_is_reported_and_unknown_lag_is_healthy(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.update(RAW0, position=5, end=5)
    tracker.update(RAW1, position=0, end=7)
    clock.advance(STALL + 1)
    health = tracker.health([RAW0, RAW1, WORK], STALL)  # WORK: nothing known yet
    by_tp = {(p.topic, p.partition): p for p in health.partitions}
    assert [tp for tp, p in by_tp.items() if p.stalled] == [RAW1]
    assert by_tp[WORK].lag is None and not by_tp[WORK].stalled


def test_positions_only_move_forward_and_revoked_partitions_are_forgotten(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.update(RAW0, position=40, end=60)
    clock.advance(STALL / 2)
    tracker.update(RAW0, position=30)  # an older commit arriving late is not progress
    clock.advance(STALL / 2 + 1)
    assert _stalled(tracker) == {RAW0}
    tracker.retain([RAW1])  # RAW0 went to another worker
    assert RAW0 not in tracker.states
    tracker.update(RAW0, position=40, end=60)  # and came back: it starts afresh
    assert not _stalled(tracker)


def test_received_batches_set_the_starting_position_only_once(
    tracker: ProgressTracker, clock: Clock
) -> None:
    tracker.received([(WORK, 100), (WORK, 101)])
    assert (tracker.states[WORK].position, tracker.states[WORK].end) == (100, 102)
    tracker.acked([(WORK, 100), (WORK, 101)])
    tracker.received([(WORK, 105)])  # 102-104 were filtered or compacted: still position 102
    assert (tracker.states[WORK].position, tracker.states[WORK].end) == (102, 106)


def test_assess_is_pure_over_given_states() -> None:
    states = {
        RAW0: PartitionState(position=1, end=3, behind_since=0.0),
        RAW1: PartitionState(position=3, end=3, behind_since=None),
    }
    health = assess(states, now=STALL + 5, stall_seconds=STALL)
    assert [p.stalled for p in health.partitions] == [True, False]
    assert health.body()["partitions"][0] == {
        "topic": "ns.raw",
        "partition": 0,
        "lag": 2,
        "stalled_seconds": STALL + 5,
        "stalled": True,
    }


def _app(assigned, committed, ends):  # type: ignore[no-untyped-def]
    tps = [SimpleNamespace(topic=t, partition=p) for t, p in assigned]
    # Faust's TP is a namedtuple: hashable and equal by value, like these tuples.
    return SimpleNamespace(
        consumer=SimpleNamespace(assignment=lambda: tps),
        monitor=SimpleNamespace(
            tp_committed_offsets=_ByKey(committed), tp_end_offsets=_ByKey(ends)
        ),
    )


class _ByKey(dict):  # type: ignore[type-arg]
    def get(self, tp, default=None):  # type: ignore[no-untyped-def]
        return super().get((tp.topic, tp.partition), default)


def test_observe_reads_assignment_commits_and_end_offsets(
    tracker: ProgressTracker, clock: Clock
) -> None:
    app = _app([RAW0, ("ns.raw-changelog", 0)], {RAW0: 10}, {RAW0: 25, ("ns.raw-changelog", 0): 9})
    health = observe(app, tracker, ["ns.raw", "ns.work"], STALL)
    assert [(p.topic, p.lag) for p in health.partitions] == [("ns.raw", 15)]
    clock.advance(STALL + 1)
    assert not observe(app, tracker, ["ns.raw"], STALL).ok
    app.monitor.tp_committed_offsets[RAW0] = 25  # the commit caught up
    assert observe(app, tracker, ["ns.raw"], STALL).ok


def test_lag_on_metrics_is_the_lag_of_the_assigned_partitions_only(clock: Clock) -> None:
    tracker = ProgressTracker(clock)
    tracker.update(RAW0, position=10, end=25)
    tracker.update(WORK, position=4, end=4)

    def lag(topic: str, partition: int) -> float | None:
        labels = {"topic": topic, "partition": str(partition)}
        return REGISTRY.get_sample_value("newsflow_lag", labels)

    record_lag(tracker.health([RAW0, RAW1, WORK], STALL))
    assert (lag(*RAW0), lag(*WORK), lag(*RAW1)) == (15, 0, None)  # RAW1: nothing known yet
    record_lag(tracker.health([WORK], STALL))  # RAW0 went to another worker
    assert (lag(*RAW0), lag(*WORK)) == (None, 0)
