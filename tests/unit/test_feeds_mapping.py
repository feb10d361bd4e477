from datetime import UTC, datetime
from pathlib import Path

import pytest

from processors.stages.decode import clean_article
from producers.feeds import (
    FeedConfig,
    FeedError,
    FeedItem,
    entry_item,
    item_key,
    parse_feed,
    source_label,
    to_raw_article,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
FEED_URL = "http://127.0.0.1:8000/feed.xml"
FEED = FeedConfig(name="gazette", url=FEED_URL)


def _parse(name: str, content_type: str = "application/rss+xml"):
    return parse_feed((FIXTURES / name).read_bytes(), FEED_URL, content_type)


def test_rss2_items_with_each_kind_of_identity():
    parsed = _parse("rss2.xml")
    assert (parsed.version, parsed.title, parsed.warning) == ("rss20", "Harbour Gazette", None)
    ferry, wall, market, photo = parsed.items
    # A tag: guid is globally unique: it is the id.
    assert ferry.id == "tag:harbour-gazette.example,2026:ferry-resumes"
    assert ferry.url == "http://127.0.0.1/news/ferry-resumes?utm_source=rss"
    # content:encoded beats the description.
    assert "three weeks of winter storms" in ferry.body
    assert ferry.published_at == datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
    # A URL guid, or none: the link gives the id (the pipeline normalizes it).
    assert (wall.id, wall.url) == (None, "http://127.0.0.1/news/sea-wall-budget")
    assert (market.id, market.guid) == (None, None)
    # A bare guid is only unique in its channel.
    assert photo.id == f"{FEED_URL}#photo-1207"


def test_rss1_and_atom():
    comet, soil = _parse("rss1.xml").items
    assert (comet.id, comet.url) == (None, "http://127.0.0.1/science/comet-sighting")
    assert soil.published_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # +01:00 to UTC
    atom = _parse("atom.xml", "application/atom+xml")
    assert atom.version == "atom10"
    trains, roof = atom.items
    assert trains.id == "urn:uuid:2c1d5f0e-7b7a-4a0e-9d55-3d8e1c2f4a01"
    assert "sleeper cars" in trains.body  # <content> beats <summary>
    assert trains.published_at == datetime(2026, 11, 5, 6, 0, tzinfo=UTC)
    assert roof.published_at == datetime(2026, 11, 4, 15, 20, tzinfo=UTC)  # from <updated>
    assert roof.body.startswith("Repairs to the glass roof")


def test_an_item_becomes_a_raw_article():
    ferry = _parse("rss2.xml").items[0]
    raw = to_raw_article(ferry, FEED, "Harbour Gazette")
    assert raw is not None
    assert raw.id == ferry.id
    assert raw.url == ferry.url
    assert raw.title == "Ferry service resumes after winter storms"
    assert raw.source == "Harbour Gazette"
    assert raw.published_at == ferry.published_at
    assert raw.meta == {"feed": "gazette", "guid": ferry.guid}
    assert "<p>" in raw.body  # markup is the pipeline's to clean
    page = to_raw_article(ferry, FEED, "G", body="The page text.")
    assert page is not None and page.body == "The page text."


def test_an_item_without_text_is_no_article():
    item = FeedItem(guid="x", id="x", url=None, title="Only a title", body="", published_at=None)
    assert to_raw_article(item, FEED, "G") is None
    assert to_raw_article(item, FEED, "G", body="  ") is None


@pytest.mark.parametrize("index", [0, 1, 2])
def test_the_key_is_the_id_the_worker_gives(index: int):
    item = _parse("rss2.xml").items[index]
    raw = to_raw_article(item, FEED, "G")
    assert raw is not None
    assert item_key(item) == clean_article(raw).id


def test_tracking_parameters_and_scheme_do_not_change_the_key():
    one = entry_item({"link": "https://www.example.org/a?utm_source=rss"}, FEED_URL)
    two = entry_item({"link": "http://example.org/a"}, FEED_URL)
    assert item_key(one) == item_key(two)


def test_an_item_with_neither_guid_nor_link_is_keyed_by_its_content():
    item = entry_item({"summary": "<p>Some words of news.</p>"}, FEED_URL)
    raw = to_raw_article(item, FEED, "G")
    assert raw is not None
    key = item_key(item)
    assert key is not None and key.startswith("c-")
    assert key == clean_article(raw).id
    assert item_key(entry_item({"summary": "<img src='x'>"}, FEED_URL)) is None


def test_the_source_is_the_label_else_the_feed_title_else_the_name():
    parsed = _parse("rss2.xml")
    assert source_label(FEED.model_copy(update={"source": "HG"}), parsed) == "HG"
    assert source_label(FEED, parsed) == "Harbour Gazette"
    untitled = parse_feed(b'<rss version="2.0"><channel></channel></rss>', FEED_URL, "text/xml")
    assert source_label(FEED, untitled) == "gazette"


def test_a_recoverable_feed_gives_its_items_and_a_warning():
    parsed = _parse("recoverable.xml")
    assert parsed.warning is not None and parsed.warning.startswith("malformed feed")
    assert len(parsed.items) == 1
    assert "hill villages" in parsed.items[0].body


@pytest.mark.parametrize(
    ("name", "content_type", "reason"),
    [
        ("malformed.xml", "application/rss+xml", "malformed feed (not well-formed"),
        ("not_a_feed.html", "text/html; charset=utf-8", "not a feed: an HTML page (text/html"),
    ],
)
def test_an_unusable_feed_is_a_feed_error(name: str, content_type: str, reason: str):
    with pytest.raises(FeedError) as caught:
        _parse(name, content_type)
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_plain_text_is_not_a_feed():
    with pytest.raises(FeedError, match=r"^not a feed: "):
        parse_feed(b"hello", FEED_URL, "text/plain")
    with pytest.raises(FeedError, match="no RSS or Atom"):
        parse_feed(b"<?xml version='1.0'?><note>hi</note>", FEED_URL, "text/xml")


def test_an_empty_valid_feed_has_no_items():
    parsed = parse_feed(b'<rss version="2.0"><channel><title>T</title></channel></rss>', FEED_URL)
    assert parsed.items == []
