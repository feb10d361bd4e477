"""The raw article: the JSON value any producer writes to ``<ns>.raw``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A replay tag is a keyword for dashboard filters: a short name, no spaces.
REPLAY_TAG_MAX = 128
REPLAY_TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class RawArticle(BaseModel):
    """An article as a producer sends it. Only ``body`` is required."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    body: str = Field(min_length=1, description="Article text; may contain markup.")
    id: str | None = Field(None, min_length=1, max_length=512, description="Stable article id.")
    url: str | None = Field(None, max_length=8192, description="Canonical URL of the article.")
    source: str | None = Field(None, max_length=512, description="Outlet or feed name.")
    title: str | None = Field(None, max_length=8192, description="Headline.")
    published_at: datetime | None = Field(None, description="Publication time, ISO 8601.")
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code, if known.")
    meta: dict[str, Any] | None = Field(None, description="Free-form producer metadata.")
    replay_tag: str | None = Field(
        None,
        max_length=REPLAY_TAG_MAX,
        pattern=REPLAY_TAG_PATTERN,
        description="Names the replay that sent it (`newsflow replay --tag`), for filtering.",
    )
    alerts_suppressed: bool | None = Field(
        None, description="True: fires no alert (`newsflow replay --no-alerts`)."
    )
