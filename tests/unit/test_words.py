"""The word splits of the pure stages and the one plural fold."""

from __future__ import annotations

import pytest

from processors.stages.dedup import content_hash
from processors.stages.identity import article_id
from processors.stages.words import folded_words, plain_words, singular

TEXT = "UPDATED 07:55 — The  Mayor's plan_B, 20,000 £ café\u00a0naïve ﬁx.\nBy Jane Doe"


def test_ids_and_content_hashes_made_from_words_stay_what_is_stored() -> None:
    # Values computed before the tokenizers were shared: stored ids and dedup hashes.
    assert article_id(None, None, TEXT) == "c-6428ad7250f55172ef3bd1da67578447"
    assert content_hash(TEXT) == "2ac34494f9440539cf93932c60b559fc"


def test_plain_words_keep_digits_and_underscores() -> None:
    assert plain_words("The  Mayor's plan_B, 20,000.") == [
        "the",
        "mayor",
        "s",
        "plan_b",
        "20",
        "000",
    ]


def test_folded_words_split_underscores_and_fold_plurals() -> None:
    assert folded_words("Interest rates, the Elections' cities plan_Votes") == [
        "interest", "rate", "the", "election", "city", "plan", "vote",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("ferries", "ferry"),
        ("trains", "train"),
        ("churches", "church"),
        ("boxes", "box"),
        ("classes", "class"),
        ("axes", "ax"),
        ("bus", "bus"),
        ("crisis", "crisis"),
        ("virus", "virus"),
        ("ties", "tie"),
        ("gas", "gas"),
    ],
)
def test_singular(word: str, folded: str) -> None:
    assert singular(word) == folded
