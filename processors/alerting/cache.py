"""The subscriptions of a namespace as workers see them: read from ``<ns>-subscriptions``,
cached for a few seconds, with the ones that appeared since the previous read."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError

from newsflow.core.errors import ConfigError
from newsflow.core.retry import Backoff
from processors.alerting.elastic import pages
from processors.alerting.query import check_query
from processors.alerting.subscription import Subscription, reason

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("newsflow.alerts")

# Subscriptions are re-read this often, never per batch.
SUBSCRIPTIONS_TTL_SECONDS = 5.0
PAGE = 500
# Catching up on new subscriptions: how far back a worker's first read looks, and the
# allowance for clocks (created_at is the subscribing host's, ingested_at the worker's).
CATCH_UP_FIRST = timedelta(minutes=10)
CATCH_UP_MARGIN = timedelta(seconds=60)


async def load_subscriptions(es: AsyncElasticsearch, index: str) -> dict[str, Subscription]:
    """Every valid subscription of ``index`` by id (an unreadable one is logged and left out)."""
    from elasticsearch import NotFoundError

    subs: dict[str, Subscription] = {}
    body = {"size": PAGE, "sort": [{"id": "asc"}]}
    try:
        async for hits in pages(es, index, body, Backoff(), "subscriptions"):
            for hit in hits:
                try:
                    sub = Subscription.model_validate(hit["_source"])
                    check_query(sub.query)
                except (ValidationError, ConfigError) as exc:
                    # An unknown channel, a missing option, a query refused since: one line.
                    why = reason(exc) if isinstance(exc, ValidationError) else str(exc)
                    log.error("subscription ignored: %s", why, extra={"id": hit["_id"], "why": why})
                    continue
                subs[sub.id] = sub
    except NotFoundError:
        pass  # no subscription was ever made in this namespace
    return subs


class SubscriptionCache:
    """The subscriptions of a namespace, re-read at most every ``ttl`` seconds.

    It also tells which subscriptions appeared since the previous read (:meth:`take_new`):
    batches indexed between a subscription's creation and that read were matched without
    it, so the stage catches up on them.
    """

    def __init__(
        self,
        es: AsyncElasticsearch,
        index: str,
        ttl: float = SUBSCRIPTIONS_TTL_SECONDS,
        track_new: bool = True,
    ) -> None:
        self.es = es
        self.index = index
        self.ttl = ttl
        self.track_new = track_new
        self._subs: dict[str, Subscription] = {}
        self._new: list[Subscription] = []
        self._read_at = -float("inf")
        self._read_wall: datetime | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, Subscription]:
        """The subscriptions by id, as of at most ``ttl`` seconds ago."""
        async with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                now = datetime.now(UTC)
                subs = await load_subscriptions(self.es, self.index)
                # A first read cannot know what the batches before it saw: look back a while.
                since = (self._read_wall or now - CATCH_UP_FIRST) - CATCH_UP_MARGIN
                if self.track_new:
                    self._new += [
                        s for i, s in subs.items() if i not in self._subs and s.created_at >= since
                    ]
                self._subs, self._read_at, self._read_wall = subs, time.monotonic(), now
            return self._subs

    def take_new(self) -> list[Subscription]:
        """Subscriptions made since the previous read (each returned once)."""
        new, self._new = self._new, []
        return new

    def invalidate(self) -> None:
        """Read the subscriptions again on the next :meth:`get`."""
        self._read_at = -float("inf")
