"""The feed poller: fetch, parse, publish, remember; each feed on its own schedule.

:class:`FeedPoller` fetches with httpx (conditional GET, a cap on fetches in flight, a total
timeout and a size limit per fetch), hands the bytes to the pure :mod:`producers.feeds`, and
publishes new items through :class:`producers.ingest.Publisher`; only then does it record
them in :class:`producers.feedstate.SeenStore`. A failing feed is logged by name and polled
again with backoff; the others never notice. ``newsflow feeds`` is in :mod:`producers.feeds_cli`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any

import httpx

from newsflow.core.errors import InvalidArticle, RetryableError
from producers.feeds import (
    FeedConfig,
    FeedError,
    FeedItem,
    FeedsConfig,
    item_key,
    next_delay,
    parse_feed,
    parse_retry_after,
    source_label,
    to_raw_article,
)
from producers.feedstate import RETENTION_SECONDS, SeenStore, Validators
from producers.fulltext import page_text
from producers.ingest import Outgoing, Publisher, encode_article

log = logging.getLogger("producers.feeds")

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
PRUNE_EVERY = 3600.0
# Feeds started together drift apart instead of hitting their hosts in lockstep.
JITTER = 0.1


def user_agent() -> str:
    """The User-Agent of every request: names newsflow and its version, as feed hosts ask."""
    return f"newsflow/{version('newsflow')} (RSS/Atom feed poller; conditional GET)"


@dataclass
class PollResult:
    """What one poll of one feed did."""

    status: str  # "ok", "not_modified" or "error"
    http_status: int | None = None
    items: int = 0
    new: int = 0
    published: int = 0
    skipped: int = 0
    error: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Fetched:
    """A complete HTTP response."""

    status: int
    headers: httpx.Headers
    content: bytes


class FeedPoller:
    """Polls the feeds of a :class:`FeedsConfig` and publishes their new items."""

    def __init__(
        self,
        config: FeedsConfig,
        client: httpx.AsyncClient,
        store: SeenStore,
        publisher: Publisher,
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.publisher = publisher
        self._slots = asyncio.Semaphore(config.concurrency)

    async def fetch(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` within the concurrency cap, the total timeout and the size limit."""
        timeout = self.config.timeout
        async with self._slots:
            try:
                # httpx times each read; this bounds the whole exchange (a trickling server).
                async with asyncio.timeout(timeout):
                    async with self.client.stream("GET", url, headers=headers) as response:
                        content = await _read_capped(response, MAX_RESPONSE_BYTES)
            except (TimeoutError, httpx.TimeoutException):
                raise FeedError(f"timed out after {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise FeedError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
        return Fetched(response.status_code, response.headers, content)

    async def poll(self, feed: FeedConfig) -> PollResult:
        """Poll one feed once; every feed or Kafka problem becomes an ``error`` result."""
        started = time.monotonic()
        try:
            result = await self._poll(feed)
        except FeedError as exc:
            result = PollResult("error", exc.http_status, error=exc.reason)
            result.retry_after = exc.retry_after
        except RetryableError as exc:
            result = PollResult("error", error=str(exc), retry_after=exc.retry_after)
        result.seconds = time.monotonic() - started
        return result

    async def _poll(self, feed: FeedConfig) -> PollResult:
        validators = await asyncio.to_thread(self.store.validators, feed.url)
        fetched = await self.fetch(feed.url, validators.request_headers())
        if fetched.status == 304:
            return PollResult("not_modified", 304)
        _raise_for_status(fetched)
        content_type = fetched.headers.get("content-type")
        parsed = await asyncio.to_thread(parse_feed, fetched.content, feed.url, content_type)
        if parsed.warning:
            warning = _fields(feed, event="feed_warning")
            log.warning("feed %s: %s", feed.name, parsed.warning, extra=warning)
        keyed = await asyncio.to_thread(lambda: [(item_key(i), i) for i in parsed.items])
        present = [key for key, _ in keyed if key]
        unseen = await asyncio.to_thread(self.store.unseen, present)
        new: dict[str, FeedItem] = {}
        for key, item in keyed:
            if key in unseen:
                new.setdefault(key, item)  # a feed listing an item twice publishes it once
        records = await self._records(feed, source_label(feed, parsed), list(new.values()))
        await self.publisher.publish(records)
        fresh = Validators(fetched.headers.get("etag"), fetched.headers.get("last-modified"))
        published = [r.article_id for r in records]
        await asyncio.to_thread(self.store.record_poll, feed.url, published, present, fresh)
        return PollResult(
            "ok",
            fetched.status,
            items=len(parsed.items),
            new=len(new),
            published=len(records),
            skipped=(len(parsed.items) - len(present)) + (len(new) - len(records)),
        )

    async def _records(
        self, feed: FeedConfig, source: str, items: list[FeedItem]
    ) -> list[Outgoing]:
        pages: list[str | None] = [None] * len(items)
        if feed.full_text:
            pages = await asyncio.gather(*(self._full_text(feed, item) for item in items))

        def encode() -> list[Outgoing]:
            records = (
                _encode(feed, source, item, page) for item, page in zip(items, pages, strict=True)
            )
            return [record for record in records if record is not None]

        return await asyncio.to_thread(encode)

    async def _full_text(self, feed: FeedConfig, item: FeedItem) -> str | None:
        if not item.url:
            return None
        try:
            page = await self.fetch(item.url)
            _raise_for_status(page)
        except FeedError as exc:
            log.warning(
                "feed %s: full text of %s: %s; the feed's text is used",
                feed.name,
                item.url,
                exc.reason,
                extra=_fields(feed, event="feed_warning", page=item.url),
            )
            return None
        text = await asyncio.to_thread(page_text, page.content, item.url, item.title)
        if text is None:
            log.info("feed %s: no article text found at %s", feed.name, item.url)
        return text

    async def poll_once(self) -> list[PollResult]:
        """Poll every feed once, concurrently; one summary line per feed."""
        results = await asyncio.gather(*(self.poll(feed) for feed in self.config.feeds))
        for feed, result in zip(self.config.feeds, results, strict=True):
            log_poll(feed, result)
        return list(results)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll each feed on its own interval (backing off on errors) until ``stop`` is set."""
        async with asyncio.TaskGroup() as group:
            for feed in self.config.feeds:
                group.create_task(self._keep_polling(feed, stop))
            group.create_task(self._keep_pruning(stop))

    async def _keep_polling(self, feed: FeedConfig, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            result = await self.poll(feed)
            failures = failures + 1 if result.status == "error" else 0
            delay = next_delay(feed.interval, failures, result.retry_after)
            delay *= 1 + random.uniform(-JITTER, JITTER)
            log_poll(feed, result, delay, failures)
            await _sleep_unless(stop, delay)

    async def _keep_pruning(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            forgotten = await asyncio.to_thread(self.store.prune, time.time() - RETENTION_SECONDS)
            if forgotten:
                log.info("feeds: forgot %d ids not seen in any feed for 30 days", forgotten)
            await _sleep_unless(stop, PRUNE_EVERY)


def _encode(feed: FeedConfig, source: str, item: FeedItem, page: str | None) -> Outgoing | None:
    raw = to_raw_article(item, feed, source, page)
    if raw is None:
        reason = "no text"
    else:
        try:
            return encode_article(raw)
        except InvalidArticle as exc:
            reason = exc.reason
    log.debug("feed %s: skipped %s: %s", feed.name, item.url or item.guid, reason)
    return None


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise FeedError(f"response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _raise_for_status(fetched: Fetched) -> None:
    if 200 <= fetched.status < 300:
        return
    retry_after = None
    if fetched.status in (429, 503):
        retry_after = parse_retry_after(fetched.headers.get("retry-after"))
    phrase = httpx.codes.get_reason_phrase(fetched.status)
    raise FeedError(f"HTTP {fetched.status} {phrase}".strip(), retry_after, fetched.status)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _fields(feed: FeedConfig, **more: Any) -> dict[str, Any]:
    return {"event": "feed_poll", "feed": feed.name, "url": feed.url, **more}


def log_poll(
    feed: FeedConfig, result: PollResult, next_in: float | None = None, failures: int = 0
) -> None:
    """One summary line for one poll: counts for the JSON format, and in the text itself."""
    counts = {k: v for k, v in asdict(result).items() if k not in ("seconds", "retry_after")}
    fields = _fields(
        feed,
        **counts,
        duration_ms=round(result.seconds * 1000),
        next_poll_s=round(next_in, 1) if next_in is not None else None,
        failures=failures,
    )
    after = f"; next poll in {next_in:.0f} s" if next_in is not None else ""
    took = f"{result.seconds * 1000:.0f} ms"
    if result.status == "error":
        streak = f", {failures} failures in a row" if failures > 1 else ""
        msg = f"feed {feed.name} ({feed.url}): {result.error} ({took}{streak}){after}"
        log.warning(msg, extra=fields)
    elif result.status == "not_modified":
        log.info(f"feed {feed.name}: not modified ({took}){after}", extra=fields)
    else:
        summary = (
            f"{result.items} items, {result.new} new, {result.published} published, "
            f"{result.skipped} skipped"
        )
        log.info(f"feed {feed.name}: {summary} ({took}){after}", extra=fields)
