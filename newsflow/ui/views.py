"""Elasticsearch responses shaped for the page: pure functions, safe to render.

Every string meant to be inserted as HTML (the ``highlight`` fields) is escaped here, but for
``<mark>`` tags; every other string is plain text for the page to insert as text. Links are
kept only when they are http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsflow.ui.queries import FACETS, PageQuery

KEYWORD_LISTS = ("topics", "persons", "organizations", "locations")
_MARK = re.compile(r"&lt;(/?)(?:em|mark|b|strong)&gt;", re.IGNORECASE)


def safe_url(url: Any) -> str | None:
    """``url`` when it is an http(s) link, else None (no ``javascript:`` in an href)."""
    if not isinstance(url, str):
        return None
    lowered = url.strip().lower()
    return url.strip() if lowered.startswith(("http://", "https://")) else None


def sanitize_fragment(fragment: str) -> str:
    """A highlight fragment from elsewhere as safe HTML: escaped, emphasis kept as ``<mark>``.

    >>> sanitize_fragment('<em>Port</em> <script>x</script>')
    '<mark>Port</mark> &lt;script&gt;x&lt;/script&gt;'
    """
    return _MARK.sub(r"<\1mark>", html.escape(fragment, quote=True))


def parse_time(value: Any) -> datetime | None:
    """An Elasticsearch date string (or epoch milliseconds) as an aware datetime, else None."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def copy_view(hit: Mapping[str, Any]) -> dict[str, Any]:
    """A copy (near-duplicate) as listed under its original: what says where it ran."""
    source: Mapping[str, Any] = hit.get("_source") or {}
    return {
        "id": source.get("id") or hit.get("_id"),
        "title": source.get("title"),
        "url": safe_url(source.get("url")),
        "source": source.get("source"),
        "published_at": source.get("published_at"),
        "ingested_at": source.get("ingested_at"),
        "processed_at": source.get("processed_at"),
        "duplicate_of": source.get("duplicate_of"),
    }


def article_view(hit: Mapping[str, Any]) -> dict[str, Any]:
    """One article card: a copy's fields, its entities, topics, story and highlights (HTML)."""
    source: Mapping[str, Any] = hit.get("_source") or {}
    marks: Mapping[str, Any] = hit.get("highlight") or {}
    title_marks = _strings(marks.get("title"))
    return {
        **copy_view(hit),
        **{name: _strings(source.get(name)) for name in KEYWORD_LISTS},
        "story_id": source.get("story_id"),
        "is_duplicate": bool(source.get("is_duplicate")),
        "highlight": {
            "title": title_marks[0] if title_marks else None,
            "body": _strings(marks.get("body")),
        },
    }


def alert_view(hit: Mapping[str, Any]) -> dict[str, Any]:
    """One alert, with its highlights sanitized (they come from another stage)."""
    source: Mapping[str, Any] = hit.get("_source") or {}
    raw = source.get("highlights")
    highlights: dict[str, list[str]] = {}
    if isinstance(raw, Mapping):
        for name, fragments in raw.items():
            highlights[str(name)] = [sanitize_fragment(f) for f in _strings(fragments)]
    return {
        "id": hit.get("_id"),
        "subscription_id": source.get("subscription_id"),
        "article_id": source.get("article_id"),
        "title": source.get("title"),
        "url": safe_url(source.get("url")),
        "source": source.get("source"),
        "published_at": source.get("published_at"),
        "matched_at": source.get("matched_at"),
        "highlights": highlights,
    }


def hits(response: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The hits of a search response (none for a missing response)."""
    if not response:
        return []
    return list(response.get("hits", {}).get("hits", []))


def total(response: Mapping[str, Any] | None) -> int:
    """The total hit count of a search response."""
    if not response:
        return 0
    value = response.get("hits", {}).get("total", 0)
    return int(value.get("value", 0) if isinstance(value, Mapping) else value)


def newest(response: Mapping[str, Any] | None) -> str | None:
    """The ``newest`` max aggregation as an ISO string (the page's stream cursor), or None."""
    if not response:
        return None
    agg = response.get("aggregations", {}).get("newest", {})
    text = agg.get("value_as_string")
    if isinstance(text, str):
        return text
    moment = parse_time(agg.get("value"))
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class Folding:
    """What a folding search found: copies listed per original, their counts, story sizes."""

    copies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    story_sizes: dict[str, int] = field(default_factory=dict)


def folding(response: Mapping[str, Any] | None) -> Folding:
    """Read a :func:`~newsflow.ui.queries.folding_search` response."""
    found = Folding()
    aggs: Mapping[str, Any] = (response or {}).get("aggregations", {})
    for bucket in aggs.get("copies", {}).get("of", {}).get("buckets", []):
        key = str(bucket["key"])
        found.counts[key] = int(bucket["doc_count"])
        found.copies[key] = [copy_view(h) for h in bucket["first"]["hits"]["hits"]]
    for bucket in aggs.get("stories", {}).get("of", {}).get("buckets", []):
        found.story_sizes[str(bucket["key"])] = int(bucket["doc_count"])
    return found


def fold(articles: Iterable[dict[str, Any]], found: Folding) -> list[dict[str, Any]]:
    """Attach to each original its copies (``copies``, ``copy_count``) and ``story_size``."""
    folded = []
    for article in articles:
        story = article.get("story_id")
        folded.append(
            {
                **article,
                "copies": found.copies.get(article["id"], []),
                "copy_count": found.counts.get(article["id"], 0),
                "story_size": found.story_sizes.get(story, 0) if story else 0,
            }
        )
    return folded


def articles_page(
    query: PageQuery, response: Mapping[str, Any], folding_response: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``/api/articles`` payload: folded originals, total, stream cursor, echo of filters."""
    articles = [article_view(h) for h in hits(response)]
    return {
        "total": total(response),
        "articles": fold(articles, folding(folding_response)),
        "cursor": newest(response),
        "q": query.q,
        "filters": [{"param": p, "value": v} for p, v in query.filters],
    }


def facets_view(response: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/api/facets`` payload: each facet's values and counts, in display order."""
    aggs: Mapping[str, Any] = response.get("aggregations", {})
    facets = []
    for facet in FACETS:
        buckets = aggs.get(facet.param, {}).get("buckets", [])
        facets.append(
            {
                "param": facet.param,
                "label": facet.label,
                "values": [{"value": str(b["key"]), "count": int(b["doc_count"])} for b in buckets],
            }
        )
    return {"total": total(response), "facets": facets}


def alerts_page(response: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``/api/alerts`` payload; ``exists`` is False while the alerts index is missing.

    ``response`` comes from a search with ``ignore_unavailable``: a missing index answers
    with no shard at all.
    """
    alerts = [alert_view(h) for h in hits(response)]
    shards = (response or {}).get("_shards", {}).get("total", 0)
    return {
        "exists": bool(shards),
        "total": total(response),
        "alerts": alerts,
        "cursor": alerts[0]["matched_at"] if alerts else None,
    }
