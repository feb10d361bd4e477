"""A record batch the worker cannot decode stops its partition, loudly; the others go on.

aiokafka 0.14 raises while it unpacks a fetched batch it cannot read (a CRC mismatch: bytes
corrupted on the broker's disk; a codec whose library is missing; a malformed batch). Faust's
fetcher crashes on that error, the worker stops, and a new worker crashes on the same batch:
every partition stops. Kafka validates batches on produce (CRC, codec, record framing), so
what reaches a consumer undecodable comes from the broker's storage or from the consumer's
own installation, and neither goes away by reading again.

Here the partition's records are returned up to the bad batch, the partition is paused (no
refetch loop), and the batch is recorded: one error log line naming topic, partition and
offsets, ``/healthz`` 503 with the same, and the command that skips it. Nothing is dropped
by the worker: skipping is the operator's decision (``newsflow deadletter skip``, which
writes one dead letter per skipped offset and moves the group's committed offset past the
batch), after checking the error (a missing codec library is fixed by installing it).
Installed by :mod:`processors.worker.patches` (version and code checks, the upstream issues).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from aiokafka.consumer.fetcher import PartitionRecords

log = logging.getLogger("newsflow.worker")


@dataclass(frozen=True)
class Undecodable:
    """A batch that cannot be decoded: ``[offset, next_offset)`` of ``topic``/``partition``."""

    topic: str
    partition: int
    offset: int
    next_offset: int | None  # from the batch header, when it could be read
    reason: str
    since: float

    @property
    def skip_command(self) -> str:
        """The operator's command that dead-letters the batch and moves past it."""
        end = f" --to {self.next_offset}" if self.next_offset is not None else ""
        return (
            f"newsflow deadletter skip --topic {self.topic} --partition {self.partition} "
            f"--offset {self.offset}{end}"
        )

    def body(self) -> dict[str, Any]:
        """This batch in the ``/healthz`` answer."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "reason": self.reason,
            "skip_with": self.skip_command,
        }


# (topic, partition) -> the batch that stops it, in this process.
STOPPED: dict[tuple[str, int], Undecodable] = {}


def report(topic: str, partition: int, offset: int, end: int | None, reason: str) -> None:
    """Record an undecodable batch; log it once (a refetch after a resume is not news)."""
    key = (topic, partition)
    known = STOPPED.get(key)
    if known is not None and known.offset == offset:
        return
    batch = Undecodable(topic, partition, offset, end, reason, time.time())
    STOPPED[key] = batch
    log.error(
        "cannot decode the record batch at %s partition %d offset %d (%s); the partition is "
        "paused, the others go on. Once checked: %s",
        topic,
        partition,
        offset,
        reason,
        batch.skip_command,
        extra={"event": "undecodable_batch", **batch.body()},
    )


def stopped(assigned: set[tuple[str, int]]) -> list[Undecodable]:
    """The undecodable batches of partitions this worker still has."""
    for key in [k for k in STOPPED if k not in assigned]:
        del STOPPED[key]
    return [STOPPED[k] for k in sorted(STOPPED)]


class _LastBatch:
    """Wraps a fetch's ``MemoryRecords`` to remember the batch last handed out."""

    def __init__(self, records: Any) -> None:
        self._records = records
        self.last: Any = None

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        self.last = self._records.next_batch()
        return self.last


_original_init = PartitionRecords.__init__


def _init(self: Any, tp: Any, records: Any, *args: Any, **kwargs: Any) -> None:
    _original_init(self, tp, _LastBatch(records), *args, **kwargs)


def _getall(self: Any, max_records: int | None = None) -> list[Any]:
    """``FetchResult.getall``, stopping the partition at a batch it cannot decode."""
    tp = self._topic_partition
    if not self.check_assignment(tp) or not self.has_more():
        return []
    records = self._partition_records
    ret_list: list[Any] = []
    try:
        for msg in records:
            ret_list.append(msg)
            if max_records is not None and len(ret_list) >= max_records:
                self._update_position()
                return ret_list
    except Exception as exc:  # anything raised unpacking a batch is about its bytes
        _stop(self, records, exc)
        return ret_list
    self._update_position()
    self._partition_records = None
    return ret_list


def _stop(result: Any, records: Any, exc: Exception) -> None:
    """Deliver up to the bad batch, pause the partition, report the batch."""
    tp = result._topic_partition
    offset = records.next_fetch_offset  # past the last record delivered: the bad batch
    result._update_position()
    result._partition_records = None
    result._assignment.state_value(tp).pause()
    batch = records._records.last if isinstance(records._records, _LastBatch) else None
    end = _next_offset(batch)
    report(tp.topic, tp.partition, offset, end, f"{type(exc).__name__}: {exc}")


def _next_offset(batch: Any) -> int | None:
    """The offset after ``batch``, from its header (no decompression), when readable."""
    try:
        return int(batch.next_offset) if batch is not None else None
    except Exception:  # a header too broken to read: the operator gives --to
        return None
