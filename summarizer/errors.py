"""One exception hierarchy for everything a caller can catch.

Each class carries what its kind of failure means everywhere it surfaces: the CLI's exit
code, the HTTP status and problem type of the service, the label in a batch's errors
file, and whether it stops a batch (a failure every other item would hit too). The CLI,
the service and the batch runner read these attributes; none of them keeps a table.
"""

from __future__ import annotations

from typing import Any


class SummarizerError(Exception):
    """Base of every error this library raises on purpose."""

    exit_code = 1
    http_status = 500
    problem = "internal-error"  # the RFC 9457 problem type's last part
    batch_label = "error"  # the ``error`` field of an errors-file line

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    @property
    def stops_batch(self) -> bool:
        """Whether every other item of a batch would fail the same way, so the batch should stop."""
        return False


class InternalError(SummarizerError):
    """An unexpected exception (a bug) while summarizing one item: recorded, and a batch goes on."""

    batch_label = "internal"


class InputError(SummarizerError):
    """The article could not be read: missing, empty, binary, too large, unreachable URL."""

    exit_code = 3
    http_status = 400
    problem = "bad-input"
    batch_label = "input"


class InputTooLarge(InputError):
    """The input is over a size limit (bytes, characters, HTML bytes, batch items): refused before any work."""

    http_status = 413
    problem = "too-large"


class ConfigError(SummarizerError):
    """The configuration is unusable: no API key, unknown schema or mode, bad config file."""

    exit_code = 4
    http_status = 422
    problem = "invalid-request"
    batch_label = "config"

    @property
    def stops_batch(self) -> bool:
        return True


class LLMError(SummarizerError):
    """The LLM endpoint failed: unreachable, refused, or still failing after transport retries.

    ``reason`` says which, for code that decides what to do next (a batch stops on
    ``refused``, ``not_found`` and ``unsupported``, which every other item would hit too):
    ``unreachable``, ``refused`` (the key), ``not_found`` (model or endpoint),
    ``unsupported`` (a mode or parameter the server does not take), ``rejected`` (this
    request, e.g. too long), ``failing`` (5xx/429 after retries), ``timeout``,
    ``truncated`` (the answer hit the token limit), ``crashed`` (the local model's worker process died
    on this request), ``broken`` (it died on every recent request: a build that cannot run here).
    ``upstream`` is the server's own error text, already scrubbed of secrets: the CLI
    shows it to the key's owner; the HTTP service never sends it to a caller.
    """

    exit_code = 5
    http_status = 502
    problem = "upstream-failure"
    batch_label = "llm"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        attempts: int = 0,
        reason: str = "failing",
        upstream: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.attempts = attempts
        self.reason = reason
        self.upstream = upstream

    @property
    def stops_batch(self) -> bool:
        return self.reason in ("refused", "not_found", "unsupported", "broken")

    def with_upstream(self) -> str:
        """The message with the server's (scrubbed) words, for the key's owner."""
        if not self.upstream:
            return str(self)
        text = f"{self.message}: {self.upstream}"
        return f"{text} ({self.hint})" if self.hint else text


class LLMTimeout(LLMError):
    """The endpoint did not answer in time (a read timeout is retried once, with a longer timeout)."""

    http_status = 504
    problem = "upstream-timeout"
    batch_label = "timeout"

    def __init__(self, message: str, *, hint: str | None = None, attempts: int = 0) -> None:
        super().__init__(message, hint=hint, attempts=attempts, reason="timeout")


class ValidationFailed(SummarizerError):
    """The model's answers stayed invalid (schema or grounding) after every re-ask.

    ``errors`` holds one entry per attempt: the validation messages the model was
    shown, so a caller can see why each answer was refused.
    """

    exit_code = 6
    http_status = 502
    problem = "upstream-failure"
    batch_label = "validation"

    def __init__(self, message: str, *, errors: list[list[dict[str, Any]]] | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.attempts = attempts


class CacheMiss(SummarizerError):
    """``offline`` was asked for and the cache holds no answer for this request."""

    exit_code = 7
    http_status = 404
    problem = "not-cached"
    batch_label = "cache-miss"


class OutputError(SummarizerError):
    """A result could not be written: the folder is missing or read-only, or the disk is full.

    Checked before any request where possible, so a refused output never costs an LLM call."""

    exit_code = 9
    http_status = 500
    problem = "internal-error"
    batch_label = "output"

    @property
    def stops_batch(self) -> bool:
        return True


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "internal error (a bug: please report it, run with --debug for the traceback)",
    2: "usage error: unknown command, bad flag or flag value",
    3: "input error: missing file, empty, binary or too large input, URL not fetchable",
    4: "configuration error: no API key, unknown schema or mode, bad config file",
    5: "LLM error: endpoint unreachable, refused, or failing after retries",
    6: "validation failed: the answer stayed invalid or ungrounded after every re-ask",
    7: "cache miss with --offline",
    8: "batch finished, but some items failed (they are in the errors file; re-run to retry them)",
    9: "output error: a file could not be written (read-only folder, permission, disk full)",
    130: "interrupted (Ctrl-C)",
}
