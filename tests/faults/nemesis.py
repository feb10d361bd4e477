"""A seeded fault schedule in the spirit of Jepsen's nemesis, and the runner that plays it.

:func:`draw` turns a seed and a duration into a list of :class:`Action` (pure: the same seed
always gives the same schedule, so a failing run replays with ``NEMESIS_SEED``).
The faults, drawn with these weights:

* ``kill-broker`` — SIGKILL one broker of the cluster, start it 10 to 40 s later; with
  probability 1/2 a new worker is also started in the middle of that outage;
* ``kill-worker`` — SIGKILL a worker's main process (its spaCy processes must follow by
  themselves) and launch a new one;
* ``pause-worker`` — SIGSTOP a worker's process group for 5 to 25 s, then SIGCONT (a VM or GC
  pause: the group may rebalance it away meanwhile).

Rules that keep the schedule inside what the cluster promises: at most one broker down at a
time (replication factor 3, ``min.insync.replicas=2``: one loss tolerated), and at most
:data:`MAX_WORKERS` workers alive (two cores). Workers are named by slot numbers drawn from
the seed; the runner maps a slot to a live worker modulo their number.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from newsflow.core.settings import Settings
from newsflow.stack import kill_service, start_service
from tests.faults.harness import Worker

MAX_WORKERS = 2
WARM_UP_S = 15.0  # the first worker settles before the first fault
QUIET_END_S = 20.0  # no fault starts this close to the end


@dataclass(frozen=True, order=True)
class Action:
    """One step of the schedule: at ``at`` seconds from the start, do ``kind`` to ``target``."""

    at: float
    kind: str  # kill-broker, start-broker, kill-worker, new-worker, pause-worker, resume-worker
    target: int  # broker number, or worker slot


def draw(seed: int, duration: float, brokers: int = 3) -> list[Action]:
    """The schedule of ``seed`` for a run of ``duration`` seconds."""
    rng = random.Random(seed)
    actions: list[Action] = []
    t, broker_back = WARM_UP_S, 0.0
    while True:
        t += rng.uniform(5, 25)
        if t > duration - QUIET_END_S:
            break
        kind = rng.choices(["kill-broker", "kill-worker", "pause-worker"], [3, 2, 2])[0]
        slot = rng.randrange(MAX_WORKERS)
        if kind == "kill-broker":
            if t < broker_back:  # one broker down at a time
                continue
            down = rng.uniform(10, 40)
            broker = rng.randint(1, brokers)
            if t + down > duration:  # every fault ends within the run
                continue
            actions += [Action(t, "kill-broker", broker), Action(t + down, "start-broker", broker)]
            if rng.random() < 0.5:
                actions.append(Action(t + down / 2, "new-worker", slot))
            broker_back = t + down + 20  # and its start-up, before the next kill
        elif kind == "kill-worker":
            actions += [Action(t, "kill-worker", slot)]
        else:
            pause = min(rng.uniform(5, 25), duration - t)
            actions += [Action(t, "pause-worker", slot), Action(t + pause, "resume-worker", slot)]
    return sorted(actions)


@dataclass
class Nemesis:
    """Plays a schedule against a cluster and the workers of one namespace."""

    settings: Settings
    new_worker: Callable[[], Worker]  # launches a worker (does not wait for it)
    workers: list[Worker] = field(default_factory=list)
    paused: dict[int, Worker] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.alive()]

    def run(self, schedule: list[Action]) -> None:
        """Do the actions with the drawn gaps between them, each gap counted from the end of
        the previous action (starting a broker takes 20 to 30 s: the 20 s a restarted broker
        gets to catch up before the next kill must not be eaten by its own start)."""
        started, previous = time.monotonic(), 0.0
        for action in schedule:
            time.sleep(max(0.0, action.at - previous))
            previous = action.at
            done = self.do(action)
            self.log.append(f"{time.monotonic() - started:7.1f}s {action.kind} {done}")

    def do(self, action: Action) -> str:
        live = [w for w in self.alive() if w.pid not in self.paused]
        if action.kind == "kill-broker":
            kill_service(self.settings, f"kafka-{action.target}")
            return f"kafka-{action.target}"
        if action.kind == "start-broker":
            start_service(self.settings, f"kafka-{action.target}")
            return f"kafka-{action.target} healthy"
        if action.kind == "resume-worker":
            worker = self.paused.pop(action.target, None)
            if worker is None:
                return "nothing paused"
            os.killpg(worker.pid, signal.SIGCONT)
            return f"pid {worker.pid}"
        if action.kind == "new-worker" and len(self.alive()) >= MAX_WORKERS:
            return "skipped: enough workers"
        if action.kind == "new-worker":
            return self.launch()
        if action.target in self.paused:
            return "skipped: that slot is paused already"
        if not live:
            return "skipped: no worker to act on"
        worker = live[action.target % len(live)]
        if action.kind == "kill-worker":
            os.kill(worker.pid, signal.SIGKILL)  # the main process only, like a crash
            return f"pid {worker.pid}; {self.launch()}"
        os.killpg(worker.pid, signal.SIGSTOP)
        self.paused[action.target] = worker
        return f"pid {worker.pid}"

    def launch(self) -> str:
        worker = self.new_worker()
        self.workers.append(worker)
        return f"new worker pid {worker.pid}"

    def heal(self, brokers: int = 3) -> None:
        """Every broker up, every paused worker resumed, one worker at least."""
        for worker in self.paused.values():
            if worker.alive():
                os.killpg(worker.pid, signal.SIGCONT)
        self.paused.clear()
        for n in range(1, brokers + 1):
            start_service(self.settings, f"kafka-{n}")
        if not self.alive():
            self.launch()
