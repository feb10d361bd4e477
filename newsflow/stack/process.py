"""Detached service processes: spawn, pid files, liveness, graceful stop, busy ports."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

# Children spawned by this process, so that we reap them (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


class Record:
    """A frozen dataclass kept in a JSON file (pid files, the size of a cluster)."""

    def save(self, path: Path) -> None:
        """Write the record atomically."""
        save_record(path, asdict(self))  # type: ignore[call-overload]

    @classmethod
    def load(cls, path: Path) -> Self | None:
        """The recorded value, or None when the file is absent, unreadable or of another shape."""
        record = load_record(path)
        try:
            return None if record is None else cls(**record)
        except TypeError:
            return None


@dataclass(frozen=True)
class State(Record):
    """What a pid file records about a running service."""

    pid: int
    started: str  # the process start time from /proc, guards against a reused pid
    version: str
    ports: dict[str, int]


def save_record(path: Path, record: dict[str, Any]) -> None:
    """Write a JSON record atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)


def load_record(path: Path) -> dict[str, Any] | None:
    """A JSON object written by :func:`save_record`, or None when absent or unreadable."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` ('' where /proc is unavailable or pid is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Fields after the command name (which may hold spaces) start at ") "; start time is 22nd.
    return stat.rsplit(") ", 1)[1].split()[19]


def is_alive(pid: int, started: str = "") -> bool:
    """True when ``pid`` runs (not a zombie) and, if ``started`` is given, is that process."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    proc_stat = Path(f"/proc/{pid}/stat")
    if proc_stat.exists():
        if proc_stat.read_text().rsplit(") ", 1)[1].startswith("Z"):
            return False
        return not started or start_time(pid) == started
    return True


@dataclass(frozen=True)
class Launch:
    """How to run a service: command, directory, extra environment, log, and as whom."""

    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    log: Path  # stdout and stderr are appended here
    user: str | None = None  # None: as ourselves


def spawn(launch: Launch) -> subprocess.Popen[bytes]:
    """Start a service in its own session, so that it outlives us; return its process."""
    launch.log.parent.mkdir(parents=True, exist_ok=True)
    _raise_open_files_limit()
    with launch.log.open("ab") as out:
        proc = subprocess.Popen(
            list(launch.argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=launch.cwd,
            env={**os.environ, **launch.env},
            start_new_session=True,
            user=launch.user,
            group=launch.user,
            extra_groups=[] if launch.user else None,
        )
    _children[proc.pid] = proc
    return proc


def _raise_open_files_limit(wanted: int = 65536) -> None:
    """Let children open many files (Kafka: several per partition; ES asks for 65535).

    The JVM raises its soft limit to the hard one by itself; only root can raise the hard one.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, wanted))


def exit_code(pid: int) -> int | None:
    """The exit code of a child we spawned that has ended, else None."""
    child = _children.get(pid)
    return None if child is None else child.poll()


def terminate(pid: int, started: str = "", grace: float = 30.0) -> None:
    """SIGTERM the process group of ``pid``, wait up to ``grace`` seconds, then SIGKILL it."""
    if not is_alive(pid, started):
        _forget(pid)
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_alive(pid):
            break
        time.sleep(0.2)
    else:
        _signal_group(pid, signal.SIGKILL)
        while is_alive(pid):
            time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)  # stragglers of the group (e.g. ES's server JVM)
    _forget(pid)


def kill(pid: int, started: str = "") -> None:
    """SIGKILL the process group of ``pid`` (a crash, no shutdown hook) and reap it."""
    if is_alive(pid, started):
        _signal_group(pid, signal.SIGKILL)
        while is_alive(pid):
            time.sleep(0.1)
    _forget(pid)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # spawn() made pid the leader of its own session and group


def _forget(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on ``host:port`` (we cannot bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (serializes concurrent ``stack up`` calls)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
