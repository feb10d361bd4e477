"""Elasticsearch request bodies of the live page: pure functions of the page's parameters.

Nothing here does I/O. :func:`parse_params` turns the query string of any ``/api/...``
request into a :class:`PageQuery`; the ``*_search`` functions turn that into request bodies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Sort = Literal["newest", "relevance"]


@dataclass(frozen=True)
class Facet:
    """A filterable keyword field: its query parameter, document field and heading."""

    param: str
    field: str
    label: str


# The facets of the page, in display order (the contract's keyword arrays and ``source``).
FACETS: tuple[Facet, ...] = (
    Facet("topic", "topics", "Topics"),
    Facet("person", "persons", "Persons"),
    Facet("organization", "organizations", "Organizations"),
    Facet("location", "locations", "Locations"),
    Facet("source", "source", "Sources"),
)
# Filters that are not facets: a story (from the "story of N" badge on an article).
EXTRA_FILTERS: dict[str, str] = {"story": "story_id"}
FILTER_FIELDS: dict[str, str] = {f.param: f.field for f in FACETS} | EXTRA_FILTERS

DEFAULT_SIZE = 50
MAX_SIZE = 200
MAX_QUERY_CHARS = 500
MAX_FILTERS = 20
FACET_SIZE = 12
STREAM_BATCH = 100
COPIES_SHOWN = 50  # copies listed under an original (its count is exact regardless)

# What the live stream follows: when each version of a document was made. Not ingested_at,
# which a replay keeps from the first time the article was seen (it may be far in the past).
STREAM_FIELD = "processed_at"
# Only what a card shows; never the body (it can be 200,000 characters).
LIST_FIELDS = (
    "id",
    "url",
    "source",
    "title",
    "published_at",
    "ingested_at",
    STREAM_FIELD,
    "persons",
    "organizations",
    "locations",
    "topics",
    "is_duplicate",
    "duplicate_of",
    "story_id",
)
COPY_FIELDS = ("id", "url", "source", "title", "published_at", "ingested_at", "duplicate_of")
ALERT_FIELDS = (
    "subscription_id",
    "article_id",
    "title",
    "url",
    "source",
    "published_at",
    "matched_at",
    "highlights",
)
LEAD_CHARS = 180  # the body's opening shown on a card when the search does not match it


class InvalidParams(ValueError):
    """A query-string parameter of the page's API is malformed (an HTTP 400)."""


@dataclass(frozen=True)
class PageQuery:
    """What the page asks for: a full-text search, term filters, size, sort and a cursor."""

    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (parameter, value), in the order given
    size: int = DEFAULT_SIZE
    sort: Sort = "newest"
    since: datetime | None = None
    alerts_since: datetime | None = None

    def filter_terms(self) -> list[tuple[str, str]]:
        """The filters as (document field, value) pairs."""
        return [(FILTER_FIELDS[param], value) for param, value in self.filters]


