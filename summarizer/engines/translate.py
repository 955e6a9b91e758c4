"""Failures of openai, instructor and the local worker, in this package's own words (``errors``).

Messages are our own; the server's text goes, scrubbed, to ``LLMError.upstream`` (see ``secrets``: it
may echo the key, and a caller must not see it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import LLMError, LLMTimeout, ValidationFailed
from ..secrets import redact, without_credentials
from .deferral import Deferred
from .modes import other_mode
from .trace import Trace, validation_errors
from .transport import RETRYABLE_STATUS, error_detail, is_read_timeout, names_a_parameter

if TYPE_CHECKING:
    from .client import LLMClient

CRASHES_TO_STOP = 3  # local worker crashes in a row, no answer between them: every item would crash too


def translate(client: LLMClient, exc: Exception, trace: Trace | None = None) -> Exception:
    """Map openai/instructor failures onto our hierarchy.

    Messages are our own words; the server's text goes, scrubbed, to ``LLMError.upstream``
    (see ``secrets``: it may echo the key, and a caller must not see it)."""
    import openai
    from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

    from .local_model import LocalModelCrashed, LocalModelError

    deferred = cause_of(exc, Deferred)
    if isinstance(deferred, Deferred):
        return deferred
    cause = cause_of(exc, openai.OpenAIError, IncompleteOutputException, LocalModelError)
    where = without_credentials(client.settings.base_url) if client.settings.base_url else "the OpenAI API"
    if client.local is not None:
        where = f"the local model {client.local.name}"
    mode = client.known_mode or "auto"
    if isinstance(cause, LocalModelCrashed):
        broken = client.local is not None and client.local.crashes >= CRASHES_TO_STOP
        return LLMError(
            f"{cause} ({client.local.name if client.local else 'local model'})",
            hint=cause.hint,
            reason="broken" if broken else "crashed",
        )  # its last words: --debug
    if isinstance(cause, LocalModelError):
        return LLMError(
            f"{where} refused the request: {cause}",
            reason="rejected",
            hint="give the model more context with --local-context",
        )
    attempts = client.policy.attempts
    if isinstance(cause, IncompleteOutputException):
        return LLMError(
            "the answer was cut off by the token limit before it was complete",
            reason="truncated",
            hint="raise --max-tokens or use a shorter schema",
        )
    if isinstance(cause, openai.APITimeoutError):
        if is_read_timeout(cause):
            return LLMTimeout(
                f"{where} did not answer within {client.settings.timeout:g}s, nor within "
                f"{client.policy.timeout * 2:g}s when asked again",
                attempts=2,
                hint="a slow server (e.g. a local model on CPU) needs a longer --timeout (SUMMARIZER_TIMEOUT)",
            )
        return LLMTimeout(
            f"could not connect to {where} within {client.settings.timeout:g}s ({attempts} attempts)",
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
        upstream = " ".join(redact(error_detail(cause), client._secrets).split())[:300] or None
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
        if status in RETRYABLE_STATUS and not (status >= 500 and names_a_parameter(cause)):
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
                f"accepts, or try --mode {other_mode(mode)}",
            )
        return LLMError(
            f"the endpoint rejected the request (HTTP {status})",
            status=status,
            reason="rejected",
            upstream=upstream,
        )
    if isinstance(exc, InstructorRetryException):
        errors = [validation_errors(getattr(a, "exception", None)) for a in (exc.failed_attempts or [])]
        last = errors[-1][0]["msg"] if errors and errors[-1] else "no valid answer"
        attempts = trace.answers if trace is not None else exc.n_attempts  # cut answers re-asked count too
        return ValidationFailed(
            f"the model's answer was still invalid after {attempts} attempts: {last}",
            errors=errors,
            attempts=attempts,
        )
    return exc


def cause_of(exc: BaseException, *kinds: type[BaseException]) -> BaseException | None:
    """The first exception of ``kinds`` in ``exc``'s chain (instructor and tenacity wrap the real one)."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, kinds):
        cause = cause.__cause__ or cause.__context__
    return cause
