"""Stage ``decode``: message bytes to a validated, cleaned article, or a reasoned rejection.

Consumes raw bytes (never a Faust codec) so that every decoding failure is ours to turn
into a dead letter instead of being acked before we see it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from newsflow.core.errors import InvalidArticle
from processors.stages.clean import clean_body, clean_title
from processors.stages.dedup import content_hash
from processors.stages.identity import article_id
from schemas.clean import CleanArticle
from schemas.raw import RawArticle

# Deeper producer metadata is not news; and every later hop (our codec, Elasticsearch's
# parser) has a nesting limit of its own, which a message must never reach.
MAX_JSON_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_json_value(obj: Any) -> None:
    """Refuse what parses but cannot travel on: raises :class:`InvalidArticle`.

    Python's JSON reader accepts lone surrogates (``"\\ud800"``), NaN and Infinity, and
    nesting to its recursion limit; none of them can be written out again as JSON.
    """
    stack = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                reason = "a string holds a lone surrogate (a \\ud800-\\udfff escape), not text"
                raise InvalidArticle("not_utf8", reason)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidArticle("not_json", "NaN and Infinity are not JSON numbers")
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidArticle("not_json", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((key, depth))
                stack.append((item, depth + 1))


def _schema_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def parse_raw(value: bytes | None, max_bytes: int) -> RawArticle:
    """Bytes to a :class:`RawArticle`; raises :class:`InvalidArticle` with a reason."""
    if not value:
        raise InvalidArticle("empty", "message has no value")
    if len(value) > max_bytes:
        raise InvalidArticle("oversize", f"message is {len(value)} bytes, limit {max_bytes}")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"value is not UTF-8 ({exc.reason} at byte {exc.start})"
        raise InvalidArticle("not_utf8", reason) from None
    try:
        obj: Any = json.loads(text)
    except RecursionError:
        raise InvalidArticle("not_json", "JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidArticle("not_json", f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(obj, dict):
        raise InvalidArticle("not_object", f"JSON value is {type(obj).__name__}, not an object")
    check_json_value(obj)
    try:
        return RawArticle.model_validate(obj)
    except ValidationError as exc:
        raise InvalidArticle("schema", _schema_reason(exc)) from None
    except RecursionError:
        raise InvalidArticle("schema", "value nested too deeply") from None


def clean_article(raw: RawArticle) -> CleanArticle:
    """Clean a raw article and give it its stable id; raises :class:`InvalidArticle`."""
    marker_date, body = clean_body(raw.body)
    published = raw.published_at or marker_date
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return CleanArticle(
        id=article_id(raw.id, raw.url, body),
        url=raw.url.strip() if raw.url else None,
        source=raw.source.strip() if raw.source and raw.source.strip() else None,
        title=clean_title(raw.title),
        body=body,
        published_at=published,
        language=raw.language.strip().lower() if raw.language else None,
        meta=raw.meta or {},
        content_hash=content_hash(body),
        replay_tag=raw.replay_tag,
        alerts_suppressed=bool(raw.alerts_suppressed),
    )


def decode(value: bytes | None, max_bytes: int) -> CleanArticle:
    """Message value to a clean article (parse, validate, clean); raises InvalidArticle."""
    return clean_article(parse_raw(value, max_bytes))
