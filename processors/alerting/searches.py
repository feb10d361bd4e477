"""The Elasticsearch request bodies of alert matching, backfill and catch-up (no I/O).

Matching runs on Elasticsearch's own query engine (no percolator in the distribution we can
run here; see ``docs/ALERTS.md``): after each bulk write the stage sends one ``_msearch`` whose
searches are restricted to the ids just indexed. Each search holds a chunk of subscriptions as
*named* clauses, so a hit's ``matched_queries`` says which subscriptions it matched; a second,
small ``_msearch`` fetches highlights for the matched pairs only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from processors.alerting.query import SEARCH_FIELDS, check_query
from processors.alerting.subscription import Subscription

# What Batch needs of an article: its words, filter values, ingestion time, story.
BATCH_SOURCE = ["title", "body", "topics", "source", "entities.name", "ingested_at", "story_id"]
# Enough of an article to build its alert (and order a story's articles).
ALERT_SOURCE = ["id", "title", "url", "source", "published_at", "ingested_at", "story_id"]
HIGHLIGHT = {
    "fields": {
        "title": {"number_of_fragments": 0},
        "body": {"fragment_size": 160, "number_of_fragments": 3},
    }
}
# Elasticsearch counts every leaf clause of one search against indices.query.bool.max_clause_count
# (4096 on a 512 MB heap); a chunk stays well under it.
CHUNK_MAX_SUBSCRIPTIONS = 200
CHUNK_MAX_WEIGHT = 1000


def string_query(query: str) -> dict[str, Any]:
    """The ``query_string`` clause of a subscription (the same in validation and matching)."""
    return {
        "query_string": {
            "query": query,
            "fields": list(SEARCH_FIELDS),
            "default_operator": "AND",
            "type": "cross_fields",
            "allow_leading_wildcard": False,
        }
    }


def es_time(value: datetime) -> str:
    """A datetime as Elasticsearch stores it (UTC, milliseconds)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def subscription_filters(sub: Subscription, *, since_created: bool = True) -> list[dict[str, Any]]:
    """Filter clauses of ``sub``: topics, entities, sources, and articles ingested after it."""
    filters: list[dict[str, Any]] = []
    for field, values in (("topics", sub.topics), ("entities.name", sub.entities)):
        if values:
            filters.append({"terms": {field: list(values)}})
    if sub.sources:
        filters.append({"terms": {"source": list(sub.sources)}})
    if since_created and not sub.backfill:
        filters.append({"range": {"ingested_at": {"gte": es_time(sub.created_at)}}})
    return filters


def subscription_query(
    sub: Subscription, ids: Sequence[str] | None = None, *, since_created: bool = True
) -> dict[str, Any]:
    """The whole query of ``sub``, optionally restricted to article ``ids``."""
    filters = subscription_filters(sub, since_created=since_created)
    if ids is not None:
        filters.insert(0, {"ids": {"values": list(ids)}})
    return {"bool": {"filter": filters, "must": [string_query(sub.query)]}}


@functools.lru_cache(maxsize=65536)
def _clauses(query: str) -> int:
    return check_query(query).clauses


def weight(sub: Subscription) -> int:
    """Rough leaf-clause count of ``sub`` in a search (each term is looked up in two fields)."""
    return 2 * _clauses(sub.query) + 6


def chunks(subs: Sequence[Subscription]) -> list[list[Subscription]]:
    """Subscriptions in chunks of bounded size and clause weight, one search each."""
    out: list[list[Subscription]] = []
    current: list[Subscription] = []
    load = 0
    for sub in subs:
        cost = weight(sub)
        if current and (len(current) >= CHUNK_MAX_SUBSCRIPTIONS or load + cost > CHUNK_MAX_WEIGHT):
            out.append(current)
            current, load = [], 0
        current.append(sub)
        load += cost
    if current:
        out.append(current)
    return out


def named_clause(sub: Subscription) -> dict[str, Any]:
    """``sub``'s query named after it, for :func:`match_search` (the same for every batch)."""
    return {"bool": {**subscription_query(sub)["bool"], "_name": sub.id}}


def match_search(named: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> dict[str, Any]:
    """One search: which of ``ids`` match which of the ``named`` clauses; a hit's
    ``matched_queries`` names its subscriptions. All in filter context: scores are never
    used, and building them costs a third of the search."""
    return {
        "size": len(ids),
        "_source": False,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [
                    {"ids": {"values": list(ids)}},
                    {"bool": {"should": list(named), "minimum_should_match": 1}},
                ]
            }
        },
    }


def detail_search(sub: Subscription, ids: Sequence[str]) -> dict[str, Any]:
    """The matched articles of ``sub`` among ``ids`` with what an alert needs and highlights."""
    return {
        "size": len(ids),
        "_source": ALERT_SOURCE,
        "track_total_hits": False,
        "query": subscription_query(sub, ids),
        "highlight": HIGHLIGHT,
    }


_NOT_A_COPY = {"term": {"is_duplicate": True}}
# Articles of a ``newsflow replay --no-alerts``: never a match, however they are reached.
_SUPPRESSED = {"term": {"alerts_suppressed": True}}
_OLDEST_FIRST = [{"ingested_at": "asc"}, {"id": "asc"}]


def backfill_search(sub: Subscription, size: int) -> dict[str, Any]:
    """Every indexed non-duplicate article ``sub`` matches, oldest first (search_after pages)."""
    query = subscription_query(sub, since_created=False)
    query["bool"]["must_not"] = [_NOT_A_COPY, _SUPPRESSED]
    return {
        "size": size,
        "_source": ALERT_SOURCE,
        "query": query,
        "highlight": HIGHLIGHT,
        "sort": _OLDEST_FIRST,
    }


def recent_search(since: datetime, size: int) -> dict[str, Any]:
    """Non-duplicate articles ingested since ``since``, oldest first, with what
    :class:`Batch` and alert ids need (search_after pages)."""
    return {
        "size": size,
        "_source": BATCH_SOURCE,
        "query": {
            "bool": {
                "filter": [{"range": {"ingested_at": {"gte": es_time(since)}}}],
                "must_not": [_NOT_A_COPY, _SUPPRESSED],
            }
        },
        "sort": _OLDEST_FIRST,
    }


def msearch_body(searches: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``_msearch`` lines for searches on the default index of the request."""
    body: list[dict[str, Any]] = []
    for search in searches:
        body += [{}, search]
    return body
