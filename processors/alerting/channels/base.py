"""What a channel is: a name, the options it requires, and, for a delivery, how to send.

Modelled on elastalert2's alerters (one module per channel, ``required_options`` checked
when a rule is loaded): a subscription names its channels with their options, and a name
that is not registered, or a required option that is missing, refuses the subscription.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

Options = Mapping[str, str]


@dataclass(frozen=True)
class Outcome:
    """What one delivery did: delivered or not, the HTTP status, why not, when to retry."""

    ok: bool
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False


@dataclass(frozen=True)
class Context:
    """What a delivery may use: the notifier's HTTP client and its per-request timeout."""

    http: httpx.AsyncClient
    timeout_seconds: float


# A delivery sends one payload: ``{"text", "alert_id", "alert"}`` for an alert,
# ``{"text", "subscription_id", "alert_ids"}`` for a digest of throttled ones.
Deliver = Callable[[Context, Options, dict[str, Any]], Awaitable[Outcome]]


def _valid(options: Options) -> None:
    """Any values will do."""


def _nothing_to_show(options: Options) -> str:
    return ""


@dataclass(frozen=True)
class Channel:
    """One channel. Without ``deliver`` it is a *record* channel: every alert lands there,
    written by the stage itself (``index``, ``topic``); with it, a *delivery* channel, run
    by the notifier with delivery status, retries, throttle and digests of its own."""

    name: str
    summary: str
    required_options: frozenset[str] = frozenset()
    optional_options: frozenset[str] = frozenset()
    deliver: Deliver | None = None
    # Raises ValueError with a one-line reason for a bad option value.
    check: Callable[[Options], None] = _valid
    # The options as lists and logs show them: secrets hidden.
    shown: Callable[[Options], str] = _nothing_to_show

    @property
    def record(self) -> bool:
        """Every alert lands here, whichever channels a subscription names."""
        return self.deliver is None

    def validate(self, options: Options) -> None:
        """Refuse ``options`` (``ValueError``, one line) that lack a required option, hold
        an unknown one, or a bad value."""
        missing = sorted(self.required_options - set(options))
        if missing:
            raise ValueError(f"channel {self.name!r} needs option {', '.join(missing)}")
        unknown = sorted(set(options) - self.required_options - self.optional_options)
        if unknown:
            known = sorted(self.required_options | self.optional_options)
            raise ValueError(
                f"channel {self.name!r} has no option {', '.join(unknown)} "
                f"(options: {', '.join(known) or 'none'})"
            )
        self.check(options)
