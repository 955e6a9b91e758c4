"""Counting tokens offline, and how many fit in a model's context window.

OpenAI models get exact counts from ``bpe-openai``, which ships the o200k/cl100k tables
inside the package (tiktoken downloads them on first use, which fails without network).
Other models (Llama, Mistral, Qwen behind vLLM or Ollama) get an estimate from characters
per token by script, calibrated with o200k on real news (en 4.7, de 4.3, fr 4.1,
fa 3.2, ur 3.1, ar 3.3 characters a token) and rounded down, so that an estimate errs
towards more tokens: a chunk that is a little small costs little, one that overflows fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

# Context windows in tokens (input + output); a model not listed gets DEFAULT_CONTEXT.
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "llama3.1": 131_072,
    "llama3.2": 131_072,
    "llama3.3": 131_072,
    "qwen2.5": 32_768,
    "mistral": 32_768,
    "gemma2": 8_192,
}
DEFAULT_CONTEXT = 8_192  # unknown (usually local) models: assume a small window rather than overflow
_O200K_FAMILIES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_FAMILIES = ("gpt-4", "gpt-3.5", "gpt-35")
_CHARS_PER_TOKEN = (  # (pattern for a script, characters per token)
    (re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"), 1.0),  # CJK, kana, hangul
    (re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"), 2.9),  # Arabic script
    (re.compile(r"[\u0400-\u04ff]"), 3.2),  # Cyrillic
    (re.compile(r"[\u0900-\u0dff]"), 2.5),  # Indic scripts
)
_LATIN = 4.0
_NON_LATIN = re.compile(r"[\u0370-\u1fff\u2e80-\ud7ff\uf900-\ufdff\ufe70-\ufeff]")


class TokenCount(NamedTuple):
    tokens: int
    exact: bool  # False: a calibrated estimate (the model's tokenizer is not available offline)
    encoding: str | None


@cache
def _encoding(model: str) -> Any:
    try:
        import bpe_openai
    except ImportError:  # an optional speed-up of accuracy; the estimate still works
        return None
    name = model.split("/")[-1].lower()
    try:
        return bpe_openai.encoding_for_model(name)
    except Exception:
        pass
    if name.startswith(_O200K_FAMILIES):
        return bpe_openai.get_encoding("o200k_base")
    if name.startswith(_CL100K_FAMILIES):
        return bpe_openai.get_encoding("cl100k_base")
    return None


def count(text: str, model: str) -> TokenCount:
    """Tokens of ``text`` for ``model``: exact for OpenAI models, else an estimate."""
    encoding = _encoding(model)
    if encoding is not None:
        # Ordinary text only: an article may contain "<|endoftext|>", which is data here. In pieces:
        # the encoder refuses very long inputs ("Input too long to encode safely", ~200k tokens).
        tokens = sum(len(encoding.encode_ordinary(piece)) for piece in _pieces(text))
        return TokenCount(tokens, True, getattr(encoding, "name", None))
    return TokenCount(estimate(text), False, None)


_PIECE = 50_000  # characters


def _pieces(text: str) -> list[str]:
    """``text`` cut at whitespace into pieces of about ``_PIECE`` characters (a token never spans a cut
    at whitespace, so the counts add up to within a token or two)."""
    if len(text) <= _PIECE:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + _PIECE)
        if end < len(text):
            space = text.rfind(" ", start + _PIECE // 2, end)
            end = space if space > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


def estimate(text: str) -> int:
    """Tokens from characters by script: each non-Latin script at its own rate, the rest as Latin."""
    if not text:
        return 0
    if text.isascii() or not _NON_LATIN.search(text):  # Latin script (typographic punctuation included)
        return math.ceil(len(text) / _LATIN)
    sample = text if len(text) <= 20_000 else text[:10_000] + text[-10_000:]
    scale = len(text) / len(sample)
    other = 0.0
    counted = 0
    for pattern, rate in _CHARS_PER_TOKEN:
        found = len(pattern.findall(sample))
        counted += found
        other += found / rate
    latin = (len(sample) - counted) / _LATIN
    return math.ceil((latin + other) * scale)


def context_window(model: str, overrides: Mapping[str, int] | None = None) -> int:
    """The model's context window; ``overrides`` (config ``context_windows``) win, then families."""
    table = {**CONTEXT_WINDOWS, **(overrides or {})}
    name = model.split("/")[-1]
    for candidate in (model, name, name.lower()):
        if candidate in table:
            return table[candidate]
    family = max(
        (known for known in table if name.lower().startswith((known + "-", known + ":"))), key=len, default=None
    )
    return table[family] if family else DEFAULT_CONTEXT
