"""The entity rules for real newswire shapes: tables, datelines, context cues, agreement.

Every sentence here is invented (no text of the evaluation sets).
"""

from __future__ import annotations

import pytest

from processors.stages.aliases import AliasTable, load_aliases
from processors.stages.cues import cue_label, starts_sentence
from processors.stages.datelines import dateline_places
from processors.stages.entities import RULES, EntityFacets, canonical_entities
from processors.stages.spans import is_initialled_person, is_junk, split_table_span
from processors.stages.tables import table_names


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


# --------------------------------------------------------------------------- spans
@pytest.mark.parametrize(
    ("span", "label", "parts"),
    [
        ("Quenby 4\nT. Harlowe", "PERSON", ["Quenby", "T. Harlowe"]),
        ("R. Ashdown 87", "PERSON", ["R. Ashdown"]),
        ("Mira Castell (Norland", "PERSON", ["Mira Castell"]),
        ("Harlow Athletic v", "ORG", ["Harlow Athletic"]),
        ("Channel 7", "ORG", ["Channel 7"]),
        ("Ashford Town 112", "ORG", ["Ashford Town"]),
    ],
)
def test_table_spans_are_cut_into_names(span: str, label: str, parts: list[str]) -> None:
    assert split_table_span(span, label) == parts


@pytest.mark.parametrize(
    ("name", "person"),
    [
        ("J. Brackley", True),
        ("U.S. Steel", False),
        ("J. Brackley Holdings", False),
        ("Brackley", False),
    ],
)
def test_initial_and_surname_is_a_person(name: str, person: bool) -> None:
    assert is_initialled_person(name) is person


@pytest.mark.parametrize("unit", ["Mbps", "Kbps", "Gbps"])
def test_units_are_junk(unit: str) -> None:
    assert is_junk(unit, "GPE")
    assert not is_junk("Lynn", "GPE")


# --------------------------------------------------------------------------- datelines
@pytest.mark.parametrize(
    ("body", "places"),
    [
        ("PORT ELLIN, Norland 2026-01-05\nThe council met.", ["Port Ellin", "Norland"]),
        ("VELMORE (Reuters) - Shares of Acme fell.", ["Velmore"]),
        ("By Ada Quill\nST. ARNE, Calif. Jan 5 - Fire crews...", ["St. Arne", "Calif."]),
        ("KESSING — Residents were evacuated.", ["Kessing"]),
        ("Residents of Kessing were evacuated.", []),
        ("NHS chiefs said the plan works.", []),
    ],
)
def test_dateline_places(body: str, places: list[str]) -> None:
    assert dateline_places(body) == places


def test_dateline_place_outvotes_one_org_tag(aliases: AliasTable) -> None:
    facets = canonical_entities(
        [("PORT ELLIN", "ORG"), ("Norland", "PERSON")], aliases, places=["Port Ellin", "Norland"]
    )
    assert facets.locations == ["Port Ellin", "Norland"]
    assert facets.organizations == facets.persons == []
    assert [e.count for e in facets.entities] == [1, 1]  # the dateline adds no mention


# --------------------------------------------------------------------------- tables
def test_results_lines_and_initials_give_hints() -> None:
    body = (
        "Results on Saturday:\n"
        "Ashford Town 2 Harlow Athletic 1\n"
        "KESSING ROVERS 61 75 .449 20\n"
        "Ashford 312 (T. Harlowe 87, R. Ashdown 52)\n"
        "The coach said 3 players were injured."
    )
    assert table_names(body) == [
        ("Ashford Town", "ORG"),
        ("Harlow Athletic", "ORG"),
        ("KESSING ROVERS", "ORG"),
        ("Ashford", "ORG"),
        ("T. Harlowe", "PERSON"),
        ("R. Ashdown", "PERSON"),
    ]


def test_table_hint_is_outvoted_by_prose(aliases: AliasTable) -> None:
    hints = [("Quenby Vale", "ORG"), ("Mira Castell", "ORG")]
    facets = canonical_entities([("Mira Castell", "PERSON")], aliases, hints=hints)
    assert facets.organizations == ["Quenby Vale"]
    assert facets.persons == ["Mira Castell"]


def test_gazetteer_corrects_spacy_not_a_table(aliases: AliasTable) -> None:
    # "Leeds" only in a results line is the team; tagged GPE in prose it stays the city.
    assert canonical_entities([], aliases, hints=[("Leeds", "ORG")]).organizations == ["Leeds"]
    facets = canonical_entities([("Leeds", "GPE")], aliases, hints=[("Leeds", "ORG")])
    assert facets.locations == ["Leeds"]


