"""A private Kafka + Elasticsearch for the tests that stop them: own home, own ports.

:func:`private_cluster` makes the Kafka a cluster of three brokers (``stack up --brokers 3``),
``private_stack(es_nodes=2)`` the Elasticsearch a cluster of two nodes (``--es-nodes 2``).

The shared stack serves every other engineer's tests; stopping it would break them. The
private stack reuses the shared download cache through hard links (no second download) and
leaves nothing behind, not even the tree Elasticsearch keeps under ``/var/lib/newsflow`` when
it runs as root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsflow.core.settings import Settings, load_settings
from newsflow.stack import ensure_up, start_service, stop_service
from newsflow.stack.cluster import PORT_STEP, bootstrap_servers
from newsflow.stack.layout import Layout
from newsflow.stack.process import port_in_use
from tests.support import free_port


def link_downloads(shared: Path, home: Path) -> None:
    """Hard-link the shared download cache into ``home`` (copy where links are refused)."""
    if not shared.is_dir():
        return

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(shared, home / "downloads", copy_function=link)


def private_settings(home: Path) -> Settings:
    """Settings of a stack in ``home`` on four free ports."""
    return load_settings(
        home=home,
        kafka_bootstrap=f"localhost:{free_port()}",
        kafka_controller_port=free_port(),
        es_url=f"http://127.0.0.1:{free_port()}",
        es_transport_port=free_port(),
    )


def cluster_settings(home: Path, brokers: int) -> Settings:
    """Settings of a stack in ``home`` whose Kafka is ``brokers`` nodes, on free ports.

    Node ``n`` listens on the base ports + 100·(n−1): bases whose every port is free.
    """
    while True:
        broker, controller = free_port(), free_port()
        ports = [base + PORT_STEP * n for base in (broker, controller) for n in range(brokers)]
        if broker != controller and not any(port_in_use(port) for port in ports):
            break
    first = load_settings(kafka_bootstrap=f"localhost:{broker}")
    return load_settings(
        home=home,
        kafka_brokers=brokers,
        kafka_bootstrap=bootstrap_servers(first, brokers),
        kafka_controller_port=controller,
        replication_factor=min(3, brokers),
        es_url=f"http://127.0.0.1:{free_port()}",
        es_transport_port=free_port(),
    )


def es_cluster_settings(home: Path, nodes: int) -> Settings:
    """Settings of a stack in ``home`` whose Elasticsearch is ``nodes`` nodes, on free ports.

    Node ``n`` listens on the base HTTP and transport ports + (n−1): bases whose every port is
    free. Clients get node 1's URL (the master; see :mod:`newsflow.stack.es_cluster`).
    """
    while True:
        http, transport = free_port(), free_port()
        ports = [base + n for base in (http, transport) for n in range(nodes)]
        if len(set(ports)) == len(ports) and not any(port_in_use(port) for port in ports):
            break
    return private_settings(home).model_copy(
        update={
            "es_nodes": nodes,
            "es_url": f"http://127.0.0.1:{http}",
            "es_transport_port": transport,
        }
    )


@contextmanager
def private_stack(brokers: int = 1, es_nodes: int = 1) -> Iterator[Settings]:
    """Kafka (of ``brokers`` nodes) and Elasticsearch (of ``es_nodes``) of our own, healthy;
    stopped and removed on exit."""
    home = Path(tempfile.mkdtemp(prefix="newsflow-faults-"))
    if es_nodes > 1:
        settings = es_cluster_settings(home, es_nodes)
    else:
        settings = private_settings(home) if brokers == 1 else cluster_settings(home, brokers)
    layout = Layout.of(settings)
    try:
        link_downloads(Layout.of(load_settings()).downloads, home)
        ensure_up(settings)
        yield settings
    finally:
        for name in ("elasticsearch", "kafka"):
            stop_service(settings, name, grace=20)
        if layout.es_root != layout.home:  # root: ES's tree lives under /var/lib/newsflow
            shutil.rmtree(layout.es_root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def outage(settings: Settings, name: str, seconds: float) -> tuple[float, float]:
    """Stop service ``name``, keep it down ``seconds``, start it; (down, start) durations."""
    stopped = time.monotonic()
    assert stop_service(settings, name, grace=20), f"{name} was not running"
    time.sleep(max(0.0, seconds - (time.monotonic() - stopped)))
    down = time.monotonic() - stopped
    begin = time.monotonic()
    start_service(settings, name)
    return down, time.monotonic() - begin
