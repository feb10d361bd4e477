"""The worker's topology, declared once: one row per stage.

A row's ``id`` is the Faust agent's name, the log field ``stage``, the ``stage`` label of
the metrics and the ``stage`` of its dead letters. ``reads`` and ``emits`` name topics as
properties of :class:`newsflow.core.names.Names` (which holds the topic names and partition
counts that ``newsflow bootstrap`` creates; a test checks the rows against them). A step may
emit only to the topics of its row (:class:`processors.worker.adapter.Adapter` refuses
others), so this table is the whole pipeline. A new stage is one module of
:mod:`processors.worker.steps` and one row.

``python -m processors.worker.topology`` prints the table of docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from newsflow.core.names import Names
from processors.worker.adapter import Step
from processors.worker.runtime import Runtime
from processors.worker.steps import alerts, clean, copies, deadletters, dedup, nlp, sink, stories
from schemas.article import Article
from schemas.work import Deduped, Prepared


@dataclass(frozen=True)
class Stage:
    """One stage: the topic it reads, what it may emit, its table and its batches."""

    id: str
    reads: str  # a topic property of Names
    # None: the step gets the value bytes (it decodes them itself).
    model: type[BaseModel] | None
    # None: the agent is defined elsewhere (``notify``, by processors.alerting.notify).
    build: Callable[[Runtime], Step] | None
    emits: tuple[str, ...] = ()  # topic properties of Names (dead letters always allowed)
    writes: tuple[str, ...] = ()  # index properties of Names, for the reader
    table: str | None = None  # a changelog-backed Faust table, flushed before each ack
    partitions: int | None = None  # of the topic read; None: NEWSFLOW_PARTITIONS
    batch: int = 1  # batch size, in NEWSFLOW_BATCH_SIZE
    within: float | None = None  # most seconds to wait for a batch (below NEWSFLOW_BATCH_WITHIN)

    def size(self, batch_size: int) -> int:
        """Messages per batch, for ``NEWSFLOW_BATCH_SIZE`` = ``batch_size``."""
        return self.batch * batch_size

    def wait(self, batch_within: float) -> float:
        """Seconds to wait for a batch to fill, for ``NEWSFLOW_BATCH_WITHIN``."""
        return batch_within if self.within is None else min(batch_within, self.within)


# Pipeline order (``newsflow status`` lists stages in it). The decision stages read ONE
# partition, so every copy of an article and every article of a story meet in one ordered
# stream; their batches are larger (they are cheap per article, and one stream).
STAGES: tuple[Stage, ...] = (
    Stage("clean", "raw_topic", None, clean.build, emits=("dedup_topic",)),
    Stage(
        "dedup",
        "dedup_topic",
        Prepared,
        dedup.build,
        emits=("work_topic", "duplicates_topic"),
        table="dedup",
        partitions=1,
        batch=8,
        within=0.1,
    ),
    Stage("nlp", "work_topic", Deduped, nlp.build, emits=("stories_topic",)),
    Stage(
        "copies",
        "duplicates_topic",
        Deduped,
        copies.build,
        emits=("enriched_topic", "duplicates_topic", "work_topic"),
    ),
    Stage(
        "stories",
        "stories_topic",
        Article,
        stories.build,
        emits=("enriched_topic",),
        writes=("stories_index",),
        table="stories",
        partitions=1,
        batch=8,
        within=0.1,
    ),
    Stage(
        "sink",
        "enriched_topic",
        Article,
        sink.build,
        emits=("indexed_topic",),
        writes=("articles_index",),
        batch=4,
    ),
    # Its alerts go to <ns>.alerts from AlertStage itself (confirmed before it returns).
    Stage(
        "alerts",
        "indexed_topic",
        Article,
        alerts.build,
        emits=("alerts_topic",),
        writes=("alerts_index",),
    ),
    Stage("deadletters", "deadletter_topic", None, deadletters.build, writes=("deadletter_index",)),
    Stage("notify", "alerts_topic", None, None, writes=("alerts_index",)),
)


def stage_topics(names: Names, stages: Sequence[Stage] = STAGES) -> dict[str, str]:
    """Every topic the worker group consumes, in pipeline order, with the stage reading it
    (what ``newsflow status`` and :mod:`newsflow.cli.drained` look at)."""
    return {getattr(names, s.reads): s.id for s in stages}


def markdown(stages: Sequence[Stage] = STAGES) -> str:
    """The topology as the markdown table of docs/ARCHITECTURE.md."""
    names = Names("<ns>")

    def topics(attrs: Sequence[str]) -> str:
        return ", ".join(f"`{getattr(names, a)}`" for a in attrs) or "-"

    lines = [
        "| stage | reads | partitions | input | table | emits | writes | batch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in stages:
        model = s.model.__name__ if s.model else "bytes"
        parts = "P" if s.partitions is None else str(s.partitions)
        batch = (
            "-" if s.build is None else f"{s.batch} × B" + (f", ≤ {s.within} s" if s.within else "")
        )
        where = s.build.__module__ if s.build else "processors.alerting.notify"
        module = "`" + where.replace(".", "/") + ".py`"
        lines.append(
            f"| `{s.id}` ({module}) | `{getattr(names, s.reads)}` | {parts} | {model} "
            f"| {s.table or '-'} | {topics(s.emits)} | {topics(s.writes)} | {batch} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
