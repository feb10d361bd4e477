"""Peak memory of ``newsflow replay`` on a large ``.jsonl.gz``: flat, whatever the input size.

A seeded ``.jsonl.gz`` of SIZE MiB (uncompressed) is written to a temporary folder, then a
child process replays it exactly as the command does (:func:`producers.replay.records` into
:func:`producers.replay.replay` with a real kafka-python producer, acks=all) to ``<ns>.raw``
of a namespace of its own, deleted afterwards. The child samples its resident memory as it
goes; the figure is its peak (VmHWM) against the input size, and the growth from the first
tenth of the input to the end.

``make bench`` runs it on 64 MiB (about a minute); the issue's 1 GB figure in docs/FEEDS.md
comes from ``python -m benchmarks.bench_replay_memory --mib 1024``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_pipeline import namespace
from benchmarks.machine import describe
from newsflow.core.settings import Settings, load_settings

MIB = 1024 * 1024
_WORDS = (
    "port", "strike", "union", "talks", "harbour", "minister", "storm", "flood", "council",
    "election", "market", "bank", "court", "police", "vote", "budget", "energy", "school",
    "hospital", "river", "coast", "city", "north", "south", "rates", "the", "a", "of", "to",
    "in", "said", "on", "was", "by", "with", "for", "at", "from", "after", "before", "new",
    "old", "two", "three",
)  # fmt: skip


def write_corpus(path: Path, mib: int, seed: int = 7) -> tuple[int, int]:
    """A ``.jsonl.gz`` of about ``mib`` MiB of unique articles; (articles, bytes) written."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    written = count = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while written < mib * MIB:
            words = rng.choices(_WORDS, k=rng.randint(300, 700))
            article = {
                "id": f"m{count}",
                "title": " ".join(words[:8]).capitalize(),
                "body": " ".join(words).capitalize() + ".",
                "published_at": (start + timedelta(seconds=37 * count)).isoformat(),
                "source": "bench",
            }
            line = json.dumps(article).encode() + b"\n"
            out.write(line)
            written += len(line)
            count += 1
    return count, written


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(path: Path, total: int) -> dict[str, Any]:
    """In the child process: replay ``path`` as the command does, sampling memory."""
    from newsflow.core.clients import kafka_producer
    from newsflow.core.names import Names
    from producers.replay import Pacer, records, replay

    settings = load_settings()
    sent = [0]
    samples: list[tuple[int, float]] = []  # (articles sent, VmRSS MiB)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            samples.append((sent[0], _rss_mib("VmRSS")))

    sampler = threading.Thread(target=sample, daemon=True)
    producer = kafka_producer(settings)
    started = time.perf_counter()
    sampler.start()
    summary = replay(
        producer,
        Names(settings.namespace).raw_topic,
        records([path], loop=False),
        pacer=Pacer(None, None),
        on_sent=lambda: sent.__setitem__(0, sent[0] + 1),
    )
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    producer.close(timeout=10)
    early = [rss for n, rss in samples if n <= total // 10] or [samples[0][1]]
    return {
        "sent": summary.sent,
        "failed": len(summary.failed),
        "seconds": round(elapsed, 1),
        "rss_first_tenth_mib": round(max(early), 1),
        "rss_end_mib": round(samples[-1][1], 1) if samples else 0.0,
        # The kernel updates VmHWM lazily: it may read below the last VmRSS sample.
        "peak_rss_mib": round(max([_rss_mib("VmHWM")] + [rss for _, rss in samples]), 1),
    }


def run(base: Settings, mib: int = 64) -> dict[str, Any]:
    """Write a ``mib`` MiB corpus, replay it in a child process, report its memory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.jsonl.gz"
        articles, raw_bytes = write_corpus(path, mib)
        gz_bytes = path.stat().st_size
        with namespace(base, Path(tmp)) as (_, env):
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_replay_memory", "--child", str(path)],
                env={**env, "BENCH_ARTICLES": str(articles)},
                capture_output=True,
                text=True,
                check=True,
            )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(
        articles=articles,
        input_mib=round(raw_bytes / MIB, 1),
        gz_mib=round(gz_bytes / MIB, 1),
        mib_per_s=round(raw_bytes / MIB / result["seconds"], 1),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench_replay_memory [--mib N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=64, help="uncompressed input size (64)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import os

        print(json.dumps(child(args.child, int(os.environ["BENCH_ARTICLES"]))))
        return 0
    result = run(load_settings(), args.mib)
    print(json.dumps(result, indent=2))
    print(f"machine: {describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
