"""``newsflow demo`` as a user runs it: a fresh namespace, the demo's own worker just started,
and the counts it prints equal to what the sample corpus holds.

The demo used to stop its worker while articles sat in the middle stages and print
"articles 0". The expected counts come from the corpus through the pipeline's own pure
stages (decode, clean, dedup), and from Elasticsearch after the demo has exited.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from processors.stages import dedup, minhash
from processors.worker.steps.clean import prepare
from producers.files import read_corpus
from schemas.work import Prepared
from tests.support import SAMPLE, VENV_BIN, Namespace

pytestmark = pytest.mark.stack


@dataclass(frozen=True)
class Counts:
    articles: int
    duplicates: int
    stories: int
    dead_letters: int


def corpus_counts() -> tuple[int, int, int]:
    """Documents, duplicates and dead letters the sample corpus makes, by the pure stages.

    One document per article id (a byte-identical copy has the same id); a duplicate is an
    article the dedup decision flags. The worker decides in whatever order the partitions
    deliver, but in every pair of copies exactly one is flagged, so the number is the same.
    """
    state: dict[str, object] = {}
    flagged: dict[str, bool] = {}
    dead = 0
    for record in read_corpus([SAMPLE]):
        outcome = prepare(record.value)
        if not isinstance(outcome, Prepared):
            dead += 1
            continue
        article = outcome.article
        sig = minhash.decode(outcome.signature).tolist()
        decision = dedup.decide(
            article.id, article.content_hash, sig, time.time(), state, dedup.DedupConfig()
        )
        flagged[article.id] = decision.is_duplicate
    return len(flagged), sum(flagged.values()), dead


def printed(out: str) -> Counts:
    """The counts of the demo's summary."""

    def number(pattern: str) -> int:
        found = re.search(pattern, out, re.MULTILINE)
        assert found, f"no line matching {pattern!r} in the demo's output:\n{out}"
        return int(found.group(1))

    return Counts(
        articles=number(r"^articles\s+(\d+) \(\d+ flagged as duplicates\)$"),
        duplicates=number(r"^articles\s+\d+ \((\d+) flagged as duplicates\)$"),
        stories=number(r"^stories\s+(\d+)$"),
        dead_letters=number(r"^dead letters\s+(\d+)$"),
    )


def indexed(ns: Namespace) -> tuple[int, int]:
    """Stories from Elasticsearch two ways: distinct story ids of first copies, summaries."""
    originals = {"bool": {"must_not": {"term": {"is_duplicate": True}}}}
    ns.es.indices.refresh(index=ns.names.articles_index)
    response = ns.es.search(
        index=ns.names.articles_index,
        size=0,
        query=originals,
        aggs={"stories": {"terms": {"field": "story_id", "size": 1000}}},
    )
    ids = len(response["aggregations"]["stories"]["buckets"])
    return ids, ns.count(ns.names.stories_index)


def run_demo(ns: Namespace, prefix: Sequence[str] = ()) -> str:
    """The real command, as ``make demo`` runs it (without the live page)."""
    done = subprocess.run(
        [*prefix, str(VENV_BIN / "newsflow"), "demo", "--no-ui"],
        env={**ns.env, "NEWSFLOW_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"newsflow demo exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def check_demo(ns: Namespace, prefix: Sequence[str] = ()) -> None:
    documents, duplicates, dead = corpus_counts()
    out = run_demo(ns, prefix)
    counts = printed(out)
    story_ids, summaries = indexed(ns)
    wanted = Counts(documents, duplicates, story_ids, dead)
    assert counts == wanted, f"the demo printed {counts}, the corpus and ES hold {wanted}:\n{out}"
    assert summaries == story_ids, f"{summaries} story summaries for {story_ids} story ids"
    assert 0 < story_ids <= documents - duplicates
    sent = len(list(read_corpus([SAMPLE])))
    assert f"{sent} messages in {ns.names.raw_topic}: {documents} documents" in out, out
    # After the demo, nothing moves: what it printed was final.
    snap = ns.drained(sent, timeout=30)
    assert (snap.documents, snap.dead_letters) == (documents, dead)


def test_the_demo_prints_what_the_sample_corpus_holds(namespace: Namespace) -> None:
    check_demo(namespace)


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_the_demo_is_right_every_time_even_on_one_core(namespace: Namespace, run: int) -> None:
    # The last run pins the demo and its worker (children inherit it) to one core, so that
    # the worker is slow and a demo that stopped early would show it.
    one_core = run == 2 and shutil.which("taskset") is not None and (os.cpu_count() or 1) > 1
    check_demo(namespace, ["taskset", "-c", "0"] if one_core else ())
