"""A hole at the head of a partition's acks holds its commit and is read again."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faust.transport.consumer import Consumer

from processors.worker import holes, patches
from processors.worker.holes import HoleHealer, hole_at_head


def test_a_head_hole_is_a_missing_next_offset() -> None:
    assert hole_at_head([3, 4, 5], committed=2), "offset 2 was never acked"
    assert hole_at_head([1], committed=0)
    assert not hole_at_head([2, 3], committed=2)
    assert not hole_at_head([], committed=2)
    assert not hole_at_head([3, 4], committed=None), "a partition never committed: no head"


class Offsets:
    """The offset bookkeeping of a Faust consumer, for its own ``_new_offset``."""

    def __init__(self, acked: list[int], committed: int | None) -> None:
        self._acked: Any = defaultdict(list, {"tp": acked})
        self._acked_index: Any = defaultdict(set, {"tp": set(acked)})
        self._committed_offset: Any = defaultdict(lambda: None, {"tp": committed})
        self._gap: Any = defaultdict(lambda: None)


def test_faust_alone_commits_past_a_one_message_hole_and_the_patch_does_not() -> None:
    faust_says = holes._faust_new_offset(Offsets([3, 4, 5], committed=2), "tp")
    assert faust_says == 6, "Faust's own commit skips offset 2 (the bug this patch fixes)"
    assert holes._new_offset(Offsets([3, 4, 5], committed=2), "tp") is None
    assert holes._new_offset(Offsets([2, 3, 5], committed=2), "tp") == 4


def test_install_patches_the_consumer() -> None:
    patches.install()
    assert Consumer._new_offset is holes._new_offset


def test_healer_seeks_back_only_a_hole_that_outlives_the_delay() -> None:
    healer = HoleHealer(hole_seconds=20)
    assert healer.due({"a": 2}, now=0.0) == []
    assert healer.due({"a": 2}, now=19.0) == []
    assert healer.due({"a": 2}, now=20.0) == [("a", 2)]
    # The commit moved (the hole was filled, another opened): the clock starts again.
    assert healer.due({"a": 7}, now=21.0) == []
    assert healer.due({"a": 9}, now=45.0) == []
    assert healer.due({}, now=70.0) == [], "a filled hole is forgotten"
    assert healer.due({"a": 9}, now=71.0) == []
