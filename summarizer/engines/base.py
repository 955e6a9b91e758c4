"""What an engine is to the rest of the package: the ``Engine`` protocol, and the seams it is built with.

Everything that differs between engines (which model a call names, how tokens are counted, the
context window, the defaults for evidence, field groups and concurrency, whether answers cost money)
is an attribute or a method here, so no code outside ``engines/`` compares engine names: a new
engine is one module and one line in the registry (``engines/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..terms import Evidence
from ..tokens import TokenCount

if TYPE_CHECKING:
    from ..cache import AnswerCache
    from ..calls import ResolvedCall
    from ..config import Settings
    from ..result import Result
    from ..schemas import SchemaSpec
    from ..sources import Article
    from .client import LLMClient


class Pacer(Protocol):
    """Paces request starts (``throttle.Throttle`` in a process; the Ray runner's ``SharedThrottle`` across a
    cluster) and hears how the endpoint answered."""

    rate_limited: int
    tpm: float | None

    def wait(self, tokens: int = 0) -> None: ...

    async def await_turn(self, tokens: int = 0) -> None: ...

    def on_rate_limited(self, retry_after: float | None) -> None: ...

    def on_success(self) -> None: ...


class Transport(Protocol):
    """An httpx2 transport for both the sync and the async client (``httpx2.MockTransport`` in tests): what the
    openai clients send through instead of the network."""

    def handle_request(self, request: Any) -> Any: ...

    async def handle_async_request(self, request: Any) -> Any: ...


@dataclass
class Wiring:
    """What a model engine is built with besides the settings: where requests go instead of the network,
    who paces them, and where ``--mode auto`` remembers what it learnt (the answer cache, read lazily)."""

    transport: Transport | None = None
    pacer: Pacer | None = None
    cache: Callable[[], AnswerCache | None] = field(default=lambda: None)


class Engine(Protocol):
    """An engine answers calls: through a model (``client``: instructor's validation loop over an
    OpenAI-compatible ``create``), or at once by rules (``answer_at_once``)."""

    #: What ``meta.engine`` says of its answers: ``llm``, ``local`` or ``extractive`` (``hybrid`` when a call
    #: goes the hybrid way).
    name: str
    #: False: the engine answers by rules, with no model, no tokens and no cost.
    uses_model: bool
    #: Its answers are billed per token (an endpoint): a batch prices them from ``prices``.
    paid: bool
    #: The tool finds, the model writes (``hybrid.py``), for schemas that allow it.
    hybrid: bool
    #: Chosen by ``engine = auto`` because no LLM is configured: the CLI says so once.
    fallback: bool
    #: How verbatim fields are asked for, unless the settings say (``evidence``).
    evidence: Evidence
    #: Whether a record longer than the answer budget is asked in field groups, unless the settings say.
    field_groups: bool
    #: Can send through the OpenAI Batch API (``--via batch-api``).
    batch_api: bool

    def concurrency(self, settings: Settings) -> int:
        """Items in flight in a batch when the caller does not say."""
        ...

    def model_id(self, asked: str) -> str:
        """What the cache key and the exchange log call the model of a call that asks for ``asked``."""
        ...

    def model_name(self, asked: str) -> str:
        """What ``meta.model`` says."""
        ...

    def describe(self, asked: str) -> str:
        """One word for reports: ``llm:gpt-4o-mini``, ``local``, ``extractive``."""
        ...

    def count(self, text: str, model: str) -> TokenCount:
        """Tokens of ``text`` for ``model`` (exact where the tokenizer is known, else an estimate)."""
        ...

    def context_window(self, model: str) -> int: ...

    def models(self) -> list[str]:
        """What it can run: the endpoint's models (``GET /v1/models``), the local model file, nothing."""
        ...

    def warm_up(self, spec: SchemaSpec) -> None:
        """Import and load now what the first call would."""
        ...

    @property
    def client(self) -> LLMClient:
        """The model behind it (made on first use); a ``ConfigError`` for an engine without one."""
        ...

    def unused(self, call: ResolvedCall) -> list[str]:
        """What this engine leaves out of ``call`` (an option it has no use for), said in ``meta.warnings``."""
        ...

    def answer_at_once(
        self, article: Article, call: ResolvedCall, context: dict[str, Any], started: float
    ) -> Result[Any] | None:
        """The answer without a model, if this engine gives one (the extractive engine); None: plan a request."""
        ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
