"""Keeping API keys out of everything we print, store or log.

Two rules, because scrubbing is itself an oracle:

- Text that comes from *outside* (a server's error message, a library's log record,
  a traceback) is scrubbed with ``redact``: every run of 8+ characters that also occurs
  in a secret, in any letter case, is cut — servers echo a key's prefix, its last
  characters, or the key lower-cased.
- Text a *caller* supplied (a schema name, a URL, a job id) is never partly scrubbed:
  if it were, a caller could send candidate prefixes and watch which come back
  redacted, and so read the key out character by character. Such text may only be
  checked for a whole secret (``scrub_whole``), which tells nothing to someone who does
  not already hold it. So upstream text is scrubbed where it enters an error, and the
  service's answers never carry upstream text at all.

``protect`` registers a key so that log records from openai, httpx, instructor and this
package are scrubbed (``redact``) as they are created.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

WINDOW = 8  # shortest run of a secret's characters that is cut
MARK = "[redacted]"
_PROTECTED: set[str] = set()
_LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "instructor", "summarizer", "uvicorn")
_lock = threading.Lock()
_installed = False


def _windows(secrets: Iterable[str | None]) -> set[str]:
    grams: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        folded = secret.casefold()
        if len(folded) <= WINDOW:
            grams.add(folded)
        grams.update(folded[i:i + WINDOW] for i in range(len(folded) - WINDOW + 1))
    return grams


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every run of ``WINDOW``+ characters shared with a secret (any case) replaced.

    For text from outside only (see the module docstring): applied to caller-supplied
    text, the difference it makes would reveal the secret.
    """
    grams = _windows(secrets)
    if not grams or not text:
        return text
    folded = text.casefold()
    if len(folded) != len(text):  # casefold changed the length (ß -> ss): compare lower-cased instead
        folded = text.lower()
        if len(folded) != len(text):
            folded = text
    sizes = sorted({len(g) for g in grams}, reverse=True)
    cuts: list[list[int]] = []
    for start in range(len(folded) - sizes[-1] + 1):
        for size in sizes:
            if folded[start:start + size] in grams:
                end = start + size
                if cuts and start <= cuts[-1][1]:
                    cuts[-1][1] = max(cuts[-1][1], end)
                else:
                    cuts.append([start, end])
                break
    if not cuts:
        return text
    pieces, previous = [], 0
    for start, end in cuts:
        pieces += [text[previous:start], MARK]
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)


def scrub(text: str) -> str:
    """Text from outside without any key registered with ``protect`` (see ``redact``)."""
    return redact(text, set(_PROTECTED)) if _PROTECTED else text


def scrub_whole(text: str) -> str:
    """Caller-supplied text with every *whole* registered secret replaced, and nothing else changed."""
    for secret in set(_PROTECTED):
        text = text.replace(secret, MARK)
    return text


def protect(secret: str | None) -> None:
    """Scrub ``secret`` from log records of the HTTP/LLM libraries from now on."""
    global _installed
    if not secret or len(secret) < 4:
        return
    with _lock:
        _PROTECTED.add(secret)
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                if record.name.split(".", 1)[0] in _LOGGERS:
                    _scrub(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True


def _scrub(record: logging.LogRecord) -> None:
    secrets = set(_PROTECTED)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging to report
        return
    cleaned = redact(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info), secrets)


def without_credentials(url: str) -> str:
    """``url`` as it may be shown: scheme, host, port and path, never a ``user:password@`` part or a query
    (where keys hide in URLs): an endpoint's base URL, a Redis URL."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
