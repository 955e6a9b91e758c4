"""The model client: openai clients patched by instructor, each request paced, retried and logged.

instructor owns the validation loop (re-ask on an invalid answer, ``max_retries``).
Transport faults (429, 5xx, timeouts, dropped connections) are retried here, per HTTP
request, with tenacity: exponential backoff with jitter, ``Retry-After`` honoured,
bounded by attempts and total wait. The openai client's own retries are off, so this
is the only policy. openai and instructor are imported on first use, not at start-up.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

from ..calls import ResolvedCall
from ..config import Settings
from ..errors import LLMError
from ..exchanges import Exchange, ExchangeLog, new_id
from ..result import Ledger
from ..secrets import protect, redact, without_credentials
from ..throttle import Throttle, estimate_tokens
from .deferral import deferring
from .modes import PROBE_ORDER, ModeMemory, is_openai
from .repair import SHORTER, mark_cut, prepared
from .trace import TRACE_KEY, Trace, count_answer
from .translate import cause_of, translate
from .transport import TransportPolicy, error_detail, names_a_parameter, retry_after

if TYPE_CHECKING:
    import httpx2

    from .base import Pacer, Transport
    from .local_model import LocalModel


class LLMClient:
    """An endpoint and model family: lazily built sync and async instructor create functions.

    The async client is made per event loop (an HTTP connection pool cannot outlive the
    loop it was opened on), so one ``Summarizer`` serves ``asyncio.run`` after ``asyncio.run``.
    Every request, from any thread or loop, is paced by the one ``throttle``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport | None = None,
        local: LocalModel | None = None,
        modes: ModeMemory | None = None,
        log: ExchangeLog | None = None,
        throttle: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport  # an httpx2 transport for both clients (e.g. httpx2.MockTransport), or None
        self.local = local  # a ``local.LocalModel``: the engine is in this process, not behind an endpoint
        self.modes = modes or ModeMemory()
        self.log = log
        self._mode_lock = threading.Lock()
        self.policy = TransportPolicy(
            settings.transport_attempts,
            settings.transport_max_wait,
            base=settings.retry_backoff,
            timeout=settings.timeout,
        )
        self.throttle = throttle if throttle is not None else Throttle(settings.rpm, settings.tpm)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = weakref.WeakKeyDictionary()
        self._secrets = settings.secret_values()
        for secret in self._secrets:
            protect(secret)

    def _client_kwargs(self) -> dict[str, Any]:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        return {
            # Local servers (vLLM, Ollama, llama.cpp) accept any key; openai insists on one.
            "api_key": key or "not-needed",
            "base_url": self.settings.base_url,
            "timeout": self.settings.timeout,
            "max_retries": 0,
        }

    @cached_property
    def endpoint(self) -> str:
        """What the logs and the mode memory call this endpoint (never with credentials); computed once,
        it is read on every request."""
        if self.local is not None:
            return f"local:{self.local.path}"
        return without_credentials(self.settings.base_url) if self.settings.base_url else "https://api.openai.com/v1"

    @property
    def known_mode(self) -> str | None:
        """The mode requests go out in, if already decided (``--mode auto`` decides on the first request)."""
        if self.settings.mode != "auto":
            return self.settings.mode
        if self.local is not None:
            return "json_schema"  # compiled to a grammar by llama.cpp
        if is_openai(self.settings.base_url):
            return "tools"
        return self.modes.get(self.endpoint)

    @property
    def mode(self) -> str:
        """The mode, probing the endpoint once if ``--mode auto`` has not decided it yet."""
        known = self.known_mode
        if known is not None:
            return known
        with self._mode_lock:
            known = self.modes.get(self.endpoint)
            if known is None:
                known = self._probe()
                self.modes.put(self.endpoint, known)
            return known

    @cached_property
    def instructor_mode(self) -> Any:
        import instructor

        return getattr(instructor.Mode, self.mode.upper())  # tools -> TOOLS, json_schema -> JSON_SCHEMA

    def _probe(self) -> str:
        """The first mode of ``PROBE_ORDER`` the endpoint accepts: one tiny request per mode until one is taken.

        Accepted means answered (even badly: that is the model, not the mode); rejected means a 4xx, or a
        5xx that blames the request's shape (llama.cpp's server answers an unknown ``response_format`` with
        a 500). Any other fault (unreachable, bad key, unknown model) is that fault, and nothing is
        remembered."""
        import instructor
        import openai

        class Probe(BaseModel):
            ok: bool

        raw = self._raw_sync()
        rejected: list[str] = []
        for mode in PROBE_ORDER:
            create = instructor.patch(create=raw, mode=getattr(instructor.Mode, mode.upper()))
            trace = Trace(Ledger(), "probe-" + new_id(), self.engine_name, self.settings.model, mode, self.endpoint)
            try:
                create(
                    response_model=Probe,
                    model=self.settings.model,
                    max_tokens=48,
                    max_retries=0,
                    messages=[{"role": "user", "content": "Reply with ok set to true."}],
                    hooks=trace.hooks(),
                    **{TRACE_KEY: trace},  # type: ignore[arg-type]
                )
            except Exception as exc:
                cause = cause_of(exc, openai.OpenAIError)
                if (
                    isinstance(cause, openai.APIStatusError)
                    and cause.status_code not in (401, 403, 404, 429)
                    and (cause.status_code < 500 or names_a_parameter(cause))
                ):
                    rejected.append(mode)
                    continue
                if isinstance(cause, openai.OpenAIError):
                    raise translate(self, exc) from exc
            finally:
                self._record(trace)
            return mode
        raise LLMError(
            f"{self.endpoint} rejected every mode tried ({', '.join(rejected)})",
            reason="unsupported",
            hint="is it an OpenAI-compatible chat completions endpoint?",
        )

    @property
    def engine_name(self) -> str:
        return "local" if self.local is not None else "llm"

    @cached_property
    def openai_client(self) -> Any:
        import openai

        kwargs = self._client_kwargs()
        if self.transport is not None:
            import httpx2

            sync_transport = cast("httpx2.BaseTransport", self.transport)
            kwargs["http_client"] = httpx2.Client(transport=sync_transport, timeout=self.settings.timeout)
        return openai.OpenAI(**kwargs)

    @property
    def async_openai_client(self) -> Any:
        return self._for_loop()[0]

    def _for_loop(self) -> tuple[Any, Callable[..., Awaitable[Any]]]:
        loop = asyncio.get_running_loop()
        made = self._async.get(loop)
        if made is None:
            import openai

            kwargs = self._client_kwargs()
            if self.transport is not None:
                import httpx2

                async_transport = cast("httpx2.AsyncBaseTransport", self.transport)
                kwargs["http_client"] = httpx2.AsyncClient(transport=async_transport, timeout=self.settings.timeout)
            client = openai.AsyncOpenAI(**kwargs)
            made = self._async[loop] = (client, self._patch_async(client))
        return made

    def _cost(self, kwargs: dict[str, Any]) -> int:
        return estimate_tokens(kwargs, self.settings.max_tokens) if self.throttle.tpm else 0

    def _answered(self, exc: BaseException, exchange: Exchange | None = None, began: float = 0.0) -> None:
        """Tell the throttle what the endpoint said: 429, or another answer (it got through the limit);
        and the log what went wrong."""
        if exchange is not None:
            exchange.failed(
                " ".join(redact(f"{type(exc).__name__}: {error_detail(exc)}", self._secrets).split())[:300], began
            )
        status = getattr(exc, "status_code", None)
        if status == 429:
            self.throttle.on_rate_limited(retry_after(exc))
        elif status is not None:
            self.throttle.on_success()

    def _raw_sync(self) -> Callable[..., Any]:
        """The sync ``create`` of the engine, each request and its answer (or fault) noted in the trace."""
        from tenacity import Retrying

        raw = self.local.create if self.local is not None else self.openai_client.chat.completions.create
        policy, throttle = self.policy, self.throttle

        def create(*args: Any, **kwargs: Any) -> Any:
            trace: Trace | None = kwargs.pop(TRACE_KEY, None)
            ledger = trace.ledger if trace else None
            cost = self._cost(kwargs)
            for attempt in Retrying(**policy.retrying_kwargs(kwargs, ledger)):
                with attempt:
                    throttle.wait(cost)
                    exchange, began = self._sent(trace, kwargs)
                    try:
                        completion = raw(*args, **kwargs)
                    except Exception as exc:
                        self._answered(exc, exchange, began)
                        raise
                    throttle.on_success()
            mark_cut(completion, kwargs.get("max_tokens"))
            count_answer(trace, completion, exchange, began)
            return completion

        return create

    def warm_up(self) -> None:
        """Build openai's client and instructor's patch now, not on the first request."""
        _ = self._create

    @cached_property
    def _create(self) -> Callable[..., Any]:
        import instructor

        return instructor.patch(create=self._raw_sync(), mode=self.instructor_mode)

    def _patch_async(self, client: Any) -> Callable[..., Awaitable[Any]]:
        import instructor
        from tenacity import AsyncRetrying

        if self.local is not None:
            local = self.local

            async def raw(*args: Any, **kwargs: Any) -> Any:
                return await asyncio.to_thread(local.create, *args, **kwargs)
        else:
            raw = client.chat.completions.create
        policy, throttle = self.policy, self.throttle

        async def create(*args: Any, **kwargs: Any) -> Any:
            trace: Trace | None = kwargs.pop(TRACE_KEY, None)
            ledger = trace.ledger if trace else None
            deferral = deferring.get()  # the Batch API path: see ``deferral``
            if deferral is not None:
                answer = await deferral(kwargs, ledger)  # raises Deferred to send it later; None: now
                if answer is not None:
                    exchange, began = self._sent(trace, kwargs)
                    mark_cut(answer, kwargs.get("max_tokens"))
                    count_answer(trace, answer, exchange, began)
                    return answer
            cost = self._cost(kwargs)
            async for attempt in AsyncRetrying(**policy.retrying_kwargs(kwargs, ledger)):
                with attempt:
                    await throttle.await_turn(cost)
                    exchange, began = self._sent(trace, kwargs)
                    try:
                        completion = await raw(*args, **kwargs)
                    except Exception as exc:
                        self._answered(exc, exchange, began)
                        raise
                    throttle.on_success()
            mark_cut(completion, kwargs.get("max_tokens"))
            count_answer(trace, completion, exchange, began)
            return completion

        return instructor.patch(create=create, mode=self.instructor_mode)

    @staticmethod
    def _sent(trace: Trace | None, kwargs: dict[str, Any]) -> tuple[Exchange | None, float]:
        if trace is None:
            return None, time.perf_counter()
        trace.ledger.requests += 1
        return trace.sent(kwargs), time.perf_counter()

    def models(self) -> list[str]:
        """The models the endpoint serves (``GET /v1/models``), or the local engine's file."""
        if self.local is not None:
            return [self.local.name]
        try:
            return sorted(model.id for model in self.openai_client.models.list())
        except Exception as exc:
            raise translate(self, exc) from exc

    def close(self) -> None:
        """Close the HTTP clients that were opened (they are created on first use)."""
        if "openai_client" in self.__dict__:
            self.openai_client.close()

    async def aclose(self) -> None:
        """Close this event loop's async client (each loop has its own)."""
        made = self._async.pop(asyncio.get_running_loop(), None)
        if made is not None:
            await made[0].close()

    def request(
        self,
        model: type[BaseModel],
        messages: list[dict[str, Any]],
        context: dict[str, Any],
        max_retries: int,
        *,
        call: ResolvedCall | None = None,
        ledger: Ledger | None = None,
        max_tokens: int | None = None,
        call_id: str | None = None,
    ) -> BaseModel:
        """One validated answer (re-asked up to ``max_retries`` times; an answer cut by the token limit is
        re-asked shorter, from the same budget); what it cost goes into ``ledger``, each exchange to the log."""
        trace, kwargs = self._request_kwargs(model, messages, context, max_retries, call, ledger, max_tokens, call_id)
        try:
            while True:
                try:
                    return self._create(**kwargs)  # type: ignore[no-any-return]
                except Exception as exc:
                    kwargs = self._shorter(exc, kwargs, trace, messages, max_retries)
        except Exception as exc:
            raise translate(self, exc, trace) from exc
        finally:
            self._record(trace)

    async def arequest(
        self,
        model: type[BaseModel],
        messages: list[dict[str, Any]],
        context: dict[str, Any],
        max_retries: int,
        *,
        call: ResolvedCall | None = None,
        ledger: Ledger | None = None,
        max_tokens: int | None = None,
        call_id: str | None = None,
    ) -> BaseModel:
        """``request`` for async code."""
        if self.known_mode is None:
            await asyncio.to_thread(lambda: self.mode)  # probe once, off the event loop
        trace, kwargs = self._request_kwargs(model, messages, context, max_retries, call, ledger, max_tokens, call_id)
        try:
            while True:
                try:
                    return await self._for_loop()[1](**kwargs)  # type: ignore[no-any-return]
                except Exception as exc:
                    kwargs = self._shorter(exc, kwargs, trace, messages, max_retries)
        except Exception as exc:
            raise translate(self, exc, trace) from exc
        finally:
            self._record(trace)

    def _shorter(
        self, exc: Exception, kwargs: dict[str, Any], trace: Trace, messages: list[dict[str, Any]], max_retries: int
    ) -> dict[str, Any]:
        """The request again, asking for a shorter answer, if ``exc`` is a cut-off answer and the re-ask
        budget allows; else ``exc`` is raised."""
        from instructor.core.exceptions import IncompleteOutputException

        left = max_retries + 1 - trace.answers
        if not isinstance(exc, IncompleteOutputException) or left <= 0:
            raise exc
        if trace.exchanges:
            trace.exchanges[-1].status = "truncated"
        limit = kwargs.get("max_tokens") or "its"
        note = {"role": "user", "content": SHORTER.format(limit=limit)}
        return {**kwargs, "messages": [*messages, note], "max_retries": left - 1}

    def _record(self, trace: Trace) -> None:
        if self.log is not None:
            self.log.record(trace.exchanges)

    def _request_kwargs(
        self,
        model: type[BaseModel],
        messages: list[dict[str, Any]],
        context: dict[str, Any],
        max_retries: int,
        call: ResolvedCall | None,
        ledger: Ledger | None,
        max_tokens: int | None,
        call_id: str | None,
    ) -> tuple[Trace, dict[str, Any]]:
        name = call.model if call is not None else self.settings.model
        trace = Trace(
            ledger if ledger is not None else Ledger(),
            call_id or new_id(),
            self.engine_name,
            self.local.model_id if self.local is not None else name,
            self.mode,
            self.endpoint,
        )
        # instructor passes keywords it does not know through to ``create``, which takes the trace out.
        kwargs: dict[str, Any] = {
            "model": name,
            "response_model": prepared(model),
            "messages": messages,
            "context": context,
            "max_retries": max_retries,
            "hooks": trace.hooks(),
            TRACE_KEY: trace,
        }
        temperature = call.temperature if call is not None else self.settings.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        limit = (call.max_tokens if call is not None else self.settings.max_tokens) or max_tokens
        if limit is not None:
            kwargs["max_tokens"] = limit
        return trace, kwargs
