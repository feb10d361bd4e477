from datetime import UTC, datetime

import pytest

from producers.feeds import MAX_BACKOFF, next_delay, parse_retry_after


def test_a_healthy_feed_keeps_its_interval():
    assert next_delay(300, 0) == 300


def test_failures_double_the_delay_up_to_the_cap():
    assert [next_delay(60, n) for n in range(1, 8)] == [120, 240, 480, 960, 1920, 3600, 3600]
    assert next_delay(60, 10_000) == MAX_BACKOFF


def test_a_feed_polled_less_often_than_the_cap_keeps_its_interval_as_the_cap():
    assert next_delay(2 * 3600, 3) == 2 * 3600


def test_retry_after_is_a_floor():
    assert next_delay(60, 1, retry_after=900) == 900
    assert next_delay(60, 1, retry_after=5) == 120
    assert next_delay(60, 0, retry_after=None) == 60


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("999999", 86400.0),
        ("Wed, 04 Nov 2026 12:01:00 GMT", 60.0),
        ("Wed, 04 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None):
    now = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds
