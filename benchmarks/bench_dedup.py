"""Near-duplicate stage throughput: ``signature`` + ``decide`` against datasketch's MinHashLSH.

``python -m benchmarks.bench_dedup [--articles N] [--seed S]`` prints JSON figures.

The workload: ``N`` articles assembled from the sentences of the labelled evaluation set
(seeded), one in five a near-duplicate of an earlier one (a dropped paragraph, a changed word,
an ``UPDATED`` prefix), so the index holds mostly distinct texts, as a real stream does.

Both sides see the same normalized text and the same 4-word shingles (same ``num_perm`` and
threshold): ours is :func:`processors.stages.dedup.signature` then
:func:`processors.stages.dedup.decide` on a
dict state; the baseline is ``MinHash.update_batch`` over the shingle strings then
``MinHashLSH.query`` and ``insert``. Also reported: state writes per article (changelog
messages in a Faust table), JSON bytes of the state per article, and the Python memory of a
dict state scaled to 100,000 articles.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import tracemalloc
from typing import Any

from processors.stages import dedup
from processors.stages.shingles import normalize_for_hash


class CountingState(dict[str, Any]):
    """A dict that counts writes and deletes (each one is a changelog record in Faust)."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)

    def pop(self, key: str, *default: Any) -> Any:
        """Remove ``key`` (a delete, counted when the key was there)."""
        self.writes += key in self
        return super().pop(key, *default)

    def __delitem__(self, key: str) -> None:
        self.writes += 1
        super().__delitem__(key)


def workload(n: int, seed: int) -> list[str]:
    """``n`` article texts: sentence mixes of the evaluation set, 20% near-duplicates."""
    from evaluation.dedup_stories.dataset import base_articles

    rng = random.Random(seed)
    sentences = [
        s for item in base_articles() for s in re.split(r"(?<=[.!?])\s+", item.body) if len(s) > 40
    ]
    texts: list[str] = []
    for _ in range(n):
        if texts and rng.random() < 0.2:
            paragraphs = rng.choice(texts).split("\n\n")
            edit = rng.randrange(3)
            if edit == 0 and len(paragraphs) > 1:
                paragraphs = paragraphs[:-1]
            elif edit == 1:
                paragraphs[0] = "UPDATED 07:55 — " + paragraphs[0]
            else:
                paragraphs[-1] = paragraphs[-1].replace(" the ", " a ", 1)
            texts.append("\n\n".join(paragraphs))
            continue
        picked = rng.sample(sentences, rng.randrange(8, 20))
        texts.append("\n\n".join(" ".join(picked[i : i + 3]) for i in range(0, len(picked), 3)))
    return texts


def _ours(texts: list[str], config: dedup.DedupConfig) -> tuple[float, float, CountingState, int]:
    state = CountingState()
    flagged = 0
    t_sig = t_decide = 0.0
    for number, text in enumerate(texts):
        start = time.perf_counter()
        sig = dedup.signature(text, num_perm=config.num_perm)
        key = dedup.content_hash(text)
        middle = time.perf_counter()
        decision = dedup.decide(f"a{number}", key, sig, float(number), state, config)
        t_sig += middle - start
        t_decide += time.perf_counter() - middle
        flagged += decision.is_duplicate
    return t_sig, t_decide, state, flagged


def _baseline(texts: list[str], config: dedup.DedupConfig, shingle: int) -> tuple[float, int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    flagged = 0
    start = time.perf_counter()
    for number, text in enumerate(texts):
        words = normalize_for_hash(text).split()
        width = min(shingle, len(words))
        grams = {" ".join(words[i : i + width]).encode() for i in range(len(words) - width + 1)}
        minhash = MinHash(num_perm=config.num_perm)
        minhash.update_batch(list(grams))
        flagged += bool(lsh.query(minhash))
        lsh.insert(f"a{number}", minhash)
    return time.perf_counter() - start, flagged


def _memory_per_100k(texts: list[str], config: dedup.DedupConfig) -> float:
    """MiB of a dict state holding ``len(texts)`` articles, scaled to 100,000."""
    sigs = [(dedup.content_hash(t), dedup.signature(t)) for t in texts]
    tracemalloc.start()
    state: dict[str, Any] = {}
    for number, (key, sig) in enumerate(sigs):
        dedup.decide(f"a{number:08d}", key, sig, float(number), state, config)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size / 2**20 * 100_000 / len(texts)


def run(articles: int = 3000, seed: int = 11) -> dict[str, Any]:
    """Measure both sides on one workload; returns the figures."""
    config = dedup.DedupConfig()
    texts = workload(articles, seed)
    dedup.signature(texts[0])  # warm the constants and the word cache like a running worker
    t_sig, t_decide, state, flagged = _ours(texts, config)
    t_base, base_flagged = _baseline(texts, config, dedup.DEFAULT_SHINGLE)
    ours_rate = articles / (t_sig + t_decide)
    base_rate = articles / t_base
    state_bytes = sum(len(k) + len(json.dumps(v)) for k, v in state.items())
    return {
        "articles": articles,
        "config": {"num_perm": config.num_perm, "bands": config.bands, "rows": config.rows},
        "ours_articles_per_s": round(ours_rate, 1),
        "signature_us": round(t_sig / articles * 1e6, 1),
        "decide_us": round(t_decide / articles * 1e6, 1),
        "decide_only_articles_per_s": round(articles / t_decide, 1),
        "datasketch_articles_per_s": round(base_rate, 1),
        "ratio_vs_datasketch": round(ours_rate / base_rate, 2),
        "flagged": {"ours": flagged, "datasketch_candidates": base_flagged},
        "state_writes_per_article": round(state.writes / articles, 2),
        "state_json_bytes_per_article": round(state_bytes / articles, 1),
        "dict_state_mib_per_100k_articles": round(_memory_per_100k(texts, config), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_dedup")
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.articles, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
