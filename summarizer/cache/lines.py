"""The cache's rows as text, shared by the SQLite and Redis backends: canonical JSON, ISO times, and the
export format (one JSON line per entry: ``key``, ``created_at``, ``summary``, ``meta``), so that an export
from either loads into the other."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import InputError


def dump(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept (exports diff cleanly)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def iso(timestamp: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)) if timestamp else None


def export_line(key: str, created_at: float, summary: Any, meta: dict[str, Any]) -> str:
    return dump({"key": key, "created_at": created_at, "summary": summary, "meta": meta}) + "\n"


def parse_entries(lines: Iterable[str]) -> Iterator[tuple[str, float, Any, dict[str, Any]]]:
    """``(key, created_at, summary, meta)`` of each line of an export; ``InputError`` names a bad line."""
    from ..jsonguard import check

    try:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            check(line, what=f"line {number}")  # before the parser: it recurses once per level
            try:
                entry = json.loads(line)
                key, summary, meta = entry["key"], entry["summary"], entry["meta"]
                if not isinstance(key, str) or not isinstance(meta, dict):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputError(f"line {number} is not a cache entry (key, summary, meta)") from None
            yield key, float(entry.get("created_at") or time.time()), summary, meta
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text: give JSONL written by `summarizer cache export`") from None
