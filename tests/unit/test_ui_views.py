"""Shaping Elasticsearch answers for the live page: folding, facets, alerts, safe HTML."""

from __future__ import annotations

from typing import Any

import pytest

from newsflow.ui import views
from newsflow.ui.queries import FACETS, PageQuery


def _hit(doc_id: str, **source: Any) -> dict[str, Any]:
    return {"_id": doc_id, "_source": {"id": doc_id, **source}}


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/a", "https://example.org/a"),
        (" HTTP://example.org/b ", "HTTP://example.org/b"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("//example.org", None),
        (None, None),
        (42, None),
    ],
)
def test_only_http_links_are_kept(url: Any, safe: str | None) -> None:
    assert views.safe_url(url) == safe


def test_fragments_from_elsewhere_keep_emphasis_and_nothing_else() -> None:
    fragment = '<em>Storm</em> "Greer" <img src=x onerror=alert(1)> <MARK>hit</MARK> & co'
    assert views.sanitize_fragment(fragment) == (
        "<mark>Storm</mark> &quot;Greer&quot; &lt;img src=x onerror=alert(1)&gt; "
        "<mark>hit</mark> &amp; co"
    )


def test_article_view_keeps_card_fields_and_highlights() -> None:
    hit = _hit(
        "a1",
        title="Port strike",
        url="javascript:void(0)",
        topics=["labour"],
        persons=["Inés Montaván"],
        locations="Spain",
        story_id="st-1",
        ingested_at="2026-11-23T14:00:44.766061Z",
    )
    hit["highlight"] = {"title": ["<mark>Port</mark> strike"], "body": ["a", "b"]}
    card = views.article_view(hit)
    assert card["id"] == "a1" and card["url"] is None
    assert card["topics"] == ["labour"] and card["locations"] == ["Spain"]
    assert card["organizations"] == [] and card["is_duplicate"] is False
    assert card["highlight"] == {"title": "<mark>Port</mark> strike", "body": ["a", "b"]}
    assert views.article_view(_hit("a2"))["highlight"] == {"title": None, "body": []}


def _folding_response() -> dict[str, Any]:
    copy = _hit("c1", duplicate_of="a1", source="Wire", title="Port strike (copy)")
    return {
        "aggregations": {
            "copies": {
                "of": {
                    "buckets": [{"key": "a1", "doc_count": 3, "first": {"hits": {"hits": [copy]}}}]
                }
            },
            "stories": {"of": {"buckets": [{"key": "st-1", "doc_count": 4}]}},
        }
    }


def test_copies_fold_under_their_original_and_stories_are_sized() -> None:
    found = views.folding(_folding_response())
    assert found.counts == {"a1": 3}
    assert [c["id"] for c in found.copies["a1"]] == ["c1"]
    assert found.copies["a1"][0]["source"] == "Wire"
    assert found.story_sizes == {"st-1": 4}
    articles = [{"id": "a1", "story_id": "st-1"}, {"id": "a2", "story_id": None}]
    first, second = views.fold(articles, found)
    assert (first["copy_count"], first["story_size"], len(first["copies"])) == (3, 4, 1)
    assert (second["copy_count"], second["story_size"], second["copies"]) == (0, 0, [])
    assert views.folding(None) == views.Folding()


def test_articles_page_has_total_cursor_and_echoes_filters() -> None:
    response = {
        "hits": {"total": {"value": 7}, "hits": [_hit("a1", story_id="st-1")]},
        "aggregations": {
            "newest": {"value": 1.7e12, "value_as_string": "2023-11-14T22:13:20.000Z"}
        },
    }
    query = PageQuery(q="port", filters=(("topic", "labour"),))
    page = views.articles_page(query, response, _folding_response())
    assert page["total"] == 7
    assert page["cursor"] == "2023-11-14T22:13:20.000Z"
    assert page["filters"] == [{"param": "topic", "value": "labour"}]
    assert page["articles"][0]["copy_count"] == 3


def test_an_empty_index_has_no_cursor() -> None:
    response = {
        "hits": {"total": {"value": 0}, "hits": []},
        "aggregations": {"newest": {"value": None}},
    }
    assert views.articles_page(PageQuery(), response, None)["cursor"] is None


def test_facets_come_in_display_order_even_when_empty() -> None:
    response = {
        "hits": {"total": {"value": 2}},
        "aggregations": {"topic": {"buckets": [{"key": "labour", "doc_count": 2}]}},
    }
    payload = views.facets_view(response)
    assert payload["total"] == 2
    assert [f["param"] for f in payload["facets"]] == [f.param for f in FACETS]
    assert payload["facets"][0]["values"] == [{"value": "labour", "count": 2}]
    assert payload["facets"][1] == {"param": "person", "label": "Persons", "values": []}


def test_a_missing_alerts_index_says_so() -> None:
    missing = {"_shards": {"total": 0}, "hits": {"total": {"value": 0}, "hits": []}}
    assert views.alerts_page(missing) == {"exists": False, "total": 0, "alerts": [], "cursor": None}


def test_alerts_are_sanitized_and_the_newest_is_the_cursor() -> None:
    hit = {
        "_id": "sub-1:a1",
        "_source": {
            "subscription_id": "sub-1",
            "article_id": "a1",
            "title": "Storm",
            "url": "https://example.org/s",
            "matched_at": "2026-11-23T14:00:00Z",
            "highlights": {"title": ["<em>Storm</em><script>"], "body": "not a list"},
        },
    }
    response = {"_shards": {"total": 1}, "hits": {"total": {"value": 1}, "hits": [hit]}}
    page = views.alerts_page(response)
    assert page["exists"] is True and page["cursor"] == "2026-11-23T14:00:00Z"
    alert = page["alerts"][0]
    assert alert["id"] == "sub-1:a1"
    assert alert["highlights"] == {
        "title": ["<mark>Storm</mark>&lt;script&gt;"],
        "body": ["not a list"],
    }


def test_times_from_elasticsearch() -> None:
    assert views.parse_time("2026-11-23T14:00:44.766Z") is not None
    assert views.parse_time(0.0) is not None
    assert views.parse_time("soon") is None and views.parse_time(None) is None
