from datetime import UTC, datetime

import pytest

from newsflow.core.errors import InvalidArticle
from processors.stages.clean import clean_body, clean_text, clean_title, split_date_marker


def test_date_marker_is_parsed_and_removed():
    published, rest = split_date_marker(" date 2024-11-30 Officials met on Friday.")
    assert published == datetime(2024, 11, 30, tzinfo=UTC)
    assert rest == "Officials met on Friday."


def test_invalid_date_marker_is_left_in_the_text():
    assert split_date_marker("date 2024-13-45 text") == (None, "date 2024-13-45 text")


def test_markup_is_stripped_and_blocks_become_paragraphs():
    text = "<p>First &amp; <b>bold</b> line.</p><script>alert(1)</script><p>Second.</p>"
    assert clean_text(text) == "First & bold line.\n\nSecond."


def test_entities_are_unescaped_without_tags():
    assert clean_text("Fish &amp; chips") == "Fish & chips"


def test_boilerplate_lines_are_dropped_but_sentences_kept():
    text = "The vote passed.\n\nRead more: other story\n\nShare this article\n\nThe end."
    assert clean_text(text) == "The vote passed.\n\nThe end."
    long_sentence = "Read more carefully, the minister said, " + "and more " * 20
    assert clean_text(long_sentence).startswith("Read more carefully")


def test_whitespace_and_control_characters_are_tidied():
    assert clean_text("a\x00b   c\t\td\r\n\r\n\r\ne\u200b") == "a b c d\n\ne"


def test_lines_of_a_paragraph_are_joined():
    assert clean_text("one\ntwo\n\nthree") == "one two\n\nthree"


def test_blank_body_is_invalid():
    with pytest.raises(InvalidArticle) as err:
        clean_body("<p> </p>\n\nShare this article")
    assert err.value.kind == "blank_body"


def test_title_is_one_line():
    assert clean_title("  Big <i>news</i>\n today ") == "Big news today"
    assert clean_title("   ") is None
    assert clean_title(None) is None
