"""Stage ``sink``: documents to ``<ns>-articles`` (:class:`processors.worker.sink.BulkSink`);
those the index refuses become dead letters. What it indexed, copies aside, goes on to
``<ns>.indexed`` as the very bytes it read, for alert matching in its own stage: an alert
failure then retries alerts, never a sink batch."""

from __future__ import annotations

from newsflow.core import metrics
from newsflow.core.errors import InvalidArticle
from processors.worker.adapter import Batch, Message, Out, Step
from processors.worker.runtime import Runtime
from schemas.article import Article


def build(runtime: Runtime) -> Step:
    """The step of stage ``sink``."""

    async def index(batch: Batch[Article]) -> Out:
        await runtime.start()
        # The last of one id wins, as it would in the index.
        docs: dict[str, tuple[Message, Article]] = {a.id: (m, a) for m, a in batch.items}
        sink = runtime.sinks[runtime.names.articles_index]
        result = await sink.write([(i, a.model_dump(mode="json")) for i, (_, a) in docs.items()])
        metrics.ARTICLES_OUT.labels("sink").inc(result.indexed)
        out = Out()
        for doc_id, (message, article) in docs.items():
            if doc_id in result.rejected:
                out.reject(message, InvalidArticle(*result.rejected[doc_id]))
            elif not article.is_duplicate and message.value is not None:
                out.emit("indexed_topic", doc_id, message.value)
        return out

    return index
