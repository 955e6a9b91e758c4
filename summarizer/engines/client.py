"""The LLM endpoint: openai clients patched by instructor, with one transport-retry policy.

instructor owns the validation loop (re-ask on an invalid answer, ``max_retries``).
Transport faults (429, 5xx, timeouts, dropped connections) are retried here, per HTTP
request, with tenacity: exponential backoff with jitter, ``Retry-After`` honoured,
bounded by attempts and total wait. The openai client's own retries are off, so this
is the only policy. openai and instructor are imported on first use, not at start-up.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from pydantic import BaseModel

from ..config import Settings
from ..errors import LLMError, LLMTimeout, ValidationFailed
from ..exchanges import Exchange, ExchangeLog, new_id, request_record
from ..options import CallOptions
from ..secrets import protect, redact, without_credentials
from ..terms import Mode
from ..throttle import Throttle, estimate_tokens

_RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
CRASHES_TO_STOP = 3  # local worker crashes in a row, no answer between them: every item would crash too


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


class Deferred(Exception):  # not a failure: the request is to be sent later
    """Raised by a ``LLMClient.deferral`` that keeps a request to send later (the Batch API): ``body`` is the
    request exactly as it would have gone to the chat completions endpoint."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("deferred")
        self.body = body


_TRACE = "_summarizer_trace"  # the request keyword that carries a ``Trace`` through instructor to ``create``


@dataclass
class Trace:
    """One ``request`` (an answer, re-asks included) on its way through instructor: the call's ledger,
    and the exchanges it made, for the log. instructor's ``parse:error`` hook marks the last one invalid."""

    ledger: Ledger
    call_id: str
    engine: str
    model: str
    mode: str
    endpoint: str
    exchanges: list[Exchange] = field(default_factory=list)

    def sent(self, kwargs: dict[str, Any]) -> Exchange:
        exchange = Exchange(
            self.call_id,
            self.engine,
            self.model,
            self.mode,
            self.endpoint,
            attempt=len(self.exchanges) + 1,
            request=request_record(kwargs),
        )
        self.exchanges.append(exchange)
        return exchange

    @property
    def answers(self) -> int:
        """Answers received so far (an exchange that failed in transport had none)."""
        return sum(1 for exchange in self.exchanges if exchange.status != "error")

    def invalid(self, error: Exception, **_: Any) -> None:
        if self.exchanges:
            self.exchanges[-1].status = "invalid"
            self.exchanges[-1].errors = _validation_errors(error)

    def hooks(self) -> Any:
        from instructor.core.hooks import Hooks

        hooks = Hooks()
        hooks.on("parse:error", self.invalid)
        return hooks


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


_MODE_WORDS = (
    "response_format",
    "json_schema",
    "json_object",
    "tool_choice",
    "tools",
    "grammar",
    "not supported",
    "unsupported",
    "unrecognized",
    "unknown parameter",
    "extra inputs",
)


def is_read_timeout(exc: BaseException) -> bool:
    """The request went out and no answer came in time (not a connect timeout: that one never arrived).

    A server that is slow, not broken, keeps computing the abandoned request; re-sending it
    again and again only lengthens its queue."""
    import openai

    if not isinstance(exc, openai.APITimeoutError):
        return False
    cause = exc.__cause__ or exc.__context__
    return "Connect" not in type(cause).__name__ and "Pool" not in type(cause).__name__


def names_a_parameter(exc: BaseException) -> bool:
    """A server error that blames the request's shape (e.g. a 500 "response_format ... not supported")."""
    detail = _error_detail(exc).casefold()
    return any(word in detail for word in _MODE_WORDS)


def is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError) and exc.status_code in _RETRYABLE_STATUS:
        return not (exc.status_code >= 500 and names_a_parameter(exc))
    return False


