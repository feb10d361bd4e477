"""Channels of alerts: registered by name, required options checked, subscriptions naming
them; the summary of several channels' delivery states."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from newsflow.cli.subscriptions import build_subscription, parse_channel
from newsflow.core.errors import ConfigError
from processors.alerting import channels
from processors.alerting.channels.base import Channel, Context, Options, Outcome
from processors.alerting.delivery import states, summary
from processors.alerting.subscription import Subscription

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def _ignore(context: Context, options: Options, payload: dict[str, Any]) -> Outcome:
    return Outcome(True)


@pytest.fixture
def pager() -> Iterator[Channel]:
    """A throwaway delivery channel that requires ``number``."""
    channel = Channel(
        "pager", "page someone", frozenset({"number"}), frozenset({"urgency"}), deliver=_ignore
    )
    channels.register(channel)
    yield channel
    del channels.CHANNELS["pager"]


def test_every_channel_is_registered_under_its_name_and_index_and_topic_are_the_record() -> None:
    assert set(channels.CHANNELS) == {"index", "topic", "webhook", "log"}
    assert all(name == c.name for name, c in channels.CHANNELS.items())
    assert {n for n, c in channels.CHANNELS.items() if c.record} == {"index", "topic"}


def test_a_registered_channel_can_be_named_with_its_options(pager: Channel) -> None:
    sub = build_subscription({"id": "s", "query": "q", "channels": {"pager": {"number": "1"}}}, NOW)
    assert sub.channels == {"pager": {"number": "1"}}
    assert sub.deliveries == ["pager"]
    with pytest.raises(ValueError, match="registered already"):
        channels.register(pager)


@pytest.mark.parametrize(
    ("named", "message"),
    [
        ({"pager": {}}, r"^channels: channel 'pager' needs option number$"),
        (
            {"pager": {"number": "1", "colour": "red"}},
            r"^channels: channel 'pager' has no option colour \(options: number, urgency\)$",
        ),
        ({"slack": {}}, r"^channels: unknown channel 'slack' \(channels: index, log, pager, "),
        ({"webhook": {}}, r"^channels: channel 'webhook' needs option url$"),
        ({"webhook": {"url": "ftp://x/y"}}, r"^channels: webhook url must be an http"),
    ],
)
def test_unknown_channels_and_missing_options_are_one_line_errors(
    pager: Channel, named: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_subscription({"id": "s", "query": "q", "channels": named}, NOW)


def test_webhook_stored_before_channels_and_the_short_forms_read_as_channels() -> None:
    old = {"id": "s", "query": "q", "webhook": "https://h.example/T/x", "created_at": NOW}
    sub = Subscription.model_validate(old)
    assert sub.channels == {"webhook": {"url": "https://h.example/T/x"}}
    assert "webhook" not in sub.model_dump()
    assert Subscription.model_validate(sub.model_dump()) == sub, "what is stored reads back"
    listed = Subscription.model_validate({**old, "webhook": None, "channels": ["log", "index"]})
    assert listed.channels == {"log": {}, "index": {}}
    assert listed.deliveries == ["log"]
    assert channels.shown(sub.channels) == "webhook(https://h.example/…)"
    plain = Subscription.model_validate({**old, "webhook": None})
    assert plain.deliveries == [] and channels.shown(plain.channels) == "-"


def test_channel_options_on_the_command_line() -> None:
    assert parse_channel("log") == ("log", {})
    assert parse_channel("webhook:url=https://h/x?a=b") == ("webhook", {"url": "https://h/x?a=b"})
    assert parse_channel("pager:number=1, urgency=high") == (
        "pager", {"number": "1", "urgency": "high"}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="expected NAME or NAME:KEY=VALUE"):
        parse_channel("pager:number")


def state(status: str, due: str | None = None, attempts: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = {"status": status, "updated_at": "t", "attempts": attempts}
    return found if due is None else {**found, "next_attempt_at": due}


def test_the_summary_is_the_channel_with_most_to_do_due_at_the_earliest() -> None:
    one = {"webhook": state("retrying", "2026-12-03T10:00:00.000Z")}
    assert summary(one) == one["webhook"], "one channel: its own state"
    both = {
        "webhook": state("folded", "2026-12-03T09:10:00.000Z"),
        "log": state("retrying", "2026-12-03T09:20:00.000Z", attempts=2),
    }
    assert summary(both)["status"] == "retrying"
    assert summary(both)["next_attempt_at"] == "2026-12-03T09:10:00.000Z"
    assert summary({"a": state("sent"), "b": state("failed")})["status"] == "failed"
    assert summary({"a": state("sent"), "b": state("digested")})["status"] == "sent"


def test_states_of_an_alert_stored_before_channels_are_the_webhooks() -> None:
    assert states({"delivery": state("retrying", "x")}) == {"webhook": state("retrying", "x")}
    assert states({"delivery": state("published")}) == {}
    assert states({"delivery": state("sent"), "deliveries": {"log": state("sent")}}) == {
        "log": state("sent")
    }
