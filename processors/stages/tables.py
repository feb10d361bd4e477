"""Names in the tables of sports and market reports, which the small spaCy model mostly misses.

Newswire carries results as lines of names and numbers ("Ayr 6 Berwick 0", "KANSAS CITY 61 75
.449 20") and scorecards full of initialled names ("W. Athey 111, V. Drakes 52"). Reading the
layout is cheap and sure where spaCy, trained on prose, finds little: the names of a results
line are the teams (organizations) of the table, an initial and a surname is a person. These
are hints, weighed by :func:`processors.stages.entities.canonical_entities` against the labels
spaCy gives the same names elsewhere in the article. Pure string work.
"""

from __future__ import annotations

import re

_WORD = r"[A-ZÀ-Þ][\w.'’&-]*"
_NAME = rf"{_WORD}(?: (?:{_WORD}|of|de|la|del|di|van|von))*"
_NUMBERS = r"-?\d[\d.,/:-]*(?:\s+-?\.?\d[\d.,/:-]*)*"
# A results line: name, numbers, name, numbers..., perhaps a bracketed note at the end.
_RESULTS_LINE = re.compile(rf"^\s*(?:{_NAME}\s+{_NUMBERS}\s*[,;]?\s*)+(?:\([^)]*\))?\s*$")
_LEADING_NAME = re.compile(rf"({_NAME})\s+-?\.?\d")
_INITIALLED = re.compile(r"(?<![\w.])[A-Z]\. ?[A-Z][a-z][\w'’-]*(?: [A-Z][a-z][\w'’-]*)?")
MAX_LINE = 120


def table_names(body: str) -> list[tuple[str, str]]:
    """``(name, label)`` hints from the layout of ``body``: teams of results lines (ORG) and
    initialled names (PERSON), in order of appearance.

    >>> table_names("Ayr 6 Berwick 0\\nHove: Sussex 363 (W. Athey 111, V. Drakes 52)")
    [('Ayr', 'ORG'), ('Berwick', 'ORG'), ('W. Athey', 'PERSON'), ('V. Drakes', 'PERSON')]
    >>> table_names("The minister said 40 people were hurt.")
    []
    """
    found: list[tuple[str, str]] = []
    for line in body.splitlines():
        if len(line) <= MAX_LINE and _RESULTS_LINE.match(line):
            cells = line.split("(", 1)[0]  # a bracketed note holds players, not teams
            found += [(name, "ORG") for name in _LEADING_NAME.findall(cells)]
        found += [(name, "PERSON") for name in _INITIALLED.findall(line)]
    return found
