"""``make bench``: run every benchmark, print one table, write ``docs/BENCHMARKS.md``.

Each row is a figure, the baseline it is compared with (measured in the same run, on the
same input) and their ratio, next to the target the project set for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import bench_nlp, bench_pipeline, bench_producer, bench_sink
from benchmarks.corpus import generate
from benchmarks.machine import describe
from newsflow.settings import load_settings
from newsflow.stack import ensure_up

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


@dataclass
class Row:
    """One line of the results table."""

    name: str
    value: float
    unit: str
    baseline: str
    base_value: float | None
    target: str

    @property
    def ratio(self) -> float | None:
        """The value over its baseline."""
        return self.value / self.base_value if self.base_value else None


def _pipeline_rows(base: Any, n: int, log_dir: Path) -> tuple[list[Row], dict[str, Any]]:
    articles = generate(n)
    nlp = bench_nlp.run(articles)
    bare = nlp["bare_nlp_pipe_aps"]
    e2e = bench_pipeline.throughput(base, articles, log_dir)
    half = articles[: max(200, n // 2)]
    one = bench_pipeline.throughput(base, half, log_dir, workers=1, concurrency=1)
    two = bench_pipeline.throughput(base, half, log_dir, workers=2, concurrency=1)
    rss = max([r["worker_mb"] for r in e2e["rss"]] + [m for r in e2e["rss"] for m in r["nlp_mb"]])
    rows = [
        Row(
            "end to end (1 worker, NLP on every core)",
            e2e["aps"],
            "articles/s",
            "bare single-process nlp.pipe",
            bare,
            ">= 1.0 (stretch 1.3)",
        ),
        Row(
            "NLP stage, 1 process",
            nlp["stage_1_process_aps"],
            "articles/s",
            "bare single-process nlp.pipe",
            bare,
            ">= 0.9",
        ),
        Row(
            f"NLP stage, {nlp['cores']} processes",
            nlp["stage_all_cores_aps"],
            "articles/s",
            "bare single-process nlp.pipe",
            bare,
            "-",
        ),
        Row(
            "scale-out: 2 workers x 1 NLP process",
            two["aps"],
            "articles/s",
            "1 worker x 1 NLP process",
            one["aps"],
            ">= 1.5",
        ),
        Row(
            "memory: peak RSS of a worker process", rss, "MiB", "target 1024 MiB", 1024.0, "<= 1.0"
        ),
    ]
    return rows, {"nlp": nlp, "end_to_end": e2e, "one_worker": one, "two_workers": two}


def _io_rows(base: Any, n: int) -> tuple[list[Row], dict[str, Any]]:
    articles = generate(n, seed=11)
    producer = bench_producer.run(base, articles)
    sink = bench_sink.run(base, articles)
    rows = [
        Row(
            "producer: newsflow replay",
            producer["replay_aps"],
            "articles/s",
            "bare kafka-python send loop",
            producer["bare_send_aps"],
            ">= 0.9",
        ),
        Row(
            f"sink: BulkSink, bulk of {sink['best_size']}",
            sink["sink_dps"],
            "docs/s",
            "helpers.async_streaming_bulk",
            sink["helper_dps"],
            ">= 0.9",
        ),
    ]
    return rows, {"producer": producer, "sink": sink}


def _latency_rows(base: Any, log_dir: Path) -> tuple[list[Row], dict[str, Any]]:
    result = bench_pipeline.latency(base, generate(400, seed=13), log_dir)
    rows = [
        Row(
            "latency p50, produce -> searchable at 5/s",
            result["p50_s"],
            "s",
            "target 2 s (p99)",
            2.0,
            "-",
        ),
        Row(
            "latency p99, produce -> searchable at 5/s",
            result["p99_s"],
            "s",
            "target 2 s",
            2.0,
            "<= 1.0",
        ),
    ]
    return rows, {"latency": result}


def _stage_rows() -> tuple[list[Row], dict[str, Any]]:
    """Stage benchmarks other modules provide (skipped when the module is absent)."""
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    try:
        dedup = importlib.import_module("benchmarks.bench_dedup").run()
    except ModuleNotFoundError:
        return rows, raw
    raw["dedup"] = dedup
    rows.append(
        Row(
            "near-duplicate stage (signature + decide)",
            dedup["ours_articles_per_s"],
            "articles/s",
            "datasketch MinHashLSH insert+query",
            dedup["datasketch_articles_per_s"],
            "> 1.0",
        )
    )
    return rows, raw


def _table(rows: list[Row]) -> str:
    lines = [
        "| figure | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{r.baseline}: {r.base_value:.1f}" if r.base_value else r.baseline
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(f"| {r.name} | {r.value:.2f} {r.unit} | {base} | {ratio} | {r.target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    base = load_settings()
    ensure_up(base)
    started = time.monotonic()
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        steps: list[Callable[[], tuple[list[Row], dict[str, Any]]]] = [
            lambda: _pipeline_rows(base, args.articles, log_dir),
            lambda: _latency_rows(base, log_dir),
            lambda: _io_rows(base, args.articles),
            _stage_rows,
        ]
        for step in steps:
            new_rows, new_raw = step()
            rows += new_rows
            raw.update(new_raw)
            print(_table(new_rows), flush=True)
    elapsed = time.monotonic() - started
    table = _table(rows)
    print("\n" + table)
    if not args.no_write:
        _write(table, raw, args.articles, elapsed)
    return 0


def _write(table: str, raw: dict[str, Any], n: int, elapsed: float) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    DOC.write_text(
        f"# Benchmarks\n\n"
        f"Last run: {when}, on {describe()}, with Kafka and Elasticsearch of `newsflow stack`\n"
        f"on the same machine. Command: `make bench` ({n} generated articles; "
        f"{elapsed / 60:.1f} minutes).\n\n"
        f"Every figure is compared with a baseline measured in the same run, on the same "
        f"input. The corpus is generated by `benchmarks/corpus.py` (seeded): unique "
        f"news-length articles drawn from the sample corpus and the seed articles, 3 % exact "
        f"and 7 % near copies.\n\n{table}\n\n"
        f"<details><summary>Raw figures</summary>\n\n```json\n"
        f"{json.dumps(raw, indent=2, default=str)}\n```\n</details>\n",
        encoding="utf-8",
    )
    print(f"wrote {DOC}")


if __name__ == "__main__":
    sys.exit(main())
