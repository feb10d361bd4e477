"""Delivery of alerts: a Faust agent on ``<ns>.alerts`` runs each alert's delivery channels.

Ingestion never waits for a delivery: the ``alerts`` stage only writes the record channels
(``<ns>-alerts`` and ``<ns>.alerts``); this agent reads the topic and, for each delivery
channel its subscription names (``webhook``, ``log``, see :mod:`processors.alerting.channels`),
makes one attempt (short timeout, many at once). Each channel's state is recorded on the
alert document (``deliveries.<channel>``, summed up in ``delivery``, see
:mod:`processors.alerting.delivery`); what failed is ``retrying`` with ``next_attempt_at``
and retried by a sweep on the leader worker, with exponential backoff, until it succeeds or
``failed`` after ``max_attempts``. Past its subscription's throttle (counted per channel) an
alert is ``folded`` on that channel and goes out in one digest when the window ends.
States live in Elasticsearch, so a restart loses no retry.
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

from newsflow.core.names import Names
from newsflow.core.retry import Backoff
from newsflow.core.settings import Settings
from processors.alerting import channels as registry
from processors.alerting.cache import SubscriptionCache
from processors.alerting.channels.base import Context, Outcome
from processors.alerting.delivery import WAITING, delivery, states, summary
from processors.alerting.elastic import bulk, call_es
from processors.alerting.searches import es_time
from processors.alerting.subscription import Subscription
from processors.alerting.texts import alert_text, digest_text
from processors.alerting.throttle import Key, admit, window_start
from schemas import codec
from schemas.alert import Alert

if TYPE_CHECKING:
    import faust
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("newsflow.notify")
# Channel -> its new state, per alert id.
Changes = dict[str, dict[str, dict[str, Any]]]
# Alert id -> (its channels' states, the hit it was read from, for a conditional update).
Updates = dict[str, tuple[dict[str, dict[str, Any]], Mapping[str, Any] | None]]


@dataclass(frozen=True)
class NotifyConfig:
    """Delivery knobs: per-attempt timeout, retry schedule, sweep period, concurrency."""

    timeout_seconds: float = 5.0
    max_attempts: int = 6
    retry: Backoff = field(default_factory=lambda: Backoff(base=5.0, cap=900.0))
    sweep_seconds: float = 5.0
    concurrency: int = 16
    batch: int = 64


class Notifier:
    """Runs the delivery channels of alerts and records each channel's state."""

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
        # Throttle windows of this process: (subscription id, channel) -> (window start, sent).
        self.sent: dict[Key, tuple[float, int]] = {}
        self._gate = asyncio.Semaphore(self.config.concurrency)
        self._backoff = Backoff()
        self._context = Context(http, self.config.timeout_seconds)

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
            [k for k, a in alerts.items() if (s := subs.get(a["subscription_id"])) and s.deliveries]
        )
        now = time.time()
        jobs: list[tuple[str, Subscription, str]] = []
        changes: Changes = {}
        for key in fresh:
            sub = subs[alerts[key]["subscription_id"]]
            for name in sub.deliveries:
                if admit(self.sent, (sub.id, name), sub.throttle, now):
                    jobs.append((key, sub, name))
                    continue
                assert sub.throttle is not None  # admit() refuses only with one
                due = window_start(now, sub.throttle) + sub.throttle.window_seconds
                folded = delivery("folded", _utc(now), attempts=0, next_attempt_at=_utc(due))
                changes.setdefault(key, {})[name] = folded
        outcomes = await asyncio.gather(
            *(self._deliver(sub, name, _payload(key, alerts[key])) for key, sub, name in jobs)
        )
        for (key, sub, name), outcome in zip(jobs, outcomes, strict=True):
            changes.setdefault(key, {})[name] = self._status(outcome, 1)
            self._log(key, sub, name, outcome, 1)
        # Unconditional: the notifier's word supersedes "pending"/"published" (the stage's
        # own update to "published" is conditional and loses a race with this one).
        await self._update({k: (v, None) for k, v in changes.items()})

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
        """Retry failed deliveries and send digests that are due; returns alerts handled."""
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
                        {"terms": {"delivery.status": list(WAITING)}},
                        {"range": {"delivery.next_attempt_at": {"lte": "now"}}},
                    ]
                }
            },
        )
        hits = response["hits"]["hits"]
        if not hits:
            return 0
        subs = await self.subscriptions.get()
        retries: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
        digests: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for hit in hits:
            for name, state in states(hit["_source"]).items():
                if state["status"] not in WAITING or state["next_attempt_at"] > es_time(now):
                    continue  # done, or another channel of the alert is the one due
                if state["status"] == "retrying":
                    retries.append((hit, name, state))
                else:
                    digests.setdefault((hit["_source"]["subscription_id"], name), []).append(hit)
        changes: Changes = {}
        await asyncio.gather(
            *(self._retry(hit, name, state, subs, changes) for hit, name, state in retries),
            *(self._digest(sid, name, group, subs, changes)
              for (sid, name), group in digests.items()),
        )  # fmt: skip
        by_id = {h["_id"]: h for h in hits}
        await self._update(
            {k: ({**states(by_id[k]["_source"]), **v}, by_id[k]) for k, v in changes.items()}
        )
        log.debug("delivery sweep", extra={"alerts": len(hits), "at": now.isoformat()})
        return len(hits)

    async def close(self) -> None:
        """Close the HTTP and Elasticsearch clients."""
        await self.http.aclose()
        await self.es.close()

    # --- helpers ------------------------------------------------------------------------------

    async def _retry(
        self,
        hit: dict[str, Any],
        name: str,
        state: Mapping[str, Any],
        subs: Mapping[str, Subscription],
        changes: Changes,
    ) -> None:
        doc = hit["_source"]
        attempts = int(state.get("attempts") or 0) + 1
        sub = subs.get(doc["subscription_id"])
        if sub is None or name not in sub.deliveries:
            outcome = Outcome(False, error="subscription or channel removed", permanent=True)
        else:
            outcome = await self._deliver(sub, name, _payload(hit["_id"], doc))
            self._log(hit["_id"], sub, name, outcome, attempts)
        changes.setdefault(hit["_id"], {})[name] = self._status(outcome, attempts)

    async def _digest(
        self,
        sid: str,
        name: str,
        group: list[dict[str, Any]],
        subs: Mapping[str, Subscription],
        changes: Changes,
    ) -> None:
        docs = [h["_source"] for h in group]
        attempts = max(int(states(d)[name].get("attempts") or 0) for d in docs) + 1
        sub = subs.get(sid)
        if sub is None or name not in sub.deliveries:
            outcome = Outcome(False, error="subscription or channel removed", permanent=True)
        else:
            ids = [h["_id"] for h in group]
            payload = {"text": digest_text(sid, docs), "subscription_id": sid, "alert_ids": ids}
            outcome = await self._deliver(sub, name, payload)
            self._log(f"{sid}:digest", sub, name, outcome, attempts)
        status = self._status(outcome, attempts)
        if outcome.ok:
            status["status"] = "digested"
        elif status["status"] == "retrying":
            status["status"] = "folded"  # the digest is retried as a digest
        for hit in group:
            changes.setdefault(hit["_id"], {})[name] = status

    async def _deliver(self, sub: Subscription, name: str, payload: dict[str, Any]) -> Outcome:
        deliver = registry.get(name).deliver
        assert deliver is not None  # sub.deliveries names delivery channels only
        async with self._gate:
            try:
                return await deliver(self._context, sub.channels[name], payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a channel's bug: recorded and retried, never fatal
                log.exception("channel failed", extra={"channel": name, "subscription_id": sub.id})
                return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300])

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
        """Record delivery states; conditional on the version read when there is one."""
        if not updates:
            return
        actions: dict[str, list[dict[str, Any]]] = {}
        for key, (by_channel, hit) in updates.items():
            action: dict[str, Any] = {"_index": self.names.alerts_index, "_id": key}
            if hit is not None:
                action["if_seq_no"] = hit["_seq_no"]
                action["if_primary_term"] = hit["_primary_term"]
            doc = {"delivery": summary(by_channel), "deliveries": by_channel}
            actions[key] = [{"update": action}, {"doc": doc}]
        await bulk(self.es, self._backoff, "delivery update", actions)

    def _log(self, key: str, sub: Subscription, name: str, outcome: Outcome, attempts: int) -> None:
        extra = {
            "stage": "alerts",
            "alert_id": key,
            "subscription_id": sub.id,
            "channel": name,
            "to": registry.get(name).shown(sub.channels[name]) or "-",
            "http_status": outcome.http_status,
            "attempt": attempts,
        }
        if outcome.ok:
            log.info("notification sent", extra=extra)
        else:
            log.warning("notification failed", extra={**extra, "why": outcome.error})


def _payload(key: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a channel gets for one alert: its text, id and fields (not its delivery states)."""
    alert = {k: v for k, v in doc.items() if k not in ("delivery", "deliveries")}
    return {"text": alert_text(alert), "alert_id": key, "alert": alert}


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


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
