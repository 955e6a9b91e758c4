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
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from pydantic import BaseModel

from .config import Settings
from .errors import LLMError, LLMTimeout, ValidationFailed
from .options import CallOptions
from .secrets import protect, redact
from .throttle import Throttle, estimate_tokens

_RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


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
    transport_errors: list[str] = field(default_factory=list)

    def add_usage(self, usage: Any) -> None:
        if usage is not None:
            self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
            self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0


_LEDGER = "_summarizer_ledger"  # the request keyword that carries the ledger through instructor to ``create``


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


_MODE_WORDS = ("response_format", "json_schema", "json_object", "tool_choice", "tools", "grammar",
               "not supported", "unsupported", "unrecognized", "unknown parameter", "extra inputs")


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

    def __init__(self, attempts: int, max_wait: float, base: float = 0.5, cap: float = 30.0,
                 timeout: float = 60.0) -> None:
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
    return {"json_schema": "json", "tools": "json_schema", "json": "md_json"}.get(mode, "json")


class LLMClient:
    """An endpoint and model family: lazily built sync and async instructor create functions.

    The async client is made per event loop (an HTTP connection pool cannot outlive the
    loop it was opened on), so one ``Summarizer`` serves ``asyncio.run`` after ``asyncio.run``.
    Every request, from any thread or loop, is paced by the one ``throttle``.
    """

    def __init__(self, settings: Settings, *, transport: Any = None) -> None:
        self.settings = settings
        self.transport = transport  # an httpx2 transport for both clients (e.g. httpx2.MockTransport), or None
        self.policy = TransportPolicy(settings.transport_attempts, settings.transport_max_wait,
                                      base=settings.retry_backoff, timeout=settings.timeout)
        self.throttle = Throttle(settings.rpm, settings.tpm)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = \
            weakref.WeakKeyDictionary()
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
    def instructor_mode(self) -> Any:
        import instructor

        return getattr(instructor.Mode, self.settings.mode.upper())  # tools -> TOOLS, json_schema -> JSON_SCHEMA

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

    def _answered(self, exc: BaseException) -> None:
        """Tell the throttle what the endpoint said: 429, or another answer (it got through the limit)."""
        status = getattr(exc, "status_code", None)
        if status == 429:
            self.throttle.on_rate_limited(retry_after(exc))
        elif status is not None:
            self.throttle.on_success()

    @cached_property
    def _create(self) -> Callable[..., Any]:
        import instructor
        from tenacity import Retrying

        raw = self.openai_client.chat.completions.create
        policy, throttle = self.policy, self.throttle

        def create(*args: Any, **kwargs: Any) -> Any:
            ledger: Ledger | None = kwargs.pop(_LEDGER, None)
            cost = self._cost(kwargs)
            for attempt in Retrying(**policy.retrying_kwargs(kwargs, ledger)):
                with attempt:
                    throttle.wait(cost)
                    if ledger is not None:
                        ledger.requests += 1
                    try:
                        completion = raw(*args, **kwargs)
                    except Exception as exc:
                        self._answered(exc)
                        raise
                    throttle.on_success()
            _count(ledger, completion)
            return completion

        return instructor.patch(create=create, mode=self.instructor_mode)

    def _patch_async(self, client: Any) -> Callable[..., Awaitable[Any]]:
        import instructor
        from tenacity import AsyncRetrying

        raw = client.chat.completions.create
        policy, throttle = self.policy, self.throttle

        async def create(*args: Any, **kwargs: Any) -> Any:
            ledger: Ledger | None = kwargs.pop(_LEDGER, None)
            cost = self._cost(kwargs)
            async for attempt in AsyncRetrying(**policy.retrying_kwargs(kwargs, ledger)):
                with attempt:
                    await throttle.await_turn(cost)
                    if ledger is not None:
                        ledger.requests += 1
                    try:
                        completion = await raw(*args, **kwargs)
                    except Exception as exc:
                        self._answered(exc)
                        raise
                    throttle.on_success()
            _count(ledger, completion)
            return completion

        return instructor.patch(create=create, mode=self.instructor_mode)

    def close(self) -> None:
        """Close the HTTP clients that were opened (they are created on first use)."""
        if "openai_client" in self.__dict__:
            self.openai_client.close()

    async def aclose(self) -> None:
        """Close this event loop's async client (each loop has its own)."""
        made = self._async.pop(asyncio.get_running_loop(), None)
        if made is not None:
            await made[0].close()

    def request(self, model: type[BaseModel], messages: list[dict[str, Any]], context: dict[str, Any],
                max_retries: int, *, options: CallOptions | None = None, ledger: Ledger | None = None) -> BaseModel:
        """One validated answer (re-asked up to ``max_retries`` times); what it cost goes into ``ledger``."""
        kwargs = self._request_kwargs(model, messages, context, max_retries, options, ledger)
        try:
            return self._create(**kwargs)  # type: ignore[no-any-return]
        except Exception as exc:
            raise self._translate(exc) from exc

    async def arequest(self, model: type[BaseModel], messages: list[dict[str, Any]], context: dict[str, Any],
                       max_retries: int, *, options: CallOptions | None = None,
                       ledger: Ledger | None = None) -> BaseModel:
        """``request`` for async code."""
        kwargs = self._request_kwargs(model, messages, context, max_retries, options, ledger)
        try:
            return await self._for_loop()[1](**kwargs)  # type: ignore[no-any-return]
        except Exception as exc:
            raise self._translate(exc) from exc

    def _request_kwargs(self, model: type[BaseModel], messages: list[dict[str, Any]], context: dict[str, Any],
                        max_retries: int, options: CallOptions | None, ledger: Ledger | None) -> dict[str, Any]:
        call = options or CallOptions()
        # instructor passes keywords it does not know through to ``create``, which takes the ledger out.
        kwargs: dict[str, Any] = {"model": call.model or self.settings.model, "response_model": prepared(model),
                                  "messages": messages, "context": context, "max_retries": max_retries,
                                  _LEDGER: ledger}
        temperature = call.temperature if call.temperature is not None else self.settings.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        if self.settings.max_tokens is not None:
            kwargs["max_tokens"] = self.settings.max_tokens
        return kwargs

    def _translate(self, exc: Exception) -> Exception:
        """Map openai/instructor failures onto our hierarchy.

        Messages are our own words; the server's text goes, scrubbed, to ``LLMError.upstream``
        (see ``secrets``: it may echo the key, and a caller must not see it)."""
        import openai
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, openai.OpenAIError | IncompleteOutputException):
            cause = cause.__cause__ or cause.__context__
        where = self.settings.base_url or "the OpenAI API"
        mode = self.settings.mode
        attempts = self.policy.attempts
        if isinstance(cause, IncompleteOutputException):
            return LLMError("the answer was cut off by the token limit before it was complete", reason="truncated",
                            hint="raise --max-tokens or use a shorter schema")
        if isinstance(cause, openai.APITimeoutError):
            if is_read_timeout(cause):
                return LLMTimeout(f"{where} did not answer within {self.settings.timeout:g}s, nor within "
                                  f"{self.policy.timeout * 2:g}s when asked again", attempts=2,
                                  hint="a slow server (e.g. a local model on CPU) needs a longer --timeout "
                                       "(SUMMARIZER_TIMEOUT)")
            return LLMTimeout(f"could not connect to {where} within {self.settings.timeout:g}s "
                              f"({attempts} attempts)", hint="check that the server is running", attempts=attempts)
        if isinstance(cause, openai.APIConnectionError):
            return LLMError(f"cannot reach the LLM endpoint at {where}", attempts=attempts, reason="unreachable",
                            hint="check --base-url / OPENAI_BASE_URL and that the server is running")
        if isinstance(cause, openai.APIStatusError):
            status = cause.status_code
            # One line: servers answer with multi-line validation dumps (llama.cpp's server does).
            upstream = " ".join(redact(_error_detail(cause), self._secrets).split())[:300] or None
            if status in (401, 403):
                return LLMError(f"the endpoint refused the API key (HTTP {status})", status=status,
                                reason="refused", upstream=upstream, hint="check OPENAI_API_KEY")
            if status == 404:
                return LLMError(f"model or endpoint not found at {where} (HTTP 404)", status=status,
                                reason="not_found", upstream=upstream, hint="check --model and --base-url")
            if status in _RETRYABLE_STATUS and not (status >= 500 and names_a_parameter(cause)):
                return LLMError(f"{where} kept failing with HTTP {status} after {attempts} attempts", status=status,
                                attempts=attempts, upstream=upstream)
            if names_a_parameter(cause):
                return LLMError(f"the server rejected the request in mode {mode} (HTTP {status})", status=status,
                                reason="unsupported", upstream=upstream,
                                hint=f"this server does not support --mode {mode}: try --mode {_other_mode(mode)}")
            return LLMError(f"the endpoint rejected the request (HTTP {status})", status=status, reason="rejected",
                            upstream=upstream)
        if isinstance(exc, InstructorRetryException):
            errors = [_attempt_errors(a) for a in (exc.failed_attempts or [])]
            last = errors[-1][0]["msg"] if errors and errors[-1] else "no valid answer"
            return ValidationFailed(
                f"the model's answer was still invalid after {exc.n_attempts} attempts: {last}",
                errors=errors, attempts=exc.n_attempts)
        return exc


@cache
def prepared(model: type[BaseModel]) -> type[BaseModel]:
    """The model wrapped for instructor once, not on every call.

    Given a plain model, instructor builds a new wrapper class per call, so its
    per-class JSON-schema cache never hits; given the wrapper, it reuses both.
    """
    import instructor

    return instructor.openai_schema(model)


def _count(ledger: Ledger | None, completion: Any) -> None:
    if ledger is not None:
        ledger.completions += 1
        ledger.add_usage(getattr(completion, "usage", None))


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:300]
    return str(getattr(exc, "message", exc))[:300]


def _attempt_errors(attempt: Any) -> list[dict[str, Any]]:
    exc = getattr(attempt, "exception", None)
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")}
                    for e in errors()]
        except Exception:
            pass
    return [{"loc": "", "msg": str(exc)[:500]}]
