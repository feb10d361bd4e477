"""Start, stop and watch the local services; the Python API behind ``newsflow stack``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from newsflow.core.errors import StackError
from newsflow.core.settings import Settings
from newsflow.stack.base import LocalService
from newsflow.stack.elasticsearch import Elasticsearch
from newsflow.stack.jdk import find_java_home
from newsflow.stack.kafka import Kafka
from newsflow.stack.layout import Layout
from newsflow.stack.process import (
    State,
    exit_code,
    is_alive,
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


def service(settings: Settings, name: str) -> LocalService:
    """The service called ``name`` (``kafka`` or ``elasticsearch``)."""
    layout = Layout.of(settings)
    if name == "kafka":
        return Kafka(settings, layout)
    if name == "elasticsearch":
        return Elasticsearch(settings, layout)
    raise StackError(f"unknown service {name!r}: expected one of {', '.join(SERVICES)}")


def running(svc: LocalService) -> State | None:
    """The pid file of ``svc`` if the process it names still runs."""
    state = State.load(svc.layout.state_file(svc.name))
    return state if state and is_alive(state.pid, state.started) else None


def is_healthy(settings: Settings, name: str) -> bool:
    """True when the service answers its health check on its configured port."""
    return service(settings, name).healthy()


def fetch(settings: Settings, progress: bool = True) -> None:
    """Download and verify every pinned artifact (Kafka jars, Elasticsearch zip)."""
    for name in SERVICES:
        service(settings, name).fetch(progress)


def start_service(settings: Settings, name: str, timeout: float | None = None) -> None:
    """Start one service unless it runs, then wait until it is healthy."""
    svc = service(settings, name)
    _wait_healthy(svc, _launch(svc, settings), timeout)


def ensure_up(settings: Settings, timeout: float | None = None) -> None:
    """Start whatever is not running (in parallel) and wait until everything is healthy."""
    services = [service(settings, name) for name in SERVICES]
    launched = [(svc, _launch(svc, settings)) for svc in services]
    for svc, pid in launched:
        _wait_healthy(svc, pid, timeout)


def stop_service(settings: Settings, name: str, grace: float = 30.0) -> bool:
    """Stop one service: SIGTERM, SIGKILL after ``grace`` seconds; False if it was not running."""
    svc = service(settings, name)
    state_file = svc.layout.state_file(svc.name)
    with locked(svc.layout.run / "lock"):
        state = running(svc)
        if state is not None:
            terminate(state.pid, state.started, grace)
        state_file.unlink(missing_ok=True)
    return state is not None


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
        proc = spawn(svc.prepare(find_java_home(settings.java_home)))
        State(proc.pid, start_time(proc.pid), svc.version, svc.ports).save(
            svc.layout.state_file(svc.name)
        )
        return proc.pid


def _wait_healthy(svc: LocalService, pid: int, timeout: float | None) -> None:
    limit = svc.start_timeout if timeout is None else timeout
    deadline = time.monotonic() + limit
    logs = " and ".join(str(path) for path in svc.logs)
    while not svc.healthy():
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
    for name in SERVICES:
        svc = service(settings, name)
        state = running(svc)
        healthy = svc.healthy()
        if state is None:
            word = "foreign" if healthy else "stopped"
        else:
            word = "healthy" if healthy else "starting"
        rows.append(
            Status(
                name=name,
                state=word,
                pid=state.pid if state else None,
                ports=state.ports if state else svc.ports,
                version=state.version if state else svc.version,
                log=svc.layout.log_file(name),
            )
        )
    return rows
