"""What a namespace holds: counts and top facet values, from Elasticsearch aggregations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsflow.names import Names

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
