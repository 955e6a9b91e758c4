"""The answer cache: one SQLite file, safe to share between processes.

Keys are sha256 over everything that changes the answer (normalised text, model,
schema, prompt version, options), so a hit is a request we would have made again.
Rows hold the validated JSON and its meta; never a key or header. Export/import as
JSONL lets a set of answers be committed and replayed with ``--offline``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from ..errors import ConfigError
from ..files import private_file
from ..text import normalize
from .lines import dump, export_line, iso, parse_entries

_log = logging.getLogger("summarizer.cache")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    model TEXT,
    schema_name TEXT,
    prompt_version TEXT,
    summary TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoint_modes (
    endpoint TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    probed_at REAL NOT NULL
)
"""


def make_key(
    text: str,
    *,
    model: str,
    schema_fingerprint: str,
    prompt_version: str,
    options: dict[str, Any] | None = None,
    normalized: str | None = None,
) -> str:
    """``normalized`` is ``normalize(text)`` when the caller has it already (it is the costly part).

    The text is hashed as it is and the small rest as JSON: JSON-escaping a long article first
    cost as much as the rest of a cache hit."""
    canonical = normalized if normalized is not None else normalize(text)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass"))
    digest.update(
        b"\0"
        + json.dumps(
            {"model": model, "schema": schema_fingerprint, "prompt": prompt_version, "options": options or {}},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    )
    return digest.hexdigest()


class Cache:
    """Thread-safe: each thread gets its own connection; WAL lets processes share the file.

    ``get`` and ``put`` never fail a summary: a cache that turns out unusable (a corrupted
    page, a full disk, a lock held too long) is logged, remembered in ``problem``, and the
    call goes on without it. The maintenance commands (stats, clear, export, import) raise
    one ``ConfigError`` that names the file and what to do instead.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.problem: str | None = None  # set once the file proved unusable (corrupted)
        self._connect()  # fail now, with a clear message, if the path is unusable

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                private_file(self.path)  # 0600 in a 0700 folder: it holds every article's answer
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise self.unusable(exc) from None
            self._local.conn = conn
        return conn

    def unusable(self, exc: BaseException) -> ConfigError:
        """The error for a cache file that cannot be used, with what to do about it."""
        corrupt = _corrupt(exc)
        return ConfigError(
            f"cannot use the cache at {self.path}: {exc}",
            hint="it only holds cached answers: delete the file, or set --cache PATH / "
            "SUMMARIZER_CACHE, or use --no-cache"
            if corrupt
            else "set --cache PATH or SUMMARIZER_CACHE, or use --no-cache",
        )

    def get(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The cached (summary, meta), or None: also when the cache cannot be read (see ``problem``)."""
        if self.problem is not None:
            return None
        try:
            row = self._connect().execute("SELECT summary, meta FROM answers WHERE key = ?", (key,)).fetchone()
            return (json.loads(row[0]), json.loads(row[1])) if row else None
        except (sqlite3.Error, ConfigError, ValueError) as exc:
            self._failed("read", exc)
            return None

    def put(self, key: str, summary: dict[str, Any], meta: dict[str, Any]) -> None:
        """Store an answer; a cache that cannot take it is logged and skipped (the answer is still returned)."""
        if self.problem is not None:
            return
        try:
            self._connect().execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    time.time(),
                    meta.get("model"),
                    meta.get("schema"),
                    meta.get("prompt_version"),
                    dump(summary),
                    dump(meta),
                ),
            )
        except (sqlite3.Error, ConfigError) as exc:
            self._failed("write", exc)

    def endpoint_mode(self, endpoint: str) -> str | None:
        """The mode ``--mode auto`` found for ``endpoint`` earlier, if any (never fails: None)."""
        if self.problem is not None:
            return None
        try:
            row = self._connect().execute("SELECT mode FROM endpoint_modes WHERE endpoint = ?", (endpoint,)).fetchone()
            return str(row[0]) if row else None
        except (sqlite3.Error, ConfigError) as exc:
            self._failed("read", exc)
            return None

    def remember_mode(self, endpoint: str, mode: str) -> None:
        if self.problem is not None:
            return
        try:
            self._connect().execute(
                "INSERT OR REPLACE INTO endpoint_modes VALUES (?, ?, ?)", (endpoint, mode, time.time())
            )
        except (sqlite3.Error, ConfigError) as exc:
            self._failed("write", exc)

    def _failed(self, action: str, exc: BaseException) -> None:
        corrupt = isinstance(exc, ConfigError) or _corrupt(exc)
        if corrupt:  # it will not get better: stop trying (a lock or a full disk may pass)
            self.problem = str(exc)
        _log.warning("could not %s the cache at %s (%s); going on without it", action, self.path, exc)

    def check(self) -> None:
        """Raise ``ConfigError`` unless the cache can be read and a write lock taken (nothing is written)."""
        if self.problem is not None:
            raise ConfigError(f"the cache at {self.path} is unusable: {self.problem}")
        try:
            conn = self._connect()
            conn.execute("SELECT key FROM answers ORDER BY key LIMIT 1").fetchall()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if _corrupt(exc):
                self.problem = str(exc)
            raise self.unusable(exc) from None

    def stats(self) -> dict[str, Any]:
        with self._maintenance():
            return self._stats()

    def _stats(self) -> dict[str, Any]:
        conn = self._connect()
        count, oldest, newest = conn.execute(
            "SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM answers"
        ).fetchone()
        by_model = dict(
            conn.execute("SELECT COALESCE(model, '?'), COUNT(*) FROM answers GROUP BY 1 ORDER BY 2 DESC").fetchall()
        )
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {
            "path": str(self.path),
            "entries": count,
            "bytes": size,
            "by_model": by_model,
            "oldest": iso(oldest),
            "newest": iso(newest),
        }

    def clear(self) -> int:
        with self._maintenance():
            conn = self._connect()
            removed = conn.execute("DELETE FROM answers").rowcount
            conn.execute("DELETE FROM endpoint_modes")
            conn.execute("VACUUM")
            return int(removed)

    @contextlib.contextmanager
    def _maintenance(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self.unusable(exc) from None

    def export(self, out: IO[str]) -> int:
        """Write every entry as one JSON line, sorted by key, so exports diff cleanly."""
        count = 0
        with self._maintenance():
            for row in self._connect().execute("SELECT key, created_at, summary, meta FROM answers ORDER BY key"):
                out.write(export_line(row[0], row[1], json.loads(row[2]), json.loads(row[3])))
                count += 1
        return count

    def import_lines(self, lines: Iterable[str]) -> int:
        conn = self._connect()
        count = 0
        conn.execute("BEGIN")
        try:
            for key, created_at, summary, meta in parse_entries(lines):
                conn.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        created_at,
                        meta.get("model"),
                        meta.get("schema"),
                        meta.get("prompt_version"),
                        dump(summary),
                        dump(meta),
                    ),
                )
                count += 1
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise self.unusable(exc) from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class AnswerCache(Protocol):
    """What the summarizer and the ``cache`` commands use: ``Cache`` (SQLite) or ``RedisCache``."""

    path: Any  # what messages call it: a file path, or a URL without credentials
    problem: str | None

    def get(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None: ...
    def put(self, key: str, summary: dict[str, Any], meta: dict[str, Any]) -> None: ...
    def endpoint_mode(self, endpoint: str) -> str | None: ...
    def remember_mode(self, endpoint: str, mode: str) -> None: ...
    def check(self) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    def clear(self) -> int: ...
    def export(self, out: IO[str]) -> int: ...
    def import_lines(self, lines: Iterable[str]) -> int: ...
    def close(self) -> None: ...


def open_cache(location: str | Path) -> AnswerCache:
    """The cache at ``location``: a ``redis://`` URL, else a SQLite file. Raises ``ConfigError`` if unusable."""
    from ..terms import is_redis_url
    from .redis_cache import RedisCache

    if is_redis_url(location):
        return RedisCache(str(location))
    return Cache(location)


def _corrupt(exc: BaseException) -> bool:
    """A file SQLite cannot read as a database (it will not get better); an OperationalError (a lock, a full
    disk) may pass."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)