def _parse_time(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParams(f"{name}: not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise InvalidParams(f"{name}: needs a time zone: {value[:40]!r}")
    return moment


def _parse_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise InvalidParams(f"size: not a number: {value[:20]!r}") from None
    if not 1 <= size <= MAX_SIZE:
        raise InvalidParams(f"size: must be between 1 and {MAX_SIZE}")
    return size


def parse_params(pairs: Iterable[tuple[str, str]]) -> PageQuery:
    """Read a :class:`PageQuery` from query-string pairs (a parameter may repeat).

    >>> parse_params([("q", "port strike"), ("topic", "labour"), ("topic", "economy")]).filters
    (('topic', 'labour'), ('topic', 'economy'))
    """
    q, size, sort = "", DEFAULT_SIZE, "newest"
    since: datetime | None = None
    alerts_since: datetime | None = None
    filters: list[tuple[str, str]] = []
    for name, raw in pairs:
        value = raw.strip()
        if name == "q":
            if len(value) > MAX_QUERY_CHARS:
                raise InvalidParams(f"q: longer than {MAX_QUERY_CHARS} characters")
            q = value
        elif name == "size":
            size = _parse_size(value)
        elif name == "sort":
            if value not in ("newest", "relevance"):
                raise InvalidParams("sort: 'newest' or 'relevance'")
            sort = value
        elif name == "since":
            since = _parse_time(name, value)
        elif name == "alerts_since":
            alerts_since = _parse_time(name, value)
        elif name in FILTER_FIELDS and value and (name, value) not in filters:
            filters.append((name, value))
        # Any other parameter (a cache buster, say) is ignored, not refused.
    if len(filters) > MAX_FILTERS:
        raise InvalidParams(f"at most {MAX_FILTERS} filters")
    return PageQuery(
        q=q,
        filters=tuple(filters),
        size=size,
        sort=sort,  # type: ignore[arg-type]
        since=since,
        alerts_since=alerts_since,
    )


def text_query(q: str) -> dict[str, Any]:
    """Full-text search over title and body, as a user types it (never a syntax error)."""
    return {
        "simple_query_string": {
            "query": q,
            "fields": ["title^2", "body"],
            "default_operator": "and",
        }
    }


def matching(query: PageQuery, *, originals_only: bool = True) -> dict[str, Any]:
    """The bool query of the page's search and filters (duplicates left out by default)."""
    clauses: dict[str, Any] = {
        "filter": [{"term": {field_: value}} for field_, value in query.filter_terms()]
    }
    if query.q:
        clauses["must"] = [text_query(query.q)]
    if originals_only:
        clauses["must_not"] = [{"term": {"is_duplicate": True}}]
    return {"bool": clauses}


def highlight(*, searching: bool) -> dict[str, Any]:
    """Highlights as safe HTML (``encoder: html``): ``<mark>`` around matches, the rest escaped.

    The body always yields a fragment: its opening lines when nothing in it matches.
    """
    fields: dict[str, Any] = {
        "body": {
            "number_of_fragments": 2 if searching else 1,
            "fragment_size": LEAD_CHARS,
            "no_match_size": LEAD_CHARS,
            "order": "score" if searching else "none",
        }
    }
    if searching:
        fields["title"] = {"number_of_fragments": 0}
    return {"encoder": "html", "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "fields": fields}


def sort_order(sort: Sort) -> list[Any]:
    """Newest indexed first, or best match first (then newest)."""
    newest = [
        {"ingested_at": {"order": "desc", "unmapped_type": "date"}},
        {"id": {"order": "asc", "unmapped_type": "keyword"}},
    ]
    return newest if sort == "newest" else ["_score", *newest]


def articles_search(query: PageQuery) -> dict[str, Any]:
    """The list: original articles matching the page, with highlights and the newest time."""
    return {
        "query": matching(query),
        "size": query.size,
        "sort": sort_order(query.sort if query.q else "newest"),
        "track_total_hits": True,
        "_source": list(LIST_FIELDS),
        "highlight": highlight(searching=bool(query.q)),
        "aggs": {"newest": {"max": {"field": STREAM_FIELD}}},
    }


def folding_search(article_ids: Sequence[str], story_ids: Sequence[str]) -> dict[str, Any] | None:
    """Copies of the given originals (``duplicate_of``) and sizes of their stories, or None.

    A story's size counts its original articles; its copies are counted under each original.
    """
    if not article_ids and not story_ids:
        return None
    ids, stories = sorted(set(article_ids)), sorted(set(story_ids))
    should: list[dict[str, Any]] = []
    aggs: dict[str, Any] = {}
    if ids:
        should.append({"terms": {"duplicate_of": ids}})
        aggs["copies"] = {
            "filter": {"terms": {"duplicate_of": ids}},
            "aggs": {
                "of": {
                    "terms": {"field": "duplicate_of", "size": len(ids)},
                    "aggs": {
                        "first": {
                            "top_hits": {
                                "size": COPIES_SHOWN,
                                "sort": [{"ingested_at": {"order": "asc"}}],
                                "_source": list(COPY_FIELDS),
                            }
                        }
                    },
                }
            },
        }
    if stories:
        should.append({"terms": {"story_id": stories}})
        aggs["stories"] = {
            "filter": {
                "bool": {
                    "filter": [{"terms": {"story_id": stories}}],
                    "must_not": [{"term": {"is_duplicate": True}}],
                }
            },
            "aggs": {"of": {"terms": {"field": "story_id", "size": len(stories)}}},
        }
    return {
        "size": 0,
        "query": {"bool": {"should": should, "minimum_should_match": 1}},
        "aggs": aggs,
    }


def facets_search(query: PageQuery, size: int = FACET_SIZE) -> dict[str, Any]:
    """Counts of the top values of every facet among the articles the page shows."""
    return {
        "query": matching(query),
        "size": 0,
        "track_total_hits": True,
        "aggs": {f.param: {"terms": {"field": f.field, "size": size}} for f in FACETS},
    }


def alerts_search(size: int = DEFAULT_SIZE) -> dict[str, Any]:
    """The newest alerts first."""
    return {
        "query": {"match_all": {}},
        "size": size,
        "sort": [{"matched_at": {"order": "desc", "unmapped_type": "date"}}],
        "track_total_hits": True,
        "_source": list(ALERT_FIELDS),
    }


def newest_search(time_field: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The newest value of ``time_field`` (where a stream starts when the page gave none)."""
    return {
        "query": query or {"match_all": {}},
        "size": 0,
        "aggs": {"newest": {"max": {"field": time_field}}},
    }


def since_search(
    base: dict[str, Any],
    time_field: str,
    bound: datetime | None,
    seen: Iterable[str],
    source: Sequence[str],
    size: int = STREAM_BATCH,
) -> dict[str, Any]:
    """Documents of ``base`` at or after ``bound`` not yet ``seen``, oldest first.

    Leaving the seen ids out in the query (not after it) guarantees progress: however many
    documents share a time, each poll returns only new ones.
    """
    clauses: dict[str, Any] = {"filter": [base]}
    if bound is not None:
        clauses["filter"].append({"range": {time_field: {"gte": bound.isoformat()}}})
    seen_ids = sorted(seen)
    if seen_ids:
        clauses["must_not"] = [{"ids": {"values": seen_ids}}]
    return {
        "query": {"bool": clauses},
        "size": size,
        "sort": [{time_field: {"order": "asc", "unmapped_type": "date"}}, "_doc"],
        "_source": list(source),
    }


def stream_articles_search(
    query: PageQuery, bound: datetime | None, seen: Iterable[str]
) -> dict[str, Any]:
    """New articles of the page, copies included (they fold under their originals)."""
    return {
        **since_search(
            matching(query, originals_only=False), STREAM_FIELD, bound, seen, LIST_FIELDS
        ),
        "highlight": highlight(searching=bool(query.q)),
    }


def stream_alerts_search(bound: datetime | None, seen: Iterable[str]) -> dict[str, Any]:
    """New alerts."""
    return since_search({"match_all": {}}, "matched_at", bound, seen, ALERT_FIELDS)


def lookback_bound(cursor: datetime | None, lookback: timedelta) -> datetime | None:
    """Where the next poll starts: a little before the newest time seen.

    Documents become searchable out of ``processed_at`` order (bulk batches, refreshes, several
    workers), so a poll looks back ``lookback`` and leaves out what it already sent.
    """
    return None if cursor is None else cursor - lookback
