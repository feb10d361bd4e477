"""Story clustering: same-event articles join, other events split, idempotence, expiry."""

from __future__ import annotations

import json
from typing import Any

from processors.stories import (
    StoryAssignment,
    StoryConfig,
    StoryFeatures,
    assign_story,
    expire,
    features,
    story_summary,
)

HOUR = 3600.0
T0 = 1_790_000_000.0

FERRY_A = (
    "Harlow Bay council votes to close Pier Street ferry terminal",
    "The council of Harlow Bay voted to close the old ferry terminal on Pier Street and move "
    "the harbour ferries to a new dock north of the marina. Councillor Ines Varga said the "
    "terminal's timber pilings failed a safety inspection. Ferry workers protested.",
    {"Harlow Bay": 2, "Pier Street": 2, "Ines Varga": 1},
)
FERRY_B = (
    "Pier Street's ferries to move north after heated council meeting",
    "Harlow Bay is getting a new ferry dock. Councillors backed a plan to abandon the Pier "
    "Street terminal, whose wooden supports were found unsafe, and build a replacement by the "
    "northern marina. Ines Varga led the review. Crews fear for their jobs.",
    {"Harlow Bay": 1, "Pier Street": 2, "Ines Varga": 1},
)
VOLCANO = (
    "Mount Selka erupts, ash cloud grounds flights",
    "Mount Selka on the island of Varnø erupted, sending ash eight kilometres high and closing "
    "two airports. Sigrun Hald of the Varnø Geological Institute said lava posed no danger.",
    {"Mount Selka": 2, "Varnø": 2, "Sigrun Hald": 1, "Varnø Geological Institute": 1},
)


def make(article_id: str, at: float, article: tuple[str, str, dict[str, int]]) -> StoryFeatures:
    title, body, entities = article
    return features(article_id, at, title, body, entities, source=f"outlet-{article_id}")


def test_same_event_in_other_words_joins_one_story() -> None:
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, StoryConfig())
    second = assign_story(make("b", T0 + 5 * HOUR, FERRY_B), state, StoryConfig())
    assert first.is_new and first.score is None
    assert not second.is_new and second.story_id == first.story_id
    assert second.score is not None and second.score >= StoryConfig().threshold


def test_another_event_starts_another_story() -> None:
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, StoryConfig())
    other = assign_story(make("v", T0 + HOUR, VOLCANO), state, StoryConfig())
    assert other.is_new and other.story_id != first.story_id


def test_same_event_outside_the_window_is_a_new_story() -> None:
    state: dict[str, Any] = {}
    config = StoryConfig()
    first = assign_story(make("a", T0, FERRY_A), state, config)
    late = assign_story(make("b", T0 + config.window_seconds + HOUR, FERRY_B), state, config)
    assert late.is_new and late.story_id != first.story_id


def test_redelivery_returns_the_stored_assignment() -> None:
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, StoryConfig())
    second = assign_story(make("b", T0 + HOUR, FERRY_B), state, StoryConfig())
    snapshot = json.dumps(state, sort_keys=True)
    assert assign_story(make("a", T0, FERRY_A), state, StoryConfig()) == first
    assert assign_story(make("b", T0 + HOUR, FERRY_B), state, StoryConfig()) == second
    assert json.dumps(state, sort_keys=True) == snapshot
    assert story_summary(first.story_id, state)["article_count"] == 2


def test_state_is_json_and_summary_describes_the_story() -> None:
    state: dict[str, Any] = {}
    assignment = assign_story(make("a", T0, FERRY_A), state, StoryConfig())
    assign_story(make("b", T0 + 2 * HOUR, FERRY_B), state, StoryConfig())
    assert json.loads(json.dumps(state)) == state
    summary = story_summary(assignment.story_id, state)
    assert summary["article_count"] == 2
    assert set(summary["sources"]) == {"outlet-a", "outlet-b"}
    assert summary["top_entities"][0] == {"name": "Pier Street", "count": 4}
    assert summary["first_seen"] < summary["last_seen"]


def test_expiry_closes_old_stories_and_empties_the_state() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    story = assign_story(make("a", T0, FERRY_A), state, config).story_id
    assign_story(make("v", T0 + HOUR, VOLCANO), state, config)
    assert expire(state, T0 + HOUR, config) == 0
    later = T0 + config.retention_seconds + 2 * HOUR
    late = assign_story(make("late", later, VOLCANO), state, config)  # stream time moves on
    assert late.is_new
    assert expire(state, later, config) == 2
    assert f"s:{story}" not in state
    assert {k for k in state if k.startswith(("a:", "s:"))} == {"a:late", f"s:{late.story_id}"}
    assert state["m:stories"] == 1


def test_features_weigh_title_and_drop_stop_words() -> None:
    f = features("x", T0, "Ferry terminal closes", "The ferry will close. It is old.", {"A": 1})
    assert "the" not in f.terms and "ferry" in f.terms
    assert max(f.terms, key=lambda t: f.terms[t]) == "ferry"
    assert isinstance(assign_story(f, {}, StoryConfig()), StoryAssignment)


def test_wall_clock_expiry_keeps_the_stories_of_an_old_replayed_corpus() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, config)
    assert expire(state, T0 + 365 * 24 * HOUR, config) == 0  # the wall clock is a year later
    assert assign_story(make("b", T0 + HOUR, FERRY_B), state, config).story_id == first.story_id
