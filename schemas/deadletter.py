"""A dead letter: a message that can never be processed, with why (``<ns>.deadletter``)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    """The original bytes of a failed message, where it came from and why it failed."""

    model_config = ConfigDict(frozen=True)

    value: str = Field(description="The original message value, verbatim or base64.")
    value_encoding: Literal["utf-8", "base64"]
    key: str | None = None
    error: str = Field(description="Short error kind, e.g. not_json, schema, blank_body.")
    reason: str = Field(description="Human-readable reason.")
    stage: str = Field(description="Pipeline stage that rejected the message.")
    topic: str
    partition: int
    offset: int
    attempts: int = 1
    failed_at: datetime
    requeued_at: datetime | None = Field(
        default=None,
        description="When `newsflow deadletter requeue` sent the original bytes again.",
    )

    @staticmethod
    def encode_value(raw: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
        """The original bytes as text: verbatim when valid UTF-8, else base64."""
        try:
            return raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii"), "base64"

    def original_bytes(self) -> bytes:
        """The message value exactly as it was read."""
        if self.value_encoding == "base64":
            return base64.b64decode(self.value)
        return self.value.encode("utf-8")
