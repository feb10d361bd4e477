"""``/api/stream``: new articles and alerts as server-sent events.

Each open page has one :class:`Feed`: every second it asks Elasticsearch for the documents
of the page's search and filters indexed since its cursor, and sends what it has not sent
yet. A page that reconnects (``Last-Event-ID``) or changes its filters starts from its own
cursor, so nothing that arrived in between is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from newsflow.core.errors import RetryableError
from newsflow.ui import queries, views
from newsflow.ui.backend import Backend
from newsflow.ui.queries import PageQuery

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# How far a poll looks back before the newest time sent: documents become searchable out of
# processed_at order (processed_at is stamped at enrichment, before the story stage, the sink's
# bulk batches and retries, and the index refresh; several workers interleave).
LOOKBACK = timedelta(seconds=60)
MAX_RETRY_SECONDS = 10.0


class Cursor:
    """The newest time sent on one feed, and the ids sent within the look-back window."""

    def __init__(
        self, time_field: str, start: datetime | None, lookback: timedelta = LOOKBACK
    ) -> None:
        self.time_field = time_field
        self.newest = start
        self.lookback = lookback
        self._seen: dict[str, datetime] = {}

    def bound(self) -> datetime | None:
        """Where the next poll starts (None: from the beginning)."""
        return queries.lookback_bound(self.newest, self.lookback)

    def seen(self) -> list[str]:
        """Ids already sent that the next poll could find again."""
        return sorted(self._seen)

    def accept(self, found: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The hits not sent before; moves the cursor past them and forgets what fell behind."""
        new = []
        for hit in found:
            key = str(hit["_id"])
            moment = views.parse_time(hit.get("_source", {}).get(self.time_field))
            if key in self._seen or moment is None:
                continue
            self._seen[key] = moment
            self.newest = moment if self.newest is None else max(self.newest, moment)
            new.append(hit)
        bound = self.bound()
        if bound is not None:
            self._seen = {k: t for k, t in self._seen.items() if t >= bound}
        return new

    def token(self) -> str:
        """The cursor as text (part of the SSE event id)."""
        return self.newest.isoformat() if self.newest else ""


def event_id(articles: Cursor, alerts: Cursor) -> str:
    """The SSE ``id`` of an event: both cursors, for ``Last-Event-ID`` on reconnection."""
    return f"{articles.token()} {alerts.token()}"


def parse_event_id(text: str | None) -> tuple[datetime | None, datetime | None]:
    """The two cursors of a ``Last-Event-ID`` (None where absent or unreadable)."""
    parts = (text or "").split(" ")
    times = [views.parse_time(p) for p in [*parts, "", ""][:2]]
    return times[0], times[1]


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One server-sent event: a name, an optional id and one line of JSON."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(lines) + "\n\n").encode()


class Feed:
    """New articles (folded) and alerts for one page's search and filters."""

    def __init__(self, backend: Backend, query: PageQuery) -> None:
        self.backend = backend
        self.query = query
        self.articles = Cursor(queries.STREAM_FIELD, query.since)
        self.alerts = Cursor("matched_at", query.alerts_since)
        self.started = False

    def resume(self, last_event_id: str | None) -> None:
        """Continue where a reconnecting page left off (its ``Last-Event-ID``)."""
        articles_at, alerts_at = parse_event_id(last_event_id)
        self.articles.newest = articles_at or self.articles.newest
        self.alerts.newest = alerts_at or self.alerts.newest

    async def start(self) -> None:
        """Start a cursor the page gave no time for at the newest document now."""
        names = self.backend.names
        if self.articles.newest is None:
            base = queries.matching(self.query, originals_only=False)
            newest = await self.backend.newest(names.articles_index, queries.STREAM_FIELD, base)
            self.articles.newest = views.parse_time(newest)
        if self.alerts.newest is None:
            newest = await self.backend.newest(names.alerts_index, "matched_at", {"match_all": {}})
            self.alerts.newest = views.parse_time(newest)
        self.started = True

    async def poll(self) -> list[bytes]:
        """The events of one poll: ``articles`` and ``alerts`` when there is something new."""
        names = self.backend.names
        article_body = queries.stream_articles_search(
            self.query, self.articles.bound(), self.articles.seen()
        )
        alert_body = queries.stream_alerts_search(self.alerts.bound(), self.alerts.seen())
        found, alerts_found = await asyncio.gather(
            self.backend.search(names.articles_index, article_body),
            self.backend.search(names.alerts_index, alert_body),
        )
        events = []
        new_articles = self.articles.accept(views.hits(found))
        if new_articles:
            events.append(sse("articles", await self._articles(new_articles), self._id()))
        new_alerts = self.alerts.accept(views.hits(alerts_found))
        if new_alerts:
            data = {"alerts": [views.alert_view(h) for h in new_alerts]}
            events.append(sse("alerts", data, self._id()))
        return events

    def _id(self) -> str:
        return event_id(self.articles, self.alerts)

    async def _articles(self, new: list[dict[str, Any]]) -> dict[str, Any]:
        """New originals folded, and the exact copy counts and story sizes they change."""
        cards = [views.article_view(h) for h in new]
        originals = [c for c in cards if not c["is_duplicate"]]
        copied = {c["duplicate_of"] for c in cards if c["is_duplicate"] and c["duplicate_of"]}
        ids = [c["id"] for c in originals] + sorted(copied)
        stories = sorted({c["story_id"] for c in cards if c["story_id"]})
        found = views.folding(await self.backend.folding(ids, stories))
        copies = {
            key: {"count": found.counts.get(key, 0), "copies": found.copies.get(key, [])}
            for key in sorted(copied)
        }
        return {
            "articles": views.fold(originals, found),
            "copies": copies,
            "stories": found.story_sizes,
        }


async def run_feed(
    feed: Feed,
    send: Callable[[bytes], Awaitable[object]],
    closing: asyncio.Event,
    alive: Callable[[], bool],
) -> None:
    """Poll every second and ``send`` each event until ``closing`` is set or not ``alive()``.

    While Elasticsearch is unreachable the page is told once (a ``status`` event) and the
    feed retries with a growing pause; a heartbeat comment keeps proxies from closing it.
    """
    healthy: bool | None = None
    pause = POLL_SECONDS
    quiet = 0.0
    while not closing.is_set() and alive():
        try:
            if not feed.started:
                await feed.start()
            events = await feed.poll()
            if healthy is not True:
                events.insert(0, sse("status", {"ok": True}))
            healthy, pause = True, POLL_SECONDS
        except RetryableError as exc:
            events = [] if healthy is False else [sse("status", {"ok": False, "error": str(exc)})]
            if healthy is not False:
                log.warning("stream: %s", exc)
            healthy, pause = False, min(pause * 2, MAX_RETRY_SECONDS)
        quiet = 0.0 if events else quiet + pause
        if quiet >= HEARTBEAT_SECONDS:
            events, quiet = [b": keep-alive\n\n"], 0.0
        for event in events:
            await send(event)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing.wait(), timeout=pause)
