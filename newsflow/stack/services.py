"""Start, stop and watch the local services; the Python API behind ``newsflow stack``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from newsflow.core.errors import StackError
from newsflow.core.settings import Settings
from newsflow.stack.base import LocalService
from newsflow.stack.cluster import KafkaCluster
from newsflow.stack.elasticsearch import Elasticsearch
from newsflow.stack.es_cluster import EsCluster
from newsflow.stack.jdk import find_java_home
from newsflow.stack.kafka import Kafka, new_cluster_id
from newsflow.stack.layout import Layout
from newsflow.stack.process import (
    State,
    exit_code,
    is_alive,
    kill,
    locked,
    port_in_use,
    spawn,
    start_time,
    terminate,
)

SERVICES = ("kafka", "elasticsearch")
# Which setting moves each port, for the message when a port is taken.
_PORT_SETTING = {
    "broker": "NEWSFLOW_KAFKA_BOOTSTRAP",
    "controller": "NEWSFLOW_KAFKA_CONTROLLER_PORT",
    "http": "NEWSFLOW_ES_URL",
    "transport": "NEWSFLOW_ES_TRANSPORT_PORT",
}


def _cluster_size(recorded: int | None, wanted: int | None, what: str, remove: str) -> int | None:
    """The size of a service: the one wanted (a setting), else the one recorded at its first
    start; None for the single node. A size other than the recorded one is an error."""
    if wanted is None:
        return recorded
    if wanted == 1:
        return None
    if recorded is not None and recorded != wanted:
        raise StackError(
            f"this stack's {what.split()[0]} is a cluster of {recorded} {what.split()[1]}; a "
            f"cluster of {wanted} needs another NEWSFLOW_HOME (or remove {remove})"
        )
    return wanted


def kafka_cluster(settings: Settings) -> KafkaCluster | None:
    """The multi-broker Kafka of this home, or None for the single node.

    NEWSFLOW_KAFKA_BROKERS (``stack up --brokers``) says the size; unset, the size recorded
    when the cluster was first started (so ``stack status`` needs no option).
    """
    layout = Layout.of(settings)
    recorded = KafkaCluster.load(layout.kafka_cluster)
    remove = f"{layout.stack}/kafka-* and {layout.kafka_cluster}"
    size = _cluster_size(
        recorded.brokers if recorded else None, settings.kafka_brokers, "Kafka brokers", remove
    )
    if size is None:
        return None
    return recorded or KafkaCluster(size, new_cluster_id())  # recorded when first launched


def es_cluster(settings: Settings) -> EsCluster | None:
    """The multi-node Elasticsearch of this home, or None for the single node.

    NEWSFLOW_ES_NODES (``stack up --es-nodes``) says the size; unset, the size recorded when
    the cluster was first started.
    """
    layout = Layout.of(settings)
    recorded = EsCluster.load(layout.es_cluster)
    remove = f"{layout.es_root}/stack/elasticsearch-* and {layout.es_cluster}"
    size = _cluster_size(
        recorded.nodes if recorded else None, settings.es_nodes, "Elasticsearch nodes", remove
    )
    return None if size is None else EsCluster(size)


def members(settings: Settings, name: str) -> list[LocalService]:
    """The processes of service ``name``: ``kafka`` (every broker), ``kafka-N`` (broker N of a
    cluster), ``elasticsearch`` (every node) or ``elasticsearch-N`` (node N of a cluster)."""
    layout = Layout.of(settings)
    match = re.fullmatch(r"(kafka|elasticsearch)(?:-([1-9]))?", name)
    if match is None:
        raise StackError(f"unknown service {name!r}: expected one of {', '.join(SERVICES)}")
    make: Callable[[int], LocalService]
    single: LocalService
    if match[1] == "kafka":
        kafka = kafka_cluster(settings)
        size, single = (kafka.brokers if kafka else 0), Kafka(settings, layout)
        make, what = (lambda n: Kafka(settings, layout, n, kafka)), ("Kafka broker", "brokers")
    else:
        es = es_cluster(settings)
        size, single = (es.nodes if es else 0), Elasticsearch(settings, layout)
        make, what = (
            (lambda n: Elasticsearch(settings, layout, n, es)),
            ("Elasticsearch node", "nodes"),
        )
    if size == 0 and match[2] is None:
        return [single]
    chosen = [n for n in range(1, size + 1) if match[2] is None or n == int(match[2])]
    if chosen:
        return [make(n) for n in chosen]
    has = f"{size} {what[1]}" if size else f"a single {what[1][:-1]} ({match[1]})"
    raise StackError(f"no {what[0]} {name!r}: this stack's {what[0].split()[0]} has {has}")


def service(settings: Settings, name: str) -> LocalService:
    """The (first) process of service ``name``: see :func:`members`."""
    return members(settings, name)[0]


def running(svc: LocalService) -> State | None:
    """The pid file of ``svc`` if the process it names still runs."""
    state = State.load(svc.layout.state_file(svc.name))
    return state if state and is_alive(state.pid, state.started) else None


def is_healthy(settings: Settings, name: str) -> bool:
    """True when the service (every broker of ``kafka``) answers its health check."""
    return all(svc.healthy() for svc in members(settings, name))


def fetch(settings: Settings, progress: bool = True) -> None:
    """Download and verify every pinned artifact (Kafka jars, Elasticsearch zip)."""
    for name in SERVICES:
        service(settings, name).fetch(progress)


def start_service(settings: Settings, name: str, timeout: float | None = None) -> None:
    """Start one service (or one broker, ``kafka-2``) unless it runs; wait until healthy."""
    _start_all(settings, members(settings, name), timeout)


def ensure_up(settings: Settings, timeout: float | None = None) -> None:
    """Start whatever is not running (in parallel) and wait until everything is healthy."""
    _start_all(settings, [svc for name in SERVICES for svc in members(settings, name)], timeout)


def _start_all(settings: Settings, services: list[LocalService], timeout: float | None) -> None:
    # Every node first: the brokers of a cluster are healthy only once a quorum runs.
    launched = [(svc, _launch(svc, settings)) for svc in services]
    for svc, pid in launched:
        _wait_healthy(svc, pid, timeout)


def stop_service(settings: Settings, name: str, grace: float = 30.0) -> bool:
    """Stop a service (every broker of ``kafka`` at once) or one broker (``kafka-2``):
    SIGTERM, SIGKILL after ``grace`` seconds; False if nothing was running."""
    services = members(settings, name)
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        stopped = list(pool.map(lambda svc: _stop(svc, grace), services))
    return any(stopped)


def kill_service(settings: Settings, name: str) -> bool:
    """SIGKILL a service or one broker (a crash: no clean shutdown); False if not running."""
    return any(_stop(svc, None) for svc in members(settings, name))


def _stop(svc: LocalService, grace: float | None) -> bool:
    """Stop ``svc`` (SIGTERM with ``grace``, or SIGKILL at once when None)."""
    with locked(svc.layout.run / "lock"):
        state = running(svc)
        if state is not None:
            if grace is None:
                kill(state.pid, state.started)
            else:
                terminate(state.pid, state.started, grace)
        svc.layout.state_file(svc.name).unlink(missing_ok=True)
    return state is not None


def pid_of(settings: Settings, name: str) -> int | None:
    """The pid of a running service (the first broker of ``kafka``), else None."""
    state = running(service(settings, name))
    return state.pid if state else None


def down(settings: Settings) -> list[str]:
    """Stop every service; return the names of those that were running."""
    return [name for name in reversed(SERVICES) if stop_service(settings, name)]


def _launch(svc: LocalService, settings: Settings) -> int:
    """The pid of ``svc``: the running one, or a new process started here."""
    with locked(svc.layout.run / "lock"):
        state = running(svc)
        if state is not None:
            if (state.version, state.ports) != (svc.version, svc.ports):
                raise StackError(
                    f"{svc.title} {state.version} runs on ports {state.ports}; the settings ask "
                    f"for {svc.version} on {svc.ports}: run `newsflow stack stop {svc.name}` first"
                )
            return state.pid
        for role, port in svc.ports.items():
            if port_in_use(port):
                raise StackError(
                    f"port {port} ({svc.title} {role}) is taken by a process that is not this "
                    f"stack's; stop it or set {_PORT_SETTING[role]}"
                )
        if isinstance(svc, Kafka) and svc.cluster is not None:
            svc.cluster.save(svc.layout.kafka_cluster)  # the first start records the cluster
        if isinstance(svc, Elasticsearch) and svc.cluster is not None:
            svc.cluster.save(svc.layout.es_cluster)
        proc = spawn(svc.prepare(find_java_home(settings.java_home)))
        State(proc.pid, start_time(proc.pid), svc.version, svc.ports).save(
            svc.layout.state_file(svc.name)
        )
        return proc.pid


def _wait_healthy(svc: LocalService, pid: int, timeout: float | None) -> None:
    limit = svc.start_timeout if timeout is None else timeout
    deadline = time.monotonic() + limit
    logs = " and ".join(str(path) for path in svc.logs)
    while not (svc.healthy() and svc.settled()):
        if not is_alive(pid):
            code = exit_code(pid)
            ended = "exited" if code is None else f"exited with code {code}"
            raise StackError(f"{svc.title} {ended} while starting; see {logs}")
        if time.monotonic() > deadline:
            raise StackError(f"{svc.title} is not healthy after {limit:.0f}s; see {logs}")
        time.sleep(0.5)


@dataclass(frozen=True)
class Status:
    """One row of ``newsflow stack status``."""

    name: str
    state: str  # healthy, starting, stopped, foreign (healthy but not started by us)
    pid: int | None
    ports: dict[str, int]
    version: str
    log: Path


def status(settings: Settings) -> list[Status]:
    """What runs where, service by service."""
    rows = []
    for svc in (svc for name in SERVICES for svc in members(settings, name)):
        state = running(svc)
        healthy = svc.healthy()
        if state is None:
            word = "foreign" if healthy else "stopped"
        else:
            word = "healthy" if healthy else "starting"
        rows.append(
            Status(
                name=svc.name,
                state=word,
                pid=state.pid if state else None,
                ports=state.ports if state else svc.ports,
                version=state.version if state else svc.version,
                log=svc.layout.log_file(svc.name),
            )
        )
    return rows
