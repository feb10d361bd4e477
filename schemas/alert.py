"""An alert: one subscription matched one article (``<ns>.alerts`` and ``<ns>-alerts``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Alert(BaseModel):
    """Fired once per (subscription, article); ``id`` is ``<subscription_id>:<article_id>``."""

    model_config = ConfigDict(frozen=True)

    subscription_id: str
    article_id: str
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    matched_at: datetime
    highlights: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """The alert's stable id."""
        return f"{self.subscription_id}:{self.article_id}"
