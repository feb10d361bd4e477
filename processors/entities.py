"""Canonical named entities of one article, as a pure function over spaCy's mentions.

spaCy gives surface spans ("the Kremlin", "Putin's", "Kim"); facets need one name per thing.
:func:`canonical_entities` cleans each span, maps known variants through the user-editable alias
table (``deploy/aliases.yaml``), resolves short forms to the full name used in the same article
("Kim" -> "Kim Jong Un") and counts what is left. No spaCy import here: the caller passes
``[(ent.text, ent.label_) for ent in doc.ents]``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsflow.errors import ConfigError
from schemas import Entity
from schemas.article import EntityLabel

M = TypeVar("M", bound=BaseModel)

Mention = tuple[str, str]
"""One entity mention: (surface text, spaCy label), in document order."""

DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy"
DEFAULT_ALIASES = DEPLOY_DIR / "aliases.yaml"

KEPT_LABELS: frozenset[str] = frozenset(get_args(EntityLabel))
LOCATION_LABELS = frozenset({"GPE", "LOC"})
# Labels whose one-word mention may be a short form of a person named in full elsewhere
# (spaCy often tags a bare surname as ORG or GPE: "Belousov", "Kim").
_SHORT_FORM_LABELS = frozenset({"PERSON", "ORG", "GPE", "FAC", "PRODUCT"})
# When a name is seen under several labels equally often, the first of these wins.
_LABEL_PRECEDENCE: tuple[str, ...] = ("PERSON", "GPE", "ORG", "LOC", "NORP", "EVENT", "FAC")

MAX_CHARS = 60
MAX_WORDS = 6

_QUOTES_AND_PUNCT = "\"'“”‘’«»„‚`´()[]{}<>,;:!?*|/\\–—-_ \t"
_POSSESSIVE = re.compile(r"(?<=\w)['’]s$|(?<=s)['’]$", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*%?$")
_QUANTITY_WORDS = frozenset(
    {"million", "billion", "trillion", "thousand", "hundred", "percent", "per", "cent"}
)
_JUNK_MARKERS = ("http", "www.", ".com", "@", "#")
# Words that may open a PERSON span but are not part of the name ("President Putin").
_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
        "president", "vice", "prime", "minister", "chancellor", "premier", "leader", "dictator",
        "king", "queen", "prince", "princess", "pope", "general", "gen", "colonel", "col",
        "lieutenant", "lt", "sergeant", "sgt", "captain", "capt", "admiral", "commander",
        "senator", "sen", "rep", "governor", "gov", "mayor", "judge", "justice", "secretary",
        "chairman", "chairwoman", "ceo", "coach", "manager", "defense", "defence", "foreign",
        "spokesman", "spokeswoman", "st", "saint", "father", "rev", "reverend",
    }
)  # fmt: skip


# --------------------------------------------------------------------------- alias table
class _AliasEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="The canonical name.")
    label: EntityLabel | None = Field(None, description="Forced label, whatever spaCy says.")
    aliases: list[str] = Field(default_factory=list, description="Variants mapped to `name`.")


class _AliasFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str | int
    entities: list[_AliasEntry] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list, description="Spans that are never facets.")


@dataclass(frozen=True)
class AliasTable:
    """Known name variants -> (canonical name, forced label or None), and ignored spans.

    ``version`` is the file's ``version`` plus a short content hash, for provenance.
    """

    version: str
    names: Mapping[str, tuple[str, EntityLabel | None]] = field(repr=False)
    ignored: frozenset[str] = field(default_factory=frozenset, repr=False)

    def resolve(self, name: str) -> tuple[str, EntityLabel | None] | None:
        """The canonical name and forced label of ``name``, or None when it is not listed."""
        return self.names.get(alias_key(name))

    def is_ignored(self, name: str) -> bool:
        """True when ``name`` is listed under ``ignore``."""
        return alias_key(name) in self.ignored


def alias_key(name: str) -> str:
    """The lookup key of a name: case-folded, without dots, hyphens as spaces ("U.S." -> "us")."""
    key = unicodedata.normalize("NFKC", name).casefold().replace(".", "").replace("’", "'")
    return " ".join(key.replace("-", " ").split())


def parse_yaml_model(text: str, model: type[M], source: str) -> M:
    """YAML text validated as ``model``; bad YAML or a bad field is a :class:`ConfigError`.

    Shared by the ``deploy/`` tables (aliases here, the taxonomy in ``processors.topics``).
    """
    try:
        return model.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None


def read_config_text(path: Path) -> str:
    """The text of a ``deploy/`` file; a missing or unreadable file is a :class:`ConfigError`."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def content_version(version: str | int, text: str) -> str:
    """Provenance of a table: its declared version plus a short hash of its content."""
    return f"{version}+{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def parse_aliases(text: str, source: str = "<string>") -> AliasTable:
    """Build an :class:`AliasTable` from YAML text; any problem is a :class:`ConfigError`."""
    spec = parse_yaml_model(text, _AliasFile, source)
    names: dict[str, tuple[str, EntityLabel | None]] = {}
    for entry in spec.entities:
        for variant in (entry.name, *entry.aliases):
            key = alias_key(clean_span(variant))  # the same cleaning as the mentions get
            previous = names.get(key)
            if previous is not None and previous[0] != entry.name:
                raise ConfigError(
                    f"{source}: {variant!r} is listed for both {previous[0]!r} and {entry.name!r}"
                )
            names[key] = (entry.name, entry.label)
    ignored = frozenset(alias_key(item) for item in spec.ignore)
    return AliasTable(version=content_version(spec.version, text), names=names, ignored=ignored)


