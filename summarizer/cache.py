"""The answer cache: one SQLite file, safe to share between processes.

Keys are sha256 over everything that changes the answer (normalised text, model,
schema, prompt version, options), so a hit is a request we would have made again.
Rows hold the validated JSON and its meta; never a key or header. Export/import as
JSONL lets a set of answers be committed and replayed with ``--offline``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError
from .text import normalize

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    model TEXT,
    schema_name TEXT,
    prompt_version TEXT,
    summary TEXT NOT NULL,
    meta TEXT NOT NULL
)
"""


def make_key(text: str, *, model: str, schema_fingerprint: str, prompt_version: str,
             options: dict[str, Any] | None = None, normalized: str | None = None) -> str:
    """``normalized`` is ``normalize(text)`` when the caller has it already (it is the costly part)."""
    payload = json.dumps(
        {"text": normalized if normalized is not None else normalize(text), "model": model,
         "schema": schema_fingerprint, "prompt": prompt_version, "options": options or {}},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


class Cache:
    """Thread-safe: each thread gets its own connection; WAL lets processes share the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connect()  # fail now, with a clear message, if the path is unusable

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise ConfigError(f"cannot open the cache at {self.path}: {exc}",
                                  hint="set --cache PATH or SUMMARIZER_CACHE, or use --no-cache") from None
            self._local.conn = conn
        return conn

    def get(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        row = self._connect().execute("SELECT summary, meta FROM answers WHERE key = ?", (key,)).fetchone()
        return (json.loads(row[0]), json.loads(row[1])) if row else None

    def put(self, key: str, summary: dict[str, Any], meta: dict[str, Any]) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, time.time(), meta.get("model"), meta.get("schema"), meta.get("prompt_version"),
             _dump(summary), _dump(meta)),
        )

    def check_writable(self) -> None:
        """Raise sqlite3.Error unless a write lock can be taken (nothing is written)."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")

    def stats(self) -> dict[str, Any]:
        conn = self._connect()
        count, oldest, newest = conn.execute(
            "SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM answers").fetchone()
        by_model = dict(conn.execute(
            "SELECT COALESCE(model, '?'), COUNT(*) FROM answers GROUP BY 1 ORDER BY 2 DESC").fetchall())
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {"path": str(self.path), "entries": count, "bytes": size, "by_model": by_model,
                "oldest": _iso(oldest), "newest": _iso(newest)}

    def clear(self) -> int:
        conn = self._connect()
        removed = conn.execute("DELETE FROM answers").rowcount
        conn.execute("VACUUM")
        return int(removed)

    def export(self, out: IO[str]) -> int:
        """Write every entry as one JSON line, sorted by key, so exports diff cleanly."""
        count = 0
        for row in self._connect().execute(
                "SELECT key, created_at, summary, meta FROM answers ORDER BY key"):
            out.write(_dump({"key": row[0], "created_at": row[1], "summary": json.loads(row[2]),
                             "meta": json.loads(row[3])}) + "\n")
            count += 1
        return count

    def import_lines(self, lines: Iterable[str]) -> int:
        conn = self._connect()
        count = 0
        conn.execute("BEGIN")
        try:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    key, summary, meta = entry["key"], entry["summary"], entry["meta"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise ConfigError(f"line {number} is not a cache entry (key, summary, meta)") from None
                conn.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, entry.get("created_at", time.time()), meta.get("model"),
                              meta.get("schema"), meta.get("prompt_version"), _dump(summary), _dump(meta)))
                count += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _iso(timestamp: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)) if timestamp else None
