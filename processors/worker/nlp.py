"""The spaCy process pool, off the loop.

It runs the analysis of :mod:`processors.stages.analysis` in batches.

spaCy is the cost centre, and CPU-bound: running it on the event loop would stall Kafka
commits, timers and rebalances. Each worker process loads the model, the alias table and
the taxonomy once (in the pool initializer); the event loop only ships texts out and small
results back.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from processors.stages.analysis import Analysis, Analyzer, Text, load_analyzer
from processors.stages.versions import MODEL
from processors.worker.orphans import die_with_parent

# NER in en_core_web_sm has its own embedding layer: the shared tok2vec, tagger, parser,
# attribute ruler and lemmatizer do not change its output (checked), so they are not loaded.
EXCLUDE = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

_analyzer: Analyzer | None = None


def load_model(model: str = MODEL) -> Any:
    """The spaCy pipeline with only what NER needs."""
    import spacy

    return spacy.load(model, exclude=list(EXCLUDE))


def _init_worker(model: str, max_chars: int, parent: int, death_signal: bool) -> None:
    global _analyzer
    # A worker killed with SIGKILL runs no cleanup: its pool must notice on its own.
    die_with_parent(parent, death_signal)
    _analyzer = load_analyzer(lambda: load_model(model), max_chars)


def _analyze(texts: Sequence[Text]) -> list[Analysis]:
    assert _analyzer is not None, "pool initializer did not run"
    return _analyzer.analyze(texts)


def _versions() -> dict[str, str]:
    assert _analyzer is not None, "pool initializer did not run"
    return _analyzer.versions


def _chunks(items: Sequence[Text], parts: int) -> list[Sequence[Text]]:
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


class NlpPool:
    """A pool of analysis processes; ``await pool.analyze(texts)`` keeps the loop free."""

    def __init__(self, processes: int, model: str = MODEL, max_chars: int = 200_000) -> None:
        self.processes = max(1, processes)
        self.versions: dict[str, str] = {}
        # Linux sends the parent-death signal when the *thread* that started a child ends.
        # The executor starts its processes from the thread that submits (the event loop's,
        # which is also the one building the pool): arm it only when that is the main thread,
        # whose end is the process's; elsewhere the watchdog alone does the job.
        death_signal = threading.current_thread() is threading.main_thread()
        # spawn, not fork: the parent runs an event loop and client threads.
        self._executor = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(model, max_chars, os.getpid(), death_signal),
        )

    async def warm_up(self) -> None:
        """Load everything in every process before the first batch arrives."""
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(
            *(loop.run_in_executor(self._executor, _versions) for _ in range(self.processes))
        )
        self.versions = results[0]

    async def analyze(self, texts: Sequence[Text]) -> list[Analysis]:
        """The analysis of each text, in order; the batch is split over the processes."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        # Small batches go to one process: splitting them costs more than it saves.
        parts = min(self.processes, max(1, len(texts) // 4))
        futures = [
            loop.run_in_executor(self._executor, _analyze, list(chunk))
            for chunk in _chunks(texts, parts)
        ]
        results: list[Analysis] = []
        for part in await asyncio.gather(*futures):
            results.extend(part)
        return results

    def close(self) -> None:
        """Stop the worker processes."""
        self._executor.shutdown(wait=True, cancel_futures=True)
