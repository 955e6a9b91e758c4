"""Transport faults (429, 5xx, timeouts, dropped connections): which are retried, and how long to wait.

Retried here, per HTTP request, with tenacity: exponential backoff with full jitter, ``Retry-After``
honoured, bounded by attempts and total wait. The openai client's own retries are off, so this is the
only policy; instructor's loop above it re-asks for invalid answers only.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Any

from ..result import Ledger

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


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
    detail = error_detail(exc).casefold()
    return any(word in detail for word in _MODE_WORDS)


def is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError) and exc.status_code in RETRYABLE_STATUS:
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


def error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:300]
    return str(getattr(exc, "message", exc))[:300]
