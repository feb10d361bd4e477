"""The definition of *drained* (newsflow.cli.drained), without servers."""

from __future__ import annotations

from pathlib import Path

from newsflow.cli.drained import Snapshot
from newsflow.cli.offsets import read_lag
from newsflow.core.names import Names
from newsflow.core.settings import load_settings
from processors.worker.topology import stage_topics


class RecordingReader:
    """Offsets that move between the two reads, as they do while a worker runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        self.calls.append("committed")
        return {("ns.raw", 0): 5, ("ns.dedup", 0): 5}

    def ends(self, topics: list[str]) -> dict[tuple[str, int], int]:
        self.calls.append("ends")
        # Since the committed offsets were read, the last raw batch was committed and its
        # output written to .dedup: read in this order, .dedup shows the lag.
        return {("ns.raw", 0): 5, ("ns.dedup", 0): 6}


def test_committed_offsets_are_read_before_end_offsets() -> None:
    reader = RecordingReader()
    parts = read_lag(reader, "group", ["ns.raw", "ns.dedup"])  # type: ignore[arg-type]
    assert reader.calls == ["committed", "ends"]
    assert {p.topic: p.lag for p in parts} == {"ns.raw": 0, "ns.dedup": 1}


def test_every_topic_an_agent_reads_is_a_stage_topic(tmp_path: Path) -> None:
    from processors.worker.app import create_app

    settings = load_settings(namespace="unit", home=tmp_path)
    app, _ = create_app(settings)
    consumed = {agent.channel.get_topic_name(): name for name, agent in app.agents.items()}
    assert consumed == stage_topics(Names("unit"))


def test_a_snapshot_says_drained_or_where_articles_are() -> None:
    assert Snapshot(28, 27, 0, {}).describe() == "drained"
    assert Snapshot(28, 20, 0, {"nlp": 7}).describe() == "7 articles in flight, at stage nlp"
    several = Snapshot(28, 3, 0, {"clean": 4, "nlp": 8})
    assert several.describe() == "12 articles in flight, at stages clean (4), nlp (8)"
    assert not several.drained and several.accounted == 3
    # The figures decide equality (the stability check), not the partition details.
    assert Snapshot(28, 27, 1, {}) == Snapshot(28, 27, 1, {}, partitions=[])
    assert Snapshot(28, 27, 1, {}) != Snapshot(29, 27, 1, {})
