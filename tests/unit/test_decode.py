import json

import pytest

from newsflow.core.errors import InvalidArticle
from processors.stages.decode import decode


def _kind(value: bytes | None) -> str:
    with pytest.raises(InvalidArticle) as err:
        decode(value, max_bytes=10_000)
    assert err.value.reason
    return err.value.kind


def test_valid_article_is_cleaned_and_identified():
    raw = {"body": "<p>date 2024-01-02 Text here.</p>", "title": "T", "url": "https://a.org/x"}
    article = decode(json.dumps(raw).encode(), max_bytes=10_000)
    assert article.body == "date 2024-01-02 Text here."  # marker only counts at the very start
    assert article.id.startswith("u-")
    article = decode(json.dumps({"body": " date 2024-01-02 Text."}).encode(), max_bytes=10_000)
    assert article.published_at is not None and article.published_at.year == 2024
    assert article.body == "Text."


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "empty"),
        (b"", "empty"),
        (b"x" * 20_000, "oversize"),
        (b"\xff\xfe\x00", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b'{"title": "no body"}', "schema"),
        (b'{"body": 42}', "schema"),
        (b'{"body": "ok", "published_at": "yesterday"}', "schema"),
        (b'{"body": "ok", "meta": "not an object"}', "schema"),
        (b'{"body": "   "}', "blank_body"),
        (b"[" * 5000 + b"]" * 5000, "not_json"),
    ],
)
def test_bad_messages_are_rejected_with_a_kind_and_reason(value, kind):
    assert _kind(value) == kind


def test_naive_dates_are_taken_as_utc():
    article = decode(b'{"body": "x", "published_at": "2024-05-01T10:00:00"}', max_bytes=1000)
    assert article.published_at is not None and article.published_at.utcoffset() is not None
