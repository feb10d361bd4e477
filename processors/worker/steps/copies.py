"""Stage ``copies``: a duplicate takes the entities, topics and story of its first copy.

A copy whose first copy is not indexed yet waits a few seconds at most, then goes back to the
end of ``<ns>.duplicates``: a batch held longer would hold the group's rebalances (Faust waits
for batches in flight), and the first copy may be behind that very rebalance. After
``DUPLICATE_WAIT_SECONDS`` it gets its own NER pass (the first copy may have been
dead-lettered, or be far behind in a backlog).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from newsflow.core import metrics
from newsflow.core.retry import Backoff, poll
from processors.worker.adapter import Batch, Out, Step
from processors.worker.pipeline import copy_enrichment
from processors.worker.runtime import Runtime
from schemas.work import Deduped

log = logging.getLogger("newsflow.worker")

DUPLICATE_WAIT_SECONDS = 600.0
REQUEUE_AFTER_SECONDS = 5.0
# Between two looks for the first copies (mget reads in real time).
LOOK_AGAIN = Backoff(base=0.2, cap=1.0)


def build(runtime: Runtime) -> Step:
    """The step of stage ``copies``."""

    async def originals(ids: set[str]) -> dict[str, dict[str, Any]]:
        """First-seen copies already in the index."""
        response = await runtime.es.mget(index=runtime.names.articles_index, ids=sorted(ids))
        return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}

    async def copy(batch: Batch[Deduped]) -> Out:
        await runtime.start()
        out, waiting = Out(), [item for _, item in batch.items]

        async def found_all() -> bool:
            nonlocal waiting
            known = await originals({i.duplicate_of or "" for i in waiting})
            now = datetime.now(UTC)
            for item in [i for i in waiting if (i.duplicate_of or "") in known]:
                document = copy_enrichment(item, known[item.duplicate_of or ""], now)
                out.emit("enriched_topic", document.id, document)
            waiting = [i for i in waiting if (i.duplicate_of or "") not in known]
            return not waiting

        if waiting and not await poll(found_all, LOOK_AGAIN, REQUEUE_AFTER_SECONDS):
            requeue(out, waiting, datetime.now(UTC))
        return out

    return copy


def requeue(out: Out, waiting: list[Deduped], now: datetime) -> None:
    """Copies still without their first copy: back to the queue, or to NER when overdue."""
    overdue = 0
    for item in waiting:
        since = item.waiting_since or now
        if (now - since).total_seconds() < DUPLICATE_WAIT_SECONDS:
            out.emit(
                "duplicates_topic",
                item.article.id,
                item.model_copy(update={"waiting_since": since}),
            )
        else:  # the NLP stage keeps it flagged as a copy (Enricher.enrich_batch)
            out.emit("work_topic", item.article.id, item)
            overdue += 1
    if overdue:
        log.warning("first copies never indexed; copies get NER", extra={"n": overdue})
    metrics.ARTICLES_OUT.labels("dedup_requeued").inc(len(waiting) - overdue)
