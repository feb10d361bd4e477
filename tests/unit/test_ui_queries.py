"""The live page's Elasticsearch request bodies, built without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsflow.ui import queries
from newsflow.ui.queries import FACETS, InvalidParams, PageQuery, parse_params


def test_params_keep_repeated_filters_in_order_without_repeats() -> None:
    query = parse_params(
        [
            ("q", "  port strike "),
            ("topic", "labour"),
            ("person", "Inés Montaván"),
            ("topic", "economy"),
            ("topic", "labour"),
            ("topic", ""),
        ]
    )
    assert query.q == "port strike"
    assert query.filters == (("topic", "labour"), ("person", "Inés Montaván"), ("topic", "economy"))
    assert query.filter_terms() == [
        ("topics", "labour"),
        ("persons", "Inés Montaván"),
        ("topics", "economy"),
    ]


def test_params_defaults_and_unknown_names_are_ignored() -> None:
    query = parse_params([("_", "1699999999"), ("colour", "red")])
    assert query == PageQuery()
    assert query.size == queries.DEFAULT_SIZE and query.sort == "newest"


def test_every_facet_and_the_story_are_filters() -> None:
    pairs = [(f.param, "x") for f in FACETS] + [("story", "st-1")]
    fields = [field for field, _ in parse_params(pairs).filter_terms()]
    assert fields == ["topics", "persons", "organizations", "locations", "source", "story_id"]


def test_times_are_read_with_their_zone() -> None:
    query = parse_params(
        [("since", "2026-11-23T14:00:44.766061Z"), ("alerts_since", "2026-11-23T15:00:00+01:00")]
    )
    assert query.since == datetime(2026, 11, 23, 14, 0, 44, 766061, tzinfo=UTC)
    assert query.alerts_since == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert parse_params([("since", "")]).since is None


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("size", "abc")], "size: not a number"),
        ([("size", "0")], "size: must be between"),
        ([("size", str(queries.MAX_SIZE + 1))], "size: must be between"),
        ([("sort", "oldest")], "sort:"),
        ([("since", "yesterday")], "since: not an ISO 8601 time"),
        ([("since", "2026-11-23T14:00:00")], "since: needs a time zone"),
        ([("q", "x" * (queries.MAX_QUERY_CHARS + 1))], "q: longer than"),
        ([("topic", str(n)) for n in range(queries.MAX_FILTERS + 1)], "at most"),
    ],
)
def test_bad_params_are_refused_with_the_parameter_named(
    pairs: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(InvalidParams, match=message):
        parse_params(pairs)


def test_matching_leaves_duplicates_out_and_filters_on_keywords() -> None:
    query = PageQuery(q="storm", filters=(("location", "Scotland"),))
    bool_query = queries.matching(query)["bool"]
    assert bool_query["filter"] == [{"term": {"locations": "Scotland"}}]
    assert bool_query["must"] == [queries.text_query("storm")]
    assert bool_query["must_not"] == [{"term": {"is_duplicate": True}}]
    assert "must_not" not in queries.matching(query, originals_only=False)["bool"]
    assert "must" not in queries.matching(PageQuery())["bool"]


def test_text_query_is_simple_query_string_over_title_and_body() -> None:
    text = queries.text_query('"storm greer" -football')["simple_query_string"]
    assert text["query"] == '"storm greer" -football'
    assert text["fields"] == ["title^2", "body"]
    assert text["default_operator"] == "and"


def test_articles_search_is_newest_first_without_body_and_with_a_lead() -> None:
    body = queries.articles_search(PageQuery(size=20))
    assert body["size"] == 20 and body["track_total_hits"] is True
    assert next(iter(body["sort"][0])) == "ingested_at"
    assert "body" not in body["_source"] and "title" in body["_source"]
    fields = body["highlight"]["fields"]
    assert set(fields) == {"body"}, "no title highlight without a search"
    assert fields["body"]["no_match_size"] == queries.LEAD_CHARS
    assert body["highlight"]["encoder"] == "html"
    assert body["aggs"]["newest"] == {"max": {"field": "processed_at"}}


def test_search_highlights_title_and_body_and_may_rank_by_relevance() -> None:
    newest = queries.articles_search(PageQuery(q="port", sort="newest"))
    best = queries.articles_search(PageQuery(q="port", sort="relevance"))
    assert set(newest["highlight"]["fields"]) == {"title", "body"}
    assert newest["highlight"]["pre_tags"] == ["<mark>"]
    assert next(iter(newest["sort"][0])) == "ingested_at"
    assert best["sort"][0] == "_score"
    # Relevance means nothing without a search: the list stays newest first.
    assert queries.articles_search(PageQuery(sort="relevance"))["sort"] == newest["sort"]


def test_folding_counts_copies_per_original_and_originals_per_story() -> None:
    assert queries.folding_search([], []) is None
    body = queries.folding_search(["b", "a", "a"], ["st-1"])
    assert body is not None and body["size"] == 0
    copies = body["aggs"]["copies"]
    assert copies["filter"] == {"terms": {"duplicate_of": ["a", "b"]}}
    assert copies["aggs"]["of"]["terms"] == {"field": "duplicate_of", "size": 2}
    assert copies["aggs"]["of"]["aggs"]["first"]["top_hits"]["size"] == queries.COPIES_SHOWN
    stories = body["aggs"]["stories"]["filter"]["bool"]
    assert stories["must_not"] == [{"term": {"is_duplicate": True}}]
    assert body["query"]["bool"]["minimum_should_match"] == 1
    only_stories = queries.folding_search([], ["st-1"])
    assert only_stories is not None and set(only_stories["aggs"]) == {"stories"}


def test_facets_count_every_facet_among_the_matching_originals() -> None:
    query = PageQuery(filters=(("topic", "labour"),))
    body = queries.facets_search(query, size=5)
    assert body["size"] == 0
    assert body["query"] == queries.matching(query)
    assert body["aggs"] == {f.param: {"terms": {"field": f.field, "size": 5}} for f in FACETS}


def test_alerts_newest_first() -> None:
    body = queries.alerts_search(10)
    assert body["size"] == 10
    assert body["sort"] == [{"matched_at": {"order": "desc", "unmapped_type": "date"}}]


def test_stream_asks_for_unseen_documents_since_the_bound_oldest_first() -> None:
    bound = datetime(2026, 11, 23, 14, tzinfo=UTC)
    body = queries.stream_articles_search(PageQuery(q="flood"), bound, ["z", "a"])
    bool_query = body["query"]["bool"]
    assert bool_query["filter"][0] == queries.matching(PageQuery(q="flood"), originals_only=False)
    assert bool_query["filter"][1] == {"range": {"processed_at": {"gte": bound.isoformat()}}}
    assert bool_query["must_not"] == [{"ids": {"values": ["a", "z"]}}]
    assert body["sort"][0] == {"processed_at": {"order": "asc", "unmapped_type": "date"}}
    assert body["size"] == queries.STREAM_BATCH
    assert "title" in body["highlight"]["fields"]


def test_stream_from_the_beginning_has_no_range_and_no_exclusions() -> None:
    body = queries.stream_alerts_search(None, [])
    assert body["query"] == {"bool": {"filter": [{"match_all": {}}]}}
    assert body["_source"] == list(queries.ALERT_FIELDS)


def test_lookback_bound() -> None:
    moment = datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert queries.lookback_bound(None, timedelta(seconds=15)) is None
    assert queries.lookback_bound(moment, timedelta(seconds=15)) == moment - timedelta(seconds=15)
