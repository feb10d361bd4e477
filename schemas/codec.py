"""The one codec: models to JSON bytes on the wire and back."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def dumps(model: BaseModel) -> bytes:
    """A model as compact JSON bytes (``None`` fields kept, so documents have every field)."""
    return model.model_dump_json().encode("utf-8")


def loads(model_type: type[M], data: bytes | str) -> M:
    """Parse and validate JSON bytes as ``model_type``; raises ``pydantic.ValidationError``."""
    return model_type.model_validate_json(data)
