"""Stage ``alerts``, pure part: subscriptions, query safety, search bodies, alerts, throttling.

Matching runs on Elasticsearch's own query engine (no percolator in the distribution we can
run here; see ``docs/ALERTS.md``): after each bulk write the adapter
(:mod:`processors.alerting.stage`) sends one ``_msearch`` whose searches are restricted to the ids
just indexed. Each search holds a chunk of subscriptions as *named* clauses, so a hit's
``matched_queries`` says which subscriptions it matched; a second, small ``_msearch`` fetches
highlights for the matched pairs only. Nothing here does I/O.

A QUERY is Lucene query-string syntax over ``title`` and ``body``; whitespace means AND and
terms may be spread over both fields (``type: cross_fields``).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsflow.core import transient
from newsflow.core.errors import ConfigError
from schemas.alert import Alert
from schemas.article import TopicSlug

# --- subscriptions ------------------------------------------------------------------------------

# ':' separates the parts of an alert id, so it may not appear in a subscription id.
SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Throttle(BaseModel):
    """At most ``max`` webhook notifications per ``window_seconds``; the rest make a digest."""

    model_config = ConfigDict(frozen=True)

    max: int = Field(ge=1, le=10_000)
    window_seconds: int = Field(ge=1, le=7 * 86400)


DEFAULT_THROTTLE = Throttle(max=10, window_seconds=600)


class Subscription(BaseModel):
    """A keyword alert subscription: a document of ``<ns>-subscriptions`` (``_id`` = ``id``).

    Filters: each list matches any of its values; the lists and the query must all match.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    query: str = Field(min_length=1)
    topics: list[TopicSlug] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    webhook: str | None = None
    created_at: datetime
    backfill: bool = False
    per_story: bool = False
    throttle: Throttle | None = DEFAULT_THROTTLE

    @field_validator("id")
    @classmethod
    def _id_is_safe(cls, value: str) -> str:
        if not SUBSCRIPTION_ID.fullmatch(value):
            raise ValueError("letters, digits, '.', '_' and '-' only (at most 100), no ':'")
        return value

    @field_validator("webhook")
    @classmethod
    def _webhook_is_http(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("created_at")
    @classmethod
    def _millisecond_utc(cls, value: datetime) -> datetime:
        # Elasticsearch dates keep milliseconds: store what the range filter will compare.
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def parse_throttle(text: str) -> Throttle | None:
    """``"10/10m"`` (N per duration, units s m h d) as a :class:`Throttle`; ``"none"`` is None."""
    if text.strip().lower() in {"none", "off", "0"}:
        return None
    count, _, period = text.partition("/")
    duration = _DURATION.fullmatch(period.strip())
    if not count.strip().isdigit() or duration is None:
        raise ConfigError(f"throttle {text!r}: expected N/DURATION such as 10/10m, or none")
    seconds = int(duration.group(1)) * _UNITS[duration.group(2)]
    try:
        return Throttle(max=int(count), window_seconds=seconds)
    except ValidationError as exc:
        raise ConfigError(f"throttle {text!r}: out of range ({exc.errors()[0]['msg']})") from None


def mask_url(url: str | None) -> str:
    """A webhook URL without its path (Slack webhook paths are secrets): for logs and lists."""
    if not url:
        return "-"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else url


# --- query strings: tokens, safety, what a match must contain ----------------------------------

SEARCH_FIELDS = ("title", "body")
MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64
MAX_FUZZY_EDITS = 2
MAX_PHRASE_SLOP = 50
MIN_WILDCARD_PREFIX = 3
# Lucene's classic query parser: these end a term unless escaped with '\'.
_TERM_END = set(' \t\r\n\u3000()[]{}"^~:!/')
_RUN = re.compile(r"[0-9a-z]+")
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
        runs = _RUN.findall(prefix)
        if _RUN.fullmatch(prefix):
            return Needs(prefixes=frozenset([prefix]))
        # Only the runs before the last one are whole: the last may continue into the wildcard.
        whole = runs[:-1] if prefix and prefix[-1].isalnum() else runs
        return Needs(words=frozenset([max(whole, key=len)])) if whole else None
    runs = _RUN.findall(text)
    return Needs(words=frozenset([max(runs, key=len)])) if runs else None


# --- search bodies ------------------------------------------------------------------------------

# What Batch needs of an article: its words, filter values, ingestion time, story.
BATCH_SOURCE = ["title", "body", "topics", "source", "entities.name", "ingested_at", "story_id"]
# Enough of an article to build its alert (and order a story's articles).
ALERT_SOURCE = ["id", "title", "url", "source", "published_at", "ingested_at", "story_id"]
HIGHLIGHT = {
    "fields": {
        "title": {"number_of_fragments": 0},
        "body": {"fragment_size": 160, "number_of_fragments": 3},
    }
}
# Elasticsearch counts every leaf clause of one search against indices.query.bool.max_clause_count
# (4096 on a 512 MB heap); a chunk stays well under it.
CHUNK_MAX_SUBSCRIPTIONS = 200
CHUNK_MAX_WEIGHT = 1000


def string_query(query: str) -> dict[str, Any]:
    """The ``query_string`` clause of a subscription (the same in validation and matching)."""
    return {
        "query_string": {
            "query": query,
            "fields": list(SEARCH_FIELDS),
            "default_operator": "AND",
            "type": "cross_fields",
            "allow_leading_wildcard": False,
        }
    }


def es_time(value: datetime) -> str:
    """A datetime as Elasticsearch stores it (UTC, milliseconds)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def subscription_filters(sub: Subscription, *, since_created: bool = True) -> list[dict[str, Any]]:
    """Filter clauses of ``sub``: topics, entities, sources, and articles ingested after it."""
    filters: list[dict[str, Any]] = []
    for field, values in (("topics", sub.topics), ("entities.name", sub.entities)):
        if values:
            filters.append({"terms": {field: list(values)}})
    if sub.sources:
        filters.append({"terms": {"source": list(sub.sources)}})
    if since_created and not sub.backfill:
        filters.append({"range": {"ingested_at": {"gte": es_time(sub.created_at)}}})
    return filters


def subscription_query(
    sub: Subscription, ids: Sequence[str] | None = None, *, since_created: bool = True
) -> dict[str, Any]:
    """The whole query of ``sub``, optionally restricted to article ``ids``."""
    filters = subscription_filters(sub, since_created=since_created)
    if ids is not None:
        filters.insert(0, {"ids": {"values": list(ids)}})
    return {"bool": {"filter": filters, "must": [string_query(sub.query)]}}


@functools.lru_cache(maxsize=65536)
def _clauses(query: str) -> int:
    return check_query(query).clauses


def weight(sub: Subscription) -> int:
    """Rough leaf-clause count of ``sub`` in a search (each term is looked up in two fields)."""
    return 2 * _clauses(sub.query) + 6


def chunks(subs: Sequence[Subscription]) -> list[list[Subscription]]:
    """Subscriptions in chunks of bounded size and clause weight, one search each."""
    out: list[list[Subscription]] = []
    current: list[Subscription] = []
    load = 0
    for sub in subs:
        cost = weight(sub)
        if current and (len(current) >= CHUNK_MAX_SUBSCRIPTIONS or load + cost > CHUNK_MAX_WEIGHT):
            out.append(current)
            current, load = [], 0
        current.append(sub)
        load += cost
    if current:
        out.append(current)
    return out


def named_clause(sub: Subscription) -> dict[str, Any]:
    """``sub``'s query named after it, for :func:`match_search` (the same for every batch)."""
    return {"bool": {**subscription_query(sub)["bool"], "_name": sub.id}}


def match_search(named: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> dict[str, Any]:
    """One search: which of ``ids`` match which of the ``named`` clauses; a hit's
    ``matched_queries`` names its subscriptions. All in filter context: scores are never
    used, and building them costs a third of the search."""
    return {
        "size": len(ids),
        "_source": False,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [
                    {"ids": {"values": list(ids)}},
                    {"bool": {"should": list(named), "minimum_should_match": 1}},
                ]
            }
        },
    }


