"""The event stream: cursors that never skip nor repeat, and a feed over a fake Elasticsearch."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsflow.core.errors import RetryableError
from newsflow.core.names import Names
from newsflow.ui import stream
from newsflow.ui.backend import Backend
from newsflow.ui.queries import PageQuery
from newsflow.ui.stream import Cursor, Feed, event_id, parse_event_id, run_feed, sse

T0 = datetime(2026, 11, 23, 14, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _hit(doc_id: str, seconds: float, **source: Any) -> dict[str, Any]:
    at = _at(seconds)
    return {
        "_id": doc_id,
        "_source": {"id": doc_id, "ingested_at": at, "processed_at": at, **source},
    }


def test_cursor_sends_each_document_once_and_late_ones_too() -> None:
    cursor = Cursor("ingested_at", None, lookback=timedelta(seconds=10))
    assert cursor.bound() is None
    first = cursor.accept([_hit("a", 0), _hit("b", 5), _hit("c", 5)])
    assert [h["_id"] for h in first] == ["a", "b", "c"]
    assert cursor.newest == T0 + timedelta(seconds=5)
    assert cursor.bound() == T0 - timedelta(seconds=5)
    # A document indexed late, with an older time, within the look-back: sent; repeats: not.
    late = cursor.accept([_hit("b", 5), _hit("d", 1), _hit("c", 5)])
    assert [h["_id"] for h in late] == ["d"]
    assert cursor.newest == T0 + timedelta(seconds=5), "an older document does not move it back"
    assert cursor.seen() == ["a", "b", "c", "d"]


def test_cursor_forgets_what_fell_behind_the_look_back() -> None:
    cursor = Cursor("ingested_at", T0, lookback=timedelta(seconds=10))
    cursor.accept([_hit("old", 1), _hit("new", 30)])
    assert cursor.seen() == ["new"]
    assert cursor.bound() == T0 + timedelta(seconds=20)


def test_cursor_skips_documents_without_a_time() -> None:
    cursor = Cursor("matched_at", None)
    assert cursor.accept([{"_id": "x", "_source": {}}]) == []
    assert cursor.token() == ""


def test_event_ids_carry_both_cursors() -> None:
    articles, alerts = Cursor("ingested_at", T0), Cursor("matched_at", None)
    text = event_id(articles, alerts)
    assert parse_event_id(text) == (T0, None)
    assert parse_event_id(None) == (None, None)
    assert parse_event_id("garbage") == (None, None)


def test_sse_is_one_json_line_per_event() -> None:
    raw = sse("articles", {"title": "two\nlines", "name": "Lödå"}, "x y").decode()
    assert raw.endswith("\n\n")
    lines = raw.strip("\n").split("\n")
    assert lines[:2] == ["event: articles", "id: x y"]
    assert json.loads(lines[2].removeprefix("data: ")) == {"title": "two\nlines", "name": "Lödå"}


class FakeBackend(Backend):
    """A Backend whose searches are answered from a list of documents in memory."""

    def __init__(self) -> None:
        super().__init__(es=None, names=Names("t"))
        self.articles_docs: list[dict[str, Any]] = []
        self.alert_docs: list[dict[str, Any]] = []
        self.failures = 0
        self.bodies: list[dict[str, Any]] = []

    async def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        if self.failures:
            self.failures -= 1
            raise RetryableError("Elasticsearch unreachable: connection refused")
        docs = self.articles_docs if index == self.names.articles_index else self.alert_docs
        if "aggs" in body and "copies" in body["aggs"]:
            return self._folding(body)
        if body.get("size") == 0:
            return {"aggregations": {"newest": {"value": None}}}
        excluded = set(
            body["query"]["bool"].get("must_not", [{}])[0].get("ids", {}).get("values", [])
        )
        return {"hits": {"hits": [d for d in docs if d["_id"] not in excluded]}}

    def _folding(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = body["aggs"]["copies"]["filter"]["terms"]["duplicate_of"]
        buckets = []
        for original in wanted:
            copies = [d for d in self.articles_docs if d["_source"].get("duplicate_of") == original]
            if copies:
                hits = {"hits": {"hits": copies}}
                buckets.append({"key": original, "doc_count": len(copies), "first": hits})
        return {"aggregations": {"copies": {"of": {"buckets": buckets}}}}


def _events(raw: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event in raw:
        lines = event.decode().strip().split("\n")
        name = lines[0].removeprefix("event: ")
        out.append((name, json.loads(lines[-1].removeprefix("data: "))))
    return out


def test_feed_sends_new_originals_and_folds_copies_under_them() -> None:
    backend = FakeBackend()
    feed = Feed(backend, PageQuery(since=T0))
    backend.articles_docs = [_hit("a1", 1, title="Port strike")]

    async def scenario() -> list[list[tuple[str, dict[str, Any]]]]:
        await feed.start()
        first = _events(await feed.poll())
        backend.articles_docs.append(_hit("c1", 2, is_duplicate=True, duplicate_of="a1"))
        second = _events(await feed.poll())
        third = _events(await feed.poll())
        return [first, second, third]

    first, second, third = asyncio.run(scenario())
    assert [name for name, _ in first] == ["articles"]
    assert [a["id"] for a in first[0][1]["articles"]] == ["a1"]
    assert second[0][1]["articles"] == [], "a copy is not a new card"
    assert second[0][1]["copies"]["a1"]["count"] == 1
    assert third == [], "nothing new, nothing sent"


def test_feed_sends_alerts_as_they_come() -> None:
    backend = FakeBackend()
    feed = Feed(backend, PageQuery(since=T0, alerts_since=T0))
    alert = {"_id": "s:a1", "_source": {"subscription_id": "s", "matched_at": _at(3)}}
    backend.alert_docs = [alert]
    events = _events(asyncio.run(feed.poll()))
    assert events == [("alerts", {"alerts": [{**events[0][1]["alerts"][0]}]})]
    assert events[0][1]["alerts"][0]["id"] == "s:a1"


def test_run_feed_reports_an_outage_once_and_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.001)
    backend = FakeBackend()
    backend.failures = 3
    feed = Feed(backend, PageQuery())
    sent: list[bytes] = []

    async def scenario() -> None:
        closing = asyncio.Event()

        async def send(event: bytes) -> None:
            sent.append(event)
            if b'"ok":true' in event:
                closing.set()

        await asyncio.wait_for(run_feed(feed, send, closing, lambda: True), timeout=60)

    asyncio.run(scenario())
    statuses = [data for name, data in _events(sent) if name == "status"]
    assert statuses[0]["ok"] is False and "unreachable" in statuses[0]["error"]
    assert statuses[1:] == [{"ok": True}], "one outage message, then one recovery"
