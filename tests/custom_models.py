"""A pydantic model importable as ``tests.custom_models:Claims`` (for --schema module:Class tests)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from summarizer import Verbatim


class Claims(BaseModel):
    """Claims made in the article, each with its supporting sentence."""

    claims: list[str] = Field(min_length=1)
    support: Verbatim
