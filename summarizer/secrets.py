"""Keeping API keys out of everything we print, store or log.

``redact`` scrubs a string. ``protect`` registers a key so that log records from
openai, httpx, instructor and this package are scrubbed as they are created: instructor
logs the server's error text, and servers echo a bad key back in it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

_PROTECTED: set[str] = set()
_LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "instructor", "summarizer")
_lock = threading.Lock()
_installed = False


def redact(text: str, secrets: list[str | None] | set[str]) -> str:
    """Remove every secret (and any long prefix of it) from ``text``.

    Servers often echo part of a bad key ("Incorrect API key provided: sk-ab***yz"),
    so besides the whole key we also cut any 8+ character prefix of it.
    """
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, "[redacted]")
        if len(secret) >= 12:
            for n in range(len(secret) - 1, 7, -1):
                if secret[:n] in text:
                    text = text.replace(secret[:n], "[redacted]")
    return text


def scrub(text: str) -> str:
    """``text`` without any key registered with ``protect``."""
    return redact(text, set(_PROTECTED)) if _PROTECTED else text


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
    message = record.getMessage()
    if any(s in message for s in secrets) or any(s[:8] in message for s in secrets):
        record.msg, record.args = redact(message, secrets), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info), secrets)
