"""Fault 4: a document the index mapping rejects, in one bulk request with good ones.

No raw article can produce such a document any more (the raw schema bounds every keyword
field), so the poisoned records come the way they would in production: written straight to
``<ns>.enriched`` by another writer (a migration, an older worker). Each is a valid
``Article`` whose ``source`` is a single 40 kB term, beyond Lucene's 32766-byte limit for a
keyword: Elasticsearch answers that item with 400 ``document_parsing_exception`` ("failed to
parse field [source] of type [keyword]") and indexes the rest of the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.clients import kafka_producer
from processors.stages.identity import article_id
from schemas import codec
from schemas.article import Article
from tests.faults.harness import FaultNamespace, Worker, assert_conserved, labelled_stream, value_of

pytestmark = pytest.mark.stack

IMMENSE = "x" * 40_000


def article(doc_id: str, source: str) -> bytes:
    body = f"The council of Ravenholt approved a new bridge, report {doc_id}."
    now = datetime.now(UTC)
    return codec.dumps(Article(id=doc_id, body=body, ingested_at=now, source=source))


def inject_enriched(ns: FaultNamespace, records: list[tuple[str, bytes]]) -> None:
    """Write ``(id, value)`` records to ``<ns>.enriched`` partition 0, in one flush.

    Sent before the worker starts, they reach the sink together: one bulk request.
    """
    producer = kafka_producer(ns.settings)
    try:
        for doc_id, value in records:
            producer.send(ns.names.enriched_topic, key=doc_id.encode(), value=value, partition=0)
        producer.flush()
    finally:
        producer.close()


def test_a_mapping_conflict_dead_letters_one_document_and_indexes_the_rest_of_its_batch(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
    tmp_path: Path,
) -> None:
    ns = shared_ns
    items = labelled_stream()[:60]
    ns.produce(value_of(i) for i in items)
    good = [f"enriched-good-{n}" for n in range(20)]
    poisoned = ["enriched-poison-a", "enriched-poison-b"]
    records = [(i, article(i, "Wire")) for i in good[:10]]
    records += [(poisoned[0], article(poisoned[0], IMMENSE))]
    records += [(i, article(i, "Wire")) for i in good[10:]]
    records += [(poisoned[1], article(poisoned[1], IMMENSE + "y"))]
    inject_enriched(ns, records)
    worker = workers(ns)

    outcome = assert_conserved(ns, [i.id for i in items], dead=2, also=good)

    letters = ns.dead_letters()
    assert {d["stage"] for d in letters} == {"sink"}, letters
    assert {d["topic"] for d in letters} == {ns.names.enriched_topic}
    assert {d["key"] for d in letters} == set(poisoned)
    assert {d["error"] for d in letters} == {"document_parsing_exception"}, letters
    assert all("field [source]" in d["reason"] for d in letters), letters
    assert worker.metric("newsflow_dead_letters_total", stage="sink") == 2
    record(outcome.figures(poisoned=len(poisoned), good_in_batch=len(good)))


def test_an_id_elasticsearch_refuses_costs_neither_that_article_nor_its_batch(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    """A given id of 200 characters passes the raw schema, but 200 emoji are 800 bytes.

    Elasticsearch refuses ids over 512 bytes, and not per item: the whole bulk request
    fails validation (400 ``action_request_validation_exception``), every good document of
    the batch with it, at every retry.
    """
    ns = shared_ns
    items = labelled_stream()[:40]
    given = "\N{GRINNING FACE}" * 200
    long_id = json.dumps({"id": given, "title": "Long id", "body": "A short article."})
    values = [value_of(i) for i in items[:20]] + [long_id.encode()]
    values += [value_of(i) for i in items[20:]]
    ns.produce(values)
    workers(ns)

    derived = article_id(given, None, "A short article.")
    outcome = assert_conserved(ns, [i.id for i in items] + [derived], timeout=120)
    record(outcome.figures())


def test_a_document_that_fails_its_whole_bulk_request_is_dead_lettered_alone(
    shared_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    """Another writer's record with a 600-byte id: Elasticsearch refuses the whole request.

    The sink must find the document at fault, dead-letter it, and index the others.
    """
    ns = shared_ns
    good = [f"enriched-good-{n}" for n in range(30)]
    refused = "z" * 600
    records = [(i, article(i, "Wire")) for i in good[:15]]
    records += [(refused, article(refused, "Wire"))]
    records += [(i, article(i, "Wire")) for i in good[15:]]
    inject_enriched(ns, records)
    workers(ns)

    outcome = assert_conserved(ns, [], dead=1, also=good, timeout=120)
    (letter,) = ns.dead_letters()
    assert (letter["stage"], letter["key"]) == ("sink", refused), letter
    assert letter["error"] == "action_request_validation_exception", letter
    record(outcome.figures())
