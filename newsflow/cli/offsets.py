"""Kafka offsets, consumer lag and group members, for ``status``, ``demo`` and tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from newsflow.core.clients import checked_kafka_options, kafka_admin
from newsflow.core.settings import Settings

Offsets = dict[tuple[str, int], int]


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


@dataclass(frozen=True)
class Member:
    """One consumer of a group: its Kafka client id, host and assigned partitions."""

    client_id: str
    host: str
    partitions: tuple[tuple[str, int], ...]


class OffsetReader:
    """End offsets, committed offsets and members, its Kafka clients kept open between reads.

    A poll loop (``newsflow demo``, the tests' and benchmarks' waits) asks every half second:
    opening two clients each time cost more CPU than the answer on a two-core machine.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._consumer: Any = None
        self._admin: Any = None

    def ends(self, topics: list[str]) -> Offsets:
        """The end offset of every partition of ``topics`` (missing topics are left out)."""
        from kafka import KafkaConsumer, TopicPartition

        if self._consumer is None:
            self._consumer = KafkaConsumer(**checked_kafka_options(self.settings))
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        ends = self._consumer.end_offsets(tps) if tps else {}
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}

    def committed(self, group: str, timeout: float = 30.0) -> Offsets:
        """The offsets ``group`` has committed, per partition.

        Retriable errors are retried for ``timeout`` seconds: for a few seconds after a broker
        restart the group coordinator is still loading the offsets it holds, and answers
        ``COORDINATOR_LOAD_IN_PROGRESS`` (or ``NOT_COORDINATOR``) instead of the offsets.
        """
        answer = self._retrying(lambda admin: admin.list_group_offsets({group: None}), timeout)
        offsets = answer.get(group, {})
        return {(tp.topic, tp.partition): o.offset for tp, o in offsets.items() if o.offset >= 0}

    def members(self, group: str, timeout: float = 30.0) -> list[Member]:
        """The consumers of ``group`` now, with the partitions each was assigned."""
        described = self._retrying(lambda admin: admin.describe_groups([group]), timeout)
        found = []
        for member in described.get(group, {}).get("members") or ():
            assignment = member.get("member_assignment")
            if not isinstance(assignment, dict):  # not decodable as the consumer protocol
                assignment = {}
            assigned = assignment.get("assigned_partitions", [])
            partitions = tuple(
                sorted((a["topic"], p) for a in assigned for p in a.get("partitions", []))
            )
            host = str(member.get("client_host", "")).lstrip("/")
            found.append(Member(str(member.get("client_id", "")), host, partitions))
        return sorted(found, key=lambda m: m.client_id)

    def _retrying(self, call: Any, timeout: float) -> Any:
        from kafka.errors import KafkaError

        if self._admin is None:
            self._admin = kafka_admin(self.settings)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return call(self._admin)
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def close(self) -> None:
        """Close the clients opened so far."""
        for client in (self._consumer, self._admin):
            if client is not None:
                client.close()
        self._consumer = self._admin = None

    def __enter__(self) -> OffsetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def end_offsets(settings: Settings, topics: list[str]) -> Offsets:
    """The end offset of every partition of ``topics`` (missing topics are left out)."""
    with OffsetReader(settings) as reader:
        return reader.ends(topics)


def committed_offsets(settings: Settings, group: str, timeout: float = 30.0) -> Offsets:
    """The offsets ``group`` has committed, per partition (see :meth:`OffsetReader.committed`)."""
    with OffsetReader(settings) as reader:
        return reader.committed(group, timeout)


def read_lag(reader: OffsetReader, group: str, topics: list[str]) -> list[PartitionLag]:
    """Per-partition lag of ``group`` on ``topics``, committed offsets read FIRST.

    In that order a lag of 0 is proof that everything written up to the end offset was
    processed: an end offset read first may be older than a message whose commit comes in
    between, and would hide it (see :mod:`newsflow.cli.drained`).
    """
    committed = reader.committed(group)
    ends = reader.ends(topics)
    return [
        PartitionLag(topic, part, end, committed.get((topic, part), 0))
        for (topic, part), end in sorted(ends.items())
    ]


def lag(settings: Settings, group: str, topics: list[str]) -> list[PartitionLag]:
    """Per-partition lag of ``group`` on ``topics``."""
    with OffsetReader(settings) as reader:
        return read_lag(reader, group, topics)