class TransportPolicy:
    """Backoff schedule shared by the sync and async paths."""

    def __init__(
        self, attempts: int, max_wait: float, base: float = 0.5, cap: float = 30.0, timeout: float = 60.0
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.base = base
        self.cap = cap
        self.timeout = timeout

    def wait(self, attempt: int, exc: BaseException) -> float:
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, self.max_wait) + random.uniform(0, 0.1 * max(asked, 0.1))
        if is_read_timeout(exc):
            return 0.0  # the longer timeout is the back-off
        return random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))  # full jitter

    def retrying_kwargs(self, kwargs: dict[str, Any], ledger: Ledger | None = None) -> dict[str, Any]:
        """tenacity arguments for one request; ``kwargs`` (the request's) get a longer timeout after a
        read timeout, which is retried once only. Each retried fault is noted in ``ledger``."""
        from tenacity import retry_if_exception, stop_after_attempt, stop_before_delay

        timeouts = 0

        def retry(exc: BaseException) -> bool:
            nonlocal timeouts
            if is_read_timeout(exc):
                timeouts += 1
                if timeouts > 1:
                    return False
                kwargs["timeout"] = self.timeout * 2
                return True
            return is_transient(exc)

        return {
            "retry": retry_if_exception(retry),
            "stop": stop_after_attempt(self.attempts) | stop_before_delay(self.max_wait),
            "wait": lambda state: self.wait(state.attempt_number, state.outcome.exception()),
            "before_sleep": lambda state: _note_retry(ledger, state),
            "reraise": True,
        }


def _note_retry(ledger: Ledger | None, state: Any) -> None:
    if ledger is not None and state.outcome is not None:
        ledger.transport_errors.append(type(state.outcome.exception()).__name__)


def _other_mode(mode: str) -> str:
    return {"json_schema": "tools", "tools": "json", "json": "md_json"}.get(mode, "json")


PROBE_ORDER: tuple[Mode, ...] = ("json_schema", "tools", "json", "md_json")
SHORTER = (
    "Your answer was cut off at the limit of {limit} tokens before the JSON was complete. Answer again "
    "with the same structure, much shorter: fewer items in every list and short strings."
)


def is_openai(base_url: str | None) -> bool:
    return not base_url or "api.openai.com" in base_url


