"""Stage ``clean``: raw messages to clean articles signed for dedup (or dead letters).

It reads the bytes itself: :func:`processors.stages.decode.decode` says why a value is not an
article (not UTF-8, not JSON, no body, ...), with the error kinds of the contract.
"""

from __future__ import annotations

import asyncio

from newsflow.core.errors import InvalidArticle
from processors.stages import minhash
from processors.stages.decode import decode
from processors.stages.dedup import signature
from processors.worker.adapter import Batch, Out, Step
from processors.worker.pipeline import unexpected
from processors.worker.runtime import Runtime
from schemas.work import Prepared

# Kafka's default max.message.bytes: a larger value cannot be a message of ours, and the
# markup of a larger body would hold a batch for seconds while it is parsed.
MAX_MESSAGE_BYTES = 1024 * 1024


def prepare(value: bytes | None, max_bytes: int = MAX_MESSAGE_BYTES) -> Prepared | InvalidArticle:
    """Decode, validate and clean a raw value; sign it for dedup. Never raises."""
    try:
        article = decode(value, max_bytes)
        sig = minhash.encode(signature(article.body))
    except InvalidArticle as exc:
        return exc
    except Exception as exc:  # a bug on one input must not stop the worker
        return unexpected(exc)
    return Prepared(article=article, signature=sig)


def build(runtime: Runtime) -> Step:
    """The step of stage ``clean``."""

    async def clean(batch: Batch[bytes | None]) -> Out:
        # Markup parsing and MinHash cost about a millisecond an article: off the loop.
        results = await asyncio.to_thread(lambda: [prepare(v) for _, v in batch.items])
        out = Out()
        for (message, _), result in zip(batch.items, results, strict=True):
            if isinstance(result, InvalidArticle):
                out.reject(message, result)
            else:
                out.emit("dedup_topic", result.article.id, result)
        return out

    return clean
