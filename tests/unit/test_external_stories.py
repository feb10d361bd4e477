"""The ECB+ story evaluation's scoring and its skip when the shared data is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.external.stories import EcbArticle, main, score


def article(article_id: str, topic: int, event: str) -> EcbArticle:
    return EcbArticle(article_id, topic, event, "text")


ITEMS = [article("a", 1, "1_ecb"), article("b", 1, "1_ecb"), article("c", 1, "1_ecbplus")]


def test_one_story_for_two_events_halves_precision_and_counts_the_pairs() -> None:
    figures = score(ITEMS, {"a": "s", "b": "s", "c": "s"})
    assert figures["bcubed_precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3, abs=1e-4)
    assert figures["bcubed_recall"] == 1.0
    assert figures["bcubed_f1"] == pytest.approx(2 * (5 / 9) / (1 + 5 / 9), abs=1e-4)
    assert (figures["same_kind_pairs"], figures["same_kind_pairs_in_one_story"]) == (2, 2)


def test_a_split_event_lowers_recall_only() -> None:
    figures = score(ITEMS, {"a": "s1", "b": "s2", "c": "s3"})
    assert figures["bcubed_precision"] == 1.0
    assert figures["bcubed_recall"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3, abs=1e-4)
    assert figures["same_kind_pairs_in_one_story"] == 0 and figures["stories"] == 3


def test_pairs_of_other_topics_are_not_same_kind_pairs() -> None:
    items = [*ITEMS, article("d", 2, "2_ecb")]
    figures = score(items, {"a": "s", "b": "s", "c": "t", "d": "s"})
    assert figures["same_kind_pairs"] == 2 and figures["same_kind_pairs_in_one_story"] == 0


def test_absent_data_is_skipped_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path), "--offline"]) == 0
    assert "skipped" in capsys.readouterr().err
