"""The seek behind the recovery fix of :mod:`processors.worker.rewind`, on the real broker.

A consumer has read ten records of a partition; after the seek it must stand at the
committed offset, or at the beginning when nobody committed on that partition (aiokafka
alone leaves it where it is: after the ten, which a rebalance may just have dropped).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from newsflow.core.clients import kafka_producer
from processors.worker.rewind import seek_committed_or_beginning
from tests.faults.harness import FaultNamespace

pytestmark = pytest.mark.stack


async def _positions_around_seek(ns: FaultNamespace, commit: int | None) -> tuple[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    tp = TopicPartition(ns.names.raw_topic, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=ns.settings.kafka_bootstrap,
        group_id=f"rewind-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        if commit is not None:
            await consumer.commit({tp: OffsetAndMetadata(commit, "")})
        for _ in range(20):  # read to the end (reading starts at the committed offset)
            await consumer.getmany(tp, timeout_ms=500)
            if await consumer.position(tp) == 10:
                break
        before = await consumer.position(tp)
        await seek_committed_or_beginning(consumer)
        return before, await consumer.position(tp)
    finally:
        await consumer.stop()


@pytest.mark.parametrize(("commit", "expected"), [(None, 0), (3, 3)])
def test_the_seek_rewinds_partitions_with_and_without_a_committed_offset(
    shared_ns: FaultNamespace, commit: int | None, expected: int
) -> None:
    producer = kafka_producer(shared_ns.settings)
    try:
        for n in range(10):
            producer.send(shared_ns.names.raw_topic, value=b"{}", key=str(n).encode(), partition=0)
        producer.flush()
    finally:
        producer.close()
    before, after = asyncio.run(_positions_around_seek(shared_ns, commit))
    assert before == 10
    assert after == expected, f"position {after} after the seek, expected {expected}"
