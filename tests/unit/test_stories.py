"""Story clustering: same-event articles join, other events split, idempotence, expiry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from processors.stages.stories import (
    BatchState,
    StoryAssignment,
    StoryConfig,
    StoryFeatures,
    assign_story,
    document_frequency,
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
    config = StoryConfig(keep_articles=0, keep_stories=0)
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


def test_expiry_keeps_a_small_state_whole_so_a_long_replay_is_not_split() -> None:
    # A corpus spanning more than the retention, replayed in file order: an article dated
    # weeks later than the first ones must not close their story before its follow-up.
    config = StoryConfig(keep_stories=10)
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, config)
    assign_story(make("v", T0 + 30 * 24 * HOUR, VOLCANO), state, config)
    assert expire(state, T0 + 30 * 24 * HOUR, config) == 0
    assert assign_story(make("b", T0 + HOUR, FERRY_B), state, config).story_id == first.story_id


def test_wall_clock_expiry_keeps_the_stories_of_an_old_replayed_corpus() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, config)
    assert expire(state, T0 + 365 * 24 * HOUR, config) == 0  # the wall clock is a year later
    assert assign_story(make("b", T0 + HOUR, FERRY_B), state, config).story_id == first.story_id


# --- document frequencies learnt from the stream ----------------------------------------


def words(article_id: str, text: str, at: float = T0) -> StoryFeatures:
    """An article of plain words, no entities (only the term statistics matter here)."""
    return features(article_id, at, None, text, {})


def test_document_frequencies_are_counted_online() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    assign_story(make("a", T0, FERRY_A), state, config)
    assign_story(make("b", T0 + HOUR, FERRY_B), state, config)
    assign_story(make("v", T0 + 2 * HOUR, VOLCANO), state, config)
    assert state["m:docs"] == 3
    assert document_frequency("", state, config) == pytest.approx(3.0, rel=1e-3)
    # "ferries" and "ferry" are one term; each document counts a term once.
    assert document_frequency("ferry", state, config) == pytest.approx(2.0, rel=1e-3)
    assert document_frequency("eruption", state, config) == 0.0
    assert document_frequency("ash", state, config) == pytest.approx(1.0, rel=1e-3)
    assert json.loads(json.dumps(state)) == state


def test_redelivery_does_not_count_the_article_twice() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    assign_story(make("a", T0, FERRY_A), state, config)
    before = (state["m:docs"], document_frequency("ferry", state, config))
    assign_story(make("a", T0, FERRY_A), state, config)
    assert (state["m:docs"], document_frequency("ferry", state, config)) == before


def test_common_words_weigh_less_than_rare_ones() -> None:
    config = StoryConfig()
    state: dict[str, Any] = {}
    for n in range(30):
        assign_story(words(f"bg{n}", f"council budget meeting topic{n} item{n}"), state, config)
    common = document_frequency("council", state, config)
    assert common == pytest.approx(30.0, rel=0.01)
    # An article about a rare subject: its rare words lead its index terms, not "council".
    assign_story(words("x", "council narwhal narwhal sighting"), state, config)
    story = state[f"s:{state['a:x']['s']}"]
    assert story["k"][0] == "w:narwhal"


def test_terms_fade_and_expire_on_the_document_clock() -> None:
    config = StoryConfig(df_half_life_docs=8.0, df_slot_docs=4.0)
    state: dict[str, Any] = {}
    assign_story(words("once", "quokka often"), state, config)
    for n in range(40):  # "often" is counted again now and then, "quokka" never
        text = f"filler{n} often" if n % 4 == 0 else f"filler{n}"
        assign_story(words(f"f{n}", text, T0 + n), state, config)
    assert document_frequency("often", state, config) > 0.0
    assert document_frequency("quokka", state, config) == 0.0  # faded below df_min_count
    assert "d:quokka" in state  # still held until expire runs
    expire(state, T0 + 40, config)
    assert "d:quokka" not in state and "d:often" in state
    # Only recent words are held: bounded by the half-life, whatever the stream's length.
    assert sum(k.startswith("d:") for k in state) <= 8 * 2 + 8
    assert state["m:terms"] == sum(k.startswith("d:") for k in state)


def test_the_vocabulary_is_capped_dropping_the_rare_tail_first() -> None:
    config = StoryConfig(df_max_terms=50, df_slot_docs=1.0)
    state: dict[str, Any] = {}
    for n in range(100):
        assign_story(words(f"a{n}", f"common unique{n}a unique{n}b", T0 + n), state, config)
    assert state["m:terms"] == 201
    dropped_before = sum(k.startswith("d:") for k in state)
    expire(state, T0 + 100, config)
    held = {k for k in state if k.startswith("d:")}
    assert len(held) <= 50 < dropped_before
    assert "d:common" in held  # counted 100 times: it fades last
    assert "d:unique99a" in held and "d:unique0a" not in held  # the oldest rare ones go first
    assert state["m:terms"] == len(held)


def test_leaving_the_story_out_a_follow_up_joins_on_a_young_stream() -> None:
    # The second article of a story: the words it shares with the first were seen once
    # (in that very story) and must not weigh less for it than the words seen nowhere.
    config = StoryConfig()
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, FERRY_A), state, config)
    second = assign_story(make("b", T0 + HOUR, FERRY_B), state, config)
    assert second.story_id == first.story_id


def test_features_fold_plurals_and_weigh_place_words_less() -> None:
    f = features(
        "x",
        T0,
        "Ferries halted in North Varnia",
        "The ferry operators said ferries would resume.",
        {"North Varnia": 1, "Ines Varga": 1},
        entity_labels={"North Varnia": "GPE", "Ines Varga": "PERSON"},
    )
    assert f.terms["ferry"] == 2 + 2  # title "ferries" twice, body "ferry", "ferries"
    assert "ferries" not in f.terms
    assert f.term_weights == {"north": 0.4, "varnia": 0.4}
    assert f.entity_weights == {"North Varnia": 0.4}


def test_a_batch_view_writes_each_key_once_and_gives_the_same_stories() -> None:
    class Counting(dict[str, Any]):
        writes = 0

        def __setitem__(self, key: str, value: Any) -> None:
            self.writes += 1
            super().__setitem__(key, value)

    articles = [
        ("a", T0, FERRY_A),
        ("b", T0 + HOUR, FERRY_B),
        ("v", T0 + 2 * HOUR, VOLCANO),
        ("a", T0, FERRY_A),  # redelivered within the batch
    ]
    config = StoryConfig()
    direct, table = Counting(), Counting()
    expected = [assign_story(make(i, at, art), direct, config) for i, at, art in articles]
    batch = BatchState(table)
    got = [assign_story(make(i, at, art), batch, config) for i, at, art in articles]
    assert table == {} and table.writes == 0  # nothing reaches the table before the flush
    assert batch.flush() == len(table)
    assert got == expected and table == direct
    assert table.writes < direct.writes
    # Deletions go through too, and a second flush has nothing left to write.
    view = BatchState(table)
    assert expire(view, T0 + 365 * 24 * HOUR, StoryConfig(keep_articles=0, keep_stories=0)) == 0
    del view["m:now"]
    assert "m:now" not in view and "m:now" in table
    view.flush()
    assert "m:now" not in table and BatchState(table).flush() == 0


def test_features_keep_years_and_figures_and_drop_split_contractions() -> None:
    f = features("a", T0, None, "The 5.6 quake of 2008 was n't felt ; 12 people , 20,000 homes", {})
    assert {"5.6", "2008", "20,000"} <= set(f.terms)
    assert "12" not in f.terms and "n't" not in f.terms


PILOT = (
    "Pilot Anthony LaCalamita charged over Detroit plane theft",
    "Pilot Anthony LaCalamita was charged with stealing a small plane from a Detroit airfield "
    "and flying it to Canada. Prosecutor Dana Hollis said the plane was found in a field.",
    {"Anthony LaCalamita": 2, "Detroit": 1, "Dana Hollis": 1},
)
PILOT_FOLLOW_UP = (
    "LaCalamita pleads not guilty to plane theft charge",
    "LaCalamita, the pilot charged with stealing a small plane from a Detroit airfield and "
    "flying it to Canada, pleaded not guilty. The plane was found in a field.",
    {"LaCalamita": 2},
)


def test_a_name_spelt_apart_by_ner_does_not_bar_the_follow_up() -> None:
    # NER gives "LaCalamita" in one article, "Anthony LaCalamita" in the other: no entity in
    # common, but the same person; the follow-up must still be compared on its words.
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, PILOT), state, StoryConfig())
    second = assign_story(make("b", T0 + 3 * HOUR, PILOT_FOLLOW_UP), state, StoryConfig())
    assert second.story_id == first.story_id


def test_two_events_naming_no_one_in_common_stay_apart() -> None:
    state: dict[str, Any] = {}
    first = assign_story(make("a", T0, PILOT), state, StoryConfig())
    title, body, _ = PILOT_FOLLOW_UP
    rename = "LaCalamita", "Pemberton"
    other = (title.replace(*rename), body.replace(*rename), {"Pemberton": 2})
    second = assign_story(make("b", T0 + 3 * HOUR, other), state, StoryConfig())
    assert second.is_new and second.story_id != first.story_id
