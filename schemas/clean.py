"""A validated, cleaned article with its id: what flows between the internal stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CleanArticle(BaseModel):
    """A raw article after decoding, validation and cleaning (stage ``clean``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str | None = None
    source: str | None = None
    title: str | None = None
    body: str = Field(min_length=1)
    published_at: datetime | None = None
    language: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    content_hash: str
    replay_tag: str | None = None
    alerts_suppressed: bool = False
