"""When a namespace is *drained*: the one definition ``newsflow demo``, ``newsflow status``,
the benchmarks and the tests use.

Drained means: every message read from ``<ns>.raw`` is accounted for, as a searchable
document in ``<ns>-articles`` or a dead letter in ``<ns>-deadletter``, and no topic the
worker group consumes has a message it has not committed.

What can be counted, and what cannot
------------------------------------
The end offsets of ``<ns>.raw`` count the messages written there (R). Their outcomes are
documents (D) and dead letters (L), but ``D + L == R`` is neither necessary nor sufficient:

* the same article sent twice (a replay, a byte-identical copy, one id in two feeds) is
  ONE document, so ``D + L < R`` on a drained namespace is normal;
* a document or a dead letter may come from a later topic (``newsflow reprocess`` writes to
  ``.work``, a copy waiting for its first copy goes back to ``.duplicates``), so counts may
  move without R moving.

Counting distinct article ids instead would mean reading the whole raw topic. So the counts
alone cannot say "done"; the offsets can. Each agent acks a batch, and Faust commits it,
only once every message of it has a confirmed outcome: a record acknowledged by Kafka in the
next topic, a document acknowledged by Elasticsearch, a confirmed dead letter. Hence:

    for the worker's consumer group, every partition of every stage topic
    (:func:`processors.worker.topology.stage_topics`: .raw, .dedup, .work, .duplicates,
    .stories, .enriched, .indexed, .deadletter, .alerts) has committed offset == end offset

means every raw message went through every stage, and its document or dead letter was
acknowledged by Elasticsearch. This holds only if the committed offsets are read BEFORE the
end offsets (:func:`newsflow.cli.offsets.read_lag`): if raw's committed offset, read at t1,
equals its end offset read at t2 >= t1, every raw message was processed before t1, so its
output was in ``.dedup`` before t1 and is counted by ``.dedup``'s end offset at t2; and so
on down the chain. Read the other way round, an end offset read before a batch's output was
written would let that output slip by (the demo's "articles 0").

An acknowledged write is searchable after a refresh, so the counts read after a refresh on a
drained namespace are final. :func:`wait_drained` still asks for two snapshots in a row that
are drained with the same figures (one more poll): a producer still sending between the two
shows as a change, and so would a stage that broke the rule above (acked before its outcome
was confirmed), instead of a count that is silently early.

While not drained, ``lag`` says how many messages wait at which stage ("N articles in
flight"): the sum of lags, which may count one article twice for up to the commit interval
(processed by one stage, its commit not yet made, already waiting at the next).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from newsflow.cli.offsets import OffsetReader, PartitionLag, read_lag
from newsflow.core.clients import es_client
from newsflow.core.errors import PipelineError
from newsflow.core.names import Names
from newsflow.core.settings import Settings
from processors.worker.topology import stage_topics


@dataclass(frozen=True)
class Snapshot:
    """One look at a namespace: raw messages, outcomes in the indices, lag per stage."""

    raw_messages: int  # sum of <ns>.raw's end offsets
    documents: int  # <ns>-articles, searchable
    dead_letters: int  # <ns>-deadletter, searchable
    lag: dict[str, int]  # stage -> messages written to its topic, not yet committed (> 0 only)
    partitions: list[PartitionLag] = field(default_factory=list, compare=False)

    @property
    def drained(self) -> bool:
        """Nothing left in any stage topic: the counts are final (see the module)."""
        return not self.lag

    @property
    def in_flight(self) -> int:
        """Messages waiting at some stage."""
        return sum(self.lag.values())

    @property
    def accounted(self) -> int:
        """Articles that reached an index: searchable documents and dead letters."""
        return self.documents + self.dead_letters

    def describe(self) -> str:
        """``drained``, or ``N articles in flight, at stage X`` (stages in pipeline order)."""
        if self.drained:
            return "drained"
        where = ", ".join(f"{stage} ({n})" for stage, n in self.lag.items())
        if len(self.lag) == 1:
            where = next(iter(self.lag))
        plural = "s" if len(self.lag) > 1 else ""
        return f"{self.in_flight} articles in flight, at stage{plural} {where}"


class Probe:
    """Takes snapshots of one namespace, its Kafka and Elasticsearch clients kept open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.names = Names(settings.namespace)
        self.offsets = OffsetReader(settings)
        self.es = es_client(settings)

    def snapshot(self) -> Snapshot:
        """Offsets first, then the counts; refreshed only when the offsets say drained.

        A forced refresh each poll costs Elasticsearch CPU the pipeline being watched needs;
        it is only needed to make the final counts exact.
        """
        stages = stage_topics(self.names)
        parts = read_lag(self.offsets, self.names.app_id, list(stages))
        lag: dict[str, int] = {}
        for topic, stage in stages.items():  # pipeline order
            behind = sum(p.lag for p in parts if p.topic == topic)
            if behind:
                lag[stage] = behind
        indices = [self.names.articles_index, self.names.deadletter_index]
        if not lag:
            self.es.indices.refresh(index=",".join(indices), ignore_unavailable=True)
        documents, dead = (self._count(i) for i in indices)
        raw = sum(p.end for p in parts if p.topic == self.names.raw_topic)
        return Snapshot(raw, documents, dead, lag, parts)

    def _count(self, index: str) -> int:
        return int(self.es.options(ignore_status=404).count(index=index).get("count", 0))

    def close(self) -> None:
        """Close the clients."""
        self.offsets.close()
        self.es.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def snapshot(settings: Settings) -> Snapshot:
    """One snapshot of ``settings.namespace``."""
    with Probe(settings) as probe:
        return probe.snapshot()


def wait_drained(
    settings: Settings,
    timeout: float,
    *,
    messages: int = 0,
    every: float = 0.5,
    on_poll: Callable[[Snapshot], Any] | None = None,
) -> Snapshot:
    """Poll until the namespace is drained, with at least ``messages`` in ``<ns>.raw``.

    Drained twice in a row with the same figures (see the module). ``on_poll`` sees every
    snapshot (a progress bar; it may raise to give up, e.g. when the worker died). Raises
    :class:`PipelineError` naming the stages still behind after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    previous: Snapshot | None = None
    with Probe(settings) as probe:
        while True:
            current = probe.snapshot()
            if on_poll is not None:
                on_poll(current)
            done = current.drained and current.raw_messages >= messages
            if done and current == previous:
                return current
            previous = current if done else None
            if time.monotonic() > deadline:
                raise PipelineError(
                    f"not drained after {timeout:.0f}s: {current.describe()}; "
                    f"{current.raw_messages}/{messages} raw messages, "
                    f"{current.documents} documents, {current.dead_letters} dead letters"
                )
            time.sleep(every)
