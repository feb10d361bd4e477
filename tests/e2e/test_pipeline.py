"""The foundation's path through the real stack: replay → worker → Elasticsearch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import VENV_BIN, Namespace, WorkerProcess

pytestmark = pytest.mark.stack


def _replay(ns: Namespace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), "replay", "--quiet", *args],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settled(ns: Namespace, messages: int, documents: int, dead: int = 0) -> None:
    """Drained (newsflow.cli.drained), with exactly these counts."""
    ns.settled(documents, dead, messages, timeout=180)


def test_seed_articles_are_indexed_clean_with_entities_and_dates(
    namespace: Namespace, worker: WorkerProcess, seeds: Path
) -> None:
    done = _replay(namespace, str(seeds))
    assert done.returncode == 0, done.stderr
    assert "sent 5" in done.stdout
    _settled(namespace, messages=5, documents=5)

    docs = namespace.articles()
    files = sorted(seeds.glob("*.txt"))
    dated = {p.read_text().lstrip().startswith("date ") for p in files}
    assert dated == {True, False}, "the seeds mix dated and undated files"
    for doc in docs:
        assert "Kim Jong Un" in doc["persons"], (doc["id"], doc["persons"])
        assert not doc["body"].lstrip().startswith("date "), doc["body"][:40]
        assert "<" not in doc["body"] and "  " not in doc["body"]
        assert doc["topics"], f"no topic for {doc['id']}"
        assert doc["language"] == "en"
    with_dates = sorted(d["published_at"][:10] for d in docs if d["published_at"])
    assert with_dates == ["2024-11-30", "2024-11-30", "2024-12-01"]


def test_replaying_twice_changes_no_count(
    namespace: Namespace, worker: WorkerProcess, seeds: Path
) -> None:
    assert _replay(namespace, str(seeds)).returncode == 0
    _settled(namespace, messages=5, documents=5)
    first = {d["id"]: d["ingested_at"] for d in namespace.articles()}

    assert _replay(namespace, str(seeds)).returncode == 0
    _settled(namespace, messages=10, documents=5)
    assert set(first) == {d["id"] for d in namespace.articles()}


BAD = {
    b"this is not json": "not_json",
    b"\xff\xfe\x00\x01 not utf-8": "not_utf8",
    b'{"title": "a headline but no body"}': "schema",
    b'{"body": 12345}': "schema",
    b'{"body": "fine", "published_at": "next tuesday"}': "schema",
    b"[1, 2, 3]": "not_object",
    b'{"body": "<p>  </p>"}': "blank_body",
}


def _good(n: int) -> bytes:
    body = f"Story number {n}: the council of Ravenholt approved a new bridge on Monday."
    return json.dumps({"id": f"good-{n}", "title": f"Bridge {n}", "body": body}).encode()


def test_malformed_messages_become_dead_letters_and_good_ones_around_them_are_indexed(
    namespace: Namespace, worker: WorkerProcess
) -> None:
    values: list[bytes] = []
    for n, bad in enumerate(BAD):
        values += [_good(n), bad]
    values.append(_good(len(BAD)))
    sent = namespace.produce(values)
    good = len(BAD) + 1
    _settled(namespace, messages=sent, documents=good, dead=len(BAD))

    letters = namespace.dead_letters()
    assert sorted(d["error"] for d in letters) == sorted(BAD.values())
    for letter in letters:
        assert letter["reason"] and letter["topic"] == namespace.names.raw_topic
        assert letter["stage"] == "clean"
        assert letter["offset"] >= 0 and letter["failed_at"]
    binary = next(d for d in letters if d["error"] == "not_utf8")
    assert binary["value_encoding"] == "base64"
    # Conservation: every message read is one document or one dead letter.
    assert namespace.committed_raw() == good + len(BAD) == sent
