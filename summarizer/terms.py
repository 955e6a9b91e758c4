"""The small vocabulary every layer shares, written once and cheap to import (no pydantic: the CLI's
``--help`` imports it): styles, modes, engines, and the patterns for language codes and model names."""

from __future__ import annotations

from typing import Literal

Style = Literal["brief", "standard", "dense"]
Mode = Literal["tools", "json_schema", "json", "md_json"]  # instructor.Mode's TOOLS, JSON_SCHEMA, JSON, MD_JSON
ModeSetting = Literal["auto", "tools", "json_schema", "json", "md_json"]  # auto: probed once per endpoint
Engine = Literal["auto", "llm", "local", "hybrid", "extractive"]
# How the extractive engine ranks sentences (--method); extractive.METHODS, the first the default
Method = Literal["lexrank", "textrank", "luhn", "lead"]
MAX_SENTENCES = 50  # the most --sentences takes
LANGUAGE_PATTERN = r"^[A-Za-z]{2}$"  # ISO 639-1
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"  # gpt-4o-mini, llama3.1:8b, org/Model-7B
Evidence = Literal["verbatim", "numbers"]  # verbatim: the model copies; numbers: it points at numbered sentences
# How a logged exchange with a model ended (``summarizer logs list --status``; exchanges.Exchange)
ExchangeStatus = Literal["ok", "invalid", "truncated", "error"]
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # a cache location that is a Redis URL


def is_redis_url(location: object) -> bool:
    return isinstance(location, str) and location.lower().startswith(REDIS_SCHEMES)