def test_span_across_table_cells_is_outvoted_by_the_table(aliases: AliasTable) -> None:
    facets = canonical_entities([("Ashford 312", "GPE")], aliases, hints=[("Ashford", "ORG")])
    assert facets.organizations == ["Ashford"]


# --------------------------------------------------------------------------- context cues
@pytest.mark.parametrize(
    ("text", "label", "context", "known", "cued"),
    [
        ("Oscar", "PERSON", ("an", "for"), False, None),
        ("Oscar", "PERSON", ("", "-"), False, None),
        ("Ellin", "PERSON", ("river", "burst"), False, "LOC"),
        ("Kessing", "PERSON", ("neighbouring", "."), False, "GPE"),
        ("Gizmo", "GPE", ("the", "device"), False, None),
        ("Netherlands", "GPE", ("the", "said"), True, "GPE"),
        ("Quenby", "PERSON", ("", "said"), False, "PERSON"),
        ("Mira Castell", "PERSON", ("the", "said"), False, "PERSON"),
    ],
)
def test_cue_label(
    text: str, label: str, context: tuple[str, str], known: bool, cued: str | None
) -> None:
    assert cue_label(text, label, context, known) == cued


def test_sentence_boundaries() -> None:
    assert starts_sentence(("", "showed")) and starts_sentence((".", "said"))
    assert not starts_sentence(("said", "."))


def facets_with(
    aliases: AliasTable, found: list[tuple[str, str, str, str]], **kwargs: object
) -> EntityFacets:
    mentions = [(t, label) for t, label, _, _ in found]
    contexts = [(before, after) for _, _, before, after in found]
    return canonical_entities(mentions, aliases, contexts=contexts, **kwargs)  # type: ignore[arg-type]


def test_one_refuting_context_clears_the_name_in_the_article(aliases: AliasTable) -> None:
    facets = facets_with(
        aliases, [("Glimmer", "PERSON", "", "nominations"), ("Glimmer", "PERSON", "a", "for")]
    )
    assert facets.persons == []


def test_river_and_village_become_places(aliases: AliasTable) -> None:
    facets = facets_with(
        aliases, [("Ellin", "PERSON", "river", "burst"), ("Kessing", "PERSON", "neighbouring", ".")]
    )
    assert facets.persons == []
    assert facets.locations == ["Ellin", "Kessing"]


def test_lone_sentence_initial_person_is_dropped(aliases: AliasTable) -> None:
    facets = facets_with(
        aliases,
        [
            ("Sprockets", "PERSON", "", "showed"),
            ("Katrin Dreher", "PERSON", "mayor", "said"),
            ("Dreher", "PERSON", ".", "said"),
            ("King Halvard", "PERSON", ".", "will"),
        ],
    )
    assert facets.persons == ["Katrin Dreher", "Halvard"]


# --------------------------------------------------------------------------- agreement
def test_short_forms_vote_for_their_own_label(aliases: AliasTable) -> None:
    mentions = [("Mira Castell", "ORG")] + [("Castell", "PERSON")] * 3
    assert canonical_entities(mentions, aliases).persons == ["Mira Castell"]


def test_surname_makes_an_org_tagged_full_name_a_person(aliases: AliasTable) -> None:
    facets = canonical_entities([("Halvard Quenby", "ORG"), ("Quenby", "PERSON")], aliases)
    assert facets.persons == ["Halvard Quenby"]
    # a club named after its town keeps its label ("Leeds" is in the gazetteer)
    facets = canonical_entities([("Leeds Harriers", "ORG"), ("Harriers", "PERSON")], aliases)
    assert facets.organizations == ["Leeds Harriers"]


def test_club_words_make_organizations(aliases: AliasTable) -> None:
    assert canonical_entities([("Harlow United", "PERSON")], aliases).organizations == [
        "Harlow United"
    ]


def test_initialled_name_tagged_org_is_a_person(aliases: AliasTable) -> None:
    assert canonical_entities([("J. Brackley", "ORG")], aliases).persons == ["J. Brackley"]


# --------------------------------------------------------------------------- switches
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_can_be_switched_off(aliases: AliasTable, rule: str) -> None:
    found = [("J. Brackley", "ORG", "", "said"), ("Oscar", "PERSON", "an", "for")]
    facets = facets_with(
        aliases, found, places=["Port Ellin"], hints=[("Ashford", "ORG")], disabled={rule}
    )
    assert facets.entities


def test_switching_a_rule_off_changes_its_output(aliases: AliasTable) -> None:
    off = canonical_entities([("J. Brackley", "ORG")], aliases, disabled=frozenset({"initials"}))
    assert off.organizations == ["J. Brackley"]
