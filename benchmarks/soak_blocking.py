"""Soak: does anything block a worker's event loop? Faust's blocking detector says.

``python -m benchmarks.soak_blocking [--articles N] [--rounds R] [--timeout S]`` starts one
worker with ``--blocking-timeout S`` (Faust arms a SIGALRM timer that the event loop
re-arms; when the loop has not run for S seconds it logs "Blocking detected" with the
stack of what was running), sends N generated articles R times over (the same ids: the
later rounds are the replay path, where every stage still runs and decides "already
seen"), waits until all are searchable and prints what the log says, as JSON.

How the detector works decides what it can see: it re-arms its alarm every 0.96 x S, so a
stall is caught when it delays that re-arm by more than 0.04 x S (80 ms for S = 2 s): every
stall longer than S, shorter ones by chance. It raises ``Blocking`` in whatever runs, so a
detection usually ends the worker; and on a shared machine a starved CPU, or another thread
holding the GIL, delays the loop too: a detection is a lead to read (its stack says what
ran), not a verdict.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_pipeline import _produce, namespace
from benchmarks.corpus import generate
from benchmarks.machine import load_average
from newsflow.cli.localworker import LocalWorker
from newsflow.core.clients import es_client
from newsflow.core.names import Names
from newsflow.core.settings import load_settings
from newsflow.stack import ensure_up

_DETECTED = "Blocking detected"
_OURS = re.compile(r'File "[^"]*/(processors|newsflow|schemas)/[^"]+", line \d+, in \w+')


def run(articles: int, rounds: int, timeout: float) -> dict[str, Any]:
    """Detections in a worker's log over ``rounds`` of ``articles``."""
    base = load_settings()
    ensure_up(base)
    corpus = generate(articles, seed=17)
    load_start = load_average()
    with tempfile.TemporaryDirectory() as tmp, namespace(base, Path(tmp)) as (settings, env):
        log = Path(tmp) / "worker.log"
        worker = LocalWorker(env, log, args=["--blocking-timeout", str(timeout)]).start()
        started = time.perf_counter()
        try:
            for _ in range(rounds):
                _produce(settings, corpus)
                _until_done(settings, len(corpus), worker)
            # The replayed rounds add no document: give the last one time to drain.
            _until_done(settings, len(corpus), worker, 10 if rounds > 1 else 0)
        finally:
            exit_code = worker.proc.poll() if worker.proc else None
            worker.stop()
        elapsed = time.perf_counter() - started
        text = log.read_text(errors="replace")
    chunks = text.split(_DETECTED)[1:]
    where = [(_OURS.findall(c[:6000]) or ["(no frame of ours)"])[-1] for c in chunks]
    return {
        "articles": articles,
        "rounds": rounds,
        "blocking_timeout_s": timeout,
        "seconds": round(elapsed, 1),
        "detections": len(chunks),
        # Faust raises Blocking in the code that runs: a detection usually ends the worker.
        "worker_died": exit_code is not None,
        "innermost_frames_of_ours": sorted(set(where)),
        # kafka-python's own warning for a task of its I/O thread that held on too long.
        "kafka_python_slow_tasks": text.count("It is blocking the event loop"),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def _until_done(settings: Any, expected: int, worker: LocalWorker, linger: float = 0) -> None:
    """Until ``expected`` documents are searchable (then ``linger`` seconds more), or the
    worker has died (a detection raises in the worker and usually ends it)."""
    index = Names(settings.namespace).articles_index
    es = es_client(settings)
    try:
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline and worker.proc and worker.proc.poll() is None:
            count = es.options(ignore_status=404).count(index=index).get("count", 0)
            if count >= expected:
                time.sleep(linger)
                return
            time.sleep(1)
    finally:
        es.close()


def main(argv: list[str] | None = None) -> int:
    """Print the soak's findings as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak_blocking", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=2.0, help="blocking timeout, seconds")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.articles, args.rounds, args.timeout), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
