"""Subscriptions: the model of a ``<ns>-subscriptions`` document, its throttle, and parsing.

A subscription names its channels with their options (``channels: {webhook: {url: …},
log: {}}``); every alert also lands in the record channels ``index`` and ``topic``. A
document stored before channels existed says ``webhook: URL``, which reads as the webhook
channel; so does ``--webhook URL``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsflow.core.errors import ConfigError
from processors.alerting import channels as registry
from schemas.article import TopicSlug

# ':' separates the parts of an alert id, so it may not appear in a subscription id.
SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Throttle(BaseModel):
    """At most ``max`` notifications per ``window_seconds`` and delivery channel; the rest make
    a digest."""

    model_config = ConfigDict(frozen=True)

    max: int = Field(ge=1, le=10_000)
    window_seconds: int = Field(ge=1, le=7 * 86400)


DEFAULT_THROTTLE = Throttle(max=10, window_seconds=600)


class Subscription(BaseModel):
    """A keyword alert subscription: a document of ``<ns>-subscriptions`` (``_id`` = ``id``).

    Filters: each list matches any of its values; the lists and the query must all match.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    query: str = Field(min_length=1)
    topics: list[TopicSlug] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    channels: dict[str, dict[str, str]] = Field(default_factory=dict)
    created_at: datetime
    backfill: bool = False
    per_story: bool = False
    throttle: Throttle | None = DEFAULT_THROTTLE

    @field_validator("id")
    @classmethod
    def _id_is_safe(cls, value: str) -> str:
        if not SUBSCRIPTION_ID.fullmatch(value):
            raise ValueError("letters, digits, '.', '_' and '-' only (at most 100), no ':'")
        return value

    @model_validator(mode="before")
    @classmethod
    def _webhook_is_a_channel(cls, data: Any) -> Any:
        # ``webhook: URL`` (stored before channels, or --webhook) is the webhook channel;
        # ``channels: [log]`` names channels without options.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        named = data.get("channels") or {}
        found = {n: {} for n in named} if isinstance(named, list) else dict(named)
        found = {n: o if o is not None else {} for n, o in found.items()}
        url = data.pop("webhook", None)
        if url is not None:
            found.setdefault("webhook", {"url": url})
        data["channels"] = found
        return data

    @field_validator("channels")
    @classmethod
    def _channels_are_registered(
        cls, value: dict[str, dict[str, str]]
    ) -> dict[str, dict[str, str]]:
        registry.validate(value)
        return value

    @property
    def deliveries(self) -> list[str]:
        """The delivery channels this subscription names, in order (the notifier's work)."""
        return [n for n in self.channels if not registry.get(n).record]

    @field_validator("created_at")
    @classmethod
    def _millisecond_utc(cls, value: datetime) -> datetime:
        # Elasticsearch dates keep milliseconds: store what the range filter will compare.
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def parse_throttle(text: str) -> Throttle | None:
    """``"10/10m"`` (N per duration, units s m h d) as a :class:`Throttle`; ``"none"`` is None."""
    if text.strip().lower() in {"none", "off", "0"}:
        return None
    count, _, period = text.partition("/")
    duration = _DURATION.fullmatch(period.strip())
    if not count.strip().isdigit() or duration is None:
        raise ConfigError(f"throttle {text!r}: expected N/DURATION such as 10/10m, or none")
    seconds = int(duration.group(1)) * _UNITS[duration.group(2)]
    try:
        return Throttle(max=int(count), window_seconds=seconds)
    except ValidationError as exc:
        raise ConfigError(f"throttle {text!r}: out of range ({exc.errors()[0]['msg']})") from None


def reason(exc: ValidationError) -> str:
    """The first error of ``exc`` in one line: ``channels: unknown channel 'slack' (…)``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "subscription"
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"
