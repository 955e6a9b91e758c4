"""Lists of URLs: recognising a text file that only names pages to fetch (``urls.txt``), and reading it.

A URL list is text whose every non-blank line is one http(s) URL; lines starting with ``#`` are
comments. ``batch`` reads such a file (``.txt`` or ``.urls``, also gzipped) as URLs to fetch and
summarize; ``summarize`` refuses one (it is no article, and a model asked anyway is paid for nothing).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError

URL_LIST_SUFFIXES = (".urls", ".txt", ".text", ".list")
SNIFF_BYTES = 65_536
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def is_url(text: str) -> bool:
    """Whether ``text`` is one http(s) URL and nothing else."""
    return bool(_URL.fullmatch(text.strip()))


def _lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield stripped


def is_url_list(text: str, *, complete: bool = True) -> bool:
    """Whether ``text`` holds only http(s) URLs, one a line (at least one). ``complete=False``: ``text`` is the
    head of a longer file, whose last line may be cut."""
    cut = not complete and not text.endswith("\n")
    lines = _lines(text)
    previous: str | None = None
    seen = 0
    for line in lines:
        if previous is not None and not is_url(previous):
            return False
        previous, seen = line, seen + 1
    if previous is None:
        return False
    return (cut and seen > 1) or is_url(previous)  # a cut last line of a longer head is not judged


def _open(path: Path) -> object:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def looks_like_url_list_file(path: Path) -> bool:
    """A ``.urls`` file is a URL list by its name; a ``.txt`` (``.text``, ``.list``) file when its first 64 KB
    hold only http(s) URLs, one a line."""
    name = path.name.lower().removesuffix(".gz")
    if not name.endswith(URL_LIST_SUFFIXES) or not path.is_file():
        return False
    if name.endswith(".urls"):
        return True
    try:
        with _open(path) as stream:  # type: ignore[attr-defined]
            head: bytes = stream.read(SNIFF_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    return is_url_list(head.decode("utf-8", "replace"), complete=len(head) < SNIFF_BYTES)


def read_url_list(path: Path, spec: str) -> Iterator[tuple[str, str | None, str | None]]:
    """``(where, url, error)`` for each non-blank, non-comment line of a URL list file: a line that is no
    http(s) URL comes with an error, the others with their URL."""
    with _open(path) as stream:  # type: ignore[attr-defined]
        for number, raw in enumerate(stream, 1):
            line = raw.decode("utf-8", "replace").strip()
            if not line or line.startswith("#"):
                continue
            where = f"{spec}:{number}"
            if is_url(line):
                yield where, line, None
            else:
                yield where, None, f"{where} is not an http(s) URL: {line[:200]!r}"


def refuse_url_list(text: str, name: str) -> None:
    """Raise InputError when an article given to ``summarize`` is only a list of URLs."""
    if is_url_list(text):
        count = sum(1 for _ in _lines(text))
        shown = "urls.txt" if name.startswith("<") else name
        raise InputError(
            f"{name} is a list of {count} URL(s), not an article",
            hint=f"fetch and summarize each page with: summarizer batch {shown} -o summaries.jsonl",
        )
