"""Backoff for transient failures: exponential, capped, with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays ``min(cap, base * 2**attempt)`` scaled by a random factor in [0.5, 1]."""

    base: float = 0.2
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        ceiling: float = min(self.cap, self.base * 2.0 ** min(attempt, 30))
        return ceiling * (0.5 + random.random() / 2)
