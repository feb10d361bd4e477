"""Faust resumes the stream partitions *before* it seeks them and clears the agents' queues.

What goes wrong, in faust-streaming 0.15.3 (``Recovery.on_recovery_completed``, and
``_resume_streams`` for apps without tables): when a rebalance settles, Faust (1) resumes
the stream partitions, (2) seeks each to its committed offset, (3) resumes the flow, which
clears the agents' incoming queues. The flow is already running
(table recovery needed it), so events fetched between (1) and (3), several batches in a
backlog, are queued and then cleared; the fetch position is already past them, so they are
never delivered again in this process. The acks after the hole can never be committed: the
partition stalls (the liveness check does not see it: everything delivered was acked) until
the next restart. For a partition with no committed offset yet, aiokafka does not even seek
in (2). Seen in ``tests/faults/test_worker_crash.py`` after a SIGKILL, on ``<ns>.raw``,
``<ns>.work``, ``<ns>.duplicates`` and ``<ns>.dedup``.

The fix reorders the steps: seek while the stream partitions are still paused (partitions
without a committed offset to their beginning, where the ``earliest`` reset policy starts
them anyway), then resume the flow (the clear drops only what was fetched before the seek,
and the seek rewinds over it), then resume the partitions. Events read before the rebalance
are read again; every stage is idempotent.
Installed by :mod:`processors.worker.patches` (version and code checks, the upstream issues).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from faust.transport.consumer import ensure_TP


async def seek_committed_or_beginning(
    consumer: Any, skip_topics: Collection[str] = ()
) -> Mapping[Any, int]:
    """Seek an aiokafka consumer's partitions to their committed offsets, or their beginning.

    Partitions of ``skip_topics`` (the table changelogs: never committed, by design) are left
    alone. Returns the committed offsets, as ``seek_to_committed`` does.
    """
    offsets: Mapping[Any, int] = await consumer.seek_to_committed()
    fresh = [tp for tp, off in offsets.items() if not off and tp.topic not in skip_topics]
    if fresh:
        await consumer.seek_to_beginning(*fresh)
    return offsets


async def _resume_streams(self: Any, generation_id: int = 0) -> None:
    """``Recovery._resume_streams`` (no tables to recover), steps reordered."""
    await self.app.on_rebalance_complete.send()
    await _seek_then_resume(self, generation_id)


async def _on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    """``Recovery.on_recovery_completed`` (tables recovered), steps reordered."""
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    await _seek_then_resume(self, generation_id)


async def _seek_then_resume(self: Any, generation_id: int) -> None:
    """Seek the paused stream partitions, clear the queues, then let the partitions fetch."""
    app = self.app
    consumer = app.consumer
    assignment = consumer.assignment()
    if app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again")
        return
    if assignment:
        self.log.info("Seek stream partitions to committed offsets (still paused).")
        await self._wait(_seek(consumer), timeout=app.conf.broker_request_timeout)
    self.completed.set()
    app.flow_control.resume()  # clears what was queued before the seek
    consumer.resume_flow()
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


async def _seek(consumer: Any) -> None:
    """Faust's ``perform_seek``, with partitions lacking a committed offset rewound too."""
    changelogs = frozenset(consumer.app.tables.changelog_topics)
    thread = consumer._thread
    committed = await thread.call_thread(
        seek_committed_or_beginning, thread._ensure_consumer(), changelogs
    )
    consumer._read_offset.update(
        {tp: off if off is not None and off >= 0 else None for tp, off in committed.items()}
    )
    consumer._committed_offset.update(
        {ensure_TP(tp): off or None for tp, off in committed.items() if off is not None}
    )
