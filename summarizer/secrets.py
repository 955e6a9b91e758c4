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

Servers also echo a key *encoded*: base64 or base64url (of the key or of a header holding
it), hex, percent-encoded, reversed, or broken into lines or spaced out. ``redact`` looks for
pieces of every such form of the key, in the text as given and in a compact view of it
(percent-escapes decoded, whitespace and ``\\n``-style escapes removed), and cuts the part
of the original text each piece came from.

``protect`` registers a key so that log records from openai, httpx, instructor and this
package are scrubbed (``redact``) as they are created.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

WINDOW = 8  # shortest run of a secret's characters that is cut
MARK = "[redacted]"
_PROTECTED: set[str] = set()
_LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "instructor", "summarizer", "uvicorn")
_lock = threading.Lock()
_installed = False


def _windows(secrets: Iterable[str | None]) -> frozenset[str]:
    return _grams(frozenset(s for s in secrets if s and len(s) >= 4))


@functools.lru_cache(maxsize=64)
def _grams(secrets: frozenset[str]) -> frozenset[str]:
    """Every ``WINDOW``-character run of every form of every secret, case-folded (a short secret: whole)."""
    grams: set[str] = set()
    for secret in secrets:
        for form, whole_if_short in _forms(secret):
            folded = form.casefold()
            if len(folded) <= WINDOW:
                if whole_if_short:
                    grams.add(folded)
                continue
            grams.update(folded[i : i + WINDOW] for i in range(len(folded) - WINDOW + 1))
    return frozenset(grams)


def _forms(secret: str) -> Iterator[tuple[str, bool]]:
    """The secret as servers echo it: as is, reversed, hex, and base64/base64url at each of the three
    alignments it can have inside a longer encoded text (only the characters that depend on the secret alone)."""
    yield secret, True
    yield secret[::-1], True
    data = secret.encode("utf-8", "surrogatepass")
    yield data.hex(), False
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data).decode("ascii")
        stable = encoded[4 if pad else 0 : (pad + len(data)) // 3 * 4]
        yield stable, False
        yield stable.translate(_URLSAFE), False


_URLSAFE = str.maketrans("+/", "-_")
_ESCAPED = re.compile(r"%([0-9A-Fa-f]{2})")
_GAPS = re.compile(r"(?:\s|\\[nrt])+")
_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)


def _fold(text: str) -> str:
    """``text`` case-folded, keeping its length (so positions still point into ``text``)."""
    folded = text.casefold()
    if len(folded) != len(text):  # casefold changed the length (ß -> ss): compare lower-cased instead
        folded = text.lower()
        if len(folded) != len(text):
            folded = text
    return folded


def _hits(folded: str, grams: frozenset[str]) -> list[list[int]]:
    """Merged ``[start, end]`` spans of ``folded`` made of grams."""
    sizes = sorted({len(g) for g in grams}, reverse=True)
    cuts: list[list[int]] = []
    for start in _candidates(folded, grams, sizes[-1]):
        for size in sizes:
            if folded[start : start + size] in grams:
                end = start + size
                if cuts and start <= cuts[-1][1]:
                    cuts[-1][1] = max(cuts[-1][1], end)
                else:
                    cuts.append([start, end])
                break
    return cuts


def _candidates(folded: str, grams: frozenset[str], shortest: int) -> Iterable[int]:
    """Where a gram may start. With grams of ``WINDOW`` (8) characters or more, a match at ``p`` holds the
    4 characters at the multiple of 4 in ``p..p+4``: only every fourth position is looked up first."""
    if shortest < WINDOW:
        return range(len(folded) - shortest + 1)
    quarters = _quarters(grams)
    found: set[int] = set()
    for at in range(0, len(folded) - 3, 4):
        if folded[at : at + 4] in quarters:
            found.update(range(max(0, at - 4), at + 1))
    return sorted(found)


@functools.lru_cache(maxsize=64)
def _quarters(grams: frozenset[str]) -> frozenset[str]:
    return frozenset(gram[i : i + 4] for gram in grams for i in range(len(gram) - 3))


