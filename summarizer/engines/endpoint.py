"""The endpoint engine (``llm``): any OpenAI-compatible chat completions server (OpenAI, vLLM, Ollama,
llama.cpp's server, LM Studio)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import tokens
from ..errors import ConfigError
from .base import Wiring
from .model import ModelEngine

if TYPE_CHECKING:
    from ..config import Settings
    from ..schemas import SchemaSpec


class EndpointEngine(ModelEngine):
    """Requests go over HTTP; tokens are counted by the model family's tokenizer (tiktoken), or estimated."""

    name = "llm"
    paid = True
    batch_api = True

    def __init__(self, settings: Settings, wiring: Wiring | None = None) -> None:
        if not settings.llm_configured and not settings.offline:  # a replay from the cache sends nothing
            raise ConfigError(
                "no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server",
                hint="or use --engine extractive",
            )
        super().__init__(settings, wiring)

    def count(self, text: str, model: str) -> tokens.TokenCount:
        return tokens.count(text, model)

    def context_window(self, model: str) -> int:
        return tokens.context_window(model, self.settings.context_windows)

    def warm_up(self, spec: SchemaSpec) -> None:
        from tenacity import AsyncRetrying  # noqa: F401  (the async transport retries)

        from .client import prepared

        prepared(spec.model)
        self.client.warm_up()  # openai's client and instructor's patch, built once
        tokens.count("warm up", self.settings.model)  # loads the tokenizer's tables (~2 s, ~150 MB)
