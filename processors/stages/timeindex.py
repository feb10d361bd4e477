"""A time-slotted index of keys kept inside a key-value state, for bounded expiry.

Both the dedup and the story state must forget old entries without scanning the whole
table (a Faust table has no range scan). Entries are filed by time slot, one small key per
entry, so that adding an entry writes two small values (no list that grows and is rewritten
on every change, which would multiply the changelog volume):

``<p>lo`` -> lowest slot not yet expired (int); ``<p>n`` -> entries filed (int);
``<p><slot>`` -> entries in that slot (int); ``<p><slot>:<i>`` -> the i-th key filed there.

Expiry walks the slots from ``lo`` upwards; idle gaps cost one missed lookup per slot.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

State = MutableMapping[str, Any]


@dataclass(frozen=True)
class TimeIndex:
    """Keys filed by ``floor(t / slot_seconds)`` under the key prefix ``prefix``."""

    prefix: str
    slot_seconds: float

    def slot(self, t: float) -> int:
        """The slot of time ``t`` (seconds)."""
        return int(t // self.slot_seconds)

    def lowest(self, state: State) -> int | None:
        """The lowest slot that may still hold entries, or None when nothing was filed."""
        value = state.get(f"{self.prefix}lo")
        return None if value is None else int(value)

    def size(self, state: State) -> int:
        """How many entries are filed (stale ones included until their slot expires)."""
        return int(state.get(f"{self.prefix}n", 0))

    def add(self, state: State, key: str, t: float) -> int:
        """File ``key`` at time ``t``; returns its slot (never below an expired slot)."""
        lowest = self.lowest(state)
        slot = self.slot(t) if lowest is None else max(self.slot(t), lowest)
        if lowest is None:
            state[f"{self.prefix}lo"] = slot
        count = int(state.get(f"{self.prefix}{slot}", 0))
        state[f"{self.prefix}{slot}:{count}"] = key
        state[f"{self.prefix}{slot}"] = count + 1
        state[f"{self.prefix}n"] = self.size(state) + 1
        return slot

    def pop_next(self, state: State, last_slot: int) -> tuple[int, list[str]] | None:
        """Remove and return the lowest non-empty slot ``<= last_slot`` and its keys.

        ``lo`` advances past the slot, so later additions file at a live slot.
        """
        lowest = self.lowest(state)
        if lowest is None:
            return None
        for slot in range(lowest, last_slot + 1):
            count = state.pop(f"{self.prefix}{slot}", None)
            if count is None:
                continue
            keys = [state.pop(f"{self.prefix}{slot}:{i}") for i in range(int(count))]
            state[f"{self.prefix}lo"] = slot + 1
            state[f"{self.prefix}n"] = max(0, self.size(state) - len(keys))
            return slot, keys
        if last_slot + 1 > lowest:
            state[f"{self.prefix}lo"] = last_slot + 1
        return None