def detail_search(sub: Subscription, ids: Sequence[str]) -> dict[str, Any]:
    """The matched articles of ``sub`` among ``ids`` with what an alert needs and highlights."""
    return {
        "size": len(ids),
        "_source": ALERT_SOURCE,
        "track_total_hits": False,
        "query": subscription_query(sub, ids),
        "highlight": HIGHLIGHT,
    }


_NOT_A_COPY = {"term": {"is_duplicate": True}}
# Articles of a ``newsflow replay --no-alerts``: never a match, however they are reached.
_SUPPRESSED = {"term": {"alerts_suppressed": True}}
_OLDEST_FIRST = [{"ingested_at": "asc"}, {"id": "asc"}]


def backfill_search(sub: Subscription, size: int) -> dict[str, Any]:
    """Every indexed non-duplicate article ``sub`` matches, oldest first (search_after pages)."""
    query = subscription_query(sub, since_created=False)
    query["bool"]["must_not"] = [_NOT_A_COPY, _SUPPRESSED]
    return {
        "size": size,
        "_source": ALERT_SOURCE,
        "query": query,
        "highlight": HIGHLIGHT,
        "sort": _OLDEST_FIRST,
    }


def recent_search(since: datetime, size: int) -> dict[str, Any]:
    """Non-duplicate articles ingested since ``since``, oldest first, with what
    :class:`Batch` and alert ids need (search_after pages)."""
    return {
        "size": size,
        "_source": [
            "title",
            "body",
            "topics",
            "source",
            "entities.name",
            "ingested_at",
            "story_id",
        ],
        "query": {
            "bool": {
                "filter": [{"range": {"ingested_at": {"gte": es_time(since)}}}],
                "must_not": [_NOT_A_COPY, _SUPPRESSED],
            }
        },
        "sort": _OLDEST_FIRST,
    }


