"""A ``newsflow worker`` as a child process: for the demo, benchmarks and tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

from newsflow.core.errors import PipelineError
from newsflow.core.webport import LISTENING


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalWorker:
    """One worker process (and its spaCy processes) in its own process group."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        concurrency: int | None = None,
        port: int | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.env = dict(env)
        self.args = list(args)  # more options of ``newsflow worker``
        self.log_path = log_path
        self.concurrency = concurrency
        # 0: the worker picks its port itself (newsflow.core.webport), learnt from its log.
        self.port = free_port() if port is None else port
        self._choose = port == 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0

    @property
    def url(self) -> str:
        """Base URL of the worker's web server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> LocalWorker:
        """Start the worker and wait until ``/healthz`` says it is ready."""
        return self.launch().wait_healthy(timeout)

    def launch(self) -> LocalWorker:
        """Start the worker process; do not wait for it."""
        args = [sys.executable, "-m", "newsflow", "worker"]
        if not self._choose:
            args += ["--web-port", str(self.port)]
        if self.concurrency:
            args += ["--concurrency", str(self.concurrency)]
        args += self.args
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log_start = self._log.tell()  # where this run's lines begin
        self.proc = subprocess.Popen(
            args, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def wait_healthy(self, timeout: float = 180) -> LocalWorker:
        """Wait until ``/healthz`` answers 200; fail if the worker exits or takes too long."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close_log()
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise PipelineError(f"worker exited with {self.proc.returncode}:\n{tail}")
            if self._choose:
                self.port = self._logged_port(self._log_start) or 0
            if self.port and self.healthy():
                return self
            time.sleep(0.5)
        self.kill()
        raise PipelineError(f"worker not healthy after {timeout:.0f}s; see {self.log_path}")

    def _logged_port(self, start: int) -> int | None:
        """The port the worker says it listens on, in what it logged since ``start``."""
        with self.log_path.open("rb") as log:
            log.seek(start)
            found = LISTENING.search(log.read().decode(errors="replace"))
        return int(found.group(1)) if found else None

    def healthy(self) -> bool:
        """Whether ``/healthz`` answers 200."""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, not a shutdown)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close_log()

    def stop(self, timeout: float = 60) -> None:
        """SIGINT, as Ctrl-C would; SIGKILL if it has not stopped in ``timeout`` seconds."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def metrics(self) -> str:
        """The worker's Prometheus metrics page."""
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def _close_log(self) -> None:
        if self._log is not None and not self._log.closed:
            self._log.close()