def _compact(text: str) -> str:
    """Percent-escapes decoded, then whitespace and ``\\n``/``\\r``/``\\t`` escapes removed (C-speed)."""
    return _GAPS.sub("", _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text))


def _compact_spans(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``_compact(text)`` with, for each of its characters, the span of ``text`` it came from (built only
    when the compact view holds a piece of a secret)."""
    decoded = [
        (chr(int(m.group()[1:], 16)) if len(m.group()) == 3 else m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(text)
    ]
    kept: list[tuple[str, int, int]] = []
    index = 0
    while index < len(decoded):
        char = decoded[index][0]
        if char.isspace():
            index += 1
        elif char == "\\" and index + 1 < len(decoded) and decoded[index + 1][0] in "nrt":
            index += 2
        else:
            kept.append(decoded[index])
            index += 1
    folded = "".join(c.lower() if len(c.lower()) == 1 else c for c, _, _ in kept)
    return folded, [(start, end) for _, start, end in kept]


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every run of ``WINDOW``+ characters shared with a secret (any case, any of the encodings
    in ``_forms``, split by whitespace or percent-encoded) replaced.

    For text from outside only (see the module docstring): applied to caller-supplied
    text, the difference it makes would reveal the secret.
    """
    grams = _windows(secrets)
    if not grams or not text:
        return text
    text = _cut(text, _hits(_fold(text), grams))
    compact = _compact(text)  # what is left, with the gaps closed and the escapes decoded
    if compact != text and _hits(_fold(compact), grams):
        folded, spans = _compact_spans(text)  # the slow part: only for a piece found in the compact view
        text = _cut(text, [[spans[start][0], spans[end - 1][1]] for start, end in _hits(folded, grams)])
    return text


def _cut(text: str, cuts: list[list[int]]) -> str:
    """``text`` with each merged ``[start, end]`` span replaced by ``MARK``."""
    if not cuts:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(cuts):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, previous = [], 0
    for start, end in merged:
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


_SECRET_PARAMETER = re.compile(r"key|token|secret|pass|pwd|sig|auth|cred|session|code", re.IGNORECASE)


def shown_url(url: str) -> str:
    """``url`` for a settings listing: no ``user:password@`` part, and the value of every query parameter
    whose name looks secret (``api_key``, ``token``, ``sig``...) replaced; the rest (``api-version``) kept."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:  # a malformed port: not shown
        pass
    query = urlencode(
        [
            (name, MARK if _SECRET_PARAMETER.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def without_credentials(url: str) -> str:
    """``url`` as it may be shown: scheme, host, port and path, never a ``user:password@`` part or a query
    (where keys hide in URLs): an endpoint's base URL, a Redis URL."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    with contextlib.suppress(ValueError):  # a malformed port: not shown
        if parts.port:
            host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# Keys by the shapes their issuers give them (a key that is not configured here is still a key); the fixture
# pages' scrubber (tests/fixtures/scrub_credentials.py) removes what this finds. Each needs
# its prefix *and* a long run of key characters after it, so "sk-learn" or "task-force" are not keys.
KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|NR(?:JS|BR|AK|II)-[A-Za-z0-9]{16,}"  # New Relic (browser, user and ingest keys)
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # a JSON Web Token
    r")"
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{20,}=*"  # a bearer token as an Authorization header gives it
)


def looks_like_key(text: str) -> bool:
    """Whether ``text`` holds something shaped like an API key or token (OpenAI ``sk-``, Anthropic ``sk-ant-``,
    GitHub ``ghp_``/``github_pat_``, AWS ``AKIA``, Slack ``xox?-``, Google ``AIza``, Hugging Face ``hf_``,
    GitLab ``glpat-``, Stripe ``sk_live_``/``pk_live_``, New Relic ``NRJS-``, a JWT, ``Bearer <token>``). For
    refusing to *store* such text; it says yes or no and never which part, so nothing of the key reaches a
    message."""
    return KEY_SHAPES.search(text) is not None
