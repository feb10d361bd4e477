"""Stage ``dedup``: decide, in one ordered stream (one partition), which articles are copies.

The decision is :func:`processors.stages.dedup.decide` over the stage's table; first-seen
articles go to NER (``.work``), copies to take their first copy's enrichment (``.duplicates``).
"""

from __future__ import annotations

import time

from newsflow.core import metrics
from processors.stages import dedup, minhash
from processors.worker.adapter import Batch, Every, Out, Step
from processors.worker.runtime import Runtime
from schemas.work import Deduped, Prepared


def build(runtime: Runtime) -> Step:
    """The step of stage ``dedup``."""
    config = dedup.DedupConfig()
    expiry = Every()  # the table expires its old keys once a minute

    async def decide(batch: Batch[Prepared]) -> Out:
        assert batch.state is not None
        state, now, out = batch.state, time.time(), Out()
        async for _, item in batch.paced():
            article = item.article
            sig = minhash.decode(item.signature).tolist()
            decision = dedup.decide(article.id, article.content_hash, sig, now, state, config)
            record = Deduped(
                article=article,
                is_duplicate=decision.is_duplicate,
                duplicate_of=decision.duplicate_of,
                kind=decision.kind,
                similarity=decision.similarity,
                first_seen=dedup.first_seen(state, article.id, now),
            )
            out.emit(
                "duplicates_topic" if decision.is_duplicate else "work_topic", article.id, record
            )
            metrics.ARTICLES_OUT.labels(f"dedup_{decision.kind}").inc()
        if expiry.due(now):
            dedup.expire(state, now, config)
        return out

    return decide
