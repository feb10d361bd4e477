"""The words of a text, as the pure stages split it, and the one plural fold.

Three tokenizers remain, each pinned by something computed with it and stored:

- :func:`plain_words`: every run of word characters (``\\w+``: letters, digits and ``_``),
  case-folded. Article ids made from content (``c-<digest>``) and the exact-duplicate
  ``content_hash`` are digests of these words, and both are stored (document ids, dedup
  state): another split would give the same article a new id and miss its duplicates.
- :func:`folded_words`: runs of letters and digits (``_`` splits too), plurals folded by
  :func:`singular`: the features the topic model was trained on and the taxonomy's terms;
  it changes only together with a retrained model.
- ``processors.stages.stories`` terms: words that start with a letter and keep inner
  apostrophes and hyphens ("o'brien", "cross-border", one term each), numbers apart; they
  weigh story similarity, whose thresholds were tuned on them.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
_LETTERS_DIGITS = re.compile(r"[^\W_]+")


def plain_words(text: str) -> list[str]:
    """Case-folded runs of word characters.

    >>> plain_words("The  Mayor's plan_B.")
    ['the', 'mayor', 's', 'plan_b']
    """
    return _WORD.findall(text.casefold())


def folded_words(text: str) -> list[str]:
    """Lower-case word tokens without plural endings, as texts and taxonomy terms are split.

    >>> folded_words("Interest rates, the Elections' cities")
    ['interest', 'rate', 'the', 'election', 'city']
    """
    return [singular(w) for w in _LETTERS_DIGITS.findall(text.casefold())]


def singular(word: str) -> str:
    """A light plural fold of a lower-case word ("ferries" -> "ferry", "trains" -> "train"),
    no stemming beyond; words of three letters or fewer, and "-ss", "-us", "-is", stay."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word
