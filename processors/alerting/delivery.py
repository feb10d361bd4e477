"""Where an alert is in being delivered, on its document (no I/O).

``deliveries`` holds one state per delivery channel (``{"webhook": {...}, "log": {...}}``,
stored, not indexed); ``delivery`` sums them up, and is what is searched: the sweep finds
alerts whose ``delivery.status`` is ``retrying`` or ``folded`` and due. With one delivery
channel, ``delivery`` is that channel's state. Before any delivery, ``delivery`` is the
stage's ``pending`` or ``published``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from processors.alerting.searches import es_time

DeliveryStatus = Literal[
    "pending",  # stored; not yet acknowledged on <ns>.alerts
    "published",  # on <ns>.alerts; no delivery channel, or the notifier has not seen it yet
    "sent",  # delivered (the webhook answered 2xx)
    "retrying",  # a delivery failed; retried at next_attempt_at
    "folded",  # over the throttle; goes out in a digest at next_attempt_at
    "digested",  # went out in a digest
    "failed",  # gave up after the last attempt
]
# What the summary shows when channels differ: work still to do first, then failures.
_PRECEDENCE: tuple[DeliveryStatus, ...] = ("retrying", "folded", "failed", "sent", "digested")
WAITING = ("retrying", "folded")


def delivery(status: DeliveryStatus, now: datetime, **fields: Any) -> dict[str, Any]:
    """The ``delivery`` object of an alert document (or one channel's state)."""
    values = {k: (es_time(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    return {"status": status, "updated_at": es_time(now), **values}


def states(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Channel -> state of an alert document. One stored before channels had only the
    webhook's state, in ``delivery``."""
    found = doc.get("deliveries")
    if found:
        return dict(found)
    state = doc.get("delivery") or {}
    return {"webhook": dict(state)} if state.get("status") in WAITING else {}


def summary(by_channel: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The ``delivery`` object of states of several channels: the state of the one with the
    most still to do, due at the earliest of the waiting ones."""
    rank = {s: n for n, s in enumerate(_PRECEDENCE)}
    first = min(
        by_channel.values(), key=lambda s: (rank[s["status"]], s.get("next_attempt_at") or "")
    )
    out = dict(first)
    due = [s["next_attempt_at"] for s in by_channel.values() if s["status"] in WAITING]
    if due:
        out["next_attempt_at"] = min(due)
    return out
