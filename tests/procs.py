"""Processes by /proc (Linux): a process tree, and which of it still runs."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """State letter and start time of ``pid`` (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parens
    return fields[0], int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every process below ``pid``, by pid, with its start time (so a reused pid is no match)."""
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
            for child in children:
                stat = _stat(child)
                if stat is not None:
                    found[child] = stat[1]
                    todo.append(child)
    return found


def survivors(tree: dict[int, int]) -> list[int]:
    """The processes of ``tree`` still running (a zombie has exited)."""
    alive = []
    for pid, started in tree.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == started and stat[0] != "Z":
            alive.append(pid)
    return alive


def wait_gone(tree: dict[int, int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` seconds for every process of ``tree`` to exit; the survivors."""
    deadline = time.monotonic() + timeout
    while survivors(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    return survivors(tree)


def kill_group(pgid: int) -> None:
    """SIGKILL what is left of process group ``pgid`` (a failed test leaves no orphan)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
