"""Fault 13: one node of a two-node Elasticsearch stops while articles stream in.

On a private stack whose Elasticsearch is two nodes (``stack up --es-nodes 2``: node 1 the
master and a data node, node 2 a data node; every index with one replica), while 500
articles stream in, ``elasticsearch-2`` is stopped and started again 30 s later. The worker
talks to node 1 only (NEWSFLOW_ES_URL). Node 2 holds every primary (the test moves them
there first); the master promotes their replicas on node 1, the cluster turns yellow and
takes every write on the copies it has; when node 2 is back, its copies recover from node 1
and the cluster is green again. At the end: every article indexed exactly once, no dead
letter, no alert twice, and the worker's ``/healthz`` said 200 all along (it answers for
the worker and its reach of Elasticsearch, and a yellow cluster serves every request). In
``make soak``.

Not tested here, because it is not a failover: stopping ``elasticsearch-1`` (the only
master) stops the cluster, the outage of the single node (``test_service_outages.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsflow.core.settings import Settings
from newsflow.stack import start_service, stop_service
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
RATE = 4  # articles/s: about two minutes of streaming, the outage in the middle
DOWN_S = 30.0
STOP_AT_S = 20.0
NODE = "elasticsearch-2"  # the node the clients do not talk to


@pytest.fixture
def es_cluster_ns(private_es_cluster: Settings) -> Iterator[FaultNamespace]:
    ns = FaultNamespace(private_es_cluster)
    yield ns
    ns.close()


def shards(ns: FaultNamespace, index: str) -> list[dict[str, Any]]:
    """The copies of ``index``: prirep (p or r), state and node of each."""
    rows: list[dict[str, Any]] = ns.es.cat.shards(index=index, format="json", h="prirep,state,node")
    return rows


def primaries_to_node_two(ns: FaultNamespace) -> None:
    """Every primary of the namespace on node 2, so that stopping it makes the master promote
    node 1's replicas (the harder case): a started primary on node 1 is cancelled, its
    replica on node 2 becomes the primary and node 1's copy recovers as the replica."""
    rows = ns.es.cat.shards(
        index=f"{ns.settings.namespace}-*", format="json", h="index,prirep,node"
    )
    commands = [
        {"cancel": {"index": r["index"], "shard": 0, "node": "newsflow-1", "allow_primary": True}}
        for r in rows
        if r["prirep"] == "p" and r["node"] == "newsflow-1"
    ]
    if commands:
        ns.es.cluster.reroute(commands=commands, metric="none")
    time.sleep(2)  # the cancelled copies are allocated again as replicas, then recover
    ns.es.cluster.health(wait_for_status="green", timeout="120s")


def health(ns: FaultNamespace) -> dict[str, Any]:
    """The cluster's health, as node 1 sees it."""
    return dict(ns.es.cluster.health())


def stop_node(ns: FaultNamespace, settings: Settings) -> dict[str, Any]:
    """Stop ``elasticsearch-2`` (SIGTERM), keep it down DOWN_S, start it; what was seen."""
    index = ns.names.articles_index
    before = shards(ns, index)
    documents_before = ns.count(index)
    stopped = time.monotonic()
    assert stop_service(settings, NODE, grace=20), f"{NODE} was not running"
    time.sleep(5)  # the master has noticed by now: the node left on a clean shutdown
    during = health(ns)
    copies_during = shards(ns, index)
    time.sleep(max(0.0, DOWN_S - (time.monotonic() - stopped)))
    documents_during = ns.count(index) - documents_before
    restarted = time.monotonic()
    start_service(settings, NODE)  # healthy once the cluster is green again
    return {
        "stopped_node": NODE,
        "articles_primary_was_on": next(c["node"] for c in before if c["prirep"] == "p"),
        "status_while_down": during["status"],
        "nodes_while_down": during["number_of_nodes"],
        "articles_copies_while_down": sorted(f"{c['prirep']}:{c['state']}" for c in copies_during),
        "indexed_while_down": documents_during,
        "down_seconds": round(restarted - stopped, 1),
        "green_after_restart_seconds": round(time.monotonic() - restarted, 1),
    }


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_stopping_the_other_elasticsearch_node_loses_and_repeats_nothing(
    tmp_path: Path,
    private_es_cluster: Settings,
    es_cluster_ns: FaultNamespace,
    workers: Callable[..., Worker],
    record: Callable[[dict[str, Any]], None],
) -> None:
    ns = es_cluster_ns
    path, ids = repeated_stream(tmp_path / "corpus.jsonl", ARTICLES)
    assert len(ids) == ARTICLES
    # Bootstrap gave every index one replica (NEWSFLOW_ES_NODES=2), allocated on both nodes
    # once the new replicas have recovered.
    ns.es.cluster.health(wait_for_status="green", timeout="120s")
    primaries_to_node_two(ns)
    copies = shards(ns, ns.names.articles_index)
    assert sorted(c["prirep"] for c in copies) == ["p", "r"], copies
    assert {c["state"] for c in copies} == {"STARTED"}, copies
    assert {c["node"] for c in copies if c["prirep"] == "p"} == {"newsflow-2"}, copies
    assert len({c["node"] for c in copies}) == 2, copies
    assert health(ns)["status"] == "green"
    subscribe_to_everything(ns)
    worker = workers(ns)
    sampler = HealthSampler(worker)
    sampler.start()
    started = time.monotonic()
    with replaying(ns, "--rate", str(RATE), str(path)) as producer:
        time.sleep(STOP_AT_S)
        fault = stop_node(ns, private_es_cluster)
        streaming_when_back = producer.poll() is None
        finish(producer, timeout=600)
    replayed = time.monotonic() - started
    outcome = assert_conserved(ns, ids, timeout=600)
    seen = assert_healthy_throughout(worker, sampler)
    assert fault["status_while_down"] == "yellow", fault
    assert fault["indexed_while_down"] > 0, f"nothing was indexed while {NODE} was down: {fault}"
    assert streaming_when_back, "the stream ended before the node was back: make it longer"
    record(failover_figures(ns, outcome, ids, seen, fault=fault, replay_seconds=round(replayed, 1)))
