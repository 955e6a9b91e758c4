"""The engines, behind one registry: ``engine_for(settings)`` is the one place an engine is chosen.

    >>> engine = engine_for(settings)          # settings.engine: auto, llm, local, hybrid, extractive
    >>> engine.uses_model, engine.name

A new engine is a module with a factory ``(settings, wiring) -> Engine`` and one line in ``FACTORIES``
(and its name in ``terms.Engine``, the settings' vocabulary).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import Engine, Pacer, Transport, Wiring
from .endpoint import EndpointEngine
from .extractive import ExtractiveEngine
from .hybrid import hybrid_engine
from .local import LocalEngine

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["FACTORIES", "Engine", "Pacer", "Transport", "Wiring", "engine_for"]

EngineFactory = Callable[["Settings", Wiring], Engine]  # a class or a function

FACTORIES: dict[str, EngineFactory] = {
    "llm": EndpointEngine,
    "local": LocalEngine,
    "hybrid": hybrid_engine,
    "extractive": lambda settings, wiring: ExtractiveEngine(settings),
}


def engine_for(settings: Settings, wiring: Wiring | None = None) -> Engine:
    """The engine ``settings`` ask for; ``auto`` is the endpoint when one is configured (or when ``offline``
    replays its cached answers), else the extractive engine (``fallback``). A ``ConfigError`` if the engine cannot
    run with these settings."""
    if settings.engine == "auto":
        if not settings.llm_configured and not settings.offline:
            return ExtractiveEngine(settings, fallback=True)
        return EndpointEngine(settings, wiring)
    return FACTORIES[settings.engine](settings, wiring or Wiring())
