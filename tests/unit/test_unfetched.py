"""An assigned partition left out of Faust's fetch set is resumed and read again."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.consumer import Consumer
from faust.types import TP

from processors.worker.unfetched import UnfetchedHealer

DEDUP, WORK = TP("ns.dedup", 0), TP("ns.work", 0)
CHANGELOG = TP("newsflow-ns-dedup-changelog", 0)


class FaustSets:
    """A Faust consumer's fetch bookkeeping, run by Faust's own methods."""

    _get_active_partitions = Consumer._get_active_partitions
    _set_active_tps = Consumer._set_active_tps
    pause_partitions = Consumer.pause_partitions
    resume_partitions = Consumer.resume_partitions
    on_buffer_full = Consumer.on_buffer_full

    def __init__(self) -> None:
        self.app = SimpleNamespace(rebalancing=False, in_recovery=False)
        self._active_partitions: Any = None
        self._paused_partitions: set[TP] = set()
        self._buffered_partitions: set[TP] = set()
        self._committed_offset = {DEDUP: 30, WORK: 12}
        self.seeks: list[tuple[TP, int]] = []

    def assignment(self) -> set[TP]:
        return {DEDUP, WORK, CHANGELOG}

    def _is_changelog_tp(self, tp: TP) -> bool:
        return tp.topic.endswith("-changelog")

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


def test_a_partition_left_out_is_due_only_after_the_delay_and_forgotten_when_back() -> None:
    healer = UnfetchedHealer(unfetched_seconds=30)
    assert healer.due([DEDUP], now=0.0) == []
    assert healer.due([DEDUP], now=29.0) == []
    assert healer.due([], now=29.5) == [], "back in the fetch set: the clock restarts"
    assert healer.due([DEDUP], now=40.0) == []
    assert healer.due([DEDUP], now=70.0) == [DEDUP]


def test_a_partition_faust_stopped_fetching_is_resumed_and_sought_to_its_commit() -> None:
    consumer = FaustSets()
    consumer._set_active_tps(consumer.assignment() - {CHANGELOG})
    consumer.on_buffer_full(DEDUP)  # Faust: out of the fetch set until its buffer drops
    assert DEDUP not in consumer._get_active_partitions()
    clock = iter([0.0, 31.0])
    healer = UnfetchedHealer(unfetched_seconds=30, clock=lambda: next(clock))
    asyncio.run(healer.check(consumer))
    assert consumer.seeks == [], "not yet: a busy agent's full buffer lasts seconds"
    asyncio.run(healer.check(consumer))
    assert DEDUP in consumer._get_active_partitions()
    assert DEDUP not in consumer._buffered_partitions
    assert consumer.seeks == [(DEDUP, 30)], "only the partition left out, from its commit"


def test_nothing_is_touched_while_faust_rebalances_or_recovers() -> None:
    consumer = FaustSets()
    consumer._set_active_tps(set())
    consumer.app.in_recovery = True
    healer = UnfetchedHealer(unfetched_seconds=0)
    asyncio.run(healer.check(consumer))
    assert consumer.seeks == [] and consumer._get_active_partitions() == set()
