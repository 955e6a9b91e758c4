"""What a summarize call returns: the validated schema instance and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T", bound=BaseModel)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Meta(BaseModel):
    """How a summary was produced. ``usage`` and ``attempts`` describe the call that made the
    answer; on a cache hit (``cached``) they are that original call's, and nothing was spent now."""

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    engine: Literal["llm", "local", "hybrid", "extractive"]
    model: str | None = None
    schema_name: str = Field(alias="schema")
    mode: str | None = None
    prompt_version: str | None = None
    cached: bool = False
    attempts: int = 0
    requests: int = 0
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    source: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    source_language: str | None = Field(default=None, description="ISO 639-1 code detected in the article.")
    language: str | None = Field(default=None, description="The language the summary was asked for, if any.")
    input_tokens: int | None = Field(default=None, description="The article's tokens for this model.")
    tokens_estimated: bool = Field(default=False, description="input_tokens is an estimate (no tokenizer offline).")
    chunks: int = Field(default=1, description="Parts the article was split into (1: it fit the model).")
    reduce_steps: int = Field(default=0, description="Requests that merged the parts' summaries.")
    style: str = "standard"
    degenerate_answers: int = Field(
        default=0,
        description="Hybrid engine: answers re-asked or patched because "
        "some of their text was degenerate (a loop, an echo, markup, a placeholder).",
    )
    rounds: list[dict[str, Any]] = Field(default_factory=list, description="Chain of Density rounds (style dense).")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


@dataclass(frozen=True)
class Result(Generic[T]):
    summary: T
    meta: Meta

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.model_dump(mode="json"), "meta": self.meta.to_dict()}


@dataclass
class Ledger:
    """What a call spent: handed to every request it makes, filled in by the request as it goes.

    The caller makes one (``Summarizer.summarize(..., ledger=...)``, one per batch item) and
    reads it afterwards, whether the call succeeded or failed: ``meta.requests`` and
    ``meta.usage`` come from it, and so does a batch's spend on items that failed.
    ``requests`` are HTTP requests (transport retries included), ``completions`` the
    answers received (1 + re-asks)."""

    completions: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    batch_prompt_tokens: int = 0  # of those, tokens of answers that came from a Batch API batch
    batch_completion_tokens: int = 0
    transport_errors: list[str] = field(default_factory=list)

    def add_usage(self, usage: Any) -> None:
        if usage is not None:
            self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
            self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0
