"""What a namespace holds: counts and top facet values, from Elasticsearch aggregations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsflow.core.names import Names

FACETS = ("persons", "organizations", "locations", "topics", "source")


@dataclass
class Summary:
    """Document counts of a namespace and its most frequent facet values."""

    articles: int = 0
    duplicates: int = 0
    stories: int = 0
    dead_letters: int = 0
    alerts: int = 0
    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _count(es: Any, index: str, query: dict[str, Any] | None = None) -> int:
    if not es.indices.exists(index=index):
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index, query=query or {"match_all": {}})["count"])


def summarize(es: Any, names: Names, top: int = 5) -> Summary:
    """Counts and the ``top`` values of each facet (duplicates left out of the facets)."""
    summary = Summary(
        articles=_count(es, names.articles_index),
        duplicates=_count(es, names.articles_index, {"term": {"is_duplicate": True}}),
        dead_letters=_count(es, names.deadletter_index),
        alerts=_count(es, names.alerts_index),
    )
    if summary.articles == 0:
        return summary
    aggs: dict[str, Any] = {f: {"terms": {"field": f, "size": top}} for f in FACETS}
    aggs["stories"] = {"cardinality": {"field": "story_id"}}
    response = es.search(
        index=names.articles_index,
        size=0,
        query={"bool": {"must_not": {"term": {"is_duplicate": True}}}},
        aggs=aggs,
    )
    result = response["aggregations"]
    summary.stories = int(result["stories"]["value"])
    summary.top = {f: [(b["key"], b["doc_count"]) for b in result[f]["buckets"]] for f in FACETS}
    return summary


def render(summary: Summary) -> str:
    """The summary as a few readable lines."""
    lines = [
        f"articles           {summary.articles} ({summary.duplicates} flagged as duplicates)",
        f"stories            {summary.stories}",
        f"dead letters       {summary.dead_letters}",
        f"alerts             {summary.alerts}",
    ]
    for facet, values in summary.top.items():
        shown = ", ".join(f"{name} ({n})" for name, n in values) or "-"
        lines.append(f"top {facet:<15}{shown}")
    return "\n".join(lines)


# The query behind each count of :func:`summarize`, as a user can run it (percent-encoded).
_NOT_DUPLICATE = "q=NOT%20is_duplicate:true"
_STORIES_BODY = '{"aggs":{"stories":{"cardinality":{"field":"story_id"}}}}'


def sources(es_url: str, names: Names) -> list[tuple[str, str]]:
    """Each count of the summary with the one curl command that reads it from Elasticsearch."""
    base = es_url.rstrip("/")
    articles = f"{base}/{names.articles_index}"
    return [
        ("articles", f"curl -s '{articles}/_count'"),
        ("duplicates", f"curl -s '{articles}/_count?q=is_duplicate:true'"),
        (
            "stories",
            f"curl -s '{articles}/_search?size=0&{_NOT_DUPLICATE}' "
            f"-H 'Content-Type: application/json' -d '{_STORIES_BODY}'",
        ),
        ("dead letters", f"curl -s '{base}/{names.deadletter_index}/_count'"),
        ("alerts", f"curl -s '{base}/{names.alerts_index}/_count'"),
    ]


def render_sources(es_url: str, names: Names) -> str:
    """:func:`sources` as one line per count."""
    return "\n".join(f"  {what:<13}{command}" for what, command in sources(es_url, names))
