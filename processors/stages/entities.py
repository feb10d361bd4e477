"""Canonical named entities of one article, as a pure function over spaCy's mentions.

spaCy gives surface spans ("the Kremlin", "Putin's", "Kim"); facets need one name per thing.
:func:`canonical_entities` cleans each span (:mod:`processors.stages.spans`), maps known variants
through the user-editable alias table (``deploy/aliases.yaml``, :mod:`processors.stages.aliases`),
resolves short forms to the full name used in the same article ("Kim" -> "Kim Jong Un") and
counts what is left. The layout of newswire adds evidence: the dateline's places
(:mod:`processors.stages.datelines`), the names of results tables
(:mod:`processors.stages.tables`) and
the words around each span (:mod:`processors.stages.cues`); each label is then a weighted vote per
name over the article. No spaCy import here: the caller passes
``[(ent.text, ent.label_) for ent in doc.ents]``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import get_args

from processors.stages.aliases import AliasTable, load_aliases, parse_aliases
from processors.stages.cues import Context, cue_label, starts_sentence
from processors.stages.spans import (
    clean_span,
    is_initialled_person,
    is_junk,
    is_org_name,
    person_after_title,
    split_table_span,
    strip_postnominals,
    strip_titles,
)
from schemas import Entity
from schemas.article import EntityLabel

__all__ = [
    "AliasTable",
    "EntityFacets",
    "Mention",
    "canonical_entities",
    "clean_span",
    "is_junk",
    "load_aliases",
    "parse_aliases",
]

Mention = tuple[str, str]
"""One entity mention: (surface text, spaCy label), in document order."""

KEPT_LABELS: frozenset[str] = frozenset(get_args(EntityLabel))
LOCATION_LABELS = frozenset({"GPE", "LOC"})
# Labels whose one-word mention may be a short form of a name given in full elsewhere
# (spaCy often tags a bare surname as ORG or GPE: "Belousov", "Kim").
_SHORT_FORM_LABELS = frozenset({"PERSON", "ORG", "GPE", "FAC", "PRODUCT"})
# Labels that an organization designator at the end of the span overrides to ORG.
_NOT_ORG_LABELS = frozenset({"PERSON", "NORP", "FAC", "PRODUCT"})
# A name in the place gazetteer gets this many extra GPE votes: one stray ORG or PERSON tag
# ("Saarbrücken", "Kyiv said") is outvoted, a club the model tags ORG twice is not.
PLACE_VOTES = 1.5
# When a name is seen under several labels equally often, the first of these wins.
_LABEL_PRECEDENCE: tuple[str, ...] = ("PERSON", "GPE", "ORG", "LOC", "NORP", "EVENT", "FAC")
# A short form votes for its own label with this weight on the full name it resolves to:
# three "Mitchell" tagged PERSON outvote one "Dennis Mitchell" tagged ORG, one "City" tagged
# PERSON does not outvote "Bristol City" tagged ORG.
SHORT_FORM_VOTE = 0.5
# A surname tagged PERSON of a "Firstname Lastname" tagged ORG (see `_surname_of`) outvotes
# that ORG tag and a gazetteer vote.
SURNAME_VOTE = 1.0 + PLACE_VOTES
# A dateline's place outvotes one ORG tag of its name ("NICE" tagged ORG in the dateline) but
# not two (the football club of the same name, mentioned twice).
DATELINE_VOTES = 2.0
# A name read from a table's layout: a vote that any label spaCy gives it in prose outvotes.
TABLE_VOTE = 0.5
# A part of a span that ran across table cells ("Durham 114", "St Johnstone v"): spaCy's label
# for it is a guess that the table's own hint outvotes.
TABLE_SPAN_VOTE = 0.25

# Each rule of canonicalization by name, so that one can be switched off to measure what it
# brings (``python -m evaluation.external.entities --ablation``).
RULES: dict[str, str] = {
    "cleaning": "quotes, possessives, a leading article, glued scores stripped",
    "table_spans": "spans cut at line breaks and open brackets, trailing numbers dropped",
    "postnominals": "post-nominal letters make a person (Eleanor Fairbairn KC)",
    "titles": "leading titles stripped from persons (Defense Minister ...)",
    "title_person": "a title-led span tagged ORG is a person (Bishop Jean Roux)",
    "junk": "junk spans dropped (numbers, lowercase, designations, all-caps persons)",
    "ignore": "the alias table's ignore list",
    "aliases": "the alias table's canonical names",
    "forced_labels": "the alias table's forced labels",
    "org_words": "a span ending in an organization word is ORG",
    "initials": "an initial and a surname is a person (J. Pooley)",
    "tables": "names of results lines (teams) and initialled names (persons)",
    "datelines": "the dateline's city and region are places",
    "context_cues": "words around a one-word name: an Oscar, the river Mirsach",
    "sentence_start": "a one-word person seen once, opening a sentence, is dropped",
    "capitals": "all-capital names take the article's spelling or the gazetteer's",
    "short_forms": "short forms take the full name used in the article",
    "acronyms": "an acronym takes the full name used in the article",
    "place_votes": "gazetteer places get extra GPE votes",
}


# --------------------------------------------------------------------------- canonicalization
@dataclass(frozen=True)
class EntityFacets:
    """The canonical entities of one article: facet name lists and counted entities.

    Each list is ordered by mention count (most first), then by first appearance.
    """

    persons: list[str]
    organizations: list[str]
    locations: list[str]
    entities: list[Entity]


@dataclass
class _Mention:
    name: str
    label: str
    forced: bool  # label fixed by the alias table
    weight: float = 1.0  # of its label vote
    counted: bool = True  # a mention spaCy found, not one the layout adds
    weak: bool = False  # opens a sentence, where every word has a capital


def canonical_entities(
    mentions: Sequence[Mention],
    aliases: AliasTable,
    *,
    relabel: bool = True,
    places: Sequence[str] = (),
    hints: Sequence[Mention] = (),
    contexts: Sequence[Context] = (),
    disabled: frozenset[str] = frozenset(),
) -> EntityFacets:
    """Canonical persons, organizations, locations and counted entities of one article.

    ``mentions`` are ``(ent.text, ent.label_)`` pairs in document order; ``places`` are names
    the layout of the text marks as places (the dateline's, :mod:`processors.stages.datelines`),
    each with :data:`DATELINE_VOTES` GPE votes; ``hints`` are mentions read from tables
    (:mod:`processors.stages.tables`), each a vote of weight :data:`TABLE_VOTE`; ``contexts`` are
    the words around each mention (:mod:`processors.stages.cues`), when known. ``disabled`` names
    rules of :data:`RULES` to skip, and ``relabel=False`` skips ``forced_labels`` (both are
    used to measure what a rule brings).

    >>> table = parse_aliases("version: 1\\nentities: [{name: Kremlin, label: ORG}]")
    >>> facets = canonical_entities(
    ...     [("Kim Jong Un", "PERSON"), ("Kim", "ORG"), ("the Kremlin’s", "GPE")], table
    ... )
    >>> facets.persons, facets.organizations
    (['Kim Jong Un'], ['Kremlin'])
    """
    off = disabled | ({"forced_labels"} if not relabel else set())
    items = _spacy_items(mentions, contexts, aliases, off)
    if "tables" not in off:
        for text, label in hints:
            if hint := _canonical_mention(text, label, aliases, off):
                hint.weight, hint.counted = TABLE_VOTE, False
                items.append(hint)
    if "datelines" not in off:
        items[:0] = [_Mention(p, "GPE", False, DATELINE_VOTES, counted=False) for p in places]
    if "capitals" not in off:
        _resolve_capitals(items, aliases)
    if "short_forms" not in off:
        _resolve_short_forms(items, aliases)
    if "acronyms" not in off:
        _resolve_acronyms(items)
    if "sentence_start" not in off:
        items = _without_lone_sentence_starts(items)
    return _facets(items, aliases, place_votes="place_votes" not in off)


def _without_lone_sentence_starts(items: list[_Mention]) -> list[_Mention]:
    """Drop a one-word person seen once, at the start of a sentence, with no full name in
    the article ("Gauges showed the river peaking"): the capital says nothing there.
    """
    seen = Counter(m.name for m in items)
    return [
        m
        for m in items
        if not (m.weak and m.label == "PERSON" and seen[m.name] == 1 and " " not in m.name)
    ]


def _spacy_items(
    mentions: Sequence[Mention],
    contexts: Sequence[Context],
    aliases: AliasTable,
    off: frozenset[str] | set[str],
) -> list[_Mention]:
    items = []
    refuted: set[tuple[str, str]] = set()  # (name, label) a context refuted in this article
    for (text, label), context in zip(mentions, contexts or repeat(None), strict=False):
        if label not in KEPT_LABELS:
            continue
        cued: str | None = label
        if context and "context_cues" not in off:
            name = clean_span(text)
            # "the US", "the Netherlands": listed places take a determiner
            known = label == "GPE" and (aliases.is_place(name) or aliases.resolve(name) is not None)
            cued = cue_label(name, label, context, known)
            if cued is None:
                refuted.add((name, label))
                continue
        parts = split_table_span(text, label) if "table_spans" not in off else [text]
        for part in parts:
            if item := _canonical_mention(part, cued or label, aliases, off):
                # "King Philippe" opening a sentence is no weak evidence; "Gauges" is.
                item.weak = context is not None and starts_sentence(context) and " " not in part
                if parts != [text]:  # a span across table cells: its label is a guess
                    item.weight = TABLE_SPAN_VOTE
                items.append(item)
    # Document-level agreement: "an Oscar" once makes every "Oscar" of the article no person.
    return [m for m in items if (m.name, m.label) not in refuted]


def _canonical_mention(
    text: str, label: str, aliases: AliasTable, off: frozenset[str] | set[str]
) -> _Mention | None:
    if label not in KEPT_LABELS:
        return None
    name = clean_span(text) if "cleaning" not in off else " ".join(text.split())
    if "postnominals" not in off:
        name, postnominal = strip_postnominals(name)
        if postnominal and label != "PERSON":
            label = "PERSON"
    if label == "PERSON":
        name = strip_titles(name) if "titles" not in off else name
    elif "title_person" not in off and (person := person_after_title(name)):
        name, label = person, "PERSON"  # "Bishop Jean Roux" tagged ORG
    if ("junk" not in off and is_junk(name, label)) or (
        "ignore" not in off and aliases.is_ignored(name)
    ):
        return None
    known = aliases.resolve(name) if "aliases" not in off else None
    if known is not None:
        canonical, forced_label = known
        if forced_label is not None and "forced_labels" not in off:
            return _Mention(canonical, forced_label, forced=True)
        return _Mention(canonical, label, forced=False)
    if "org_words" not in off and label in _NOT_ORG_LABELS and is_org_name(name):
        label = "ORG"  # "Kessler Automotive" tagged PERSON
    elif "initials" not in off and label != "PERSON" and is_initialled_person(name):
        label = "PERSON"  # "S. Jayasuriya" tagged ORG
    return _Mention(name, label, forced=False)


def _resolve_short_forms(items: list[_Mention], aliases: AliasTable) -> None:
    """Map "Kim" to "Kim Jong Un", "Belousov" to "Andrei Belousov", "Bramble" to "Bramble
    Markets" when the full name is used in the same article (most mentioned full name first).

    The short form keeps its own label as a vote of weight :data:`SHORT_FORM_VOTE`.
    """
    counts = Counter(
        (m.name, m.label) for m in items if m.label in {"PERSON", "ORG"} and " " in m.name
    )
    full_names = sorted(counts, key=lambda k: (-counts[k], k[1] != "PERSON"))  # stable
    for item in items:
        if item.forced or item.label not in _SHORT_FORM_LABELS:
            continue
        words = item.name.split()
        if item.label != "PERSON" and len(words) != 1:
            continue
        for full, full_label in full_names:
            if full_label == "ORG" and item.label in LOCATION_LABELS:
                continue  # "Vienna" is not short for "Vienna Chamber Orchestra"
            full_words = full.split()
            if len(words) < len(full_words) and (
                full_words[: len(words)] == words or full_words[-len(words) :] == words
            ):
                surname = _surname_of(item, full_label, full_words, aliases)
                # "Tarango" tagged PERSON makes "Jeff Tarango" tagged ORG a person.
                item.name, item.weight = full, (SURNAME_VOTE if surname else SHORT_FORM_VOTE)
                break


def _surname_of(
    item: _Mention, full_label: str, full_words: list[str], aliases: AliasTable
) -> bool:
    """A PERSON-tagged last word of an ORG-tagged "Firstname Lastname" that has no sign of
    an organization (no organization word, no place first: "Bristol City")."""
    return (
        item.label == "PERSON"
        and not item.weak  # "Dortmund" opening a sentence is weak evidence of a person
        and full_label == "ORG"
        and len(full_words) <= 3
        and item.name == full_words[-1]
        and not is_org_name(" ".join(full_words))
        and not aliases.is_place(full_words[0])
    )


def _resolve_capitals(items: list[_Mention], aliases: AliasTable) -> None:
    """Datelines and shouted headlines: "LONDON" takes the article's "London", else a listed
    place is title-cased. Short all-capital names (acronyms: "NATO", "KCNA") are left alone.
    """
    spelled = {m.name.casefold(): m.name for m in items if not m.name.isupper()}
    for item in items:
        if item.forced or not item.name.isupper() or min(map(len, item.name.split())) < 4:
            continue
        other = spelled.get(item.name.casefold())
        if other is not None:
            item.name = other
        elif aliases.is_place(item.name):
            item.name = item.name.title()


def _resolve_acronyms(items: list[_Mention]) -> None:
    """Map "KCNA" to "Korean Central News Agency" when both appear in the article."""
    by_initials: dict[str, _Mention] = {}
    for item in items:
        words = [w for w in item.name.split() if w[:1].isupper()]
        if len(words) >= 2 and item.label in {"ORG", "GPE", "LOC", "FAC", "EVENT"}:
            by_initials.setdefault("".join(w[0] for w in words), item)
    for item in items:
        if item.forced or not (item.name.isupper() and item.name.isalpha()):
            continue
        full = by_initials.get(item.name)
        if full is not None:
            item.name, item.label = full.name, full.label


def _facets(items: list[_Mention], aliases: AliasTable, place_votes: bool) -> EntityFacets:
    counts: Counter[str] = Counter({m.name: 0 for m in items})  # first appearance order
    counts.update(m.name for m in items if m.counted)
    votes: dict[str, dict[str, float]] = {}
    forced: dict[str, str] = {}
    for item in items:
        name_votes = votes.setdefault(item.name, {})
        name_votes[item.label] = name_votes.get(item.label, 0.0) + item.weight
        if item.forced:
            forced[item.name] = item.label
    # The gazetteer corrects spaCy's label of a name it tagged in prose, not a table's hint.
    spacy_named = {m.name for m in items if m.counted and m.weight >= SHORT_FORM_VOTE}
    order = sorted(counts, key=lambda n: -counts[n])  # stable: first appearance breaks ties
    entities: list[Entity] = []
    for name in order:
        if place_votes and name in spacy_named and aliases.is_place(name):
            votes[name]["GPE"] = votes[name].get("GPE", 0.0) + PLACE_VOTES
        label = forced.get(name) or _majority_label(votes[name])
        entities.append(
            Entity.model_validate({"name": name, "label": label, "count": max(1, counts[name])})
        )
    return EntityFacets(
        persons=[e.name for e in entities if e.label == "PERSON"],
        organizations=[e.name for e in entities if e.label == "ORG"],
        locations=[e.name for e in entities if e.label in LOCATION_LABELS],
        entities=entities,
    )


def _majority_label(labels: dict[str, float]) -> str:
    best = max(labels.values())
    tied = [label for label, n in labels.items() if n == best]
    for label in _LABEL_PRECEDENCE:
        if label in tied:
            return label
    return tied[0]