def msearch_body(searches: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``_msearch`` lines for searches on the default index of the request."""
    body: list[dict[str, Any]] = []
    for search in searches:
        body += [{}, search]
    return body


# --- which articles may match -------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A batch of article documents indexed by what subscriptions look at (filter values,
    ingestion time, words), so that which articles each of a thousand subscriptions may
    match costs a few set operations."""

    by_time: list[tuple[str, str]]  # (ingested_at as Elasticsearch stores it, id), sorted
    untimed: frozenset[str]
    by_field: dict[str, dict[str, frozenset[str]]]
    by_word: dict[str, frozenset[str]] | None  # None: some document came without its text
    words: list[str]  # sorted, for prefixes

    @classmethod
    def of(cls, docs: Mapping[str, Mapping[str, Any]]) -> Batch:
        """Index ``docs`` (article id -> document)."""
        tables: dict[str, dict[str, set[str]]] = {"topics": {}, "sources": {}, "entities": {}}
        words: dict[str, set[str]] | None = {}
        timed: list[tuple[str, str]] = []
        untimed: set[str] = set()
        for doc_id, doc in docs.items():
            values = {
                "topics": doc.get("topics") or (),
                "sources": [doc["source"]] if doc.get("source") else [],
                "entities": [e.get("name") for e in doc.get("entities") or ()],
            }
            for field, found in values.items():
                for value in found:
                    tables[field].setdefault(value, set()).add(doc_id)
            ingested = doc.get("ingested_at")
            if ingested is None:
                untimed.add(doc_id)
            else:
                timed.append((es_time(_as_datetime(ingested)), doc_id))
            if words is not None and "body" in doc:
                text = f"{doc.get('title') or ''}\n{doc['body']}".lower()
                for word in set(_RUN.findall(text)):
                    words.setdefault(word, set()).add(doc_id)
            else:
                words = None
        by_field = {f: {v: frozenset(i) for v, i in t.items()} for f, t in tables.items()}
        by_word = None if words is None else {w: frozenset(i) for w, i in words.items()}
        return cls(sorted(timed), frozenset(untimed), by_field, by_word, sorted(by_word or ()))

    def eligible(self, sub: Subscription, wanted: Needs | None = None) -> list[str]:
        """Ids ``sub`` may match: those its filters let through (the exact keyword and time
        rules of its search) holding what its query needs (see :func:`needs`)."""
        start = 0 if sub.backfill else bisect.bisect_left(self.by_time, (es_time(sub.created_at),))
        ids = {i for _, i in self.by_time[start:]} | self.untimed
        for field, values in (("topics", sub.topics), ("sources", sub.sources),
                              ("entities", sub.entities)):  # fmt: skip
            if values and ids:
                table = self.by_field[field]
                ids &= set().union(*(table.get(v, frozenset()) for v in values))
        if wanted is not None and self.by_word is not None and ids:
            ids &= self._holding(wanted)
        return sorted(ids)

    def _holding(self, wanted: Needs) -> set[str]:
        assert self.by_word is not None
        found: set[str] = set()
        for word in wanted.words:
            found |= self.by_word.get(word, frozenset())
        for prefix in wanted.prefixes:
            at = bisect.bisect_left(self.words, prefix)
            while at < len(self.words) and self.words[at].startswith(prefix):
                found |= self.by_word[self.words[at]]
                at += 1
        return found


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# --- responses to alerts ------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFailure:
    """A search of an ``_msearch`` that failed: its status and Elasticsearch's reason."""

    status: int
    kind: str
    reason: str

    @property
    def transient(self) -> bool:
        """Overload or unavailability: the same search may succeed later."""
        return transient.http_status(self.status) or self.kind.endswith(
            "rejected_execution_exception"
        )


def failure_of(response: Mapping[str, Any]) -> SearchFailure | None:
    """The failure of one ``_msearch`` response item, or None if it succeeded."""
    error = response.get("error")
    if not error:
        return None
    root = (error.get("root_cause") or [error])[0] if isinstance(error, dict) else {}
    reason = str(root.get("reason") or error)[:300]
    return SearchFailure(int(response.get("status", 500)), str(root.get("type", "")), reason)


def matched(response: Mapping[str, Any]) -> dict[str, list[str]]:
    """Subscription id -> ids of the articles it matched, from a :func:`match_search` response."""
    out: dict[str, list[str]] = {}
    for hit in response["hits"]["hits"]:
        for name in hit.get("matched_queries") or ():
            out.setdefault(name, []).append(hit["_id"])
    return out


def alert_id(sub: Subscription, article_id: str, story_id: str | None) -> str:
    """``<sub>:<article>``, or ``<sub>:story:<story>`` for a per-story subscription."""
    if sub.per_story and story_id:
        return f"{sub.id}:story:{story_id}"
    return f"{sub.id}:{article_id}"


def alerts_from_hits(
    sub: Subscription, hits: Iterable[Mapping[str, Any]], matched_at: datetime
) -> dict[str, Alert]:
    """Alert id -> alert for search hits of ``sub``; one per story for a per-story subscription
    (its first-ingested article)."""
    ordered = sorted(hits, key=lambda h: (h["_source"].get("ingested_at") or "", h["_id"]))
    alerts: dict[str, Alert] = {}
    for hit in ordered:
        doc = hit["_source"]
        key = alert_id(sub, hit["_id"], doc.get("story_id"))
        if key in alerts:
            continue
        alerts[key] = Alert(
            subscription_id=sub.id,
            article_id=hit["_id"],
            title=doc.get("title"),
            url=doc.get("url"),
            source=doc.get("source"),
            published_at=doc.get("published_at"),
            matched_at=matched_at,
            highlights=hit.get("highlight") or {},
        )
    return alerts


# --- delivery: statuses, throttling, texts ------------------------------------------------------

DeliveryStatus = Literal[
    "pending",  # stored; not yet acknowledged on <ns>.alerts
    "published",  # on <ns>.alerts; no webhook, or the notifier has not seen it yet
    "sent",  # POSTed to the webhook
    "retrying",  # a POST failed; retried at next_attempt_at
    "folded",  # over the throttle; goes out in a digest at next_attempt_at
    "digested",  # went out in a digest
    "failed",  # gave up after the last attempt
]


def delivery(status: DeliveryStatus, now: datetime, **fields: Any) -> dict[str, Any]:
    """The ``delivery`` object of an alert document."""
    values = {k: (es_time(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    return {"status": status, "updated_at": es_time(now), **values}


def window_start(now: float, throttle: Throttle) -> float:
    """Start of the fixed throttle window holding ``now`` (aligned on the epoch)."""
    return math.floor(now / throttle.window_seconds) * throttle.window_seconds


def admit(sent: dict[str, tuple[float, int]], sub: Subscription, now: float) -> bool:
    """Whether one more notification of ``sub`` may go out now; counts it in ``sent``
    (subscription id -> (window start, notifications sent in it))."""
    if sub.throttle is None:
        return True
    start = window_start(now, sub.throttle)
    window, count = sent.get(sub.id, (start, 0))
    if window != start:
        count = 0
    if count >= sub.throttle.max:
        return False
    sent[sub.id] = (start, count + 1)
    return True


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(alert: Mapping[str, Any]) -> str:
    title = _slack(alert.get("title") or alert.get("article_id") or "untitled")
    return f"<{alert['url']}|{title}>" if alert.get("url") else title


def alert_text(alert: Mapping[str, Any]) -> str:
    """Slack-compatible text of one alert document: link, source and first highlight."""
    source = f" ({_slack(alert['source'])})" if alert.get("source") else ""
    lines = [f"[{alert['subscription_id']}] {_link(alert)}{source}"]
    body = (alert.get("highlights") or {}).get("body") or []
    if body:
        fragment = _slack(body[0]).replace("&lt;em&gt;", "*").replace("&lt;/em&gt;", "*")
        lines.append(f"> {fragment}")
    return "\n".join(lines)


def digest_text(subscription_id: str, alerts: Sequence[Mapping[str, Any]], shown: int = 10) -> str:
    """Slack-compatible text of a digest: the alerts held back by the throttle."""
    lines = [f"[{subscription_id}] {len(alerts)} more matching articles (throttled):"]
    lines += [f"• {_link(a)}" for a in alerts[:shown]]
    if len(alerts) > shown:
        lines.append(f"… and {len(alerts) - shown} more")
    return "\n".join(lines)
