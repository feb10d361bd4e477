"""The ``delivery`` object of an alert document: where the alert is in being delivered (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from processors.alerting.searches import es_time

DeliveryStatus = Literal[
    "pending",  # stored; not yet acknowledged on <ns>.alerts
    "published",  # on <ns>.alerts; no webhook, or the notifier has not seen it yet
    "sent",  # POSTed to the webhook
    "retrying",  # a POST failed; retried at next_attempt_at
    "folded",  # over the throttle; goes out in a digest at next_attempt_at
    "digested",  # went out in a digest
    "failed",  # gave up after the last attempt
]


def delivery(status: DeliveryStatus, now: datetime, **fields: Any) -> dict[str, Any]:
    """The ``delivery`` object of an alert document."""
    values = {k: (es_time(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    return {"status": status, "updated_at": es_time(now), **values}
