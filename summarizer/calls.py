"""A call resolved: the settings and the call's own options made into one frozen value, once.

``Summarizer.resolve`` builds it at the top of every call (and a runner once per run); below it, the
workflow, the model client, the cache key and the runners read it, and nothing writes
``call.x or settings.x`` again. ``options`` keeps what the caller gave, for a job row or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import CallOptions
from .schemas import SchemaSpec
from .terms import Evidence, Method, ModeSetting, Style


@dataclass(frozen=True, slots=True)
class ResolvedCall:
    """Everything a call will do, decided: which schema, model, mode, style, language and limits."""

    options: CallOptions
    spec: SchemaSpec
    #: The model asked for by name (an endpoint's; the local engine's file name).
    model: str
    #: What the cache key and the exchange log call the model (the local engine: file name and hash).
    model_id: str
    #: ``auto`` or the instructor mode the settings fix.
    mode: ModeSetting
    style: Style
    language: str | None
    instructions: str | None
    temperature: float | None
    #: The ``max_tokens`` setting: when given, it wins over the schema's own answer limit.
    max_tokens: int | None
    max_retries: int
    evidence: Evidence
    #: This call goes the hybrid way: the engine does, and the schema allows it.
    hybrid: bool
    refresh: bool
    offline: bool
    #: The extractive engine's: sentences in the summary, and how they are ranked.
    sentences: int
    method: Method

    @property
    def schema_name(self) -> str:
        return self.spec.name
