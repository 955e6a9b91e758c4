"""The hybrid engine (``--engine hybrid``): the tool finds, the model writes (``summarizer.hybrid``), over
the endpoint when one is configured, else over the local model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Wiring
from .endpoint import EndpointEngine
from .local import LocalEngine

if TYPE_CHECKING:
    from ..config import Settings


def hybrid_engine(settings: Settings, wiring: Wiring | None = None) -> EndpointEngine | LocalEngine:
    """The model engine behind it, going the hybrid way unless ``hybrid = false``."""
    engine: EndpointEngine | LocalEngine = (
        EndpointEngine(settings, wiring) if settings.llm_configured else LocalEngine(settings, wiring)
    )
    engine.hybrid = settings.hybrid if settings.hybrid is not None else True
    return engine
