"""Corpus files as raw-article records: ``.txt``, ``.jsonl``, ``.json``, and ``.gz`` of them.

A ``.txt`` file is one article: an optional leading ``date YYYY-MM-DD`` line, an optional
headline (a short first paragraph without final punctuation), then the body. Folders are
walked in sorted order, so a replay is repeatable. Files stream line by line, so memory
stays flat on large ``.jsonl.gz`` inputs.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from newsflow.core.errors import ConfigError, InvalidArticle
from processors.stages.clean import split_date_marker
from processors.stages.decode import check_json_value, clean_article
from processors.stages.identity import article_id
from schemas.raw import RawArticle

SUFFIXES = (".txt", ".jsonl", ".json")
# Raw-article fields set on every record of a replay (``--tag``, ``--no-alerts``).
Stamp = Mapping[str, Any] | None
_TITLE_MAX = 200
_SENTENCE_END = (".", "!", "?", ":", '"', "”")


@dataclass(frozen=True)
class Record:
    """One article read from a file: the bytes to send, or why it cannot be sent."""

    path: Path
    line: int
    value: bytes
    key: bytes | None = None
    published_at: float | None = None  # POSIX seconds, for event-time replay
    error: str | None = None


def kind_of(path: Path) -> str | None:
    """``.txt``, ``.jsonl`` or ``.json`` (looking through ``.gz``); None if not a corpus file."""
    name = path.name.lower().removesuffix(".gz")
    return next((s for s in SUFFIXES if name.endswith(s)), None)


def corpus_files(paths: list[Path]) -> list[Path]:
    """The corpus files under ``paths`` (files as given, folders walked in sorted order)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = [p for p in sorted(path.rglob("*")) if kind_of(p) and not p.is_dir()]
            broken = [p for p in inside if not p.is_file()]
            if broken:
                raise ConfigError(f"{broken[0]}: not a readable file (a broken link?)")
            if not inside:
                raise ConfigError(f"{path}: a folder without .txt, .jsonl or .json files")
            found.extend(inside)
        elif path.is_file():
            if not kind_of(path):
                raise ConfigError(f"{path}: not a .txt, .jsonl or .json file (or .gz of one)")
            found.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return found


def _open(path: Path) -> IO[str]:
    # utf-8-sig: a byte order mark (editors on Windows write one) is not part of the text.
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="strict", newline="")
    return path.open("r", encoding="utf-8-sig", errors="strict", newline="")


def txt_article(text: str) -> dict[str, Any]:
    """The raw-article fields of a ``.txt`` file's text."""
    published, rest = split_date_marker(text)
    rest = rest.strip()
    article: dict[str, Any] = {"body": rest}
    first, sep, remainder = rest.partition("\n\n")
    first = first.strip()
    headline_like = len(first) <= _TITLE_MAX and "\n" not in first
    if sep and remainder.strip() and headline_like and not first.endswith(_SENTENCE_END):
        article["title"], article["body"] = first, remainder.strip()
    if published is not None:
        article["published_at"] = published.isoformat()
    return article


def _record(path: Path, line: int, obj: Any, stamp: Stamp) -> Record:
    """A record for one decoded JSON value: keyed by article id when it is a valid article.

    ``stamp`` fields (a replay's tag) are set on every object, replacing the file's own.
    """
    try:
        check_json_value(obj)  # what the worker would refuse, and what cannot be re-encoded
    except InvalidArticle as exc:
        return Record(path, line, b"", error=exc.reason)
    if stamp and isinstance(obj, dict):
        obj = {**obj, **stamp}
    value = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    if not isinstance(obj, dict):
        return Record(path, line, value, error=f"a JSON {type(obj).__name__}, not an object")
    try:
        raw = RawArticle.model_validate(obj)
        key, published = _key_and_time(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        return Record(path, line, value, error=f"{where}: {first['msg']}")
    except InvalidArticle as exc:
        return Record(path, line, value, error=exc.reason)
    return Record(path, line, value, key=key.encode(), published_at=published)


def _key_and_time(raw: RawArticle) -> tuple[str, float | None]:
    """The article id (the record's key) and publication time of a raw article.

    With an id or a URL the key needs no cleaning (markup parsing is the producer's main
    cost); only content-derived ids clean the body, exactly as the worker will.
    """
    given = article_id(raw.id, raw.url, "") if raw.id or raw.url else None
    if given is not None and not given.startswith("c-"):
        marker, _ = split_date_marker(raw.body)
        when = raw.published_at or marker
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # as the worker reads it
        return given, (when.timestamp() if when else None)
    clean = clean_article(raw)
    return clean.id, (clean.published_at.timestamp() if clean.published_at else None)


def read_file(path: Path, stamp: Stamp = None) -> Iterator[Record]:
    """The records of one corpus file, in file order, each with the ``stamp`` fields."""
    kind = kind_of(path)
    try:
        with _open(path) as handle:
            if kind == ".txt":
                yield _record(path, 1, txt_article(handle.read()), stamp)
            elif kind == ".json":
                yield from _json_records(path, handle.read(), stamp)
            else:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        yield _jsonl_record(path, number, line, stamp)
    except UnicodeDecodeError as exc:
        yield Record(path, 0, b"", error=f"not UTF-8 ({exc.reason})")
    except (OSError, EOFError) as exc:
        yield Record(path, 0, b"", error=f"unreadable: {exc}")


def _json_records(path: Path, text: str, stamp: Stamp) -> Iterator[Record]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Record(path, exc.lineno, text.encode("utf-8"), error=f"not JSON: {exc.msg}")
        return
    except RecursionError:
        yield Record(path, 1, text.encode("utf-8"), error="not JSON: nested too deeply")
        return
    for item in obj if isinstance(obj, list) else [obj]:
        yield _record(path, 1, item, stamp)


def _jsonl_record(path: Path, number: int, line: str, stamp: Stamp) -> Record:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Record(path, number, line.rstrip("\n").encode("utf-8"), error=f"not JSON: {exc.msg}")
    except RecursionError:
        return Record(
            path, number, line.rstrip("\n").encode("utf-8"), error="not JSON: nested too deeply"
        )
    return _record(path, number, obj, stamp)


def read_corpus(paths: list[Path], stamp: Stamp = None) -> Iterator[Record]:
    """Every record of every corpus file under ``paths``, each with the ``stamp`` fields."""
    for path in corpus_files(paths):
        yield from read_file(path, stamp)
