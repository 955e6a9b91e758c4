"""The local engine: a GGUF model run by llama.cpp in a worker process of this machine (``local_model``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..terms import Evidence
from ..tokens import TokenCount
from .model import ModelEngine

if TYPE_CHECKING:
    from ..config import Settings
    from ..schemas import SchemaSpec
    from .local_model import LocalModel


class LocalEngine(ModelEngine):
    """Small models: evidence by sentence number, records in field groups, the hybrid way by default, one
    request at a time (a llama.cpp context answers one; more in flight only queue and hold memory)."""

    name = "local"
    evidence: Evidence = "numbers"
    field_groups = True
    hybrid_by_default = True

    @property
    def local_model(self) -> LocalModel:
        """The process's one ``LocalModel`` for the configured file (started on first use)."""
        from . import local_model

        return local_model.shared(local_model.model_path(self.settings.model_path), self.settings.local_context)

    def concurrency(self, settings: Settings) -> int:
        return settings.concurrency if "concurrency" in settings.model_fields_set else 1

    def model_id(self, asked: str) -> str:
        return self.local_model.model_id

    def model_name(self, asked: str) -> str:
        return self.local_model.name

    def describe(self, asked: str) -> str:
        return f"{self.name}:{self.local_model.name}"

    def count(self, text: str, model: str) -> TokenCount:
        return self.local_model.count(text)

    def context_window(self, model: str) -> int:
        local = self.local_model
        return int(self.settings.context_windows.get(local.name, local.context_window))

    def models(self) -> list[str]:
        return [self.local_model.name]

    def warm_up(self, spec: SchemaSpec) -> None:
        self.local_model.warm_up()  # the worker process and the weights (~0.5 s for the small model)
