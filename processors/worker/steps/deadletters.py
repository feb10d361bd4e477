"""Stage ``deadletters``: dead letters into ``<ns>-deadletter``, so they can be searched.

It reads the bytes itself: a record someone else wrote to the dead-letter topic is indexed
as a dead letter of its own (``invalid_dead_letter``), never dead-lettered again (a loop).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from newsflow.core.errors import InvalidArticle
from processors.stages.deadletter import dead_letter, dead_letter_id
from processors.worker.adapter import Batch, Message, Out, Step
from processors.worker.runtime import Runtime
from schemas import codec
from schemas.deadletter import DeadLetter

log = logging.getLogger("newsflow.worker")
STAGE = "deadletters"


def letter_of(message: Message) -> DeadLetter:
    """The dead letter in ``message``, or one that says what the foreign record is."""
    try:
        return codec.loads(DeadLetter, message.value or b"")
    except ValidationError as exc:
        error = InvalidArticle("invalid_dead_letter", str(exc)[:500])
        return dead_letter(
            message.value,
            message.key,
            error,
            stage=STAGE,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )


def build(runtime: Runtime) -> Step:
    """The step of stage ``deadletters``."""

    async def index(batch: Batch[bytes | None]) -> Out:
        await runtime.start()
        docs: list[tuple[str, dict[str, Any]]] = []
        for message, _ in batch.items:
            letter = letter_of(message)
            docs.append((dead_letter_id(letter), letter.model_dump(mode="json")))
        result = await runtime.sinks[runtime.names.deadletter_index].write(docs)
        for doc_id, (kind, reason) in result.rejected.items():
            log.error(
                "dead letter not indexable", extra={"id": doc_id, "kind": kind, "why": reason}
            )
        return Out()

    return index
