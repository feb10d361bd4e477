"""Hostile input, property-based: whatever bytes arrive, nothing escapes as an exception.

Every message is either a valid prepared article (non-blank plain text, no markup, no
control characters, serializable for every later stage and for Elasticsearch) or a
rejection with a kind and a reason, and its dead letter gives back the exact bytes.
The example count comes from the hypothesis profile (tests/conftest.py): ``default`` for
``make test``, ``HYPOTHESIS_PROFILE=long`` for ``make soak``.
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import example, given

from newsflow.core.errors import InvalidArticle
from processors.stages.clean import clean_body, clean_text, clean_title
from processors.stages.deadletter import dead_letter
from processors.stages.decode import decode
from processors.worker.steps.clean import MAX_MESSAGE_BYTES, prepare
from producers.files import read_file
from schemas import codec
from schemas.deadletter import DeadLetter
from schemas.work import Prepared

# Markup: a complete tag, comment, doctype, CDATA section or processing instruction.
TAG = re.compile(r"<[a-zA-Z!/?][^<>]*>")
# Newlines separate paragraphs; every other C0/C1 control character must be gone.
ALLOWED_CONTROL = {"\n"}

# --- strategies --------------------------------------------------------------------------

FRAGMENTS = [
    "<script>alert(1)</script>",
    "<script src=//evil.example/x.js></script>",
    "<SCRIPT>document.cookie</SCRIPT>",
    "<style>p { color: red }</style>",
    "<p>",
    "</p>",
    "<br/>",
    "<div class='a'>",
    "</div>",
    "<a href='javascript:alert(1)'>link</a>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=//x></iframe>",
    "<!-- comment -->",
    "<![CDATA[ data ]]>",
    "<!DOCTYPE html>",
    "<?xml version='1.0'?>",
    "<?php echo 1; ?>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;p&gt;escaped&lt;/p&gt;",
    "&amp;lt;b&amp;gt;",
    "&amp;",
    "&nbsp;",
    "&#0;",
    "&#x1b;",
    "&#xD800;",
    "&#128512;",
    "&bogus;",
    "&hellip\u037e",
    "&lt",
    "<",
    ">",
    "&",
    "< p >",
    "</>",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\x9f",
    "\r",
    "\r\n",
    "\t",
    "\x0b",
    "\x0c",
    "\u2028",
    "\u2029",
    "\u200b",
    "\ufeff",
    "\u202e",
    "\u0301",
    "\n",
    "\n\n",
    "date 2024-01-02 ",
    "date 2024-02-30\n",
    "Read more",
    "Share this article",
    "©",
    " ",
    "Officials met on Friday.",
    "Zürich 東京 مرحبا",
]

texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=25).map(
    "".join
)

# Strings with lone surrogates: valid in JSON (\udXXX escapes), never valid as UTF-8.
surrogate_texts = st.lists(
    st.one_of(st.characters(categories=["Cs"]), st.text(max_size=5)), min_size=1, max_size=6
).map("".join)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    surrogate_texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(texts, surrogate_texts), inner, max_size=4),
    ),
    max_leaves=12,
)

_offsets = st.sampled_from(["", "Z", "+00:00", "+14:00", "-23:59", "+05:30", "+99:00"])
dates = st.one_of(
    st.builds(
        lambda d, tz: d.isoformat() + tz,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        _offsets,
    ),
    st.sampled_from(
        [
            "2024-02-30",
            "2023-02-29T10:00:00Z",
            "2024-13-01",
            "0000-01-01",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "24:00",
            "next tuesday",
            "",
            "2024-01-01T25:61:61",
            "1e308",
            "2024-06-01T12:00:00.123456789+02:00",
        ]
    ),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    json_values,
)
urls = st.one_of(
    st.sampled_from(
        [
            "https://example.org/a?utm_source=x#frag",
            "http://WWW.Example.org:80/",
            "javascript:alert(1)",
            "https://[::1/",
            "https://example.org:99999/",
            "http://",
            "//no-scheme",
        ]
    ),
    texts,
)


def _field(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's plausible values, or any JSON value at all (wrong types)."""
    return st.one_of(strategy, json_values)


articles = st.fixed_dictionaries(
    {},
    optional={
        "body": _field(texts),
        "title": _field(texts),
        "id": _field(st.one_of(texts, st.text(min_size=190, max_size=600))),
        "url": _field(urls),
        "source": _field(texts),
        "published_at": dates,
        "language": _field(st.sampled_from(["en", "EN ", "de", "zz", "", "en-US-x-very-long"])),
        "meta": json_values,
        "extra": json_values,
    },
)


@st.composite
def article_bytes(draw: st.DrawFn) -> bytes:
    """An article-shaped JSON object, serialized in one of the ways producers get it wrong."""
    obj = draw(articles)
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), allow_nan=True)
    if draw(st.booleans()) and text.startswith("{"):
        # Duplicate keys: the JSON text says "body" twice; the last one wins.
        dup = json.dumps(draw(texts))
        text = '{"body": ' + dup + ("," if len(text) > 2 else "") + text[1:]
    # ensure_ascii=False leaves lone surrogates in: encoded, they are invalid UTF-8.
    data = text.encode("utf-8", "surrogatepass")
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b" \n"])) + data


