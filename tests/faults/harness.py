"""What every fault test needs: a namespace on a given stack, workers, a corpus, the checks.

The checks are the promise, stated once: after a fault and a settle, every message read from
``<ns>.raw`` is one document or one dead letter, each article id is indexed exactly once,
and the consumer group has committed every offset of every topic it reads.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from elasticsearch.helpers import scan

from evaluation.dedup_stories.dataset import Item, stream
from newsflow.cli.drained import wait_drained
from newsflow.cli.offsets import committed_offsets, end_offsets
from newsflow.core.bootstrap import bootstrap_namespace
from newsflow.core.clients import es_client
from newsflow.core.errors import PipelineError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from processors.worker.topology import stage_topics
from tests.support import VENV_BIN, Namespace, WorkerProcess, new_namespace, run_newsflow, wait_for

# Small batches: more batches, so more boundaries for a crash to fall between.
BATCH_SIZE = 16


class FaultNamespace(Namespace):
    """A fresh namespace on the stack of ``base`` (the shared one, or a private one)."""

    def __init__(self, base: Settings | None = None, partitions: int = 4) -> None:
        base = base or load_settings()
        self.settings = load_settings(
            namespace=new_namespace("f"),
            partitions=partitions,
            kafka_bootstrap=base.kafka_bootstrap,
            es_url=base.es_url,
            batch_size=BATCH_SIZE,
            replication_factor=base.replication_factor,  # 3 on a private cluster
            es_nodes=base.es_nodes,  # 2 on a private ES cluster: indices get a replica
        )
        self.names = Names(self.settings.namespace)
        self.env = {
            **os.environ,
            "NEWSFLOW_NAMESPACE": self.settings.namespace,
            "NEWSFLOW_PARTITIONS": str(partitions),
            "NEWSFLOW_KAFKA_BOOTSTRAP": base.kafka_bootstrap,
            "NEWSFLOW_ES_URL": base.es_url,
            "NEWSFLOW_BATCH_SIZE": str(BATCH_SIZE),
            "NEWSFLOW_REPLICATION_FACTOR": str(base.replication_factor),
            "NEWSFLOW_LOG_FORMAT": "text",
            **({"NEWSFLOW_ES_NODES": str(base.es_nodes)} if base.es_nodes else {}),
        }
        bootstrap_namespace(self.settings)
        self.es = es_client(self.settings)

    @property
    def consumed_topics(self) -> list[str]:
        """Every topic the worker group reads (the raw input and the stages in between)."""
        # Not .alerts: a rewind of these offsets must not send the webhooks again.
        return [t for t in stage_topics(self.names) if t != self.names.alerts_topic]

    def lag(self) -> dict[tuple[str, int], int]:
        """Uncommitted messages per partition of every consumed topic (only non-zero ones)."""
        ends = end_offsets(self.settings, self.consumed_topics)
        done = committed_offsets(self.settings, self.names.app_id)
        return {tp: end - done.get(tp, 0) for tp, end in ends.items() if end != done.get(tp, 0)}

    def document_versions(self) -> dict[str, int]:
        """``_id`` -> ``_version`` of every article document (a version > 1 is a rewrite)."""
        self.es.indices.refresh(index=self.names.articles_index)
        hits = scan(
            self.es,
            index=self.names.articles_index,
            query={"query": {"match_all": {}}, "_source": False, "version": True},
        )
        return {h["_id"]: h["_version"] for h in hits}

    def topic_keys(self, topic: str) -> list[bytes]:
        """Every record key of ``topic`` (for counting re-processed articles)."""
        from kafka import KafkaConsumer, TopicPartition

        from newsflow.core.clients import kafka_options

        consumer = KafkaConsumer(**kafka_options(self.settings), enable_auto_commit=False)
        try:
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            keys: list[bytes] = []
            while any(consumer.position(tp) < ends[tp] for tp in tps):
                for records in consumer.poll(timeout_ms=1000).values():
                    keys.extend(r.key for r in records)
            return keys
        finally:
            consumer.close()


class Worker(WorkerProcess):
    """A ``newsflow worker`` subprocess; ``env`` overrides the namespace's environment."""

    def __init__(self, ns: Namespace, log_dir: Path, **env: str) -> None:
        super().__init__(ns, log_dir)
        self.env.update(env)

    def start(self, timeout: float = 180) -> Worker:
        super().start(timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels`` (0 if none)."""
        total = 0.0
        for line in self.metrics().splitlines():
            match = re.match(rf"{re.escape(name)}(?:{{(.*)}})? (\S+)$", line)
            if not match:
                continue
            have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(match.group(2))
        return total

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class HealthSampler(threading.Thread):
    """``/healthz`` of a worker every 2 s until stopped: (code, reason or status) each."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(daemon=True)
        self.worker = worker
        self.seen: list[tuple[int, str]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(2.0):
            try:
                answer = httpx.get(f"{self.worker.url}/healthz", timeout=5)
            except httpx.HTTPError as exc:
                self.seen.append((0, type(exc).__name__))
                continue
            body = answer.json()
            self.seen.append((answer.status_code, str(body.get("reason") or body.get("status"))))

    def stop(self) -> list[tuple[int, str]]:
        self.done.set()
        self.join(timeout=30)
        return self.seen


def assert_healthy_throughout(worker: Worker, sampler: HealthSampler) -> list[tuple[int, str]]:
    """Stop ``sampler``; the worker still runs, said 200 at every sample and logged no
    traceback. Returns the samples."""
    seen = sampler.stop()
    assert worker.alive(), f"the worker exited: {worker.log_text()[-3000:]}"
    assert seen and {code for code, _ in seen} == {200}, [s for s in seen if s[0] != 200]
    log = worker.log_text()
    assert "Traceback" not in log, log[-3000:]
    return seen


def failover_figures(
    ns: FaultNamespace,
    outcome: Outcome,
    ids: Sequence[str],
    seen: Sequence[tuple[int, str]],
    **extra: Any,
) -> dict[str, Any]:
    """The figures of a failover run that :func:`assert_conserved` has checked."""
    return outcome.figures(
        articles=len(ids),
        distinct_ids=len(set(ids)),
        lost=0,  # assert_conserved: every id indexed, none twice, no dead letter
        duplicated=outcome.documents - len(set(ids)),
        healthz_samples=len(seen),
        alerts=alert_count(ns),
        **extra,
    )


def subscribe_to_everything(ns: FaultNamespace) -> None:
    """A subscription that most articles match: an alert fired twice would show."""
    done = run_newsflow(ns, "subscribe", "everything", "the OR a")
    assert done.returncode == 0, done.stderr


# --- the corpus ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """The labelled stream, as a file for ``newsflow replay`` and as items."""

    path: Path
    items: list[Item]

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    @classmethod
    def write(cls, path: Path, items: list[Item]) -> Corpus:
        return cls(write_jsonl(path, (value_of(i) for i in items)), items)


def labelled_stream(seed: int = 7) -> list[Item]:
    """The labelled dedup/story stream: 68 originals and 5 copies of most (393 articles)."""
    return stream(seed)


def value_of(item: Item, suffix: str = "") -> bytes:
    """The raw message of an item (its id, optionally suffixed to make a new article)."""
    record: dict[str, Any] = {"id": item.id + suffix, "title": item.title, "body": item.body}
    if item.source:
        record["source"] = item.source
    return json.dumps(record).encode()


def repeated_stream(path: Path, articles: int) -> tuple[Path, list[str]]:
    """``articles`` articles in a corpus file: the labelled stream, then its first ones again
    under new ids (``<id>~r1``); the file and the article id of each line."""
    items = labelled_stream()
    pairs = [(i.id, value_of(i)) for i in items]
    pairs += [(i.id + "~r1", value_of(i, "~r1")) for i in items[: articles - len(items)]]
    return write_jsonl(path, (v for _, v in pairs)), [i for i, _ in pairs]


def write_jsonl(path: Path, values: Iterable[bytes]) -> Path:
    """A corpus file for ``newsflow replay``."""
    path.write_bytes(b"".join(v + b"\n" for v in values))
    return path


@contextmanager
def replaying(ns: Namespace, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``newsflow replay`` running in a subprocess; killed on exit if still running."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "newsflow"), "replay", "--quiet", *args],
        env=ns.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> str:
    """Wait for a replay; its summary line, or a failure with its error output."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"replay exited with {proc.returncode}: {err[-2000:]}"
    return out


# --- the checks ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a settled namespace holds, with the figures the report quotes."""

    messages: int  # read from <ns>.raw (its end offsets)
    documents: int
    dead_letters: int
    settle_seconds: float
    rewrites: int = 0  # documents written more than once (idempotent overwrites)
    reprocessed: int = 0  # enriched records beyond one per article id (work done again)

    def figures(self, **extra: Any) -> dict[str, Any]:
        return {**vars(self), **extra}


def settle(ns: FaultNamespace, documents: int, dead: int = 0, timeout: float = 300) -> float:
    """Wait until drained (:mod:`newsflow.cli.drained`) with the counts reached; seconds taken."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            snap = wait_drained(ns.settings, max(1.0, deadline - time.monotonic()), every=1.0)
        except PipelineError as exc:
            expected = f"expected {documents} documents, {dead} dead letters"
            raise AssertionError(f"{exc}; {expected}") from None
        if snap.documents >= documents and snap.dead_letters >= dead:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError(
                f"drained at {snap.documents}/{documents} documents, "
                f"{snap.dead_letters}/{dead} dead letters after {timeout:.0f}s"
            )
        time.sleep(1.0)


def assert_conserved(
    ns: FaultNamespace,
    ids: Sequence[str],
    dead: int = 0,
    timeout: float = 300,
    also: Sequence[str] = (),
) -> Outcome:
    """Settle, then check conservation and no duplicates for the articles ``ids``.

    ``ids`` holds the article id of each valid raw message (repeats allowed: the same
    article sent twice is one document); ``dead`` is the number of dead letters expected;
    ``also`` the ids of documents that entered past ``<ns>.raw`` (written to a later topic).
    """
    wanted = set(ids) | set(also)
    seconds = settle(ns, len(wanted), dead, timeout)
    # Settled means committed: a second look must find nothing new (no late writes).
    versions = ns.document_versions()
    messages = ns.raw_end_offsets()
    documents = ns.count(ns.names.articles_index)
    letters = ns.count(ns.names.deadletter_index)
    missing, unexpected = sorted(wanted - set(versions)), sorted(set(versions) - wanted)
    assert not missing, f"{len(missing)} articles never indexed: {missing[:10]}"
    assert not unexpected, f"{len(unexpected)} documents nobody sent: {unexpected[:10]}"
    assert documents == len(wanted), f"{documents} documents for {len(wanted)} distinct ids"
    assert letters == dead, f"{letters} dead letters, expected {dead}"
    assert messages == len(ids) + dead_from_raw(ns), (
        f"{messages} messages in {ns.names.raw_topic}, {len(ids)} articles sent"
    )
    assert not ns.lag(), f"uncommitted offsets left: {ns.lag()}"
    enriched = ns.topic_keys(ns.names.enriched_topic)
    _assert_alerts_unique(ns)
    return Outcome(
        messages=messages,
        documents=documents,
        dead_letters=letters,
        settle_seconds=round(seconds, 1),
        rewrites=sum(v > 1 for v in versions.values()),
        reprocessed=len(enriched) - len(set(enriched)),
    )


def dead_from_raw(ns: FaultNamespace) -> int:
    """Dead letters of messages read from ``<ns>.raw`` (each is one raw message)."""
    query = {"term": {"topic": ns.names.raw_topic}}
    return ns.count(ns.names.deadletter_index, query)


def _assert_alerts_unique(ns: FaultNamespace) -> None:
    """No alert twice, where alerts exist (ids are ``<subscription>:<article>``)."""
    index = ns.names.alerts_index
    if not ns.es.indices.exists(index=index):
        return
    ns.es.indices.refresh(index=index)
    pairs = [
        (h["_source"].get("subscription_id"), h["_source"].get("article_id"))
        for h in scan(ns.es, index=index, query={"query": {"match_all": {}}})
    ]
    assert len(pairs) == len(set(pairs)), "an alert fired twice for one article"


def alert_count(ns: FaultNamespace) -> int | None:
    """Alerts indexed in the namespace, or None where there is no alerts index."""
    if not ns.es.indices.exists(index=ns.names.alerts_index):
        return None
    return ns.count(ns.names.alerts_index)


def duplicate_pointers(ns: FaultNamespace) -> dict[str, str | None]:
    """``duplicate_of`` of every document."""
    return {d["id"]: d.get("duplicate_of") for d in all_articles(ns)}


def all_articles(ns: FaultNamespace) -> list[dict[str, Any]]:
    ns.es.indices.refresh(index=ns.names.articles_index)
    return [
        h["_source"]
        for h in scan(ns.es, index=ns.names.articles_index, query={"query": {"match_all": {}}})
    ]


def assert_copies_point_to_first(ns: FaultNamespace, items: Sequence[Item]) -> None:
    """Each labelled copy is flagged and points to the first-seen copy of its group."""
    pointers = duplicate_pointers(ns)
    wrong = {
        i.id: (pointers.get(i.id), i.duplicate_of)
        for i in items
        if pointers.get(i.id) != i.duplicate_of
    }
    assert not wrong, (
        f"{len(wrong)} wrong duplicate_of (got, expected): {dict(list(wrong.items())[:5])}"
    )


def shuffled(items: Sequence[Item], seed: int) -> list[Item]:
    rng = random.Random(seed)
    out = list(items)
    rng.shuffle(out)
    return out


def reset_group_to_earliest(ns: FaultNamespace, timeout: float = 60) -> int:
    """Rewind the worker group to the earliest offset of every topic it reads.

    The group must be empty (its workers stopped); returns the messages it will read again.
    """
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec
    from kafka.errors import NoError

    from newsflow.core.clients import kafka_admin

    ends = end_offsets(ns.settings, ns.consumed_topics)
    specs = {TopicPartition(t, p): OffsetSpec.EARLIEST for t, p in ends}
    admin = kafka_admin(ns.settings)
    try:

        def reset() -> bool:
            result = admin.reset_group_offsets(ns.names.app_id, dict(specs))
            return all(r["error"] is NoError for r in result.values())

        wait_for(reset, timeout, "the group to be empty and its offsets reset", every=2.0)
    finally:
        admin.close()
    return sum(ns.lag().values())


def assigned(worker: Worker) -> set[tuple[str, int]]:
    """The partitions ``worker`` says it consumes (its ``/healthz`` body)."""
    body = httpx.get(f"{worker.url}/healthz", timeout=5).json()
    return {(p["topic"], p["partition"]) for p in body.get("partitions", [])}
