"""Cleaning one entity span from spaCy: quotes, possessives, articles, titles and junk.

Pure string functions used by :mod:`processors.stages.entities` and
:mod:`processors.stages.aliases`.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 60
MAX_WORDS = 6

_QUOTES_AND_PUNCT = "\"'“”‘’«»„‚`´()[]{}<>,;:!?*|/\\–—-_ \t"
_POSSESSIVE = re.compile(r"(?<=\w)['’]s$|(?<=s)['’]$", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*%?$")
_SCORE = re.compile(r"^\d+[-–:]\d+$")  # "6-4", "3-2": a result glued to a name
# Model designations: "Kn-23/24", "M-1989", "F-16", "M1989" (but "G7" and "G20" are names).
_DESIGNATION = re.compile(r"^[A-Za-z]{1,4}-\d[\w/-]*$|^[A-Z]{1,3}\d{3,}$")
_QUANTITY_WORDS = frozenset(
    {"million", "billion", "trillion", "thousand", "hundred", "percent", "per", "cent"}
)
# A capital then lower-case letters without a vowel: units of measure, never names.
_UNIT = re.compile(r"^[A-Z][b-df-hj-np-tv-xz]{2,}$")
_JUNK_MARKERS = ("http", "www.", ".com", "@", "#", "<", ">")  # URLs, handles, markup

# Words that open a person's span without being part of the name ("President Putin",
# "Meteorologist Jane Doe"). spaCy sometimes tags such spans ORG: see `person_after_title`.
TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
        "president", "vice", "prime", "minister", "chancellor", "premier", "leader", "dictator",
        "king", "queen", "prince", "princess", "pope", "general", "gen", "colonel", "col",
        "lieutenant", "lt", "sergeant", "sgt", "captain", "capt", "admiral", "commander",
        "senator", "sen", "rep", "governor", "gov", "mayor", "judge", "justice", "secretary",
        "chairman", "chairwoman", "ceo", "coach", "manager", "defense", "defence", "foreign",
        "spokesman", "spokeswoman", "st", "saint", "father", "rev", "reverend", "bishop",
        "archbishop", "cardinal", "imam", "rabbi", "pastor", "sheikh", "chef", "farmer",
        "headteacher", "teacher", "meteorologist", "forecaster", "inspector", "detective",
        "commissioner", "officer", "constable", "sheriff", "director", "curator", "striker",
        "defender", "goalkeeper", "midfielder", "substitute", "veteran", "singer",
        "actor", "actress", "author", "writer", "economist", "analyst", "lawyer", "attorney",
        "doctor", "nurse", "surgeon", "scientist", "researcher", "astronaut", "activist",
        "lama", "abbot", "rector", "dean", "chief", "sultan", "emir", "ayatollah", "mufti",
        "epidemiologist", "ecologist", "historian", "negotiator", "prosecutor", "spokesperson",
        "ambassador", "envoy", "president-elect", "deputy", "auditor", "pilot",
        "photographer", "journalist", "reporter", "editor", "novelist", "poet", "artist",
        "conductor", "composer", "violinist", "pianist", "designer", "architect", "engineer",
        "physicist", "chemist", "biologist", "geologist", "sociologist",
    }
)  # fmt: skip
# Titles that never begin an organization's name, so "Bishop X Y" tagged ORG is a person.
# ("General Motors", "King's College", "Saint-Gobain" keep their label.)
_PERSON_ONLY_TITLES = TITLES - {
    "general", "king", "queen", "prince", "princess", "lord", "lady", "st", "saint", "father",
    "foreign", "defense", "defence", "prime", "vice", "justice", "director", "leader",
}  # fmt: skip

# Last words that make a span an organization whatever spaCy says ("Kessler Automotive").
ORG_DESIGNATORS = frozenset(
    {
        "agency", "airline", "airlines", "alliance", "association", "authority", "automotive",
        "bank", "bancorp", "board", "bureau", "church", "club", "coalition", "college",
        "commission", "committee", "company", "congress", "corp", "corporation", "council",
        "court", "department", "directorate", "executive", "federation", "foods", "forces",
        "foundation", "front", "fund", "group", "holdings", "inc", "institute", "institution",
        "international", "league", "llc", "ltd", "markets", "media", "ministry", "motors",
        "movement", "network", "news", "office", "orchestra", "organisation", "organization",
        "parliament", "partners", "party", "plc", "police", "press", "service", "services",
        "society", "systems", "technologies", "therapeutics", "trust", "union", "university",
        "airways", "brigade", "battalion", "regiment", "command", "guard", "museum",
        "films", "pictures", "studios", "records", "shipping", "logistics", "mining",
        "energy", "capital", "investments", "ventures", "insurance", "industries", "labs",
        "enterprises", "telecom", "communications", "pharma", "pharmaceuticals", "tourism",
        "hotels", "brewery", "solutions", "securities", "consulting", "gmbh", "ag", "sa",
        # football and rugby clubs: "Manchester United", "Bristol Rovers"
        "united", "rovers", "wanderers", "athletic", "albion", "hotspur", "fc", "afc", "rfc",
        # a news agency's desks: "Warsaw Newsroom"
        "newsroom", "newsdesk",
    }
)  # fmt: skip


def clean_span(text: str) -> str:
    """A surface span without quotes, stray punctuation, possessive or leading article.

    >>> clean_span("“the Kremlin’s”"), clean_span("Bristol City 3-2"), clean_span("U.S.")
    ('Kremlin', 'Bristol City', 'U.S.')
    """
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    for _ in range(3):  # stripping one layer can expose another: "“the Kremlin’s”"
        before = name
        name = _POSSESSIVE.sub("", name.strip(_QUOTES_AND_PUNCT))
        name = _ARTICLE.sub("", name)
        words = name.split()
        while len(words) > 1 and _SCORE.match(words[-1]):
            words.pop()
        name = " ".join(words)
        if name.endswith(".") and _plain_word_before_dot(name):
            name = name[:-1]
        if name == before:
            break
    return name


def _plain_word_before_dot(name: str) -> bool:
    # "Moscow." loses its dot; "U.S.", "Inc." and "Jr." keep theirs.
    last = name[:-1].rsplit(" ", 1)[-1]
    return len(last) >= 4 and "." not in last and not last.isupper()


def is_junk(name: str, label: str) -> bool:
    """True for spans that are never facets: too short or long, numeric, lowercase, URLs.

    Also model designations ("Kn-23/24"), and digits or all-capital words in a person's name.
    """
    words = name.split()
    if len(name) < 2 or len(name) > MAX_CHARS or not words or len(words) > MAX_WORDS:
        return True
    if not any(ch.isalpha() for ch in name) or name == name.lower():
        return True
    if _UNIT.match(name):  # "Mbps", "Kbps", "GHz": units, not names
        return True
    if _NUMBER.match(words[0]) or any(w.lower() in _QUANTITY_WORDS for w in words):
        return True
    if any(_DESIGNATION.match(w) for w in words):
        return True
    if label == "PERSON" and (
        any(ch.isdigit() for ch in name) or (len(words) == 1 and name.isupper())
    ):
        return True
    lowered = name.lower()
    return any(marker in lowered for marker in _JUNK_MARKERS)


# Letters after a person's name: "Eleanor Fairbairn KC" is a person, whatever the tag.
_POSTNOMINALS = frozenset({"kc", "qc", "mp", "mep", "msp", "jr", "sr", "phd", "obe", "mbe", "cbe"})


def strip_postnominals(name: str) -> tuple[str, bool]:
    """The name without trailing post-nominal letters, and whether there were any."""
    words = name.split()
    stripped = False
    while len(words) > 2 and words[-1].lower().strip(".,") in _POSTNOMINALS:
        words.pop()
        stripped = True
    return " ".join(words), stripped


def strip_titles(name: str) -> str:
    """The name without leading titles: "Defense Minister Andrei Belousov" -> "Andrei Belousov"."""
    words = name.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words.pop(0)
    return " ".join(words)


def person_after_title(name: str) -> str | None:
    """The person in a span like "Bishop Jean Roux" (often tagged ORG), else None."""
    words = name.split()
    if len(words) < 3 or words[0].lower().rstrip(".") not in _PERSON_ONLY_TITLES:
        return None
    rest = strip_titles(name).split()
    if len(rest) >= 2 and all(w[:1].isupper() for w in rest) and not is_org_name(name):
        return " ".join(rest)
    return None


def is_org_name(name: str) -> bool:
    """True when the last word marks an organization ("Civic Alliance", "Northgate Bank")."""
    words = name.split()
    return len(words) >= 2 and words[-1].lower().rstrip(".") in ORG_DESIGNATORS


_INITIAL = re.compile(r"^[A-Z]\.$")
_TRAILING_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_NUMBERLESS = frozenset({"PERSON", "GPE", "LOC", "NORP"})  # labels of names without numbers


def split_table_span(text: str, label: str = "ORG") -> list[str]:
    """The names in one span of a results table or list: cut at line breaks, at an
    unclosed bracket, without trailing numbers or lowercase words.

    spaCy runs across the cells of a table: "Jayasuriya 3\\nG. McGrath", "J. Pooley 111",
    "Frankie Fredericks (Namibia", "Johnstone v".

    >>> split_table_span("Jayasuriya 3\\nG. McGrath", "PERSON"), split_table_span("Channel 4")
    (['Jayasuriya', 'G. McGrath'], ['Channel 4'])
    """
    parts = []
    for line in text.splitlines():
        opened = line.find("(")
        if opened > 0 and ")" not in line[opened:]:
            line = line[:opened]
        words = line.split()
        # A trailing number is a score or a statistic ("Pooley 111"), but a single digit
        # may end the name of an organization or a product ("Channel 4").
        while len(words) > 1 and (
            (_TRAILING_NUMBER.match(words[-1]) and (len(words[-1]) > 1 or label in _NUMBERLESS))
            or words[-1].islower()
        ):
            words.pop()
        if words:
            parts.append(" ".join(words))
    return parts


def is_initialled_person(name: str) -> bool:
    """True for an initial and a surname ("J. Pooley", "G. McGrath"), never an organization.

    Single-letter initials only: "U.S. Steel" and "U.N. Council" are not persons.
    """
    words = name.split()
    return (
        2 <= len(words) <= 3
        and _INITIAL.match(words[0]) is not None
        and all(w[:1].isupper() for w in words[1:])
        and not is_org_name(name)
    )