class ModeMemory:
    """Where ``--mode auto`` keeps what it learnt per endpoint (the cache database, else this process)."""

    def __init__(
        self, load: Callable[[str], str | None] | None = None, store: Callable[[str, str], None] | None = None
    ) -> None:
        self._known: dict[str, str] = {}
        self._load, self._store = load, store

    def get(self, endpoint: str) -> str | None:
        if endpoint not in self._known and self._load is not None:
            found = self._load(endpoint)
            if found:
                self._known[endpoint] = found
        return self._known.get(endpoint)

    def put(self, endpoint: str, mode: str) -> None:
        self._known[endpoint] = mode
        if self._store is not None:
            self._store(endpoint, mode)


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
        transport: Any = None,
        local: Any = None,
        modes: ModeMemory | None = None,
        log: ExchangeLog | None = None,
        throttle: Any = None,
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
        #: Async requests go here first (the Batch API path): it returns the answer to use, raises ``Deferred``
        #: to have the request sent later, or returns None to send it now.
        self.deferral: Callable[[dict[str, Any], Ledger | None], Awaitable[Any]] | None = None
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
                    **{_TRACE: trace},  # type: ignore[arg-type]
                )
            except Exception as exc:
                cause = _cause(exc, openai.OpenAIError)
                if (
                    isinstance(cause, openai.APIStatusError)
                    and cause.status_code not in (401, 403, 404, 429)
                    and (cause.status_code < 500 or names_a_parameter(cause))
                ):
                    rejected.append(mode)
                    continue
                if isinstance(cause, openai.OpenAIError):
                    raise self._translate(exc) from exc
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

            kwargs["http_client"] = httpx2.Client(transport=self.transport, timeout=self.settings.timeout)
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

                kwargs["http_client"] = httpx2.AsyncClient(transport=self.transport, timeout=self.settings.timeout)
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
                " ".join(redact(f"{type(exc).__name__}: {_error_detail(exc)}", self._secrets).split())[:300], began
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
            trace: Trace | None = kwargs.pop(_TRACE, None)
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
            _mark_cut(completion, kwargs.get("max_tokens"))
            _count(trace, completion, exchange, began)
            return completion

        return create

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
            trace: Trace | None = kwargs.pop(_TRACE, None)
            ledger = trace.ledger if trace else None
            if self.deferral is not None:
                answer = await self.deferral(kwargs, ledger)  # raises Deferred to send it later; None: now
                if answer is not None:
                    exchange, began = self._sent(trace, kwargs)
                    _mark_cut(answer, kwargs.get("max_tokens"))
                    _count(trace, answer, exchange, began)
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
            _mark_cut(completion, kwargs.get("max_tokens"))
            _count(trace, completion, exchange, began)
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
            raise self._translate(exc) from exc

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
        options: CallOptions | None = None,
        ledger: Ledger | None = None,
        max_tokens: int | None = None,
        call_id: str | None = None,
    ) -> BaseModel:
        """One validated answer (re-asked up to ``max_retries`` times; an answer cut by the token limit is
        re-asked shorter, from the same budget); what it cost goes into ``ledger``, each exchange to the log."""
        trace, kwargs = self._request_kwargs(
            model, messages, context, max_retries, options, ledger, max_tokens, call_id
        )
        try:
            while True:
                try:
                    return self._create(**kwargs)  # type: ignore[no-any-return]
                except Exception as exc:
                    kwargs = self._shorter(exc, kwargs, trace, messages, max_retries)
        except Exception as exc:
            raise self._translate(exc, trace) from exc
        finally:
            self._record(trace)

    async def arequest(
        self,
        model: type[BaseModel],
        messages: list[dict[str, Any]],
        context: dict[str, Any],
        max_retries: int,
        *,
        options: CallOptions | None = None,
        ledger: Ledger | None = None,
        max_tokens: int | None = None,
        call_id: str | None = None,
    ) -> BaseModel:
        """``request`` for async code."""
        if self.known_mode is None:
            await asyncio.to_thread(lambda: self.mode)  # probe once, off the event loop
        trace, kwargs = self._request_kwargs(
            model, messages, context, max_retries, options, ledger, max_tokens, call_id
        )
        try:
            while True:
                try:
                    return await self._for_loop()[1](**kwargs)  # type: ignore[no-any-return]
                except Exception as exc:
                    kwargs = self._shorter(exc, kwargs, trace, messages, max_retries)
        except Exception as exc:
            raise self._translate(exc, trace) from exc
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
        options: CallOptions | None,
        ledger: Ledger | None,
        max_tokens: int | None,
        call_id: str | None,
    ) -> tuple[Trace, dict[str, Any]]:
        call = options or CallOptions()
        name = call.model or self.settings.model
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
            _TRACE: trace,
        }
        temperature = call.temperature if call.temperature is not None else self.settings.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        limit = self.settings.max_tokens or max_tokens
        if limit is not None:
            kwargs["max_tokens"] = limit
        return trace, kwargs

    def _translate(self, exc: Exception, trace: Trace | None = None) -> Exception:
        """Map openai/instructor failures onto our hierarchy.

        Messages are our own words; the server's text goes, scrubbed, to ``LLMError.upstream``
        (see ``secrets``: it may echo the key, and a caller must not see it)."""
        import openai
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        from .local_model import LocalModelCrashed, LocalModelError

        deferred = _cause(exc, Deferred)
        if isinstance(deferred, Deferred):
            return deferred
        cause = _cause(exc, openai.OpenAIError, IncompleteOutputException, LocalModelError)
        where = without_credentials(self.settings.base_url) if self.settings.base_url else "the OpenAI API"
        if self.local is not None:
            where = f"the local model {self.local.name}"
        mode = self.known_mode or "auto"
        if isinstance(cause, LocalModelCrashed):
            broken = self.local is not None and self.local.crashes >= CRASHES_TO_STOP
            return LLMError(
                f"{cause} ({self.local.name if self.local else 'local model'})",
                hint=cause.hint,
                reason="broken" if broken else "crashed",
            )  # its last words: --debug
        if isinstance(cause, LocalModelError):
            return LLMError(
                f"{where} refused the request: {cause}",
                reason="rejected",
                hint="give the model more context with --local-context",
            )
        attempts = self.policy.attempts
        if isinstance(cause, IncompleteOutputException):
            return LLMError(
                "the answer was cut off by the token limit before it was complete",
                reason="truncated",
                hint="raise --max-tokens or use a shorter schema",
            )
        if isinstance(cause, openai.APITimeoutError):
            if is_read_timeout(cause):
                return LLMTimeout(
                    f"{where} did not answer within {self.settings.timeout:g}s, nor within "
                    f"{self.policy.timeout * 2:g}s when asked again",
                    attempts=2,
                    hint="a slow server (e.g. a local model on CPU) needs a longer --timeout (SUMMARIZER_TIMEOUT)",
                )
            return LLMTimeout(
                f"could not connect to {where} within {self.settings.timeout:g}s ({attempts} attempts)",
                hint="check that the server is running",
                attempts=attempts,
            )
        if isinstance(cause, openai.APIConnectionError):
            return LLMError(
                f"cannot reach the LLM endpoint at {where}",
                attempts=attempts,
                reason="unreachable",
                hint="check --base-url / OPENAI_BASE_URL and that the server is running",
            )
        if isinstance(cause, openai.APIStatusError):
            status = cause.status_code
            # One line: servers answer with multi-line validation dumps (llama.cpp's server does).
            upstream = " ".join(redact(_error_detail(cause), self._secrets).split())[:300] or None
            if status in (401, 403):
                return LLMError(
                    f"the endpoint refused the API key (HTTP {status})",
                    status=status,
                    reason="refused",
                    upstream=upstream,
                    hint="check OPENAI_API_KEY",
                )
            if status == 404:
                return LLMError(
                    f"model or endpoint not found at {where} (HTTP 404)",
                    status=status,
                    reason="not_found",
                    upstream=upstream,
                    hint="check --model and --base-url",
                )
            if status in _RETRYABLE_STATUS and not (status >= 500 and names_a_parameter(cause)):
                return LLMError(
                    f"{where} kept failing with HTTP {status} after {attempts} attempts",
                    status=status,
                    attempts=attempts,
                    upstream=upstream,
                )
            if names_a_parameter(cause):
                return LLMError(
                    f"the server rejected the request in mode {mode} (HTTP {status})",
                    status=status,
                    reason="unsupported",
                    upstream=upstream,
                    hint=f"this server does not support --mode {mode}: use --mode auto to find one it "
                    f"accepts, or try --mode {_other_mode(mode)}",
                )
            return LLMError(
                f"the endpoint rejected the request (HTTP {status})",
                status=status,
                reason="rejected",
                upstream=upstream,
            )
        if isinstance(exc, InstructorRetryException):
            errors = [_validation_errors(getattr(a, "exception", None)) for a in (exc.failed_attempts or [])]
            last = errors[-1][0]["msg"] if errors and errors[-1] else "no valid answer"
            attempts = trace.answers if trace is not None else exc.n_attempts  # cut answers re-asked count too
            return ValidationFailed(
                f"the model's answer was still invalid after {attempts} attempts: {last}",
                errors=errors,
                attempts=attempts,
            )
        return exc


