"""A validated, cleaned article with its id: what flows between the internal stages.

Its fields are also the first fields of the indexed document: :class:`schemas.article.Article`
extends it, so a field of the clean article is declared here only.
"""

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
    body: str = Field(min_length=1, description="Clean text, no markup.")
    published_at: datetime | None = None
    language: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict, description="Producer metadata (stored).")
    content_hash: str = Field(description="Hash of the normalized clean body.")
    replay_tag: str | None = Field(None, description="Tag of the replay that sent it, if any.")
    alerts_suppressed: bool = Field(False, description="True: this article fires no alert.")
