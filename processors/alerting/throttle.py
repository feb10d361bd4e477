"""Throttling: at most N notifications per fixed window, per subscription and channel (no I/O)."""

from __future__ import annotations

import math

from processors.alerting.subscription import Throttle

# What is throttled together: a subscription's notifications on one delivery channel.
Key = tuple[str, str]


def window_start(now: float, throttle: Throttle) -> float:
    """Start of the fixed throttle window holding ``now`` (aligned on the epoch)."""
    return math.floor(now / throttle.window_seconds) * throttle.window_seconds


def admit(
    sent: dict[Key, tuple[float, int]], key: Key, throttle: Throttle | None, now: float
) -> bool:
    """Whether one more notification of ``key`` (subscription id, channel) may go out now;
    counts it in ``sent`` (key -> (window start, notifications sent in it))."""
    if throttle is None:
        return True
    start = window_start(now, throttle)
    window, count = sent.get(key, (start, 0))
    if window != start:
        count = 0
    if count >= throttle.max:
        return False
    sent[key] = (start, count + 1)
    return True
