"""The worker's web port (``/healthz``, ``/metrics``): claimed before Faust binds it.

Several workers on one machine are a documented way to scale (docs/SCALING.md), so a port
nobody chose must not stop the second one:

* port not set (neither ``NEWSFLOW_WEB_PORT`` nor ``--web-port``): the first free one from
  6066 up is used, and logged;
* port set explicitly and taken: one line naming both, and exit 2. Whoever set it has a
  reason (a scrape config, a health check) that another port would silently break.

"Free" is decided twice: a lock file per port under ``NEWSFLOW_HOME`` that the worker holds
until it exits (two workers started in the same second must not pick the same port: the
bind itself happens seconds later, once Faust starts), and a test bind, for ports held by
anything else. The port chosen is also the worker's Kafka client id
(``newsflow-worker-web-<port>``), which is how ``newsflow status`` shows each worker's port.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from newsflow.core.errors import ConfigError
from newsflow.core.settings import Settings

log = logging.getLogger("newsflow.worker")

DEFAULT_PORT = 6066
TRIES = 100  # 6066 .. 6165, then any port the system hands out
CLIENT_PREFIX = "newsflow-worker-web-"
# The log line that says where the worker listens (for tools that started it).
LISTENING = re.compile(r"/healthz and /metrics on \S+:(\d+)")


def client_id(port: int) -> str:
    """The Kafka client id of a worker whose web server listens on ``port``."""
    return f"{CLIENT_PREFIX}{port}"


def web_port_of(kafka_client_id: str) -> int | None:
    """The web port encoded in a worker's Kafka client id (None for another client)."""
    found = re.fullmatch(re.escape(CLIENT_PREFIX) + r"(\d+)", kafka_client_id)
    return int(found.group(1)) if found else None


@dataclass
class WebPort:
    """A claimed port; the claim lasts as long as this object's lock file is open."""

    host: str
    port: int
    asked: int  # the port of the settings (6066 by default)
    _lock: IO[str] | None = None

    @property
    def chosen(self) -> bool:
        """Picked here, because the one asked for was taken."""
        return self.port != self.asked

    def release(self) -> None:
        """Give the port up (the process exiting does the same)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def claim(host: str, port: int, explicit: bool, lock_dir: Path) -> WebPort:
    """Claim ``port`` on ``host``, or, when it was not set explicitly, the first free one.

    Raises :class:`ConfigError` (one line) when an explicit port is taken.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    if explicit and port != 0:
        lock = _try(host, port, lock_dir)
        if lock is None:
            raise ConfigError(
                f"port {port} on {host} is in use (NEWSFLOW_WEB_PORT / --web-port): set "
                f"another, or leave both unset and the worker picks a free port from "
                f"{DEFAULT_PORT} up"
            )
        return WebPort(host, port, port, lock)
    start = port or DEFAULT_PORT
    for candidate in range(start, min(start + TRIES, 65536)):
        lock = _try(host, candidate, lock_dir)
        if lock is not None:
            return WebPort(host, candidate, port, lock)
    candidate = _ephemeral(host)
    return WebPort(host, candidate, port, _try(host, candidate, lock_dir))


def claim_for(settings: Settings, explicit: bool) -> tuple[Settings, WebPort]:
    """The worker's settings with the port it claimed, and the claim to keep until exit."""
    claimed = claim(settings.web_host, settings.web_port, explicit, settings.home / "web-ports")
    return settings.model_copy(update={"web_port": claimed.port}), claimed


def announce(claimed: WebPort) -> None:
    """One log line: where ``/healthz`` and ``/metrics`` are, and why if not where asked."""
    if claimed.chosen and claimed.asked:  # 0 asks for any free port
        log.info(
            "web port %d in use; /healthz and /metrics on %s:%d "
            "(NEWSFLOW_WEB_PORT or --web-port to fix it)",
            claimed.asked,
            claimed.host,
            claimed.port,
            extra={"web_port": claimed.port, "asked": claimed.asked},
        )
    else:
        log.info(
            "/healthz and /metrics on %s:%d",
            claimed.host,
            claimed.port,
            extra={"web_port": claimed.port},
        )


def _try(host: str, port: int, lock_dir: Path) -> IO[str] | None:
    """The held lock of ``port`` if no worker holds it and it can be bound now, else None."""
    lock = (lock_dir / f"{host}-{port}.lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    if _bindable(host, port):
        return lock
    lock.close()
    return None


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As aiohttp binds it: a port left in TIME_WAIT by a stopped worker is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise ConfigError(
                f"cannot listen on {host}:{port} (NEWSFLOW_WEB_HOST): {exc.strerror}"
            ) from None
    return True


def _ephemeral(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
