"""Subscriptions: the model of a ``<ns>-subscriptions`` document, its throttle, and parsing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsflow.core.errors import ConfigError
from schemas.article import TopicSlug

# ':' separates the parts of an alert id, so it may not appear in a subscription id.
SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Throttle(BaseModel):
    """At most ``max`` webhook notifications per ``window_seconds``; the rest make a digest."""

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
    webhook: str | None = None
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

    @field_validator("webhook")
    @classmethod
    def _webhook_is_http(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL")
        return value

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


def mask_url(url: str | None) -> str:
    """A webhook URL without its path (Slack webhook paths are secrets): for logs and lists."""
    if not url:
        return "-"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else url