@cache
def prepared(model: type[BaseModel]) -> type[BaseModel]:
    """The model wrapped for instructor once, not on every call.

    Given a plain model, instructor builds a new wrapper class per call, so its
    per-class JSON-schema cache never hits; given the wrapper, it reuses both.
    """
    import instructor

    return instructor.openai_schema(model)


def _count(trace: Trace | None, completion: Any, exchange: Exchange | None, began: float) -> None:
    if trace is not None:
        trace.ledger.completions += 1
        trace.ledger.add_usage(getattr(completion, "usage", None))
    if exchange is not None:
        exchange.answered(completion, began)


def _mark_cut(completion: Any, max_tokens: int | None) -> None:
    """Make a server's answer say what it is, before instructor parses it.

    - llama-cpp-python's server reports ``finish_reason: "tool_calls"`` for a tool call cut off by the
      token limit: instructor would parse the stump as broken JSON and re-ask for the same long answer.
      An answer that used every token allowed and does not parse was cut: it says ``length``.
    - llama.cpp's JSON grammar lets a raw newline into a string, which JSON forbids and pydantic refuses
      ("control character found while parsing a string"): such an answer is re-encoded, same content.
    """
    choices = getattr(completion, "choices", None)
    if not choices or choices[0].finish_reason == "length":
        return
    message = choices[0].message
    calls = getattr(message, "tool_calls", None) or []
    text = calls[0].function.arguments if calls else (message.content or "")
    try:
        json.loads(text)
        return
    except ValueError:
        pass
    try:
        repaired = json.dumps(json.loads(text, strict=False), ensure_ascii=False)
    except ValueError:
        usage = getattr(completion, "usage", None)
        if max_tokens and (getattr(usage, "completion_tokens", 0) or 0) >= max_tokens:
            choices[0].finish_reason = "length"
        return
    if calls:
        calls[0].function.arguments = repaired
    else:
        message.content = repaired


def _cause(exc: BaseException, *kinds: type[BaseException]) -> BaseException | None:
    """The first exception of ``kinds`` in ``exc``'s chain (instructor and tenacity wrap the real one)."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, kinds):
        cause = cause.__cause__ or cause.__context__
    return cause


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:300]
    return str(getattr(exc, "message", exc))[:300]


def _validation_errors(exc: BaseException | None) -> list[dict[str, Any]]:
    """``exc``'s validation errors as ``{loc, msg}`` (one entry with its text if it has none)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")} for e in errors()]
        except Exception:
            pass
    return [{"loc": "", "msg": str(exc)[:500]}]
