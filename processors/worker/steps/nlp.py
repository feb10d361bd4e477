"""Stage ``nlp``: NER, canonical entities and topics for first-seen articles, in the spaCy
pool (:mod:`processors.worker.nlp`), then on to the story decision."""

from __future__ import annotations

from newsflow.core import metrics
from newsflow.core.errors import InvalidArticle
from processors.worker.adapter import Batch, Out, Step
from processors.worker.runtime import Runtime
from schemas.work import Deduped


def build(runtime: Runtime) -> Step:
    """The step of stage ``nlp``."""

    async def enrich(batch: Batch[Deduped]) -> Out:
        await runtime.start()
        assert runtime.enricher is not None
        results = await runtime.enricher.enrich_batch([i for _, i in batch.items])
        out = Out()
        for (message, _), result in zip(batch.items, results, strict=True):
            if isinstance(result, InvalidArticle):
                out.reject(message, result)
            else:
                out.emit("stories_topic", result.id, result)
        metrics.ARTICLES_OUT.labels("nlp").inc(len(out.emits))
        return out

    return enrich
