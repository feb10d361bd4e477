"""``newsflow deadletter list|requeue`` on the real stack, with a worker."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.bootstrap import ensure_templates
from tests.support import VENV_BIN, Namespace, WorkerProcess

pytestmark = pytest.mark.stack

NOT_UTF8 = b"\xff\xfe\x00 binary, not UTF-8 \xc0\xaf"


def _newsflow(ns: Namespace, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), *args],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"newsflow {' '.join(args)} failed:\n{done.stderr}"
    return done


def _listed(ns: Namespace, *args: str) -> list[dict[str, Any]]:
    out = _newsflow(ns, "deadletter", "list", "--json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def _settled(ns: Namespace, documents: int, dead: int) -> None:
    ns.settled(documents, dead, timeout=180)


def _read_raw(ns: Namespace, partition: int, offset: int) -> bytes:
    """The value at ``offset`` of ``<ns>.raw``, read with a plain consumer."""
    from kafka import KafkaConsumer, TopicPartition

    from newsflow.core.clients import kafka_options

    consumer = KafkaConsumer(**kafka_options(ns.settings), enable_auto_commit=False)
    try:
        tp = TopicPartition(ns.names.raw_topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        records = consumer.poll(timeout_ms=10_000, max_records=1).get(tp, [])
        assert records, f"nothing at {ns.names.raw_topic}:{partition}:{offset}"
        value: bytes = records[0].value
        return value
    finally:
        consumer.close()


def _article(n: int, **extra: Any) -> bytes:
    body = f"Story {n}: the council of Ravenholt approved a new bridge on Monday, officials said."
    return json.dumps({"id": f"dl-{n}", "title": f"Bridge {n}", "body": body, **extra}).encode()


def test_dead_letters_are_listed_and_requeued_by_id_with_their_original_bytes(
    namespace: Namespace, worker: WorkerProcess
) -> None:
    namespace.produce([_article(1), NOT_UTF8, b"{not json"])
    _settled(namespace, documents=1, dead=2)

    letters = _listed(namespace)
    assert sorted(r["error"] for r in letters) == ["not_json", "not_utf8"]
    for row in letters:
        assert row["stage"] == "clean" and row["topic"] == namespace.names.raw_topic
        assert row["reason"] and row["failed_at"] and row["requeued_at"] is None
        assert row["id"] == f"{row['topic']}:{row['partition']}:{row['offset']}"
    binary = next(r for r in letters if r["error"] == "not_utf8")
    assert base64.b64decode(binary["value"]) == NOT_UTF8
    assert [r["error"] for r in _listed(namespace, "--error", "not_json")] == ["not_json"]
    table = _newsflow(namespace, "deadletter", "list").stdout
    assert binary["id"] in table and "2 of 2 dead letters shown" in table

    # --dry-run says what it would send, and sends nothing.
    before = namespace.raw_end_offsets()
    dry = _newsflow(namespace, "deadletter", "requeue", "--id", binary["id"], "--dry-run")
    assert f"would requeue {binary['id']}" in dry.stdout
    assert namespace.raw_end_offsets() == before

    # Requeued by id: the exact bytes go back to <ns>.raw, fail again, and make a new letter.
    done = _newsflow(namespace, "deadletter", "requeue", "--id", binary["id"])
    assert namespace.raw_end_offsets() == before + 1
    where = done.stdout.split(f"requeued {binary['id']} → {namespace.names.raw_topic}:")[1]
    partition, offset = (int(x) for x in where.split()[0].split(":"))
    assert _read_raw(namespace, partition, offset) == NOT_UTF8
    _settled(namespace, documents=1, dead=3)
    rows = {r["id"]: r for r in _listed(namespace)}
    assert rows[binary["id"]]["requeued_at"], "the requeued letter is marked"
    new_id = f"{namespace.names.raw_topic}:{partition}:{offset}"
    assert rows[new_id]["error"] == "not_utf8" and rows[new_id]["requeued_at"] is None

    # Not twice by accident: a marked letter is skipped unless --again is given.
    again = _newsflow(namespace, "deadletter", "requeue", "--id", binary["id"])
    assert f"skipped {binary['id']}" in again.stdout and "nothing to requeue" in again.stdout
    by_kind = _newsflow(namespace, "deadletter", "requeue", "--error", "not_utf8", "--dry-run")
    assert f"would requeue {new_id}" in by_kind.stdout
    assert f"would requeue {binary['id']}" not in by_kind.stdout
    assert namespace.raw_end_offsets() == before + 1


def test_an_article_the_index_refused_is_indexed_once_requeued_after_the_fix(
    namespace: Namespace, worker: WorkerProcess
) -> None:
    # A wrong mapping (someone made `source` a number) refuses the article at the sink.
    es, index = namespace.es, namespace.names.articles_index
    es.indices.delete(index=index)
    es.indices.create(index=index, mappings={"properties": {"source": {"type": "long"}}})
    namespace.produce([_article(7, source="Ravenholt Gazette")])
    _settled(namespace, documents=0, dead=1)
    (letter,) = _listed(namespace)
    assert letter["stage"] == "sink" and letter["topic"] == namespace.names.enriched_topic

    # The fix: the index as its template makes it. Then requeue that kind of failure.
    es.indices.delete(index=index)
    ensure_templates(namespace.settings, namespace.names)
    done = _newsflow(namespace, "deadletter", "requeue", "--error", letter["error"])
    assert f"requeued 1 dead letters to {namespace.names.raw_topic}" in done.stdout
    _settled(namespace, documents=1, dead=1)
    (article,) = namespace.articles()
    assert article["id"] == "dl-7" and article["source"] == "Ravenholt Gazette"
    assert _listed(namespace)[0]["requeued_at"]


SECRETS = {
    "NEWSFLOW_ES_USERNAME": "newsflow",
    "NEWSFLOW_ES_PASSWORD": "es-Pa55word-never-shown",
    "NEWSFLOW_ES_API_KEY": "ZXMta2V5LW5ldmVyLXNob3du",
    "NEWSFLOW_KAFKA_SASL_PASSWORD": "kafka-Pa55word-never-shown",  # set, unused (PLAINTEXT)
}


def test_no_output_or_worker_log_shows_the_credentials(namespace: Namespace, log_dir: Path) -> None:
    # The local Elasticsearch runs without security: it ignores the credentials we send.
    namespace.env.update(SECRETS, NEWSFLOW_LOG_LEVEL="DEBUG")
    worker = WorkerProcess(namespace, log_dir).start()
    try:
        namespace.produce([b"{not json"])
        _settled(namespace, documents=0, dead=1)
        runs = [
            _newsflow(namespace, *args)
            for args in (["status", "--json"], ["deadletter", "list", "--json"], ["bootstrap"])
        ]
        assert json.loads(runs[0].stdout)["namespace"] == namespace.settings.namespace
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")
    assert "DEBUG" in log, "the worker did not log at DEBUG: the check would prove little"
    shown = log + "".join(r.stdout + r.stderr for r in runs)
    hidden = {k: v for k, v in SECRETS.items() if k != "NEWSFLOW_ES_USERNAME"}
    leaked = [name for name, value in hidden.items() if value in shown]
    assert not leaked, f"{leaked} shown in output or logs"
