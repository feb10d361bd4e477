"""RSS and Atom feeds, the pure part: config, parsing, item → raw article, backoff schedule.

No I/O here but reading the config file: :mod:`producers.feeds_cli` fetches, schedules and
publishes; :mod:`producers.feedstate` remembers what was published.

Identity of an item (it becomes the article id, so a restart or a second feed carrying the
same link publishes the same document):

* a guid that is an ``http(s)`` URL, or no guid: the item's link (the pipeline derives the id
  from the normalized URL, so tracking parameters and ``www.`` do not matter);
* any other URI guid (``tag:``, ``urn:uuid:``): the guid itself, globally unique by design;
* a bare guid (``1234``), unique only within its channel: ``<feed url>#<guid>``.
"""

from __future__ import annotations

import re
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from newsflow.core.errors import ConfigError, InvalidArticle, PipelineError
from processors.stages.decode import clean_article
from processors.stages.identity import article_id, normalize_url
from schemas.raw import RawArticle

DEFAULT_INTERVAL = 900.0
MAX_BACKOFF = 3600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "h": 3600}
_URI_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S")


class FeedError(PipelineError):
    """A feed could not be fetched or read this time; the feed is retried with backoff.

    ``retry_after`` is the server's own wish (429/503 ``Retry-After``), when it said one.
    """

    def __init__(
        self, reason: str, retry_after: float | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.http_status = http_status


def parse_duration(value: Any) -> Any:
    """``90``, ``"90s"``, ``"15m"`` or ``"1h"`` to seconds; other values are left to pydantic."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError("a duration is seconds, or a number followed by s, m or h")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration)]


def _http_url(value: Any) -> Any:
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("an http:// or https:// URL is needed")
        return value.strip()
    return value


class FeedConfig(BaseModel):
    """One feed of ``feeds.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"\S", description="Log label.")
    url: Annotated[str, BeforeValidator(_http_url)] = Field(description="Feed URL.")
    interval: Seconds = Field(DEFAULT_INTERVAL, ge=1, le=7 * 86400, description="Poll period.")
    source: str | None = Field(None, max_length=512, description="`source` of its articles.")
    full_text: bool = Field(False, description="Fetch each new item's page for its text.")


class FeedsConfig(BaseModel):
    """A whole ``feeds.yaml``: the feeds and the politeness settings shared by all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feeds: list[FeedConfig] = Field(min_length=1)
    concurrency: int = Field(4, ge=1, le=64, description="Fetches in flight at most.")
    timeout: Seconds = Field(20.0, gt=0, le=300, description="Seconds per fetch, in all.")
    user_agent: str | None = Field(None, min_length=1, description="Replaces the default.")

    @model_validator(mode="after")
    def _unique(self) -> FeedsConfig:
        for attr in ("name", "url"):
            values = [getattr(feed, attr) for feed in self.feeds]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"feed {attr}s must be unique; repeated: {', '.join(repeated)}")
        return self


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    return f"{where.lstrip('.') or 'file'}: {first['msg']}"


def load_config(path: Path) -> FeedsConfig:
    """Read and validate ``feeds.yaml``; any problem is one line in a :class:`ConfigError`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'feeds' list")
    try:
        return FeedsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_error(exc)}") from None


