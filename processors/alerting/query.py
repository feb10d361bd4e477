"""Alert query strings: their tokens, what no alert query may hold, what a match must contain.

A QUERY is Lucene query-string syntax over ``title`` and ``body``; whitespace means AND and
terms may be spread over both fields (``type: cross_fields``). Whether a query parses is
Elasticsearch's call; this module only guards cost and derives :class:`Needs`. No I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from newsflow.core.errors import ConfigError

SEARCH_FIELDS = ("title", "body")
MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64
MAX_FUZZY_EDITS = 2
MAX_PHRASE_SLOP = 50
MIN_WILDCARD_PREFIX = 3
# Lucene's classic query parser: these end a term unless escaped with '\'.
_TERM_END = set(' \t\r\n\u3000()[]{}"^~:!/')
WORD_RUN = re.compile(r"[0-9a-z]+")
_NUMBER = re.compile(r"\d+(\.\d+)?")

TokenKind = Literal["term", "phrase", "field", "and", "or", "not", "must", "open", "close"]
_KEYWORDS: dict[str, TokenKind] = {"AND": "and", "&&": "and", "OR": "or", "||": "or", "NOT": "not"}


@dataclass(frozen=True)
class Token:
    """One unit of a query string: a term or phrase (unescaped text), a field prefix, an
    operator or a parenthesis."""

    kind: TokenKind
    text: str = ""
    fuzzy: bool = False
    wildcard: int = -1  # position of the first unescaped * or ? in ``text``


def tokens(query: str) -> list[Token]:
    """The tokens of ``query`` as Lucene's classic parser reads it; what no alert query may
    hold (regular expressions, ranges, abusive wildcards, fuzziness or slop, other fields)
    is refused here with a :class:`ConfigError`."""
    out: list[Token] = []
    pos = 0
    while pos < len(query):
        char = query[pos]
        if char.isspace():
            pos += 1
        elif char in "()+-!":
            kinds: dict[str, TokenKind] = {"(": "open", ")": "close", "+": "must"}
            out.append(Token(kinds.get(char, "not")))
            pos += 1
        elif char == '"':
            text, pos = _phrase(query, pos)
            out.append(Token("phrase", text))
        elif char == "/":
            raise ConfigError("regular expressions (/.../) are not allowed; escape '/' as '\\/'")
        elif char in "[{":
            raise ConfigError("ranges ([a TO b]) are not allowed in alert queries")
        elif char == "^":
            pos = _skip_boost(query, pos)  # a group's boost: (a b)^2
        elif char in "]}~:":
            raise ConfigError(f"unexpected {char!r} at character {pos + 1}")
        else:
            raw, pos = _read_term(query, pos)
            if raw in _KEYWORDS:
                out.append(Token(_KEYWORDS[raw]))
            elif pos < len(query) and query[pos] == ":":
                if raw not in SEARCH_FIELDS:
                    raise ConfigError(f"field {raw!r} is not searchable; use title: or body:")
                out.append(Token("field", raw))
                pos += 1
            else:
                token, pos = _term(query, raw, pos)
                out.append(token)
    return out


@dataclass(frozen=True)
class QueryInfo:
    """What :func:`check_query` learned: the number of term and phrase clauses."""

    clauses: int


def check_query(query: str) -> QueryInfo:
    """Refuse a query that is abusive (``ConfigError`` with a one-line reason), else describe it.

    Refused: more than ``MAX_QUERY_CHARS`` characters or ``MAX_CLAUSES`` terms and phrases,
    regular expressions ``/.../``, ranges ``[a TO b]``, leading or short-prefix wildcards,
    fuzzy terms over ``MAX_FUZZY_EDITS`` edits, phrase slop over ``MAX_PHRASE_SLOP``, fields
    other than ``title`` and ``body``. Whether the query parses is Elasticsearch's call
    (``indices.validate_query``); this only guards cost. Scripts cannot be written in
    query-string syntax, and the request body around the string is always built here.
    """
    if not query.strip():
        raise ConfigError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise ConfigError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    clauses = sum(1 for t in tokens(query) if t.kind in ("term", "phrase"))
    if clauses > MAX_CLAUSES:
        raise ConfigError(f"the query has {clauses} terms and phrases; at most {MAX_CLAUSES}")
    return QueryInfo(clauses=clauses)


def _read_term(query: str, pos: int) -> tuple[str, int]:
    """The raw text of the term at ``pos`` (escapes kept) and the position after it."""
    start = pos
    while pos < len(query) and query[pos] not in _TERM_END:
        pos += 2 if query[pos] == "\\" else 1
    return query[start:pos], min(pos, len(query))


def _unescape(raw: str) -> tuple[str, int]:
    """Text without escapes, and where its first unescaped wildcard is (-1: none)."""
    text: list[str] = []
    wildcard = -1
    pos = 0
    while pos < len(raw):
        if raw[pos] == "\\" and pos + 1 < len(raw):
            text.append(raw[pos + 1])
            pos += 2
            continue
        if raw[pos] in "*?" and wildcard < 0:
            wildcard = len(text)
        text.append(raw[pos])
        pos += 1
    return "".join(text), wildcard


def _phrase(query: str, pos: int) -> tuple[str, int]:
    end = pos + 1
    while end < len(query) and query[end] != '"':
        end += 2 if query[end] == "\\" else 1
    if end >= len(query):
        raise ConfigError(f"unterminated quote at character {pos + 1}")
    text = _unescape(query[pos + 1 : end])[0]
    pos = end + 1
    if pos < len(query) and query[pos] == "~":
        slop, pos = _read_number(query, pos + 1)
        if slop is not None and slop > MAX_PHRASE_SLOP:
            raise ConfigError(f"phrase slop ~{slop:g} is over {MAX_PHRASE_SLOP}")
    return text, _skip_boost(query, pos)


def _term(query: str, raw: str, pos: int) -> tuple[Token, int]:
    text, wildcard = _unescape(raw)
    if text == "*":
        pass  # every article (that passes the subscription's filters)
    elif wildcard == 0:
        raise ConfigError(f"leading wildcard in {raw!r} is not allowed")
    elif 0 < wildcard < MIN_WILDCARD_PREFIX:
        raise ConfigError(
            f"wildcard term {raw!r} needs at least {MIN_WILDCARD_PREFIX} characters before * or ?"
        )
    fuzzy = pos < len(query) and query[pos] == "~"
    if fuzzy:
        edits, pos = _read_number(query, pos + 1)
        if edits is not None and (edits > MAX_FUZZY_EDITS or edits != int(edits)):
            raise ConfigError(f"fuzzy {raw}~{edits:g}: at most {MAX_FUZZY_EDITS} edits")
        if len(text) < MIN_WILDCARD_PREFIX:
            raise ConfigError(f"fuzzy term {raw!r} is too short")
    return Token("term", text, fuzzy, wildcard), _skip_boost(query, pos)


def _read_number(query: str, pos: int) -> tuple[float | None, int]:
    match = _NUMBER.match(query, pos)
    return (float(match.group(0)), match.end()) if match else (None, pos)


def _skip_boost(query: str, pos: int) -> int:
    if pos < len(query) and query[pos] == "^":
        _, pos = _read_number(query, pos + 1)
    return pos


@dataclass(frozen=True)
class Needs:
    """What every article a query matches contains: one of ``words``, or a word starting
    with one of ``prefixes`` (words here are runs of ASCII letters and digits, lowercased).

    This is how a percolator skips most queries: a subscription whose needs appear in no
    article of a batch cannot match it and is not searched. Elasticsearch still decides
    every match; a wrong ``Needs`` could only drop a match, so each rule errs towards
    "cannot tell" (None), which searches the subscription.
    """

    words: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()

    def _rank(self) -> tuple[int, int]:
        # Fewer alternatives first, then longer (rarer) words.
        return len(self.words) + len(self.prefixes), -max(map(len, self.words | self.prefixes))


@functools.lru_cache(maxsize=65536)
def needs(query: str) -> Needs | None:
    """What any article matching ``query`` must contain, or None when that cannot be told.

    Valid for ``title`` and ``body`` analyzed by the standard analyzer (lowercase, split at
    word boundaries, which never fall between two ASCII letters or digits), with AND as the
    default operator: a token the query requires is then a substring of the article whose
    letter-and-digit runs are runs of the article too.
    """
    found, _ = _group_needs(tokens(query), 0)
    return found


def _group_needs(toks: Sequence[Token], pos: int) -> tuple[Needs | None, int]:
    """Needs of the clauses from ``pos`` to the closing parenthesis, and where that is."""
    clauses: list[tuple[bool, Needs | None]] = []
    has_or = negate = False
    while pos < len(toks) and toks[pos].kind != "close":
        token = toks[pos]
        pos += 1
        if token.kind == "or":
            has_or = True
        elif token.kind == "not":
            negate = True
        elif token.kind == "open":
            inner, pos = _group_needs(toks, pos)
            pos += 1
            clauses.append((negate, inner))
            negate = False
        elif token.kind in ("term", "phrase"):
            clauses.append((negate, _leaf_needs(token)))
            negate = False
        # "and", "must" and "field" change nothing here: fields only narrow a match.
    positive = [n for negated, n in clauses if not negated]
    if not positive:
        return None, pos  # only exclusions: Elasticsearch matches everything else
    if has_or:  # OR makes clauses optional: any positive clause may be the one that matched
        if any(n is None for n in positive):
            return None, pos
        known = [n for n in positive if n is not None]
        words = frozenset().union(*(n.words for n in known))
        return Needs(words, frozenset().union(*(n.prefixes for n in known))), pos
    # With AND as the default operator every positive clause is required: one is enough.
    known = [n for n in positive if n is not None]
    return (min(known, key=Needs._rank) if known else None), pos


def _leaf_needs(token: Token) -> Needs | None:
    if token.fuzzy or token.text == "*" or not token.text.isascii():
        return None
    text = token.text.lower()
    if token.wildcard >= 0:
        prefix = text[: token.wildcard]
        runs = WORD_RUN.findall(prefix)
        if WORD_RUN.fullmatch(prefix):
            return Needs(prefixes=frozenset([prefix]))
        # Only the runs before the last one are whole: the last may continue into the wildcard.
        whole = runs[:-1] if prefix and prefix[-1].isalnum() else runs
        return Needs(words=frozenset([max(whole, key=len)])) if whole else None
    runs = WORD_RUN.findall(text)
    return Needs(words=frozenset([max(runs, key=len)])) if runs else None
