"""Throttling: at most N notifications per fixed window, per subscription and channel (no I/O)."""

from __future__ import annotations

import math

from processors.alerting.subscription import Subscription, Throttle


def window_start(now: float, throttle: Throttle) -> float:
    """Start of the fixed throttle window holding ``now`` (aligned on the epoch)."""
    return math.floor(now / throttle.window_seconds) * throttle.window_seconds


def admit(sent: dict[str, tuple[float, int]], sub: Subscription, now: float) -> bool:
    """Whether one more notification of ``sub`` may go out now; counts it in ``sent``
    (subscription id -> (window start, notifications sent in it))."""
    if sub.throttle is None:
        return True
    start = window_start(now, sub.throttle)
    window, count = sent.get(sub.id, (start, 0))
    if window != start:
        count = 0
    if count >= sub.throttle.max:
        return False
    sent[sub.id] = (start, count + 1)
    return True
