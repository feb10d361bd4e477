"""Dead letters: a rejected message with its original bytes, origin and reason (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from newsflow.core.errors import InvalidArticle
from schemas.deadletter import DeadLetter


def dead_letter(
    value: bytes | None,
    key: bytes | None,
    error: InvalidArticle,
    *,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    attempts: int = 1,
) -> DeadLetter:
    """The dead letter for a message that ``stage`` rejected with ``error``."""
    text, encoding = DeadLetter.encode_value(value or b"")
    key_text = DeadLetter.encode_value(key)[0] if key is not None else None
    return DeadLetter(
        value=text,
        value_encoding=encoding,
        key=key_text,
        error=error.kind,
        reason=error.reason,
        stage=stage,
        topic=topic,
        partition=partition,
        offset=offset,
        attempts=attempts,
        failed_at=datetime.now(UTC),
    )


def dead_letter_id(letter: DeadLetter) -> str:
    """Stable id of a dead letter: where the message was read, so a replay overwrites it."""
    return f"{letter.topic}:{letter.partition}:{letter.offset}"
