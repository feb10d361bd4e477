"""The places of a dateline: "LONDON (Reuters) -", "AL-AIN, United Arab Emirates 1996-12-06".

Newswire opens the body with where the story was filed, the city in capitals, sometimes its
country or state, then a date, the agency or a dash. The small spaCy model often misses
these or tags them ORG ("AL-AIN"); the layout says for sure that they are places, so
:func:`processors.stages.entities.canonical_entities` takes them as locations. Pure string work.
"""

from __future__ import annotations

import re

# How many lines of the body may come before the dateline (a by-line, a sub-heading).
MAX_LINES = 3
_CITY = r"[A-ZÀ-Þ][A-ZÀ-Þ.'’\- ]{1,38}[A-ZÀ-Þ.]"  # capitals only: "NEW YORK", "AL-AIN"
_REGION = r"[A-ZÀ-Þ][\w.'’\-]*(?: [A-ZÀ-Þ][\w.'’\-]*){0,3}"  # "United Arab Emirates", "Calif."
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_AFTER = (
    r"(?:\d{4}-\d{2}-\d{2}"  # 1996-12-06
    rf"|{_MONTH} \d{{1,2}}\b|\d{{1,2}} {_MONTH}"  # Dec 6, 6 December
    r"|\([A-Za-z][\w .&-]{0,30}\)"  # (Reuters), (AP)
    r"|[—–]|-\s)"  # a dash
)
_DATELINE = re.compile(rf"^\s*({_CITY})(?:\s*,\s*({_REGION}))?\s*,?\s*{_AFTER}")


def dateline_places(body: str) -> list[str]:
    """The city (title-cased) and region of the body's dateline, or [] when there is none.

    >>> dateline_places("AL-AIN, United Arab Emirates 1996-12-06\\nJapan began ...")
    ['Al-Ain', 'United Arab Emirates']
    >>> dateline_places("LONDON (Reuters) - Shares fell."), dateline_places("The NHS said")
    (['London'], [])
    """
    for line in body.lstrip().splitlines()[:MAX_LINES]:
        found = _DATELINE.match(line)
        if found:
            city, region = found.group(1).strip(" .").title(), found.group(2)
            return [city, region] if region else [city]
    return []
