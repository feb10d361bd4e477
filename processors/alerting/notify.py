"""Webhook delivery of alerts: a Faust agent on ``<ns>.alerts``, apart from ingestion.

Ingestion never waits for a webhook: the ``alerts`` stage only writes ``<ns>-alerts`` and
``<ns>.alerts``; this agent reads the topic and POSTs. Each alert gets one attempt (short
timeout, many alerts at once); what fails is recorded on the alert document
(``delivery.status: retrying`` with ``next_attempt_at``) and retried by a sweep that runs on
the leader worker, with exponential backoff, until it succeeds or ``failed`` after
``max_attempts``. Past its subscription's throttle an alert is ``folded`` and goes out in one
digest when the window ends. Statuses live in Elasticsearch, so a restart loses no retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import httpx
from pydantic import ValidationError

from newsflow.core import transient
from newsflow.core.names import Names
from newsflow.core.retry import Backoff
from newsflow.core.settings import Settings
from processors.alerting.cache import SubscriptionCache
from processors.alerting.delivery import delivery
from processors.alerting.elastic import call_es
from processors.alerting.subscription import Subscription, mask_url
from processors.alerting.texts import alert_text, digest_text
from processors.alerting.throttle import admit, window_start
from schemas import codec
from schemas.alert import Alert

if TYPE_CHECKING:
    import faust
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("newsflow.notify")
# Alert id -> (its new delivery object, the hit it was read from, for a conditional update).
Updates = dict[str, tuple[dict[str, Any], Mapping[str, Any] | None]]


@dataclass(frozen=True)
class NotifyConfig:
    """Delivery knobs: per-POST timeout, retry schedule, sweep period, concurrency."""

    timeout_seconds: float = 5.0
    max_attempts: int = 6
    retry: Backoff = field(default_factory=lambda: Backoff(base=5.0, cap=900.0))
    sweep_seconds: float = 5.0
    concurrency: int = 16
    batch: int = 64


@dataclass(frozen=True)
class Outcome:
    """What one POST did: delivered or not, the HTTP status, why not, when to retry."""

    ok: bool
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False


class Notifier:
    """POSTs alerts to their subscriptions' webhooks and records each delivery."""

    def __init__(
        self,
        es: AsyncElasticsearch,
        names: Names,
        http: httpx.AsyncClient,
        config: NotifyConfig | None = None,
    ) -> None:
        self.es = es
        self.names = names
        self.http = http
        self.config = config or NotifyConfig()
        self.subscriptions = SubscriptionCache(es, names.subscriptions_index, track_new=False)
        # Throttle windows of this process: subscription id -> (window start, posts in it).
        self.sent: dict[str, tuple[float, int]] = {}
        self._gate = asyncio.Semaphore(self.config.concurrency)
        self._backoff = Backoff()

    async def handle(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Deliver records of ``<ns>.alerts`` (key: alert id, value: the alert's JSON).

        A record read again (a redelivered batch) whose alert has moved on is skipped.
        """
        alerts: dict[str, dict[str, Any]] = {}
        for key, value in records:
            try:
                alerts[key] = codec.loads(Alert, value).model_dump(mode="json")
            except ValidationError as exc:
                log.warning("not an alert", extra={"alert_id": key, "why": str(exc)[:300]})
        if not alerts:
            return
        subs = await self.subscriptions.get()
        fresh = await self._undelivered(
            [k for k, a in alerts.items() if (s := subs.get(a["subscription_id"])) and s.webhook]
        )
        now = time.time()
        posts: list[tuple[str, Subscription, dict[str, Any]]] = []
        updates: Updates = {}
        for key in fresh:
            sub = subs[alerts[key]["subscription_id"]]
            if admit(self.sent, sub, now):
                posts.append((key, sub, alerts[key]))
            else:
                assert sub.throttle is not None  # admit() refuses only with one
                due = window_start(now, sub.throttle) + sub.throttle.window_seconds
                status = delivery("folded", _utc(now), attempts=0, next_attempt_at=_utc(due))
                updates[key] = (status, None)
        outcomes = await asyncio.gather(
            *(self._post(sub, {"text": alert_text(doc), "alert_id": key, "alert": doc})
              for key, sub, doc in posts)
        )  # fmt: skip
        for (key, sub, _), outcome in zip(posts, outcomes, strict=True):
            updates[key] = (self._status(outcome, 1), None)
            self._log(key, sub, outcome, 1)
        # Unconditional: the notifier's word supersedes "pending"/"published" (the stage's
        # own update to "published" is conditional and loses a race with this one).
        await self._update(updates)

    async def _undelivered(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` whose alert no notifier has handled yet."""
        if not keys:
            return []
        response = await call_es(
            self._backoff, "mget", self.es.mget, index=self.names.alerts_index, ids=list(keys)
        )
        return [
            d["_id"]
            for d in response["docs"]
            if d.get("found")
            and (d["_source"].get("delivery") or {}).get("status") in {None, "pending", "published"}
        ]

    async def sweep(self) -> int:
        """Retry failed POSTs and send digests that are due; returns alerts handled."""
        now = datetime.now(UTC)
        response = await call_es(
            self._backoff,
            "delivery sweep",
            self.es.search,
            index=self.names.alerts_index,
            # No alerts index yet (or deleted): nothing to sweep, not an error.
            ignore_unavailable=True,
            size=500,
            seq_no_primary_term=True,
            sort=[{"delivery.next_attempt_at": {"order": "asc", "unmapped_type": "date"}}],
            query={
                "bool": {
                    "filter": [
                        {"terms": {"delivery.status": ["retrying", "folded"]}},
                        {"range": {"delivery.next_attempt_at": {"lte": "now"}}},
                    ]
                }
            },
        )
        hits = response["hits"]["hits"]
        if not hits:
            return 0
        subs = await self.subscriptions.get()
        retries = [h for h in hits if h["_source"]["delivery"]["status"] == "retrying"]
        digests: dict[str, list[dict[str, Any]]] = {}
        for hit in hits:
            if hit["_source"]["delivery"]["status"] == "folded":
                digests.setdefault(hit["_source"]["subscription_id"], []).append(hit)
        updates: Updates = {}
        await asyncio.gather(
            *(self._retry(hit, subs, updates) for hit in retries),
            *(self._digest(sid, group, subs, updates) for sid, group in digests.items()),
        )
        await self._update(updates)
        log.debug("delivery sweep", extra={"alerts": len(hits), "at": now.isoformat()})
        return len(hits)

    async def close(self) -> None:
        """Close the HTTP and Elasticsearch clients."""
        await self.http.aclose()
        await self.es.close()

    # --- helpers ------------------------------------------------------------------------------

    async def _retry(
        self, hit: dict[str, Any], subs: Mapping[str, Subscription], updates: Updates
    ) -> None:
        doc = hit["_source"]
        attempts = int(doc["delivery"].get("attempts") or 0) + 1
        sub = subs.get(doc["subscription_id"])
        if sub is None or not sub.webhook:
            outcome = Outcome(False, error="subscription or webhook removed", permanent=True)
        else:
            body = {k: v for k, v in doc.items() if k != "delivery"}
            payload = {"text": alert_text(body), "alert_id": hit["_id"], "alert": body}
            outcome = await self._post(sub, payload)
            self._log(hit["_id"], sub, outcome, attempts)
        updates[hit["_id"]] = (self._status(outcome, attempts), hit)

    async def _digest(
        self,
        sid: str,
        group: list[dict[str, Any]],
        subs: Mapping[str, Subscription],
        updates: Updates,
    ) -> None:
        docs = [h["_source"] for h in group]
        attempts = max(int(d["delivery"].get("attempts") or 0) for d in docs) + 1
        sub = subs.get(sid)
        if sub is None or not sub.webhook:
            outcome = Outcome(False, error="subscription or webhook removed", permanent=True)
        else:
            ids = [h["_id"] for h in group]
            payload = {"text": digest_text(sid, docs), "subscription_id": sid, "alert_ids": ids}
            outcome = await self._post(sub, payload)
            self._log(f"{sid}:digest", sub, outcome, attempts)
        status = self._status(outcome, attempts)
        if outcome.ok:
            status["status"] = "digested"
        elif status["status"] == "retrying":
            status["status"] = "folded"  # the digest is retried as a digest
        for hit in group:
            updates[hit["_id"]] = (status, hit)

    async def _post(self, sub: Subscription, payload: dict[str, Any]) -> Outcome:
        assert sub.webhook is not None
        async with self._gate:
            try:
                response = await self.http.post(
                    sub.webhook, json=payload, timeout=self.config.timeout_seconds
                )
            except httpx.HTTPError as exc:  # timeouts, refused connections, protocol errors
                return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300])
        if response.is_success:
            return Outcome(True, response.status_code)
        return Outcome(
            False,
            response.status_code,
            f"HTTP {response.status_code}: {response.text[:200]}",
            retry_after=_seconds(response.headers.get("retry-after")),
            permanent=not transient.http_status(response.status_code),
        )

    def _status(self, outcome: Outcome, attempts: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {"attempts": attempts}
        if outcome.http_status is not None:
            fields["http_status"] = outcome.http_status
        if outcome.ok:
            return delivery("sent", now, **fields)
        fields["error"] = outcome.error
        if outcome.permanent or attempts >= self.config.max_attempts:
            return delivery("failed", now, **fields)
        wait = max(outcome.retry_after or 0.0, self.config.retry.delay(attempts - 1))
        return delivery("retrying", now, next_attempt_at=now + timedelta(seconds=wait), **fields)

    async def _update(self, updates: Updates) -> None:
        """Record delivery statuses; conditional on the version read when there is one."""
        if not updates:
            return
        ops: list[dict[str, Any]] = []
        for key, (status, hit) in updates.items():
            action: dict[str, Any] = {"_index": self.names.alerts_index, "_id": key}
            if hit is not None:
                action["if_seq_no"] = hit["_seq_no"]
                action["if_primary_term"] = hit["_primary_term"]
            ops += [{"update": action}, {"doc": {"delivery": status}}]
        await call_es(self._backoff, "delivery update", self.es.bulk, operations=ops)

    def _log(self, key: str, sub: Subscription, outcome: Outcome, attempts: int) -> None:
        extra = {
            "stage": "alerts",
            "alert_id": key,
            "subscription_id": sub.id,
            "webhook": mask_url(sub.webhook),
            "http_status": outcome.http_status,
            "attempt": attempts,
        }
        if outcome.ok:
            log.info("notification sent", extra=extra)
        else:
            log.warning("notification failed", extra={**extra, "why": outcome.error})


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _seconds(header: str | None) -> float | None:
    try:
        return min(float(header), 3600.0) if header else None
    except ValueError:
        return None  # an HTTP date: the backoff schedule applies


def register_notifier(
    app: faust.App, alerts_topic: Any, settings: Settings, config: NotifyConfig | None = None
) -> None:
    """Define the ``notify`` agent on ``alerts_topic`` and the leader's retry/digest sweep."""
    from newsflow.core.clients import async_es_client

    config = config or NotifyConfig()
    names = Names(settings.namespace)
    started: list[Notifier] = []

    def notifier() -> Notifier:
        # Clients are made on first use, inside the worker's event loop.
        if not started:
            http = httpx.AsyncClient(headers={"User-Agent": "newsflow-alerts"})
            started.append(Notifier(async_es_client(settings), names, http, config))
        return started[0]

    async def notify(stream: Any) -> None:
        async for events in stream.noack_take(config.batch, within=1.0):
            records = [((e.key or b"").decode("utf-8", "replace"), e.value) for e in events]
            await notifier().handle(records)
            for event in events:
                await stream.ack(event)

    async def sweep() -> None:
        # A timer that raises crashes the whole worker: a failed sweep is logged and the
        # next one tries again (the alerts it would have handled are still pending).
        try:
            await notifier().sweep()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery sweep failed; the next one will try again")

    app.agent(alerts_topic, name="notify")(notify)
    app.timer(config.sweep_seconds, on_leader=True, name="notify_sweep")(sweep)

    async def close(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        if started:
            await started[0].close()

    app.on_before_shutdown.connect(cast(Any, close))  # faust's stubs reject any coroutine
