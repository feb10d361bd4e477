"""A record batch no consumer can decode: its partition stops, loudly; the others go on.

Kafka checks every batch a producer sends (CRC, codec, framing: see
``test_the_broker_refuses_a_batch_with_an_unknown_codec``), so an undecodable batch reaches a
worker only from the broker's storage. The test makes one the way a disk would: it flips a
byte of a stored record in the partition's segment file of the local broker (the broker
serves fetches from that file). The worker must index everything else, name the batch
(log, ``/healthz``), and resume after ``newsflow deadletter skip``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from newsflow.stack.layout import Layout
from tests.support import Namespace, WorkerProcess, run_newsflow, wait_for

pytestmark = pytest.mark.stack

MARK = b"flip-me-here"


def _value(n: int, marked: bool = False) -> bytes:
    body = f"Port authority notice number {n} about berths and pilots in the outer harbour."
    record = {"id": f"notice-{n}", "title": f"Notice {n}", "body": body}
    if marked:
        record["meta"] = {"mark": MARK.decode()}
    return json.dumps(record).encode()


def _send_batch(ns: Namespace, partition: int, values: list[bytes]) -> None:
    """One uncompressed batch (its bytes are on disk as sent) to ``partition``."""
    ns.produce(values, partition=partition, compression_type=None, linger_ms=500)


def _flip_stored_byte(ns: Namespace, partition: int) -> None:
    """Corrupt the stored batch holding ``MARK`` in the partition's segment file."""
    folder = Layout.of(ns.settings).kafka / "data" / f"{ns.names.raw_topic}-{partition}"
    segment = sorted(folder.glob("*.log"))[0]
    data = segment.read_bytes()
    at = data.find(MARK)
    assert at > 0, f"{MARK!r} not in {segment}"
    with segment.open("r+b") as out:
        out.seek(at)
        out.write(b"F")  # 'f' -> 'F': the batch's CRC no longer matches


def _health(worker: WorkerProcess) -> dict[str, object]:
    return dict(httpx.get(f"{worker.url}/healthz", timeout=5).json())


def test_a_corrupt_stored_batch_stops_its_partition_only_until_skipped(
    namespace: Namespace, log_dir: Path
) -> None:
    ns = namespace
    _send_batch(ns, 0, [_value(0), _value(1)])  # offsets 0, 1: fine
    _send_batch(ns, 0, [_value(2, marked=True), _value(3)])  # offsets 2, 3: corrupted below
    _send_batch(ns, 0, [_value(4)])  # offset 4: behind the bad batch
    for partition in (1, 2, 3):
        _send_batch(ns, partition, [_value(10 + partition)])
    _flip_stored_byte(ns, 0)

    worker = WorkerProcess(ns, log_dir)
    worker.launch()  # it will not be healthy: that is the point
    try:
        index = ns.names.articles_index
        wait_for(lambda: ns.count(index) == 5, 120, "the 5 articles outside the bad batch")
        health = wait_for(
            lambda: (h := _health(worker)).get("status") == "undecodable" and h,
            60,
            "/healthz to name the undecodable batch",
        )
        stuck = health["undecodable"]
        assert isinstance(stuck, list) and len(stuck) == 1, health
        assert (stuck[0]["topic"], stuck[0]["partition"]) == (ns.names.raw_topic, 0), stuck
        assert (stuck[0]["offset"], stuck[0]["next_offset"]) == (2, 4), stuck
        assert "CorruptRecord" in stuck[0]["reason"], stuck
        assert worker.proc is not None and worker.proc.poll() is None, "the worker exited"
        log = worker.log_path.read_text(errors="replace")
        line = f"cannot decode the record batch at {ns.names.raw_topic} partition 0 offset 2"
        assert log.count(line) == 1, log[-3000:]
        # Kafka lets nobody move the offsets of a group that has members.
        command = str(stuck[0]["skip_with"]).split()[1:]
        refused = run_newsflow(ns, *command)
        assert refused.returncode == 2 and "stop its workers first" in refused.stderr, refused
    finally:
        worker.stop()

    done = run_newsflow(ns, *command)
    assert done.returncode == 0, done.stderr
    assert "2 dead letters" in done.stdout, done.stdout
    worker = WorkerProcess(ns, log_dir).start()
    try:
        wait_for(
            lambda: (
                ns.count(ns.names.articles_index) == 6
                and ns.count(ns.names.deadletter_index) == 2
                and ns.committed_raw() == 8
            ),
            120,
            "offset 4 indexed, 2 dead letters, every offset committed",
        )
        letters = ns.dead_letters()
        assert {(d["offset"], d["error"]) for d in letters} == {
            (2, "undecodable_batch"),
            (3, "undecodable_batch"),
        }, letters
        assert _health(worker)["status"] == "ok"
    finally:
        worker.stop()
