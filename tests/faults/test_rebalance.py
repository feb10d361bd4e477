"""Fault 6: a rebalance mid-stream; a second worker joins, then a worker leaves (Ctrl-C).

The worker that leaves is the one holding the decision tables' partition (``<ns>.dedup``
and ``<ns>.stories`` have one partition each): their state must move with the partition,
restored from the changelog, so that a copy read after the move still points to the first
copy seen before it. The first copies flow while the second worker joins; the copies flow
while the table holder leaves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.clients import kafka_producer
from schemas import codec
from schemas.clean import CleanArticle
from schemas.work import Deduped
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


def _holder(ns: FaultNamespace, *candidates: Worker) -> Worker:
    tables = (ns.names.dedup_topic, 0)
    found: Worker = wait_for(
        lambda: next((w for w in candidates if tables in assigned(w)), None),
        120,
        "a worker to hold the dedup partition",
    )
    return found


def test_a_worker_joining_and_the_table_holder_leaving_mid_stream_keep_decisions_right(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    corpus: Corpus,
    record: Callable[[dict[str, Any]], None],
    tmp_path: Path,
) -> None:
    ns = shared_ns
    firsts = Corpus.write(
        tmp_path / "firsts.jsonl", [i for i in corpus.items if i.duplicate_of is None]
    )
    copies = Corpus.write(
        tmp_path / "copies.jsonl", [i for i in corpus.items if i.duplicate_of is not None]
    )
    first = workers(ns)
    # Slow enough (68 s) that the second worker, started with the replay, joins while the
    # first copies still flow (it loads its model in 20 s here, 45 s on a loaded machine).
    with replaying(ns, "--rate", "1", str(firsts.path)) as producer:
        second = workers(ns)  # joins mid-stream: the group rebalances
        wait_for(lambda: ns.count(ns.names.articles_index) > 0, 120, "first documents")
        assert producer.poll() is None, "the first copies were all sent before the join"
        holder = _holder(ns, first, second)
        finish(producer)
    stayer = second if holder is first else first
    wait_for(lambda: ns.count(ns.names.articles_index) == len(firsts.items), 120, "firsts")
    with replaying(ns, "--rate", "20", str(copies.path)) as producer:
        wait_for(lambda: ns.count(ns.names.articles_index) > len(firsts.items) + 20, 120, "copies")
        left = time.monotonic()
        holder.stop()  # Ctrl-C mid-stream: its partitions, tables included, move
        assert producer.poll() is None, "the copies were all sent before the worker left"
        finish(producer)

    outcome = assert_conserved(ns, corpus.ids)
    assert (ns.names.dedup_topic, 0) in assigned(stayer), "the tables did not move"
    assert_copies_point_to_first(ns, copies.items)
    record(
        outcome.figures(
            table_holder="first" if holder is first else "second",
            settled_after_leave_seconds=round(time.monotonic() - left, 1),
        )
    )


def test_a_rebalance_is_not_held_by_a_copy_whose_first_copy_never_comes(
    shared_ns: FaultNamespace, workers: Callable[..., Worker]
) -> None:
    ns = shared_ns
    first = workers(ns)
    # A copy whose first copy was dead-lettered: it waits for a document that never comes.
    orphan = CleanArticle(id="orphan-copy", body="A copy.", content_hash="h")
    waiting = Deduped(article=orphan, is_duplicate=True, duplicate_of="dead-lettered", kind="near")
    producer = kafka_producer(ns.settings)
    try:
        producer.send(ns.names.duplicates_topic, key=b"orphan-copy", value=codec.dumps(waiting))
        producer.flush()
    finally:
        producer.close()
    time.sleep(5)  # the copies agent now holds its batch, waiting
    second = workers(ns)  # the group must rebalance around the waiting batch
    # A rebalance takes seconds; held, it ends when Kafka evicts the stuck member (60 s).
    wait_for(lambda: assigned(first) and assigned(second), 30, "both workers to share partitions")
    body = "The council of Ravenholt approved a new bridge on Monday."
    ns.produce([json.dumps({"id": "after-join", "body": body}).encode()])
    wait_for(lambda: ns.count(ns.names.articles_index) >= 1, 30, "an article after the join")
