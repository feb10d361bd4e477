"""The declared topology is the worker: every row wired, documented and consistent with the
topics bootstrap creates; a new stage is a row and a function, run by the adapter."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from newsflow.core.errors import InvalidArticle
from newsflow.core.names import Names
from newsflow.core.settings import load_settings
from processors.worker.adapter import Adapter, Batch, Out, Step
from processors.worker.app import create_app
from processors.worker.runtime import Runtime
from processors.worker.topology import STAGES, Stage, markdown, stage_topics
from schemas import codec
from schemas.deadletter import DeadLetter
from schemas.work import Prepared

ROOT = Path(__file__).resolve().parents[2]


def test_every_stage_is_an_agent_of_its_name_reading_its_topic(tmp_path: Path) -> None:
    app, _ = create_app(load_settings(namespace="unit", home=tmp_path))
    names = Names("unit")
    consumed = {name: agent.channel.get_topic_name() for name, agent in app.agents.items()}
    assert consumed == {s.id: getattr(names, s.reads) for s in STAGES}
    tables = {s.table for s in STAGES if s.table}
    assert tables == set(app.tables), "each declared table, and no other"


def test_rows_match_the_topics_bootstrap_creates() -> None:
    names = Names("unit")
    created = names.topic_partitions(7)
    ids = [s.id for s in STAGES]
    assert len(set(ids)) == len(ids), "a stage id is declared once"
    for s in STAGES:
        assert created[getattr(names, s.reads)] == (s.partitions or 7), s.id
        for attr in s.emits:
            assert getattr(names, attr) in created, (s.id, attr)
        for attr in s.writes:
            assert getattr(names, attr).startswith("unit-"), (s.id, attr)
        # Table partitions are 1 (app.py): only a stage reading one partition may have one.
        assert s.table is None or s.partitions == 1, s.id
    # Every topic is read by a stage: else drained (newsflow status) would not look at it.
    assert set(stage_topics(names)) == set(created)


def test_architecture_doc_shows_the_table_the_code_prints() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert markdown() in doc, "run: python -m processors.worker.topology, paste into the doc"
    printed = subprocess.run(
        [sys.executable, "-m", "processors.worker.topology"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert printed == markdown()


# --- a throwaway stage ----------------------------------------------------------------


def _throwaway(runtime: Runtime) -> Step:
    """Passes on articles whose title says so, refuses the others."""

    async def step(batch: Batch[Prepared]) -> Out:
        out = Out()
        async for message, item in batch.paced():
            if item.article.title == "pass":
                out.emit("work_topic", item.article.id, item)
            else:
                out.reject(message, InvalidArticle("not_passed", "the title says no"))
        return out

    return step


ROW = Stage("throwaway", "dedup_topic", Prepared, _throwaway, emits=("work_topic",))


class Recorder:
    """Kafka's side of a send: records what was sent, acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> Any:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _event(value: bytes, offset: int) -> Any:
    message = SimpleNamespace(topic="unit.dedup", partition=0, offset=offset)
    return SimpleNamespace(value=value, key=b"k", message=message)


def _prepared(title: str, n: int) -> bytes:
    from processors.worker.steps.clean import prepare

    raw = json.dumps({"id": f"a{n}", "title": title, "body": f"Body number {n}."}).encode()
    result = prepare(raw)
    assert isinstance(result, Prepared)
    return codec.dumps(result)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_new_stage_is_a_row_and_a_function(tmp_path: Path) -> None:
    settings = load_settings(namespace="unit", home=tmp_path)
    app, _ = create_app(settings, (*STAGES, ROW))
    assert app.agents["throwaway"].channel.get_topic_name() == "unit.dedup", "the row is the agent"

    send = Recorder()
    runtime = _runtime(send)
    adapter = Adapter(ROW, _throwaway(runtime), runtime)
    before = _sample("newsflow_messages_in_total", stage="throwaway")
    events = [_event(_prepared("pass", 1), 10), _event(_prepared("no", 2), 11), _event(b"{}", 12)]
    asyncio.run(adapter.handle(events))

    assert _sample("newsflow_messages_in_total", stage="throwaway") - before == 3
    out = _sample("newsflow_messages_out_total", stage="throwaway", topic="unit.work")
    assert out >= 1 and _sample("newsflow_stage_seconds_count", stage="throwaway") >= 1
    assert _sample("newsflow_dead_letters_total", stage="throwaway", error="schema") >= 1
    topics = [topic for topic, _, _ in send.sent]
    assert topics == ["unit.work", "unit.deadletter", "unit.deadletter"]
    letters = [codec.loads(DeadLetter, v) for t, _, v in send.sent if t == "unit.deadletter"]
    assert {(d.stage, d.error, d.offset) for d in letters} == {
        ("throwaway", "schema", 12),  # parsed by the adapter into the row's model
        ("throwaway", "not_passed", 11),  # rejected by the step
    }
    values = {e.message.offset: e.value for e in events}
    assert all(d.original_bytes() == values[d.offset] for d in letters), "the original bytes"


def _runtime(send: Recorder) -> Runtime:
    return Runtime(load_settings(namespace="unit"), Names("unit"), send)


def test_a_stage_cannot_emit_to_a_topic_its_row_does_not_list() -> None:
    row = dataclasses.replace(ROW, emits=())
    send = Recorder()
    adapter = Adapter(row, _throwaway(_runtime(send)), _runtime(send))
    with pytest.raises(ValueError, match="not in its row"):
        asyncio.run(adapter.handle([_event(_prepared("pass", 3), 1)]))
    assert send.sent == [], "nothing sent, so the batch is retried whole"
