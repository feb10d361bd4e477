"""``newsflow replay``: corpus records to ``<ns>.raw``, paced, every send confirmed.

Pacing: ``--rate R`` caps articles per second; ``--speedup X`` keeps the gaps between
``published_at`` values, divided by X (event-time replay). Both may be combined.

Marking: ``--tag NAME`` sets ``replay_tag`` and ``--no-alerts`` sets ``alerts_suppressed``
on every article sent, so that dashboards can hide the replay and the alert stage skips it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError
from pydantic import ValidationError

from newsflow.core.errors import PipelineError
from producers.files import Record, Stamp, read_corpus
from schemas.raw import RawArticle


@dataclass
class ReplaySummary:
    """What a replay did: sent, skipped (with where and why) and failed records."""

    sent: int = 0
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Pacer:
    """Sleeps so that records go out no faster than ``rate`` and, with ``speedup``, at the
    pace of their publication times divided by ``speedup``."""

    def __init__(
        self,
        rate: float | None,
        speedup: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.speedup = rate, speedup
        self.clock, self.sleep = clock, sleep
        self._start: float | None = None
        self._first_event: float | None = None
        self._count = 0

    def wait(self, published_at: float | None) -> None:
        """Block until the next record may be sent."""
        now = self.clock()
        if self._start is None:
            self._start = now
        due = self._start
        if self.rate:
            due = max(due, self._start + self._count / self.rate)
        if self.speedup and published_at is not None:
            if self._first_event is None:
                self._first_event = published_at
            due = max(due, self._start + max(0.0, published_at - self._first_event) / self.speedup)
        self._count += 1
        if due > now:
            self.sleep(due - now)


def records(paths: list[Path], loop: bool, stamp: Stamp = None) -> Iterator[Record]:
    """The corpus records, once or forever, each with the ``stamp`` fields."""
    while True:
        yield from read_corpus(paths, stamp)
        if not loop:
            return


def replay(
    producer: Any,
    topic: str,
    source: Iterable[Record],
    *,
    pacer: Pacer,
    send_invalid: bool = False,
    on_sent: Callable[[], None] | None = None,
) -> ReplaySummary:
    """Send every valid record (and invalid ones with ``send_invalid``); wait for all acks."""
    summary = ReplaySummary()
    futures: list[tuple[Record, Any]] = []
    # The first send would block on the topic's metadata after the pacer's clock started,
    # and its late CreateTime shortens the first gap; fetch the metadata before pacing.
    with contextlib.suppress(KafkaError):  # then the sends fail, each reported
        producer.partitions_for(topic)
    for record in source:
        if record.error is not None:
            summary.skipped.append((str(record.path), record.line, record.error))
            if not (send_invalid and record.value):
                continue
        pacer.wait(record.published_at)
        try:
            future = producer.send(topic, key=record.key, value=record.value)
        except KafkaError as exc:  # refused before sending, e.g. larger than a message may be
            summary.failed.append(f"{record.path}:{record.line}: {exc}")
            continue
        futures.append((record, future))
        if on_sent:
            on_sent()
        if len(futures) >= 1000:
            _confirm(futures, summary)
    producer.flush()
    _confirm(futures, summary)
    return summary


def _confirm(futures: list[tuple[Record, Any]], summary: ReplaySummary) -> None:
    for record, future in futures:
        try:
            future.get(timeout=60)
            summary.sent += 1
        except Exception as exc:  # KafkaError, KafkaTimeoutError: reported, exit non-zero
            summary.failed.append(f"{record.path}:{record.line}: {exc}")
    futures.clear()


def check_pacing(rate: float | None, speedup: float | None) -> None:
    """Reject meaningless pacing options with a clear message."""
    if rate is not None and rate <= 0:
        raise PipelineError("--rate must be a positive number of articles per second")
    if speedup is not None and speedup <= 0:
        raise PipelineError("--speedup must be a positive factor")


def replay_stamp(tag: str | None, no_alerts: bool) -> dict[str, Any]:
    """The raw-article fields ``--tag`` and ``--no-alerts`` set; a bad tag is refused."""
    stamp: dict[str, Any] = {}
    if tag is not None:
        try:  # the raw schema's own rule: the CLI and the worker agree on what a tag is
            RawArticle.model_validate({"body": "-", "replay_tag": tag})
        except ValidationError:
            raise PipelineError(
                f"--tag {tag!r}: use up to 128 letters, digits, '.', '_', ':' or '-', "
                "starting with a letter or digit"
            ) from None
        stamp["replay_tag"] = tag
    if no_alerts:
        stamp["alerts_suppressed"] = True
    return stamp
