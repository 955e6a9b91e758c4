"""What the engines that answer through a model share: their ``LLMClient``, made once, on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..extractive import METHODS, SENTENCES
from ..terms import Evidence
from .base import Wiring

if TYPE_CHECKING:
    from ..calls import ResolvedCall
    from ..config import Settings
    from ..result import Result
    from ..sources import Article
    from .client import LLMClient
    from .local_model import LocalModel


class ModelEngine:
    """An engine whose answers come from a model through ``LLMClient`` (instructor over ``create``)."""

    name = "llm"
    uses_model = True
    paid = False
    fallback = False
    batch_api = False
    evidence: Evidence = "verbatim"
    field_groups = False
    hybrid_by_default = False

    def __init__(self, settings: Settings, wiring: Wiring | None = None) -> None:
        self.settings = settings
        self.wiring = wiring or Wiring()
        self.hybrid = settings.hybrid if settings.hybrid is not None else self.hybrid_by_default
        self._client: LLMClient | None = None
        self._lock = threading.Lock()

    @property
    def local_model(self) -> LocalModel | None:
        """The GGUF model run in a worker process, for the local engine; None for an endpoint."""
        return None

    @property
    def client(self) -> LLMClient:
        if self._client is None:
            local = self.local_model
            cache = self.wiring.cache()
            with self._lock:
                if self._client is None:
                    from ..exchanges import ExchangeLog
                    from .client import LLMClient
                    from .modes import ModeMemory

                    modes = ModeMemory(cache.endpoint_mode, cache.remember_mode) if cache else ModeMemory()
                    path = self.settings.resolved_log_path
                    log = ExchangeLog(path) if self.settings.log and ExchangeLog.enabled(path) else None
                    self._client = LLMClient(
                        self.settings,
                        transport=self.wiring.transport,
                        local=local,
                        modes=modes,
                        log=log,
                        throttle=self.wiring.pacer,
                    )
        return self._client

    @property
    def made_client(self) -> LLMClient | None:
        """The client if one was made (closing, counting 429s: nothing to make for that)."""
        return self._client

    def concurrency(self, settings: Settings) -> int:
        return settings.concurrency

    def model_name(self, asked: str) -> str:
        return asked

    def model_id(self, asked: str) -> str:
        return asked

    def describe(self, asked: str) -> str:
        return f"{self.name}:{asked}"

    def models(self) -> list[str]:
        return list(self.client.models())

    def unused(self, call: ResolvedCall) -> list[str]:
        """What a model engine does not take, said in ``meta.warnings`` (the call's options or the settings):
        the summary's length and ranking method are the extractive engine's."""
        said = []
        sentences = call.sentences
        if sentences != SENTENCES:
            said.append(
                f"--sentences {sentences} is for the extractive engine; the model writes the summary in at most "
                "the schema's sentences"
            )
        method = call.method
        if method != METHODS[0]:
            said.append(f"--method {method} is for the extractive engine; the model chooses what matters itself")
        return said

    def answer_at_once(
        self, article: Article, call: ResolvedCall, context: dict[str, Any], started: float
    ) -> Result[Any] | None:
        return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            if self._client.log is not None:
                self._client.log.close()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
