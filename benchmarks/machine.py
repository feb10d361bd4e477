"""What machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def describe() -> str:
    """Cores, CPU model, memory and Python, in one line."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({model}){memory}, Python {platform.python_version()}"


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of one process, in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, in seconds; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuMeter:
    """CPU seconds used by named groups of processes between :meth:`start` and :meth:`stop`.

    Where the CPU of a run went (worker, spaCy processes, the JVMs, the bench itself) says
    more than a throughput on a shared two-core machine.
    """

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self._start: dict[int, float] = {}
        self._wall = 0.0

    def start(self) -> None:
        """Take the starting counts."""
        self._start = {pid: cpu_seconds(pid) for pids in self.groups.values() for pid in pids}
        self._wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """CPU seconds of each group since :meth:`start`, and the wall-clock seconds."""
        used = {
            name: round(sum(cpu_seconds(p) - self._start.get(p, 0.0) for p in pids), 2)
            for name, pids in self.groups.items()
        }
        return {**used, "wall": round(time.perf_counter() - self._wall, 2)}


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]
