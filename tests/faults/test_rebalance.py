"""Fault 6: a rebalance mid-stream; a second worker joins, then a worker leaves (Ctrl-C).

The worker that leaves is the one holding the decision tables' partition (``<ns>.dedup``
and ``<ns>.stories`` have one partition each): their state must move with the partition,
restored from the changelog, so that a copy read after the move still points to the first
copy seen before it. The corpus is in publication order, copies interleaved with later
first copies, replayed slowly enough that both rebalances happen while it flows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.harness import (
    Corpus,
    FaultNamespace,
    Worker,
    assert_conserved,
    assert_copies_point_to_first,
    assigned,
    finish,
    replaying,
)
from tests.support import wait_for

pytestmark = pytest.mark.stack


def test_a_worker_joining_and_the_table_holder_leaving_mid_stream_keep_decisions_right(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    corpus: Corpus,
    record: Callable[[dict[str, Any]], None],
) -> None:
    ns = shared_ns
    first = workers(ns)
    tables = (ns.names.dedup_topic, 0)
    with replaying(ns, "--rate", "15", str(corpus.path)) as producer:
        wait_for(lambda: ns.count(ns.names.articles_index) > 0, 120, "first documents")
        second = workers(ns)  # joins mid-stream: the group rebalances
        holder = wait_for(
            lambda: next((w for w in (first, second) if tables in assigned(w)), None),
            120,
            "a worker to hold the dedup partition",
        )
        stayer = second if holder is first else first
        wait_for(lambda: assigned(stayer), 120, "the second worker to get partitions")
        sent_at_leave = ns.raw_end_offsets()
        holder.stop()  # Ctrl-C mid-stream: its partitions, tables included, move
        assert producer.poll() is None, "the replay ended before the worker left"
        finish(producer)

    outcome = assert_conserved(ns, corpus.ids)
    assert tables in assigned(stayer), "the dedup partition did not move to the worker left"
    copies = [i for i in corpus.items if i.duplicate_of is not None]
    assert_copies_point_to_first(ns, copies)
    record(
        outcome.figures(
            sent_when_holder_left=sent_at_leave,
            table_holder="first" if holder is first else "second",
        )
    )
