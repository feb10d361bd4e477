"""Fault 7: everything read again, from the earliest offset, and the corpus replayed again.

A rewound consumer group re-processes every record of every topic it reads, and a second
replay sends every article again as new messages. Neither may change a count, a dedup or a
story decision, or fire an alert twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.harness import (
    Corpus,
    FaultNamespace,
    Worker,
    alert_count,
    all_articles,
    assert_conserved,
    finish,
    replaying,
    reset_group_to_earliest,
)
from tests.support import run_newsflow

# About 2 min here; make test keeps the cheaper second-replay check of
# tests/e2e/test_pipeline.py, and this full rewind runs in make soak.
pytestmark = pytest.mark.slow

# What enrichment decided for a document; ingested_at is when, and may change.
DECIDED = (
    "title", "body", "is_duplicate", "duplicate_of", "story_id",
    "persons", "organizations", "locations", "topics", "language",
)  # fmt: skip


def decisions(ns: FaultNamespace) -> dict[str, tuple[Any, ...]]:
    return {d["id"]: tuple(str(d.get(k)) for k in DECIDED) for d in all_articles(ns)}


def subscribe_to_everything(ns: FaultNamespace) -> None:
    """A subscription every article matches: without one no alert can fire, twice or not."""
    done = run_newsflow(ns, "subscribe", "everything", "*")
    assert done.returncode == 0, done.stderr


def test_reading_everything_again_and_replaying_the_corpus_change_nothing(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    corpus: Corpus,
    record: Callable[[dict[str, Any]], None],
) -> None:
    ns = shared_ns
    ids = corpus.ids
    subscribe_to_everything(ns)
    worker = workers(ns)
    with replaying(ns, str(corpus.path)) as producer:
        finish(producer)
    first = assert_conserved(ns, ids)
    before, alerts = decisions(ns), alert_count(ns)
    assert alerts, "no alert fired on the first pass: the checks below would prove nothing"

    worker.stop()  # leaves the group, so that its offsets can be rewound
    rewound = reset_group_to_earliest(ns)
    assert rewound >= 2 * len(ids), f"only {rewound} messages rewound"
    started = time.monotonic()
    worker.start()
    again = assert_conserved(ns, ids)
    reread_seconds = time.monotonic() - started
    assert decisions(ns) == before, "reading everything again changed a document"
    assert alert_count(ns) == alerts, "reading everything again fired alerts"

    with replaying(ns, str(corpus.path)) as producer:
        finish(producer)
    twice = assert_conserved(ns, ids + ids)
    assert decisions(ns) == before, "replaying the corpus changed a document"
    assert alert_count(ns) == alerts, "replaying the corpus fired alerts"
    # Not only the documents (an alert re-sent overwrites its own id): nothing sent again.
    sent = ns.topic_keys(ns.names.alerts_topic)
    assert len(sent) == alerts, f"{len(sent)} records on {ns.names.alerts_topic} for {alerts}"
    record(
        twice.figures(
            first_settle_seconds=first.settle_seconds,
            rewound_messages=rewound,
            reread_seconds=round(reread_seconds, 1),
            documents_before=first.documents,
            documents_after_reread=again.documents,
            alerts=alerts,
        )
    )
