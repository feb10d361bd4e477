"""Kafka offsets and consumer lag, for ``status``, ``demo`` and tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

from newsflow.clients import checked_kafka_options, kafka_admin
from newsflow.settings import Settings


@dataclass(frozen=True)
class PartitionLag:
    """End offset, committed offset and lag of one partition for one consumer group."""

    topic: str
    partition: int
    end: int
    committed: int

    @property
    def lag(self) -> int:
        """Messages written but not yet processed and committed."""
        return max(0, self.end - self.committed)


def end_offsets(settings: Settings, topics: list[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition of ``topics`` (missing topics are left out)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**checked_kafka_options(settings))
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return {(tp.topic, tp.partition): off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def committed_offsets(
    settings: Settings, group: str, timeout: float = 30.0
) -> dict[tuple[str, int], int]:
    """The offsets ``group`` has committed, per partition.

    Retriable errors are retried for ``timeout`` seconds: for a few seconds after a broker
    restart the group coordinator is still loading the offsets it holds, and answers
    ``COORDINATOR_LOAD_IN_PROGRESS`` (or ``NOT_COORDINATOR``) instead of the offsets.
    """
    from kafka.errors import KafkaError

    admin = kafka_admin(settings)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                offsets = admin.list_group_offsets({group: None}).get(group, {})
                break
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        admin.close()
    return {(tp.topic, tp.partition): o.offset for tp, o in offsets.items() if o.offset >= 0}


def lag(settings: Settings, group: str, topics: list[str]) -> list[PartitionLag]:
    """Per-partition lag of ``group`` on ``topics``."""
    ends = end_offsets(settings, topics)
    committed = committed_offsets(settings, group)
    return [
        PartitionLag(topic, part, end, committed.get((topic, part), 0))
        for (topic, part), end in sorted(ends.items())
    ]
