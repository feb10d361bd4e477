import json

import pytest

from newsflow.core.errors import ConfigError
from processors.stages.decode import clean_article
from producers.ingest import (
    IngestSettings,
    PayloadRejected,
    decode_payload,
    encode_article,
    load_ingest_settings,
)
from schemas.raw import RawArticle

ARTICLE = {"url": "https://example.org/a", "title": "T", "body": "<p>Words of news.</p>"}


def test_one_article_or_an_array():
    [one] = decode_payload(json.dumps(ARTICLE).encode())
    assert one.article_id == clean_article(RawArticle.model_validate(ARTICLE)).id
    assert json.loads(one.value) == ARTICLE
    many = decode_payload(json.dumps([ARTICLE, {"body": "Other words."}]).encode())
    assert [r.article_id[:2] for r in many] == ["u-", "c-"]


def test_the_value_is_the_validated_article_without_unknown_fields():
    [record] = decode_payload(
        json.dumps({**ARTICLE, "published_at": "2026-11-02", "colour": "red"}).encode()
    )
    value = json.loads(record.value)
    assert "colour" not in value
    assert value["published_at"] == "2026-11-02T00:00:00"


def test_errors_are_given_per_item_index():
    payload = [ARTICLE, {"title": "no body"}, "a string", {"body": "<img src='x'>"}]
    with pytest.raises(PayloadRejected) as caught:
        decode_payload(json.dumps(payload).encode())
    assert caught.value.message == "3 of 4 articles are invalid"
    errors = {e["index"]: e["errors"] for e in caught.value.errors}
    assert set(errors) == {1, 2, 3}
    assert errors[1] == [{"loc": "body", "msg": "Field required"}]
    assert errors[2] == [{"loc": "", "msg": "expected an object, got a str"}]
    assert errors[3][0]["loc"] == "body" and "blank" in errors[3][0]["msg"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not JSON"),
        (b"\xff\xfe", "body is not UTF-8"),
        (b"[]", "an empty array"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_a_body_that_is_no_batch_of_articles(body: bytes, message: str):
    with pytest.raises(PayloadRejected, match=message):
        decode_payload(body)


def test_encode_article_keys_by_the_worker_id():
    raw = RawArticle(id="given-1", body="Text.")
    assert encode_article(raw).article_id == "given-1"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSFLOW_INGEST_TOKEN", "s3cret")
    monkeypatch.setenv("NEWSFLOW_INGEST_MAX_BODY_BYTES", "2048")
    settings = load_ingest_settings()
    assert settings.token is not None and settings.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert (settings.max_body_bytes, settings.host) == (2048, "127.0.0.1")
    monkeypatch.setenv("NEWSFLOW_INGEST_TOKEN", "  ")
    assert IngestSettings().token is None


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSFLOW_INGEST_MAX_BODY_BYTES", "tiny")
    with pytest.raises(ConfigError, match=r"^NEWSFLOW_INGEST_MAX_BODY_BYTES: "):
        load_ingest_settings()
