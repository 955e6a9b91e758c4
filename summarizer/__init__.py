"""summarizer: news articles into structured, grounded summaries with an LLM.

    from summarizer import Summarizer
    result = Summarizer(model="gpt-4o-mini").summarize(text)
    result.summary, result.meta

Names are imported on first use, so ``import summarizer`` (and the CLI's start-up)
stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Summarizer": "core",
    "summarize": "core",
    "asummarize": "core",
    "Result": "result",
    "Meta": "result",
    "Usage": "result",
    "Settings": "config",
    "load_settings": "config",
    "Article": "sources",
    "Verbatim": "grounding",
    "Mentioned": "grounding",
    "SummarizerError": "errors",
    "InputError": "errors",
    "ConfigError": "errors",
    "LLMError": "errors",
    "LLMTimeout": "errors",
    "ValidationFailed": "errors",
    "CacheMiss": "errors",
    "OutputError": "errors",
    "InputTooLarge": "errors",
    "CallOptions": "options",
    "Ledger": "result",
    "ResolvedCall": "calls",
}
__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:
    from .calls import ResolvedCall
    from .config import Settings, load_settings
    from .core import Summarizer, asummarize, summarize
    from .errors import (
        CacheMiss,
        ConfigError,
        InputError,
        InputTooLarge,
        LLMError,
        LLMTimeout,
        OutputError,
        SummarizerError,
        ValidationFailed,
    )
    from .grounding import Mentioned, Verbatim
    from .options import CallOptions
    from .result import Ledger, Meta, Result, Usage
    from .sources import Article


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
