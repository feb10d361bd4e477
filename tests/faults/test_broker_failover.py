"""Fault 11: the broker leading a partition dies (SIGKILL) in a three-broker cluster.

On a private cluster (``stack up --brokers 3``; topics and Faust's changelogs at replication
factor 3, ``min.insync.replicas=2``, every producer ``acks=all``), while 500 articles stream
in, the leader of ``<ns>.raw`` partition 0 is SIGKILLed and started again 30 s later; once it
is back, the same for the leader of the dedup table's changelog. Kafka elects a new leader
among the in-sync replicas, so no acknowledged write is lost; the clients move to it. At the
end: every article indexed exactly once, no dead letter, no alert twice, and the worker's
``/healthz`` said 200 all along. In ``make soak`` (three brokers are three JVMs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.clients import kafka_admin
from newsflow.core.settings import Settings
from newsflow.stack import kill_service, start_service
from tests.faults.harness import (
    FaultNamespace,
    HealthSampler,
    Worker,
    assert_conserved,
    assert_healthy_throughout,
    failover_figures,
    finish,
    repeated_stream,
    replaying,
    subscribe_to_everything,
)

ARTICLES = 500
RATE = 4  # articles/s: about two minutes of streaming, long enough for both faults
DOWN_S = 30.0
FIRST_KILL_AT_S = 10.0


@pytest.fixture
def cluster_ns(private_cluster: Settings) -> Iterator[FaultNamespace]:
    ns = FaultNamespace(private_cluster)
    yield ns
    ns.close()


def partition_info(settings: Settings, topic: str, partition: int = 0) -> dict[str, Any]:
    """Leader, replicas and in-sync replicas of one partition, as the cluster says."""
    admin = kafka_admin(settings)
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    info: dict[str, Any] = next(
        p for p in described["partitions"] if p["partition_index"] == partition
    )
    return info


def min_insync(settings: Settings, topic: str) -> str:
    """The effective ``min.insync.replicas`` of ``topic`` (its own, or the broker's)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = kafka_admin(settings)
    try:
        answer = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, ["min.insync.replicas"])],
            config_filter="all",  # also when it is the broker's value, not the topic's own
        )
    finally:
        admin.close()
    return str(answer["topic"][topic]["min.insync.replicas"]["value"])


def without(settings: Settings, broker: int) -> Settings:
    """``settings`` bootstrapping from the other brokers only: kafka-python 3.0.12 leaves a
    socket open (a ResourceWarning, an error here) when a bootstrap server refuses it."""
    servers = settings.kafka_bootstrap.split(",")
    others = ",".join(s for n, s in enumerate(servers, start=1) if n != broker)
    return settings.model_copy(update={"kafka_bootstrap": others})


def kill_leader(settings: Settings, topic: str) -> dict[str, Any]:
    """SIGKILL the broker leading ``topic`` partition 0; DOWN_S later, start it again."""
    before = partition_info(settings, topic)
    leader = before["leader_id"]
    assert sorted(before["isr_nodes"]) == [1, 2, 3], f"{topic} not fully in sync: {before}"
    killed = time.monotonic()
    assert kill_service(settings, f"kafka-{leader}"), f"broker {leader} was not running"
    time.sleep(DOWN_S)
    during = partition_info(without(settings, leader), topic)
    restarted = time.monotonic()
    start_service(settings, f"kafka-{leader}")
    return {
        "topic": topic,
        "killed_broker": leader,
        "new_leader": during["leader_id"],
        "isr_while_down": sorted(during["isr_nodes"]),
        "down_seconds": round(restarted - killed, 1),
        "restart_seconds": round(time.monotonic() - restarted, 1),
    }


def wait_in_sync(settings: Settings, topic: str, timeout: float = 180) -> float:
    """Seconds until every replica of ``topic`` partition 0 is in sync again."""
    started = time.monotonic()
    while sorted(partition_info(settings, topic)["isr_nodes"]) != [1, 2, 3]:
        assert time.monotonic() - started < timeout, f"{topic}: a replica never caught up"
        time.sleep(2)
    return round(time.monotonic() - started, 1)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killing_the_leader_of_raw_and_of_the_dedup_changelog_loses_and_repeats_nothing(
    tmp_path: Path,
    private_cluster: Settings,
    cluster_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    ns = cluster_ns
    path, ids = repeated_stream(tmp_path / "corpus.jsonl", ARTICLES)
    assert len(ids) == ARTICLES
    raw, changelog = ns.names.raw_topic, f"{ns.names.app_id}-dedup-changelog"
    subscribe_to_everything(ns)
    worker = workers(ns)
    # Faust made its changelog with the namespace's replication factor; the broker's default
    # min.insync.replicas applies to it.
    assert len(partition_info(ns.settings, changelog)["replica_nodes"]) == 3
    assert min_insync(ns.settings, raw) == min_insync(ns.settings, changelog) == "2"
    sampler = HealthSampler(worker)
    sampler.start()
    started = time.monotonic()
    with replaying(ns, "--rate", str(RATE), str(path)) as producer:
        time.sleep(FIRST_KILL_AT_S)
        faults = [kill_leader(private_cluster, raw)]
        faults[-1]["in_sync_after_s"] = wait_in_sync(private_cluster, raw)
        faults.append(kill_leader(private_cluster, changelog))
        faults[-1]["in_sync_after_s"] = wait_in_sync(private_cluster, changelog)
        streaming_when_done = producer.poll() is None
        finish(producer, timeout=600)
    replayed = time.monotonic() - started
    outcome = assert_conserved(ns, ids, timeout=600)
    seen = assert_healthy_throughout(worker, sampler)
    record(
        failover_figures(
            ns,
            outcome,
            ids,
            seen,
            faults=faults,
            streaming_through_both=streaming_when_done,
            replay_seconds=round(replayed, 1),
        )
    )
