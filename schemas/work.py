"""Records between the internal stages (not part of the public contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.clean import CleanArticle


class Prepared(BaseModel):
    """A clean article with its MinHash signature, on its way to the dedup decision."""

    model_config = ConfigDict(frozen=True)

    article: CleanArticle
    signature: str  # processors.stages.minhash.encode of the signature


class Deduped(BaseModel):
    """A clean article with the dedup decision, on its way to NER (or to its first copy)."""

    model_config = ConfigDict(frozen=True)

    article: CleanArticle
    is_duplicate: bool
    duplicate_of: str | None = None
    kind: str
    similarity: float | None = None
    # When the dedup stage first saw this id (the document's ``ingested_at``): a re-send keeps
    # it, so a replayed article is not new to a subscription made since it was first seen.
    first_seen: datetime | None = None
    # Since when this copy waits for its first-seen copy to be indexed (it is requeued to
    # ``<ns>.duplicates`` meanwhile, so that no batch is held long).
    waiting_since: datetime | None = None
