"""``make bench``: run every benchmark, print one table, write ``docs/BENCHMARKS.md``.

Each row is a figure, the baseline it is compared with (measured in the same run, on the
same input) and their ratio, next to the target the project set for it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import (
    bench_alerts,
    bench_dedup,
    bench_nlp,
    bench_pipeline,
    bench_producer,
    bench_replay_memory,
    bench_sink,
)
from benchmarks.corpus import generate
from benchmarks.machine import describe, load_average
from newsflow.core.settings import load_settings
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
    # Scale-out on a quarter of the corpus: a ratio of rates needs no more, time is short.
    part = articles[: max(200, n // 4)]
    one = bench_pipeline.throughput(base, part, log_dir, workers=1, concurrency=1)
    two = bench_pipeline.throughput(base, part, log_dir, workers=2, concurrency=1)
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
            "end to end, CPU-bound projection: cores / CPU per article",
            _projected_aps(e2e, nlp["cores"]),
            "articles/s",
            "bare nlp.pipe, 1000 / its CPU ms per article",
            1000 / nlp["bare_nlp_pipe_cpu_ms_per_article"],
            "-",
        ),
        Row(
            "NLP stage, 1 process",
            nlp["stage_1_process_aps"],
            "articles/s",
            f"bare nlp.pipe, same {nlp['stage_sample']}",
            nlp["bare_nlp_pipe_sample_aps"],
            ">= 0.9",
        ),
        Row(
            f"NLP stage, {nlp['cores']} processes",
            nlp["stage_all_cores_aps"],
            "articles/s",
            f"bare nlp.pipe, same {nlp['stage_sample']}",
            nlp["bare_nlp_pipe_sample_aps"],
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


def _projected_aps(result: dict[str, Any], cores: int) -> float:
    """Articles/s the run would reach if its processes had every core to themselves: the
    machine's CPU over the CPU an article cost them (Kafka, Elasticsearch and bench
    included). Unlike the measured rate, it does not depend on what else ran meanwhile."""
    return float(cores * 1000 / sum(result["cpu_ms_per_article"].values()))


def _io_rows(base: Any, n: int, log_dir: Path) -> tuple[list[Row], dict[str, Any]]:
    articles = generate(n, seed=11)
    # A namespace of its own, deleted afterwards: never the users' <ns>.raw.
    with bench_pipeline.namespace(base, log_dir) as (settings, _):
        producer = bench_producer.run(settings, articles)
        sink = bench_sink.run(settings, articles)
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
    result = bench_pipeline.latency(base, generate(300, seed=13), log_dir)
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


def _dedup_rows() -> tuple[list[Row], dict[str, Any]]:
    dedup = bench_dedup.run()
    row = Row(
        "near-duplicate stage (signature + decide)",
        dedup["ours_articles_per_s"],
        "articles/s",
        "datasketch MinHashLSH insert+query",
        dedup["datasketch_articles_per_s"],
        "> 1.0",
    )
    return [row], {"dedup": dedup}


def _alerts_rows(base: Any, n: int) -> tuple[list[Row], dict[str, Any]]:
    """Ingest with 1,000 subscriptions over ingest with none (one pair; the full study with
    matching costs is ``python -m benchmarks.bench_alerts``, docs/ALERTS.md)."""
    result = bench_alerts.throughput(base, "names", n, 1000, rounds=1)
    row = Row(
        "alerts on (1,000 subscriptions), end to end",
        result["alerts_on_aps"],
        "articles/s",
        "alerts off",
        result["alerts_off_aps"],
        ">= 0.9",
    )
    return [row], {"alerts": result}


def _replay_memory_rows(base: Any, mib: int) -> tuple[list[Row], dict[str, Any]]:
    """Peak RSS of a replay of a ``mib`` MiB .jsonl.gz (docs/FEEDS.md has the 1 GiB run)."""
    result = bench_replay_memory.run(base, mib)
    row = Row(
        f"replay memory: peak RSS on a {result['input_mib']:.0f} MiB .jsonl.gz",
        result["peak_rss_mib"],
        "MiB",
        "RSS after the first tenth",
        result["rss_first_tenth_mib"],
        "flat (~1.0)",
    )
    return [row], {"replay_memory": result}


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


BENCHES = ("pipeline", "latency", "io", "dedup", "alerts", "replay-memory")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument(
        "--only",
        default=",".join(BENCHES),
        help=f"comma-separated benches to run, of {', '.join(BENCHES)} (default: all); "
        "pipeline = bare nlp.pipe, NLP stage, end to end, scale-out and memory",
    )
    parser.add_argument(
        "--alerts-articles", type=int, default=300, help="articles of the alerts on/off pair"
    )
    parser.add_argument(
        "--replay-mib", type=int, default=64, help="input MiB of the replay memory bench (64)"
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="do not write docs/BENCHMARKS.md (a run of only some benches never writes it)",
    )
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    base = load_settings()
    ensure_up(base)
    run = Run(load_start=load_average())
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        steps: dict[str, Callable[[], tuple[list[Row], dict[str, Any]]]] = {
            "pipeline": lambda: _pipeline_rows(base, args.articles, log_dir),
            "latency": lambda: _latency_rows(base, log_dir),
            "io": lambda: _io_rows(base, args.articles, log_dir),
            "dedup": _dedup_rows,
            "alerts": lambda: _alerts_rows(base, args.alerts_articles),
            "replay-memory": lambda: _replay_memory_rows(base, args.replay_mib),
        }
        for name in BENCHES:
            if name not in chosen:
                continue
            step_started = time.monotonic()
            new_rows, new_raw = steps[name]()
            run.seconds[name] = round(time.monotonic() - step_started, 1)
            run.rows += new_rows
            run.raw.update(new_raw)
            print(_table(new_rows), f"\n({name}: {run.seconds[name]:.0f} s)", flush=True)
    run.load_end = load_average()
    print("\n" + _table(run.rows))
    print(f"load average at start {run.load_start}, at end {run.load_end}")
    if not args.no_write and set(chosen) == set(BENCHES):
        _write(run, args.articles)
    return 0


@dataclass
class Run:
    """What one ``make bench`` measured, and under what load."""

    load_start: list[float]
    load_end: list[float] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _cpu_table(raw: dict[str, Any]) -> str:
    """CPU milliseconds per article of each process group, for each pipeline run."""
    runs = [
        (f"end to end ({raw['end_to_end']['articles']} articles)", raw.get("end_to_end")),
        ("1 worker x 1 NLP process", raw.get("one_worker")),
        ("2 workers x 1 NLP process", raw.get("two_workers")),
    ]
    groups = ("worker", "nlp", "kafka", "elasticsearch", "bench")
    lines = [
        "| run | " + " | ".join(groups) + " | total | wall s |",
        "|---|" + "---|" * (len(groups) + 2),
    ]
    for name, result in runs:
        if not result:
            continue
        per = result["cpu_ms_per_article"]
        total = sum(per[g] for g in groups)
        cells = " | ".join(f"{per[g]:.1f}" for g in groups)
        lines.append(f"| {name} | {cells} | {total:.1f} | {result['seconds']:.0f} |")
    return "\n".join(lines)


def _write(run: Run, n: int) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    elapsed = sum(run.seconds.values())
    durations = ", ".join(f"{k} {v / 60:.1f}" for k, v in run.seconds.items())
    DOC.write_text(
        f"# Benchmarks\n\n"
        f"Last run: {when}, on {describe()}, with Kafka and Elasticsearch of `newsflow stack`\n"
        f"on the same machine. Command: `make bench` ({n} generated articles; "
        f"{elapsed / 60:.1f} minutes: {durations}).\n\n"
        f"Load average (1, 5, 15 min) at the start: {run.load_start}; at the end: "
        f"{run.load_end}. The machine is shared: other test runs and the shared Kafka and "
        f"Elasticsearch used CPU at the same time, so absolute rates are low and noisy; the "
        f"ratios compare figures taken minutes apart under that changing load.\n\n"
        f"Every figure is compared with a baseline measured in the same run, on the same "
        f"input. The corpus is generated by `benchmarks/corpus.py` (seeded): unique "
        f"news-length articles drawn from the sample corpus and the seed articles, 3 % exact "
        f"and 7 % near copies.\n\n{_table(run.rows)}\n\n"
        f"## Where the CPU went\n\n"
        f"CPU milliseconds per article (user + system, from /proc) of each group of "
        f"processes between the first produce and the last document searchable: the worker "
        f"process(es), their spaCy processes, the Kafka and Elasticsearch JVMs (which also "
        f"serve anyone else using the shared stack meanwhile) and the bench process "
        f"(producer and the count poll). See [SCALING.md](SCALING.md).\n\n"
        f"{_cpu_table(run.raw)}\n\n"
        f"<details><summary>Raw figures</summary>\n\n```json\n"
        f"{json.dumps(run.raw, indent=2, default=str)}\n```\n</details>\n",
        encoding="utf-8",
    )
    print(f"wrote {DOC}")


if __name__ == "__main__":
    sys.exit(main())
