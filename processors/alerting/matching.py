"""Which articles of a batch each subscription may match, and alerts from search responses.

Pure: :class:`Batch` narrows the work before any search; :func:`matched` and
:func:`alerts_from_hits` read what Elasticsearch answered. No I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsflow.core import transient
from processors.alerting.query import WORD_RUN, Needs
from processors.alerting.searches import es_time
from processors.alerting.subscription import Subscription
from schemas.alert import Alert


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
                for word in set(WORD_RUN.findall(text)):
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