def load_aliases(path: Path | None = None) -> AliasTable:
    """Load and validate the alias table (default ``deploy/aliases.yaml``)."""
    path = path or DEFAULT_ALIASES
    return parse_aliases(read_config_text(path), source=str(path))


# --------------------------------------------------------------------------- cleaning
def clean_span(text: str) -> str:
    """A surface span without quotes, stray punctuation, possessive or leading article."""
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    for _ in range(3):  # stripping one layer can expose another: "“the Kremlin’s”"
        before = name
        name = _POSSESSIVE.sub("", name.strip(_QUOTES_AND_PUNCT))
        name = _ARTICLE.sub("", name)
        if name.endswith(".") and _plain_word_before_dot(name):
            name = name[:-1]
        if name == before:
            break
    return name


def _plain_word_before_dot(name: str) -> bool:
    # "Moscow." loses its dot; "U.S.", "Inc." and "Jr." keep theirs.
    last = name[:-1].rsplit(" ", 1)[-1]
    return len(last) >= 4 and "." not in last and not last.isupper()


def is_junk(name: str) -> bool:
    """True for spans that are never facets: too short or long, numeric, all lowercase, URLs."""
    words = name.split()
    if len(name) < 2 or len(name) > MAX_CHARS or not words or len(words) > MAX_WORDS:
        return True
    if not any(ch.isalpha() for ch in name) or name == name.lower():
        return True
    if _NUMBER.match(words[0]) or any(w.lower() in _QUANTITY_WORDS for w in words):
        return True
    lowered = name.lower()
    return any(marker in lowered for marker in _JUNK_MARKERS)


def _strip_titles(name: str) -> str:
    words = name.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words.pop(0)
    return " ".join(words)


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


def canonical_entities(
    mentions: Sequence[Mention], aliases: AliasTable, *, relabel: bool = True
) -> EntityFacets:
    """Canonical persons, organizations, locations and counted entities of one article.

    ``mentions`` are ``(ent.text, ent.label_)`` pairs in document order. ``relabel=False``
    ignores the alias table's forced labels (used to measure what they bring).

    >>> table = parse_aliases("version: 1\\nentities: [{name: Kremlin, label: ORG}]")
    >>> facets = canonical_entities(
    ...     [("Kim Jong Un", "PERSON"), ("Kim", "ORG"), ("the Kremlin’s", "GPE")], table
    ... )
    >>> facets.persons, facets.organizations
    (['Kim Jong Un'], ['Kremlin'])
    """
    items = [m for m in (_canonical_mention(t, lab, aliases, relabel) for t, lab in mentions) if m]
    _resolve_short_person_names(items)
    _resolve_acronyms(items)
    return _facets(items)


def _canonical_mention(
    text: str, label: str, aliases: AliasTable, relabel: bool
) -> _Mention | None:
    if label not in KEPT_LABELS:
        return None
    name = clean_span(text)
    if label == "PERSON":
        name = _strip_titles(name)
    if is_junk(name) or aliases.is_ignored(name):
        return None
    known = aliases.resolve(name)
    if known is None:
        return _Mention(name, label, forced=False)
    canonical, forced_label = known
    if forced_label is not None and relabel:
        return _Mention(canonical, forced_label, forced=True)
    return _Mention(canonical, label, forced=False)


def _resolve_short_person_names(items: list[_Mention]) -> None:
    """Map "Kim" to "Kim Jong Un", "Belousov" to "Andrei Belousov" when the full name is used."""
    counts = Counter(m.name for m in items if m.label == "PERSON" and len(m.name.split()) > 1)
    full_names = sorted(counts, key=lambda n: -counts[n])  # stable: first seen wins ties
    for item in items:
        if item.forced or item.label not in _SHORT_FORM_LABELS:
            continue
        words = item.name.split()
        if item.label != "PERSON" and len(words) != 1:
            continue
        for full in full_names:
            full_words = full.split()
            if len(words) < len(full_words) and (
                full_words[: len(words)] == words or full_words[-len(words) :] == words
            ):
                item.name, item.label = full, "PERSON"
                break


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


def _facets(items: list[_Mention]) -> EntityFacets:
    counts: Counter[str] = Counter(m.name for m in items)
    labels: dict[str, Counter[str]] = {}
    forced: dict[str, str] = {}
    for item in items:
        labels.setdefault(item.name, Counter())[item.label] += 1
        if item.forced:
            forced[item.name] = item.label
    order = sorted(counts, key=lambda n: -counts[n])  # stable: first appearance breaks ties
    entities: list[Entity] = []
    for name in order:
        label = forced.get(name) or _majority_label(labels[name])
        entities.append(
            Entity.model_validate({"name": name, "label": label, "count": counts[name]})
        )
    return EntityFacets(
        persons=[e.name for e in entities if e.label == "PERSON"],
        organizations=[e.name for e in entities if e.label == "ORG"],
        locations=[e.name for e in entities if e.label in LOCATION_LABELS],
        entities=entities,
    )


def _majority_label(labels: Counter[str]) -> str:
    best = max(labels.values())
    tied = [label for label, n in labels.items() if n == best]
    for label in _LABEL_PRECEDENCE:
        if label in tied:
            return label
    return tied[0]