def config_from_urls(urls: list[str], **options: Any) -> FeedsConfig:
    """A config for feeds given on the command line, each named after its host and path.

    ``options`` are :class:`FeedsConfig` fields, and ``feed``: fields given to every feed.
    """
    per_feed = options.pop("feed", {})
    feeds = []
    for url in urls:
        parts = urlsplit(url)
        name = f"{parts.netloc or url}{parts.path}".rstrip("/")
        feeds.append({"name": name[:100], "url": url, **per_feed})
    try:
        return FeedsConfig.model_validate({"feeds": feeds, **options})
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, with its identity resolved (see the module docstring)."""

    guid: str | None
    id: str | None
    url: str | None
    title: str | None
    body: str
    published_at: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its title, format (``rss20``, ``rss10``, ``atom10``...) and items.

    ``warning`` says why the feed was not well-formed when items could still be recovered.
    """

    title: str | None
    version: str
    items: list[FeedItem]
    warning: str | None = None


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document; raises :class:`FeedError` when it is not a usable feed."""
    import feedparser

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(content, response_headers=headers)
    problem = parsed.get("bozo_exception")
    # Only XML syntax errors matter: encoding overrides and content types are cosmetic.
    malformed = _sax_reason(problem) if isinstance(problem, xml.sax.SAXException) else None
    if not parsed.version:
        raise FeedError(_not_a_feed(content, content_type, malformed))
    if malformed and not parsed.entries:
        raise FeedError(f"malformed feed ({malformed}), no items")
    items = [entry_item(entry, url) for entry in parsed.entries]
    warning = f"malformed feed ({malformed}); {len(items)} items recovered" if malformed else None
    return ParsedFeed(parsed.feed.get("title"), parsed.version, items, warning)


def _sax_reason(exc: xml.sax.SAXException) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}"
    return str(exc.getMessage())


def _not_a_feed(content: bytes, content_type: str | None, malformed: str | None) -> str:
    head = content[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return f"not a feed: an HTML page ({content_type or 'no content type'})"
    if malformed:
        return f"not a feed: malformed XML ({malformed})"
    return f"not a feed: no RSS or Atom found ({content_type or 'no content type'})"


def entry_item(entry: Mapping[str, Any], feed_url: str) -> FeedItem:
    """A feedparser entry as a :class:`FeedItem`: identity, link, title, body, date."""
    guid = (entry.get("id") or "").strip() or None
    link = (entry.get("link") or "").strip() or None
    item_id: str | None = None
    if guid and not _is_http(guid):
        item_id = guid if _URI_SCHEME.match(guid) else f"{feed_url}#{guid}"
    url = link or (guid if guid and _is_http(guid) else None)
    return FeedItem(
        guid=guid,
        id=item_id,
        url=url,
        title=(entry.get("title") or "").strip() or None,
        body=_entry_body(entry),
        published_at=_entry_time(entry),
    )


def _is_http(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _entry_body(entry: Mapping[str, Any]) -> str:
    # Full content (Atom <content>, RSS content:encoded) beats the summary when there is one.
    contents = [c.get("value") or "" for c in entry.get("content") or []]
    best = max(contents, key=len, default="")
    return (best or entry.get("summary") or "").strip()


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    # feedparser normalizes every date format it knows to a UTC struct_time.
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


# --- items to articles ---------------------------------------------------------------------


def item_key(item: FeedItem) -> str | None:
    """The article id the item will have, computed before any full-text fetch.

    ``None`` when the id derives from the content and there is no usable content.
    """
    if item.id or (item.url and normalize_url(item.url)):
        return article_id(item.id, item.url, "")
    if not item.body:
        return None
    try:
        return clean_article(RawArticle.model_validate({"body": item.body})).id
    except InvalidArticle:
        return None


def to_raw_article(
    item: FeedItem, feed: FeedConfig, source: str, body: str | None = None
) -> RawArticle | None:
    """The raw article of an item (``body`` replaces the feed's text); None without a body."""
    text = body if body and body.strip() else item.body
    if not text:
        return None
    return RawArticle.model_validate(
        {
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "body": text,
            "published_at": item.published_at,
            "source": source,
            "meta": {"feed": feed.name, "guid": item.guid},
        }
    )


def source_label(feed: FeedConfig, parsed: ParsedFeed) -> str:
    """The ``source`` of a feed's articles: its configured label, else the feed's own title."""
    return feed.source or (parsed.title or "").strip() or feed.name


# --- schedule ------------------------------------------------------------------------------


def next_delay(
    interval: float,
    failures: int,
    retry_after: float | None = None,
    cap: float = MAX_BACKOFF,
) -> float:
    """Seconds until a feed's next poll after ``failures`` consecutive failed polls.

    ``interval`` while all is well; then ``interval * 2**failures``, at most ``cap`` (or the
    interval, if longer); never sooner than the server's ``Retry-After``.
    """
    if failures <= 0:
        delay = interval
    else:
        delay = min(max(cap, interval), interval * 2 ** min(failures, 30))
    return max(delay, retry_after or 0.0)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (seconds or an HTTP date), at most a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), 86400.0)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), 86400.0)
