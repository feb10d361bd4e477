"""Subscriptions from the command line and YAML files: checks, messages, what a load changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.cli.subscriptions import build_subscription, parse_file, plan_load, validation_error
from newsflow.core.errors import ConfigError
from processors.alerting.subscription import Throttle

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_example_file_is_valid() -> None:
    text = (ROOT / "deploy" / "subscriptions.example.yaml").read_text()
    subs = parse_file(text, NOW)
    assert [s.id for s in subs] == ["port-strikes", "storms", "quakes", "ecb-rates"]
    assert subs[1].throttle == Throttle(max=5, window_seconds=3600)
    assert subs[0].per_story and subs[2].backfill
    assert all(s.created_at == NOW for s in subs)


def test_a_bad_field_is_one_line_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^topics\.0: Input should be 'arts'"):
        build_subscription({"id": "x", "query": "q", "topics": ["nope"]}, NOW)
    with pytest.raises(ConfigError, match=r"^leading wildcard"):
        build_subscription({"id": "x", "query": "*q"}, NOW)
    with pytest.raises(ConfigError, match=r"^throttle 'often'"):
        build_subscription({"id": "x", "query": "q", "throttle": "often"}, NOW)


def test_a_file_reports_every_bad_entry_and_duplicates_together() -> None:
    text = """
subscriptions:
  - {id: good, query: strike}
  - {id: bad-query, query: "/re/"}
  - {id: good, query: port}
  - just a string
  - {query: no id}
"""
    with pytest.raises(ConfigError) as err:
        parse_file(text, NOW)
    message = str(err.value)
    assert "subscription 'bad-query': regular expressions" in message
    assert "entry 4: not a mapping" in message
    assert "subscription '#5': id: Field required" in message
    assert "subscription 'good': defined twice" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a: [", "not YAML"), ("42", "expected a list"), ("subscriptions: {}", "expected a list")],
)
def test_a_file_that_is_not_a_list_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_file(text, NOW)


def test_a_plain_list_is_accepted() -> None:
    assert [s.id for s in parse_file("- {id: a, query: strike}\n", NOW)] == ["a"]


def test_the_parser_message_is_kept_from_elasticsearch_errors() -> None:
    error = (
        "[news-articles/abc] org.elasticsearch.index.query.QueryShardException: Failed to parse "
        "query [a AND (]; org.apache.lucene.queryparser.classic.ParseException: Cannot parse "
        "'a AND (': Encountered \"<EOF>\" at line 1, column 7.\nWas expecting one of:\n  <NOT> ..."
    )
    assert validation_error(error) == (
        "Cannot parse 'a AND (': Encountered \"<EOF>\" at line 1, column 7"
    )
    assert validation_error("") == "invalid query"


def test_a_load_creates_updates_keeps_and_prunes() -> None:
    stored_at = "2026-11-01T08:00:00.000Z"
    subs = parse_file(
        "- {id: same, query: strike}\n- {id: changed, query: port}\n- {id: new, query: dock}\n",
        NOW,
    )
    existing = {
        i: {**s.model_dump(mode="json"), "created_at": stored_at}
        for i, s in (
            ("same", subs[0]),
            ("changed", subs[1].model_copy(update={"query": "harbour"})),
            ("old", subs[0].model_copy(update={"id": "old"})),
        )
    }
    plan = plan_load(subs, existing, prune=True)
    assert [s.id for s in plan.created] == ["new"]
    assert [s.id for s in plan.updated] == ["changed"]
    assert plan.updated[0].created_at == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert plan.updated[0].query == "port"
    assert plan.unchanged == ["same"]
    assert plan.removed == ["old"]
    assert plan_load(subs, existing, prune=False).removed == []
