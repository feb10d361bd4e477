"""A worker SIGKILLed on its own (not its process group) leaves no process behind.

Only the worker's pid gets the signal, as when the kernel's OOM killer or a supervisor
kills it: its spaCy processes and multiprocessing's resource tracker must notice and exit
by themselves within seconds (processors/worker/nlp.py), not linger orphaned at ~180 MB each.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.procs import descendants, kill_group, wait_gone
from tests.support import Namespace, WorkerProcess

pytestmark = pytest.mark.stack

# Seconds the tree has to go: the watchdog polls every second, the parent-death signal is at once.
GRACE_SECONDS = 10


def test_sigkilled_worker_leaves_no_process(namespace: Namespace, log_dir: Path) -> None:
    worker = WorkerProcess(namespace, log_dir, concurrency=2).start()
    assert worker.proc is not None
    pid = worker.proc.pid
    try:
        tree = descendants(pid)
        # Two spaCy processes and the resource tracker, at least.
        assert len(tree) >= 3, f"expected the spaCy pool under the worker, found {tree}"
        os.kill(pid, signal.SIGKILL)  # the worker alone, not its group
        worker.proc.wait(timeout=30)
        left = wait_gone(tree, GRACE_SECONDS)
        commands = {p: Path(f"/proc/{p}/cmdline").read_bytes()[:120] for p in left}
        assert not left, f"still running {GRACE_SECONDS}s after the worker died: {commands}"
    finally:
        kill_group(pid)  # a failure must not leave the orphans to someone else
        worker.kill()
