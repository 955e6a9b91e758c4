"""The extractive engine: no model; the record is built by rules from the article's own sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import extractive
from ..errors import ConfigError
from ..terms import Evidence
from ..text import detect_language
from ..tokens import TokenCount, estimate

if TYPE_CHECKING:
    from ..calls import ResolvedCall
    from ..config import Settings
    from ..result import Result
    from ..schemas import SchemaSpec
    from ..sources import Article
    from .client import LLMClient


class ExtractiveEngine:
    """Answers at once, offline, for nothing; ``fallback`` when ``auto`` chose it for want of an LLM."""

    name = "extractive"
    uses_model = False
    paid = False
    hybrid = False
    batch_api = False
    evidence: Evidence = "verbatim"
    field_groups = False

    def __init__(self, settings: Settings, *, fallback: bool = False) -> None:
        self.settings = settings
        self.fallback = fallback

    def concurrency(self, settings: Settings) -> int:
        return settings.concurrency

    def model_id(self, asked: str) -> str:
        return self.name

    def model_name(self, asked: str) -> str:
        return self.name

    def describe(self, asked: str) -> str:
        return self.name

    def count(self, text: str, model: str) -> TokenCount:
        return TokenCount(estimate(text), False, "estimate")

    def context_window(self, model: str) -> int:
        return 0

    def models(self) -> list[str]:
        return []

    def warm_up(self, spec: SchemaSpec) -> None:
        pass

    @property
    def client(self) -> LLMClient:
        raise ConfigError("the extractive engine uses no model", hint="choose --engine llm or local")

    def unused(self, call: ResolvedCall) -> list[str]:
        return []

    def answer_at_once(
        self, article: Article, call: ResolvedCall, context: dict[str, Any], started: float
    ) -> Result[Any] | None:
        return extractive.as_result(
            article,
            call.spec,
            context,
            started,
            call.language,
            detect_language(article.text),
            sentences=call.sentences,
            method=call.method,
        )

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