INVALID_UTF8 = [
    b"\xc0\xaf",  # overlong "/"
    b"\xe0\x80\xaf",  # overlong, three bytes
    b"\xf0\x80\x80\xaf",  # overlong, four bytes
    b"\xed\xa0\x80",  # encoded lone high surrogate
    b"\xed\xbf\xbf",  # encoded lone low surrogate
    b"\xed\xa0\xbd\xed\xb8\x80",  # CESU-8 surrogate pair
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xff",
    b"\x80",
    b"\xe2\x82",  # truncated
]


@st.composite
def broken_utf8(draw: st.DrawFn) -> bytes:
    """Valid article bytes with an invalid UTF-8 sequence put somewhere in them."""
    data = json.dumps({"body": draw(texts) or "x"}).encode()
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from(INVALID_UTF8)) + data[at:]


@st.composite
def deep_json(draw: st.DrawFn) -> bytes:
    """Nesting from a few levels to far past any recursion limit, at the top or in a field."""
    depth = draw(st.integers(1, 20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    nested = opener * depth + "1" + closer * depth
    where = draw(st.sampled_from(["top", "meta", "body", "title", "extra"]))
    if where == "top":
        return nested.encode()
    return f'{{"body": "Text.", "{where}": {nested}}}'.encode()


@st.composite
def json_constants(draw: st.DrawFn) -> bytes:
    """NaN and Infinity (not JSON, accepted by Python) in any field."""
    constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0"]))
    field = draw(st.sampled_from(["body", "title", "published_at", "meta", "id", "extra"]))
    nested = draw(st.sampled_from([constant, f"[{constant}]", f'{{"x": {constant}}}']))
    return f'{{"body": "Text here.", "{field}": {nested}}}'.encode()


messages = st.one_of(
    st.binary(max_size=600),
    article_bytes(),
    broken_utf8(),
    deep_json(),
    json_constants(),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode("utf-8", "surrogatepass")),
)

# --- the properties ----------------------------------------------------------------------


def assert_plain_text(text: str, what: str) -> None:
    controls = {c for c in text if unicodedata.category(c) == "Cc"} - ALLOWED_CONTROL
    assert not controls, f"{what} keeps control characters {sorted(map(hex, map(ord, controls)))}"
    assert not TAG.search(text), f"{what} keeps markup {TAG.search(text)!r}: {text[:200]!r}"
    assert "\u2028" not in text and "\u2029" not in text, f"{what} keeps line separators"


def assert_rejection(error: InvalidArticle) -> None:
    assert error.kind and error.kind.strip(), "rejection without a kind"
    assert error.reason and error.reason.strip(), f"rejection {error.kind} without a reason"
    # processing_error is the safety net for bugs: hostile input must never need it.
    assert error.kind != "processing_error", f"a bug, caught by the safety net: {error.reason}"


def assert_carries_on(prepared: Prepared) -> None:
    """The record survives every later hop: our codec, and strict JSON for Elasticsearch."""
    assert codec.loads(Prepared, codec.dumps(prepared)) == prepared
    doc = prepared.article.model_dump(mode="json")
    json.dumps(doc, allow_nan=False, ensure_ascii=False).encode("utf-8")


def check_message(value: bytes | None) -> Prepared | InvalidArticle:
    outcome = prepare(value, MAX_MESSAGE_BYTES)
    if isinstance(outcome, InvalidArticle):
        assert_rejection(outcome)
        letter = dead_letter(
            value, b"key", outcome, stage="clean", topic="t.raw", partition=3, offset=42
        )
        again = codec.loads(DeadLetter, codec.dumps(letter))
        assert again.original_bytes() == (value or b"")
        return outcome
    article = outcome.article
    assert article.body.strip(), "a prepared article with a blank body"
    assert_plain_text(article.body, "body")
    if article.title is not None:
        assert article.title.strip() and "\n" not in article.title
        assert_plain_text(article.title, "title")
    assert article.id and article.id.strip()
    assert article.published_at is None or article.published_at.utcoffset() is not None
    assert_carries_on(outcome)
    return outcome


@given(messages)
@example(b'{"body": "&lt;script&gt;alert(1)&lt;/script&gt;"}')
@example(b'{"body": "<p>&lt;b&gt;bold&lt;/b&gt;</p>"}')
@example(b'{"body": "x", "meta": ' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}")
@example(b'{"body": "x", "meta": {"a": "\\udfff"}}')
@example(b'{"body": "x", "meta": {"\\ud800": 1}}')
@example(b'{"body": "x", "meta": {"n": NaN, "i": -Infinity}}')
@example(b'\xef\xbb\xbf{"body": "with a byte order mark"}')
@example(b'{"body": "a", "body": "<script>only markup</script>"}')
def test_any_message_is_a_clean_article_or_a_reasoned_rejection(value: bytes) -> None:
    check_message(value)


@given(st.binary(max_size=2000), st.one_of(st.none(), st.binary(max_size=50)))
@example(b"\xed\xa0\x80", b"\xc0\xaf")
@example(b"", None)
def test_dead_letters_give_back_the_exact_bytes(value: bytes, key: bytes | None) -> None:
    error = InvalidArticle("not_utf8", "why")
    letter = dead_letter(value, key, error, stage="decode", topic="t.raw", partition=0, offset=1)
    again = codec.loads(DeadLetter, codec.dumps(letter))
    assert again.original_bytes() == value
    if key is not None:
        assert again.key is not None
        raw_key, encoding = DeadLetter.encode_value(key)
        assert (again.key, encoding == "utf-8") == (raw_key, key == raw_key.encode("utf-8"))


@given(texts)
def test_cleaned_text_is_plain(text: str) -> None:
    cleaned = clean_text(text)
    assert_plain_text(cleaned, "clean_text")
    assert cleaned == cleaned.strip() and "\n\n\n" not in cleaned
    title = clean_title(text)
    assert title is None or (title.strip() and "\n" not in title)
    try:
        _, body = clean_body(text)
    except InvalidArticle as exc:
        assert exc.kind == "blank_body"
    else:
        assert body.strip()


@given(texts)
def test_cleaning_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@given(article_bytes())
def test_decode_raises_only_invalid_article(value: bytes) -> None:
    try:
        article = decode(value, MAX_MESSAGE_BYTES)
    except InvalidArticle as exc:
        assert_rejection(exc)
    else:
        assert article.body.strip()


# --- corpus files ------------------------------------------------------------------------

file_contents = st.one_of(
    st.binary(max_size=600),
    texts.map(lambda t: t.encode("utf-8")),
    st.lists(st.one_of(article_bytes(), broken_utf8(), json_constants()), max_size=5).map(
        b"\n".join
    ),
    st.lists(articles, max_size=4).map(
        lambda items: json.dumps(items, allow_nan=True).encode("utf-8", "surrogatepass")
    ),
    deep_json(),
)


@given(
    file_contents,
    st.sampled_from([".txt", ".jsonl", ".json"]),
    st.booleans(),
    st.sampled_from([b"", b"\xef\xbb\xbf"]),
)
def test_any_corpus_file_gives_records_or_reasons(
    content: bytes, suffix: str, gz: bool, bom: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"corpus{suffix}{'.gz' if gz else ''}"
        data = bom + content
        path.write_bytes(gzip.compress(data) if gz else data)
        records = list(read_file(path))
    for record in records:
        if record.error is not None:
            assert record.error.strip(), "a skipped record without a reason"
            continue
        assert record.value and record.key, "a valid record without a value or key"
        outcome = check_message(record.value)
        if isinstance(outcome, Prepared):
            # The producer keys a record by the id the worker gives it (same partition,
            # same document): otherwise copies would race on different partitions.
            assert outcome.article.id.encode() == record.key


def test_a_truncated_gzip_file_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"body": "one"}\n' * 100)[:-20])
    records = list(read_file(path))
    assert records and records[-1].error and "unreadable" in records[-1].error


# --- one very long body (not generated) ----------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_message_is_rejected_as_oversize_without_parsing_it() -> None:
    paragraph = "The council of Ravenholt approved a new bridge on Monday. " * 20 + "\n\n"
    body = paragraph * (FIFTY_MB // len(paragraph) + 1)
    value = json.dumps({"body": body}).encode()
    assert len(value) > FIFTY_MB
    started = time.monotonic()
    outcome = check_message(value)
    assert isinstance(outcome, InvalidArticle) and outcome.kind == "oversize"
    assert time.monotonic() - started < 2.0, "an oversize message must be refused before parsing"
    assert str(MAX_MESSAGE_BYTES) in outcome.reason


def test_a_50_mb_corpus_line_is_read_without_error_or_blowup(tmp_path: Path) -> None:
    paragraph = "The council of Ravenholt approved a new bridge on Monday. " * 20 + "\n\n"
    body = "<p>" + paragraph * (FIFTY_MB // len(paragraph) + 1) + "</p>"
    path = tmp_path / "huge.jsonl"
    line = {"id": "huge-1", "body": body, "published_at": "2024-05-01"}
    path.write_text(json.dumps({"body": "small"}) + "\n" + json.dumps(line) + "\n")
    started = time.monotonic()
    small, huge = read_file(path)
    assert small.error is None and huge.error is None and huge.key == b"huge-1"
    assert len(huge.value) > FIFTY_MB
    assert huge.published_at == datetime(2024, 5, 1, tzinfo=UTC).timestamp()
    # An article with an id is keyed without parsing its markup: 50 MB cost no cleaning.
    assert time.monotonic() - started < 10.0


def test_a_byte_order_mark_is_not_part_of_a_corpus_file(tmp_path: Path) -> None:
    for name in ("a.json", "b.jsonl", "c.txt"):
        content = '{"body": "With a BOM."}' if name != "c.txt" else "With a BOM."
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + content.encode())
        (record,) = read_file(tmp_path / name)
        assert record.error is None, (name, record.error)
        assert not json.loads(record.value)["body"].startswith("\ufeff")
