"""The words around a one-word name, which say what the small spaCy model often gets wrong.

"an Oscar", "the Premiership": a determiner does not come before a person's name, nor, but
for a few listed ones ("the Netherlands"), before a country's or a town's ("the Gizmondo").
"Oscar-winning": neither does a hyphenated modifier follow one. "the river Mirsach",
"neighbouring Hollweiler": a place word comes before a place. Pure functions over the
lower-cased word before and after a mention (``""`` at the start of a sentence or line).
"""

from __future__ import annotations

Context = tuple[str, str]
"""The lower-cased token before and after a mention; ``""`` at a sentence or line boundary."""

DETERMINERS = frozenset(
    {"the", "a", "an", "another", "this", "that", "these", "those", "every", "each", "its"}
)
# Words before a natural feature's name, and before a settlement's.
_FEATURE_WORDS = frozenset({"river", "lake", "mount", "mountain", "valley", "island", "sea"})
_SETTLEMENT_WORDS = frozenset(
    {"village", "town", "city", "hamlet", "neighbouring", "neighboring", "nearby", "suburb"}
)
_SENTENCE_END = frozenset({"", ".", "!", "?", '"', "“", "”", ":", ";", "-", "—", "–"})


def cue_label(name: str, label: str, context: Context, known_place: bool = False) -> str | None:
    """The label a one-word mention should have given its context; None when it is no name.

    ``name`` is the cleaned span (:func:`processors.stages.spans.clean_span`).
    Longer names and other labels are left as they are. A "place" after a determiner is no
    place unless it is ``known_place`` (in the gazetteer: "the Netherlands"): "the Gizmondo".

    >>> cue_label("Oscar", "PERSON", ("an", "for")), cue_label("Oscar", "PERSON", ("", "-"))
    (None, None)
    >>> cue_label("Mirsach", "PERSON", ("river", "burst")), cue_label("Kim", "PERSON", ("", "said"))
    ('LOC', 'PERSON')
    """
    if " " in name or label not in {"PERSON", "GPE", "ORG"}:
        return label
    before, after = context
    if before in _FEATURE_WORDS:
        return "LOC"
    if before in _SETTLEMENT_WORDS:
        return "GPE"
    if label == "PERSON" and (before in DETERMINERS or after == "-"):
        return None
    if label == "GPE" and before in DETERMINERS and not known_place:
        return None
    return label


def starts_sentence(context: Context) -> bool:
    """True when the mention opens a sentence or a line, where every word has a capital."""
    return context[0] in _SENTENCE_END
