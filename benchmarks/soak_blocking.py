"""Soak: does anything block a worker's event loop? Faust's blocking detector says.

``python -m benchmarks.soak_blocking [--articles N] [--rounds R] [--timeout S]`` starts one
worker with ``--blocking-timeout S`` (Faust arms a SIGALRM timer that the event loop
re-arms; when the loop has not run for S seconds it logs "Blocking detected" with the
stack of what was running), sends N generated articles R times over (the same ids: the
later rounds are the replay path, where every stage still runs and decides "already
seen"), waits until all are searchable and prints what the log says, as JSON.

On a shared machine a loaded CPU can starve the loop too: a detection is a lead to read
(its stack says what ran), not a verdict.
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

from benchmarks.bench_pipeline import _produce, _wait_done, namespace
from benchmarks.corpus import generate
from benchmarks.machine import load_average
from newsflow.localworker import LocalWorker
from newsflow.settings import load_settings
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
                _wait_done(settings, len(corpus))
            # The replayed rounds add no document: give the last one time to drain.
            time.sleep(10 if rounds > 1 else 0)
        finally:
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
        "innermost_frames_of_ours": sorted(set(where)),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the soak's findings as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak_blocking", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=0.5, help="blocking timeout, seconds")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.articles, args.rounds, args.timeout), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
