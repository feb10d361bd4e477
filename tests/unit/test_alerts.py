"""The pure part of stage ``alerts``: query safety, search bodies, alerts, throttling, texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.core.errors import ConfigError
from processors.alerting import searches
from processors.alerting.channels.webhook import mask_url
from processors.alerting.matching import Batch, alert_id, alerts_from_hits, failure_of, matched
from processors.alerting.query import MAX_CLAUSES, Needs, check_query, needs
from processors.alerting.searches import (
    backfill_search,
    chunks,
    match_search,
    named_clause,
    recent_search,
    subscription_filters,
)
from processors.alerting.subscription import Subscription, Throttle, parse_throttle
from processors.alerting.texts import alert_text, digest_text
from processors.alerting.throttle import admit

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)


def sub(**fields: Any) -> Subscription:
    return Subscription.model_validate({"id": "s1", "query": "strike", "created_at": T0, **fields})


# --- query safety -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "clauses"),
    [
        ("strike", 1),
        ("strike AND (port OR dock*)", 3),
        ('"walk out"~3 strike^2', 2),
        ('title:strike body:"wage deal"', 2),
        ("title:(strike OR walkout) -cancelled", 3),
        ("strik~1 harbour~", 2),
        ("*", 1),
        ("e-mail café 1,000", 3),
        ("a\\/b \\*star", 2),
        ("(pay deal)^2 && union || !talks", 4),
    ],
)
def test_reasonable_queries_pass_and_are_counted(query: str, clauses: int) -> None:
    assert check_query(query).clauses == clauses


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("   ", "empty"),
        ("x " * 501, "longer than 1000"),
        ("*trike", "leading wildcard"),
        ("?trike", "leading wildcard"),
        ("st*", "at least 3 characters"),
        ("/str.*/", "regular expressions"),
        ("title:/x/", "regular expressions"),
        ("body:[a TO c]", "ranges"),
        ("{a TO c}", "ranges"),
        ("meta:secret", "field 'meta'"),
        ("_exists_:title", "field '_exists_'"),
        ("title.raw:x", "field 'title.raw'"),
        ("*:*", "field '*'"),
        ("strike~5", "at most 2 edits"),
        ("strike~1.5", "at most 2 edits"),
        ("ab~", "too short"),
        ('"port strike"~100', "slop"),
        ('"port strike', "unterminated quote"),
        (" ".join(f"w{n}" for n in range(65)), "65 terms"),
    ],
)
def test_abusive_queries_are_refused_with_a_reason(query: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason.replace("*", r"\*").replace("?", r"\?")):
        check_query(query)


@given(st.text(max_size=200))
def test_any_text_is_either_accepted_or_refused_cleanly(query: str) -> None:
    try:
        info = check_query(query)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert 0 <= info.clauses <= MAX_CLAUSES


def test_a_batch_keeps_only_articles_holding_what_a_query_needs() -> None:
    texts = {"a1": "Dockers strike at the port", "a2": "Docklands: a new harbour", "a3": "Pay"}
    batch = Batch.of({i: doc(id=i, title=None, body=t) for i, t in texts.items()})
    assert batch.eligible(sub(), needs("strike")) == ["a1"]
    assert batch.eligible(sub(), needs("dock* OR pay")) == ["a1", "a2", "a3"]
    assert batch.eligible(sub(), needs("harbour AND dock*")) == ["a2"]
    assert batch.eligible(sub(), needs("NOT strike")) == ["a1", "a2", "a3"]
    assert batch.eligible(sub(), needs("zeppelin")) == []


def words(*found: str) -> Needs:
    return Needs(words=frozenset(found))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("strike", words("strike")),
        ("Port STRIKE", words("strike")),  # all required: the longer (rarer) word is enough
        ("port OR dock", words("port", "dock")),
        ("strike AND (port OR dock*)", words("strike")),
        ("(port OR dock*) AND ab", words("ab")),
        ("(port OR dock*) AND (x OR y OR z)", Needs(frozenset(["port"]), frozenset(["dock"]))),
        ('"walk out"~3', words("walk")),
        ("title:strike -pay", words("strike")),
        ("NOT strike", None),
        ("-strike -pay", None),
        ("strik~1", None),
        ("*", None),
        ("café", None),
        ("e-mail", words("mail")),
        ("O'Neil", words("neil")),
        ("1,000", words("000")),
        ("a\\-b*", words("a")),  # 'a-b*': only 'a' is a whole word before the wildcard
        ("strike OR *", None),
        ("strike OR strik~1", None),
        ("a OR b c", words("a", "b", "c")),  # Lucene makes a, b optional and c required
    ],
)
def test_needs_are_what_every_match_contains(query: str, expected: Needs | None) -> None:
    assert needs(query) == expected


# --- subscriptions ------------------------------------------------------------------------------


def test_subscription_time_is_utc_milliseconds_and_ids_cannot_hold_colons() -> None:
    local = datetime(2026, 11, 1, 13, 0, 0, 123999, tzinfo=UTC).astimezone(
        datetime.now().astimezone().tzinfo
    )
    assert sub(created_at=local).created_at == datetime(2026, 11, 1, 13, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(ValueError, match="no ':'"):
        sub(id="a:b")
    with pytest.raises(ValueError, match="http"):
        sub(webhook="ftp://example.org/x")
    hooked = sub(webhook="https://hooks.example.org/T/B/x")
    assert hooked.channels == {"webhook": {"url": "https://hooks.example.org/T/B/x"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/10m", Throttle(max=10, window_seconds=600)),
        ("3/30", Throttle(max=3, window_seconds=30)),
        ("1/1d", Throttle(max=1, window_seconds=86400)),
        ("none", None),
    ],
)
def test_throttle_parses(text: str, expected: Throttle | None) -> None:
    assert parse_throttle(text) == expected


@pytest.mark.parametrize("text", ["ten/1m", "5/1w", "5", "0/1m", "5/8d"])
def test_bad_throttle_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="throttle"):
        parse_throttle(text)


def test_webhook_paths_are_masked() -> None:
    assert mask_url("https://hooks.slack.com/services/T/B/secret") == "https://hooks.slack.com/…"
    assert mask_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    assert mask_url(None) == "-"


# --- search bodies ------------------------------------------------------------------------------


def test_filters_are_topics_entities_sources_and_time_unless_backfill() -> None:
    s = sub(topics=["labour"], entities=["Calvera"], sources=["ledger"])
    assert subscription_filters(s) == [
        {"terms": {"topics": ["labour"]}},
        {"terms": {"entities.name": ["Calvera"]}},
        {"terms": {"source": ["ledger"]}},
        {"range": {"ingested_at": {"gte": "2026-11-01T12:00:00.123Z"}}},
    ]
    assert subscription_filters(sub(backfill=True)) == []
    assert subscription_filters(sub(), since_created=False) == []


def test_a_match_search_names_each_subscription_within_the_batch_ids() -> None:
    body = match_search(
        [named_clause(sub(id="a")), named_clause(sub(id="b", query="port"))], ["x", "y"]
    )
    assert body["size"] == 2
    ids, named = body["query"]["bool"]["filter"]
    assert ids == {"ids": {"values": ["x", "y"]}}
    should = named["bool"]["should"]
    assert [c["bool"]["_name"] for c in should] == ["a", "b"]
    qs = should[1]["bool"]["must"][0]["query_string"]
    assert qs["query"] == "port" and qs["default_operator"] == "AND"
    assert qs["fields"] == ["title", "body"] and qs["allow_leading_wildcard"] is False


def test_backfill_and_catch_up_searches_skip_copies_and_silenced_replays_oldest_first() -> None:
    silent = [{"term": {"is_duplicate": True}}, {"term": {"alerts_suppressed": True}}]
    back = backfill_search(sub(topics=["labour"]), 500)
    assert back["query"]["bool"]["filter"] == [{"terms": {"topics": ["labour"]}}]
    assert back["query"]["bool"]["must_not"] == silent
    assert back["sort"] == [{"ingested_at": "asc"}, {"id": "asc"}] and back["highlight"]
    recent = recent_search(T0, 256)
    assert recent["query"]["bool"]["filter"] == [
        {"range": {"ingested_at": {"gte": "2026-11-01T12:00:00.123Z"}}}
    ]
    assert recent["query"]["bool"]["must_not"] == silent
    assert recent["size"] == 256 and "story_id" in recent["_source"]


def test_chunks_keep_every_subscription_in_order_within_bounds() -> None:
    subs = [sub(id=f"s{n}", query=" ".join(["w"] * (1 + n % 60))) for n in range(500)]
    parts = chunks(subs)
    assert [s.id for part in parts for s in part] == [s.id for s in subs]
    for part in parts:
        assert len(part) <= searches.CHUNK_MAX_SUBSCRIPTIONS
        assert len(part) == 1 or sum(searches.weight(s) for s in part) <= searches.CHUNK_MAX_WEIGHT


def doc(**fields: Any) -> dict[str, Any]:
    base = {"id": "a1", "topics": ["labour"], "source": "ledger", "entities": []}
    return {**base, "ingested_at": (T0 + timedelta(seconds=1)).isoformat(), **fields}


def eligible(s: Subscription, **fields: Any) -> bool:
    return Batch.of({"a1": doc(**fields)}).eligible(s) == ["a1"]


def test_eligible_articles_pass_the_keyword_filters_and_the_creation_time() -> None:
    assert eligible(sub())
    assert not eligible(sub(topics=["sport"]))
    assert eligible(sub(topics=["sport", "labour"]))
    assert not eligible(sub(sources=["other"]))
    assert not eligible(sub(entities=["Calvera"]))
    calvera = [{"name": "Calvera", "label": "GPE", "count": 2}]
    assert eligible(sub(entities=["Calvera"], topics=["labour"]), entities=calvera)
    before = (T0 - timedelta(seconds=1)).isoformat()
    assert not eligible(sub(), ingested_at=before)
    assert eligible(sub(backfill=True), ingested_at=before)
    # Same millisecond as created_at: Elasticsearch's range keeps it, so must this.
    assert eligible(sub(), ingested_at=T0.replace(microsecond=123001).isoformat())
    assert eligible(sub(), ingested_at=None)


def test_a_batch_sorts_out_many_articles_at_once() -> None:
    docs = {
        f"a{n}": doc(
            source=f"s{n % 3}",
            topics=["sport"] if n % 2 else [],
            ingested_at=(T0 + timedelta(seconds=n - 5)).isoformat(),
        )
        for n in range(10)
    }
    batch = Batch.of(docs)
    assert batch.eligible(sub()) == sorted(f"a{n}" for n in range(5, 10))
    assert batch.eligible(sub(sources=["s1"], backfill=True)) == ["a1", "a4", "a7"]
    assert batch.eligible(sub(sources=["s1", "s2"], topics=["sport"])) == ["a5", "a7"]


# --- responses to alerts ------------------------------------------------------------------------


def test_matched_reads_named_queries_and_failures_are_classified() -> None:
    response = {"hits": {"hits": [{"_id": "a1", "matched_queries": ["s1", "s2"]}, {"_id": "a2"}]}}
    assert matched(response) == {"s1": ["a1"], "s2": ["a1"]}
    assert failure_of(response) is None
    busy = failure_of(
        {"status": 429, "error": {"root_cause": [{"type": "es_rejected_execution_exception"}]}}
    )
    assert busy is not None and busy.transient
    bad = failure_of({"status": 400, "error": {"type": "search_phase_execution_exception"}})
    assert bad is not None and not bad.transient


def test_alert_ids_are_per_article_or_per_story() -> None:
    assert alert_id(sub(), "a1", "st1") == "s1:a1"
    assert alert_id(sub(per_story=True), "a1", "st1") == "s1:story:st1"
    assert alert_id(sub(per_story=True), "a1", None) == "s1:a1"


def hit(article: str, ingested: str, story: str | None = None) -> dict[str, Any]:
    source = {"id": article, "title": f"T {article}", "url": None, "source": "ledger"}
    source |= {"ingested_at": ingested, "story_id": story, "published_at": "2026-10-26T00:00:00Z"}
    return {"_id": article, "_source": source, "highlight": {"body": ["a <em>strike</em>"]}}


def test_per_story_alerts_take_the_first_ingested_article_of_each_story() -> None:
    hits = [hit("a2", "2026-11-02", "st"), hit("a1", "2026-11-01", "st"), hit("a3", "2026-11-03")]
    fired = alerts_from_hits(sub(per_story=True), hits, T0)
    assert {k: a.article_id for k, a in fired.items()} == {"s1:story:st": "a1", "s1:a3": "a3"}
    plain = alerts_from_hits(sub(), hits, T0)
    assert sorted(plain) == ["s1:a1", "s1:a2", "s1:a3"]
    assert plain["s1:a1"].highlights == {"body": ["a <em>strike</em>"]}
    assert plain["s1:a1"].matched_at == T0


# --- throttling and texts -----------------------------------------------------------------------


def test_admit_counts_per_fixed_window_and_resets() -> None:
    throttle = Throttle(max=2, window_seconds=60)
    sent: dict[tuple[str, str], tuple[float, int]] = {}
    key = ("s1", "webhook")
    assert [admit(sent, key, throttle, t) for t in (600, 610, 620, 659)] == [
        True, True, False, False
    ]  # fmt: skip
    assert admit(sent, ("s1", "log"), throttle, 620), "each channel has its own window"
    assert admit(sent, key, throttle, 660)  # next window
    assert all(admit(sent, ("s2", "webhook"), None, 600) for _ in range(100))


def test_texts_are_slack_compatible() -> None:
    alert = {
        "subscription_id": "s1",
        "article_id": "a1",
        "title": "Pay & <conditions>",
        "url": "https://example.org/a1",
        "source": "ledger",
        "highlights": {"body": ["dockers <em>strike</em> over pay & <b>"]},
    }
    first, second = alert_text(alert).splitlines()
    assert first == "[s1] <https://example.org/a1|Pay &amp; &lt;conditions&gt;> (ledger)"
    assert second == "> dockers *strike* over pay &amp; &lt;b&gt;"
    digest = digest_text("s1", [alert] * 12, shown=10)
    assert digest.splitlines()[0] == "[s1] 12 more matching articles (throttled):"
    assert digest.splitlines()[-1] == "… and 2 more"
    assert alert_text({"subscription_id": "s1", "article_id": "a9"}) == "[s1] a9"
