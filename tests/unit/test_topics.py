"""Topic tagging on small texts, and the taxonomy file."""

from __future__ import annotations

import pytest

from newsflow.core.errors import ConfigError
from processors.stages.topics import Taxonomy, load_taxonomy, parse_taxonomy, tag_topics
from schemas import TOPIC_SLUGS


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def test_football_report_is_sport_not_conflict(taxonomy: Taxonomy) -> None:
    topics, tags = tag_topics(
        "Rovers storm back to beat City in derby",
        "The striker scored twice after the break and the goalkeeper saved a late penalty. "
        "The coach praised his defence for resisting a fierce attack in the final minutes, "
        "and the fans celebrated a battling victory that lifts the team to third in the league.",
        None,
        taxonomy,
    )
    assert topics[0].slug == "sport"
    assert "conflict" not in [t.slug for t in topics]
    assert "football" in tags


def test_war_report_is_conflict(taxonomy: Taxonomy) -> None:
    topics, _ = tag_topics(
        "Artillery pounds front line",
        "Troops came under heavy shelling overnight as missiles struck positions near the front.",
        None,
        taxonomy,
    )
    assert topics[0].slug == "conflict"


def test_word_families_do_not_overreach(taxonomy: Taxonomy) -> None:
    topics, _ = tag_topics(None, "Vaccinations resumed.", None, taxonomy)
    assert topics[0].slug == "health"
    assert tag_topics(None, "Geneva, in general.", None, taxonomy) == ([], [])


def test_no_evidence_no_topic(taxonomy: Taxonomy) -> None:
    assert tag_topics(None, "Lorem ipsum dolor sit amet.", None, taxonomy) == ([], [])


def test_scores_are_shares_best_first(taxonomy: Taxonomy) -> None:
    topics, _ = tag_topics(
        "Parliament votes on climate bill",
        "Lawmakers voted on emissions targets and a carbon tax in a tight parliamentary vote.",
        None,
        taxonomy,
    )
    assert topics[0].slug in {"politics", "environment"}
    assert all(0 < t.score <= 1 for t in topics)
    assert [t.score for t in topics] == sorted((t.score for t in topics), reverse=True)


def test_every_topic_has_rules(taxonomy: Taxonomy) -> None:
    keys = {key for entries in taxonomy.phrases.values() for key, _ in entries}
    keys |= {key for entries in taxonomy.prefixes.values() for key, _ in entries}
    assert set(TOPIC_SLUGS) <= keys
    assert taxonomy.version.split("+")[0].isdigit()


def test_prefix_terms_and_title_weight() -> None:
    rules = """
version: t
title_weight: 3
topics:
  politics: {terms: {"elect*": 1}}
  economy: {terms: {"interest rates": 1}}
"""
    taxonomy = parse_taxonomy(rules)
    topics, _ = tag_topics(
        "Elections called", "Interest rates stay; interest rates up.", None, taxonomy
    )
    assert [t.slug for t in topics][:1] == ["politics"]  # 3 (title) > 2 (body)


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\ntopics: {football: {terms: {goal: 1}}}\n",  # not an IPTC slug
        "version: 1\ntopics: {sport: {terms: {goal: 0}}}\n",  # weight must be > 0
        "version: 1\ntopics: {sport: {terms: {goal: 1}}\n",  # YAML
        "topics: {sport: {terms: {goal: 1}}}\n",  # no version
    ],
)
def test_bad_taxonomy_is_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_taxonomy(text)
