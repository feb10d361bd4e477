"""Stage ``alerts``: match each indexed batch against the subscriptions and fire its alerts.

The sink calls :meth:`AlertStage.on_indexed` after a bulk write succeeded. Matching is two
``_msearch`` requests on ``<ns>-articles`` restricted to the batch's ids (see
:mod:`processors.alerting.searches`). Every alert is written to ``<ns>-alerts`` with create
semantics before it is sent, so the document is the record of what fired. These are the
record channels (``index`` then ``topic``, :mod:`processors.alerting.channels`), written for
every alert; the delivery channels are the notifier's (:mod:`processors.alerting.notify`):

``pending`` (created) -> sent to ``<ns>.alerts`` and acknowledged -> ``published``.

A redelivered batch finds its alerts already there and fires nothing more; one still
``pending`` (a crash between the write and Kafka's ack) is sent again, keyed by its id.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from newsflow.core.errors import RetryableError
from newsflow.core.names import Names
from newsflow.core.retry import Backoff, retrying
from newsflow.core.settings import Settings
from processors.alerting.cache import PAGE, SubscriptionCache
from processors.alerting.delivery import delivery
from processors.alerting.elastic import TransientItems, bulk, call_es, pages, warn_and_retry
from processors.alerting.matching import (
    Batch,
    alert_id,
    alerts_from_hits,
    failure_of,
    matched,
)
from processors.alerting.query import SEARCH_FIELDS, needs
from processors.alerting.searches import (
    backfill_search,
    chunks,
    detail_search,
    match_search,
    msearch_body,
    named_clause,
    recent_search,
)
from processors.alerting.subscription import Subscription
from schemas import codec
from schemas.alert import Alert
from schemas.article import Article

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("newsflow.alerts")

SendAlert = Callable[[bytes, bytes], Awaitable[Any]]
T = TypeVar("T")


class Stored(NamedTuple):
    """An alert document as stored, with the version to update it conditionally."""

    alert: Alert
    seq_no: int
    primary_term: int


class AlertStage:
    """Matches indexed articles against the subscriptions; stores, sends and logs new alerts."""

    def __init__(
        self,
        es: AsyncElasticsearch,
        names: Names,
        settings: Settings,
        send_alert: SendAlert,
    ) -> None:
        self.es = es
        self.names = names
        self.settings = settings
        self.send_alert = send_alert
        self.backoff = Backoff()
        self.subscriptions = SubscriptionCache(es, names.subscriptions_index)
        self._clauses: dict[str, tuple[Subscription, dict[str, Any]]] = {}
        self._standard: bool | None = None

    async def on_indexed(self, articles: Sequence[Article]) -> int:
        """Fire the alerts of articles just indexed; returns how many alerts are new.

        Idempotent: the same batch again fires nothing (alert ids are stable, writes create).
        Copies and articles of a replay with ``--no-alerts`` fire nothing.
        """
        docs = {
            a.id: a.model_dump(mode="json")
            for a in articles
            if not a.is_duplicate and not a.alerts_suppressed
        }
        if not docs:
            return 0
        current = await self.subscriptions.get()
        if len(self._clauses) > len(current):  # forget removed subscriptions
            self._clauses = {k: v for k, v in self._clauses.items() if k in current}
        fired = 0
        new = self.subscriptions.take_new()
        if new:
            fired += await self._catch_up(new)
        # The stage's seconds are the adapter's (processors/worker/adapter.py), not counted here.
        fired += await self._fire(docs, list(current.values()))
        return fired

    async def _fire(
        self, docs: Mapping[str, Mapping[str, Any]], subs: Sequence[Subscription]
    ) -> int:
        """Match indexed ``docs`` (id -> document) against ``subs``; store, send and log the
        alerts that are new."""
        batch = Batch.of(docs)
        words = await self._standard_analysis()
        eligible = {s.id: batch.eligible(s, needs(s.query) if words else None) for s in subs}
        candidates = [s for s in subs if eligible[s.id]]
        if not candidates:
            return 0
        # Search sees a write only after a refresh; the batch must be visible to match it.
        await self._es("refresh", self.es.indices.refresh, index=self.names.articles_index)
        pairs = await self._match(candidates, eligible)
        by_id = {s.id: s for s in candidates}
        keys = {
            (sid, aid): alert_id(by_id[sid], aid, docs[aid].get("story_id"))
            for sid, ids in pairs.items()
            for aid in ids
        }
        done, pending = await self._existing(sorted(set(keys.values())))
        todo: dict[str, list[str]] = {}
        for (sid, aid), key in keys.items():
            if key not in done and key not in pending:
                todo.setdefault(sid, []).append(aid)
        new = await self._details([(by_id[s], ids) for s, ids in todo.items()]) if todo else {}
        return await self._publish(
            {k: a for k, a in new.items() if k not in done and k not in pending}, pending
        )

    async def _catch_up(self, subs: Sequence[Subscription]) -> int:
        """Run subscriptions this worker has just learnt of over the articles ingested since
        the oldest of them was made, a page at a time, as if each page had just been indexed
        (batches matched before the worker re-read the subscriptions ran without them)."""
        await self._es("refresh", self.es.indices.refresh, index=self.names.articles_index)
        body = recent_search(min(s.created_at for s in subs), PAGE)
        fired = 0
        async for hits in self._pages(body, "catch-up search"):
            fired += await self._fire({h["_id"]: h["_source"] for h in hits}, subs)
        return fired

    async def backfill(self, sub: Subscription) -> int:
        """Fire ``sub`` for every matching article already indexed; returns new alerts."""
        await self._es("refresh", self.es.indices.refresh, index=self.names.articles_index)
        fired = 0
        async for hits in self._pages(backfill_search(sub, PAGE), "backfill search"):
            alerts = alerts_from_hits(sub, hits, datetime.now(UTC))
            done, pending = await self._existing(list(alerts))
            new = {k: a for k, a in alerts.items() if k not in done and k not in pending}
            fired += await self._publish(new, pending)
        return fired

    def _pages(self, body: Mapping[str, Any], what: str) -> AsyncIterator[list[dict[str, Any]]]:
        return pages(self.es, self.names.articles_index, body, self.backoff, what)

    # --- matching -----------------------------------------------------------------------------

    async def _match(
        self, subs: Sequence[Subscription], eligible: Mapping[str, list[str]]
    ) -> dict[str, list[str]]:
        """Subscription id -> matched article ids, with one ``_msearch`` of named-clause chunks.

        A chunk that fails for good is split until the failing subscription is alone; that
        one is logged and skipped, so one bad query never holds ingestion.
        """
        work = [(c, sorted({i for s in c for i in eligible[s.id]})) for c in chunks(subs)]
        pairs: dict[str, list[str]] = {}

        async def search() -> None:
            nonlocal work
            while work:  # a split chunk runs again at once; only overload waits
                body = msearch_body(
                    match_search([self._named(s) for s in chunk], ids) for chunk, ids in work
                )
                response = await self._es(
                    "msearch", self.es.msearch, index=self.names.articles_index, searches=body
                )
                again: list[tuple[list[Subscription], list[str]]] = []
                overloaded = 0
                for (chunk, ids), item in zip(work, response["responses"], strict=True):
                    failure = failure_of(item)
                    if failure is None:
                        names = {s.id for s in chunk}
                        pairs.update((k, v) for k, v in matched(item).items() if k in names)
                    elif failure.transient:
                        overloaded += 1
                        again.append((chunk, ids))
                    elif len(chunk) > 1:
                        half = len(chunk) // 2
                        again += [(chunk[:half], ids), (chunk[half:], ids)]
                    else:
                        log.error(
                            "subscription cannot run",
                            extra={"stage": "alerts", "subscription_id": chunk[0].id,
                                   "error": failure.kind, "why": failure.reason},
                        )  # fmt: skip
                work = again
                if overloaded:
                    raise TransientItems(f"{overloaded} searches overloaded")

        await retrying(search, self.backoff, warn_and_retry("match"))
        return pairs

    async def _standard_analysis(self) -> bool:
        """Whether ``title`` and ``body`` are analyzed by the standard analyzer, which
        :func:`processors.alerting.query.needs` assumes (else every subscription is searched)."""
        if self._standard is None:
            index = self.names.articles_index
            found = await self._es("get index", self.es.indices.get, index=index)
            definition = next(iter(found.values()))
            fields = definition["mappings"].get("properties", {})
            analysis = definition["settings"]["index"].get("analysis", {})
            custom = {"analyzer", "search_analyzer", "search_quote_analyzer"}
            self._standard = "default" not in analysis.get("analyzer", {}) and all(
                fields.get(f, {}).get("type") == "text" and not custom & set(fields[f])
                for f in SEARCH_FIELDS
            )
            if not self._standard:
                log.warning("title or body not analyzed as standard: no word pre-selection")
        return self._standard

    def _named(self, sub: Subscription) -> dict[str, Any]:
        """The named clause of ``sub``, built once per version of the subscription (a
        thousand of them cost more Python per batch than the rest of the stage)."""
        cached = self._clauses.get(sub.id)
        if cached is None or cached[0] is not sub:
            cached = self._clauses[sub.id] = (sub, named_clause(sub))
        return cached[1]

    async def _details(self, order: Sequence[tuple[Subscription, list[str]]]) -> dict[str, Alert]:
        """The alerts of matched (subscription, articles) pairs, with highlights."""
        body = msearch_body(detail_search(sub, ids) for sub, ids in order)
        response = await self._es(
            "msearch", self.es.msearch, index=self.names.articles_index, searches=body
        )
        now = datetime.now(UTC)
        alerts: dict[str, Alert] = {}
        for (sub, _), item in zip(order, response["responses"], strict=True):
            failure = failure_of(item)
            if failure is not None:
                # The same query matched a moment ago: raise, and the batch is read again.
                raise RetryableError(f"highlights of {sub.id}: {failure.reason}")
            alerts.update(alerts_from_hits(sub, item["hits"]["hits"], now))
        return alerts

    # --- firing -------------------------------------------------------------------------------

    async def _existing(self, ids: Sequence[str]) -> tuple[set[str], dict[str, Stored]]:
        """Alert ids already fired, and those stored but maybe not yet on Kafka (``pending``)."""
        if not ids:
            return set(), {}
        response = await self._es(
            "mget", self.es.mget, index=self.names.alerts_index, ids=list(ids)
        )
        done: set[str] = set()
        pending: dict[str, Stored] = {}
        for doc in response["docs"]:
            if not doc.get("found"):
                continue
            if (doc["_source"].get("delivery") or {}).get("status") == "pending":
                alert = Alert.model_validate(doc["_source"])
                pending[doc["_id"]] = Stored(alert, doc["_seq_no"], doc["_primary_term"])
            else:
                done.add(doc["_id"])
        return done, pending

    async def _publish(self, new: Mapping[str, Alert], pending: Mapping[str, Stored]) -> int:
        """Create ``new`` alerts, send them and the ``pending`` ones, mark them published."""
        created = await self._create(new)
        to_send = {**pending, **created}
        if not to_send:
            return 0
        await asyncio.gather(*(self._send(key, s.alert) for key, s in to_send.items()))
        now = datetime.now(UTC)
        published: dict[str, Any] = {"doc": {"delivery": delivery("published", now)}}
        # Only if still pending (a 409 otherwise): the notifier may have moved it on.
        actions: dict[str, list[dict[str, Any]]] = {
            key: [
                {"update": {"_index": self.names.alerts_index, "_id": key,
                            "if_seq_no": stored.seq_no, "if_primary_term": stored.primary_term}},
                published,
            ]
            for key, stored in to_send.items()
        }  # fmt: skip
        await bulk(self.es, self.backoff, "bulk update", actions)
        for key, stored in to_send.items():
            alert = stored.alert
            log.info(
                "alert",
                extra={"stage": "alerts", "alert_id": key, "subscription_id": alert.subscription_id,
                       "article_id": alert.article_id, "title": alert.title, "url": alert.url,
                       "resent": key in pending},
            )  # fmt: skip
        return len(created)

    async def _create(self, alerts: Mapping[str, Alert]) -> dict[str, Stored]:
        """Write alerts with create semantics; returns the ones this call created (a 409
        means another delivery of the batch already did). Transient item failures are
        retried; an alert the index refuses for good is logged and dropped."""
        now = datetime.now(UTC)
        actions = {
            key: [
                {"create": {"_index": self.names.alerts_index, "_id": key}},
                {**alert.model_dump(mode="json"), "delivery": delivery("pending", now)},
            ]
            for key, alert in alerts.items()
        }
        results = await bulk(self.es, self.backoff, "bulk create", actions)
        created: dict[str, Stored] = {}
        for key, result in results.items():
            if result["status"] == 201:
                created[key] = Stored(alerts[key], result["_seq_no"], result["_primary_term"])
            elif result["status"] != 409:
                why = result.get("error")
                log.error("alert not stored", extra={"alert_id": key, "why": why})
        return created

    async def _send(self, key: str, alert: Alert) -> None:
        result = await self.send_alert(key.encode(), codec.dumps(alert))
        if inspect.isawaitable(result):  # a Faust send returns the future of Kafka's ack
            await result

    async def _es(self, what: str, request: Callable[..., Awaitable[T]], **params: Any) -> T:
        return await call_es(self.backoff, what, request, **params)
