"""The alias table (``deploy/aliases.yaml``) and the helpers that load ``deploy/`` YAML files.

Every ``deploy/`` table is validated by a pydantic model on load; any problem is one
:class:`~newsflow.core.errors.ConfigError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsflow.core.errors import ConfigError
from newsflow.core.paths import DEPLOY
from processors.stages.spans import clean_span
from schemas.article import EntityLabel

DEPLOY_DIR = DEPLOY
DEFAULT_ALIASES = DEPLOY_DIR / "aliases.yaml"

M = TypeVar("M", bound=BaseModel)


def parse_yaml_model(text: str, model: type[M], source: str) -> M:
    """YAML text validated as ``model``; bad YAML or a bad field is a :class:`ConfigError`."""
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


class _AliasEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="The canonical name.")
    label: EntityLabel | None = Field(None, description="Forced label, whatever spaCy says.")
    aliases: list[str] = Field(default_factory=list, description="Variants mapped to `name`.")


class _AliasFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str | int
    places_file: str | None = Field(None, description="Place gazetteer, relative to this file.")
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
    places: frozenset[str] = field(default_factory=frozenset, repr=False)

    def resolve(self, name: str) -> tuple[str, EntityLabel | None] | None:
        """The canonical name and forced label of ``name``, or None when it is not listed."""
        return self.names.get(alias_key(name))

    def is_ignored(self, name: str) -> bool:
        """True when ``name`` is listed under ``ignore``."""
        return alias_key(name) in self.ignored

    def is_place(self, name: str) -> bool:
        """True when ``name`` is in the place gazetteer."""
        return alias_key(name) in self.places


def alias_key(name: str) -> str:
    """The lookup key of a name: case-folded, without dots, hyphens as spaces ("U.S." -> "us")."""
    key = unicodedata.normalize("NFKC", name).casefold().replace(".", "").replace("’", "'")
    return " ".join(key.replace("-", " ").split())


def parse_aliases(text: str, source: str = "<string>", base_dir: Path = DEPLOY_DIR) -> AliasTable:
    """Build an :class:`AliasTable` from YAML text; any problem is a :class:`ConfigError`.

    A ``places_file`` named in the YAML is read relative to ``base_dir``.
    """
    spec = parse_yaml_model(text, _AliasFile, source)
    places_text = read_config_text(base_dir / spec.places_file) if spec.places_file else ""
    places = frozenset(
        alias_key(line) for line in places_text.splitlines() if line.strip() and line[0] != "#"
    )
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
    ignored = frozenset(alias_key(clean_span(item)) for item in spec.ignore)
    version = content_version(spec.version, text + places_text)
    return AliasTable(version=version, names=names, ignored=ignored, places=places)


def load_aliases(path: Path | None = None) -> AliasTable:
    """Load and validate the alias table (default ``deploy/aliases.yaml``)."""
    path = path or DEFAULT_ALIASES
    return parse_aliases(read_config_text(path), source=str(path), base_dir=path.parent)
