"""Every exchange with a model, kept in SQLite beside the cache: what ``summarizer logs`` shows.

One row per request that reached the model (or failed trying): the messages sent, the raw
answer, why it was rejected (validation errors, cut by the token limit, a transport fault),
which re-ask it was, timings, usage, engine, model and mode. Requests of one summary share
a ``call_id``. Like ``llm logs``: on by default, ``summarizer logs off`` (a marker file beside
the database) or ``--no-log`` / ``SUMMARIZER_LOG=false`` to stop. Nothing from the settings is
stored (the messages are the prompt and the article; the API key is never in them), and
error text from a server is scrubbed like everywhere else.

A log that cannot be written is a warning, never a failed summary.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_log = logging.getLogger("summarizer.exchanges")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    started REAL NOT NULL,
    duration_s REAL,
    engine TEXT, model TEXT, mode TEXT, endpoint TEXT,
    attempt INTEGER,
    status TEXT,
    request TEXT,
    answer TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER, completion_tokens INTEGER,
    errors TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS exchanges_started ON exchanges (started);
"""
OFF_MARKER = "logs-off"


def new_id() -> str:
    """Random first, then the time (milliseconds, hex): ``9f3c1a2b-0193ab5c7e21``. Ids of one minute differ
    from their first character, so a few of them are enough for ``logs show``; the log orders by ``started``,
    never by id. (Ids written before were time first: ``0193ab5c7e21-9f3c1a2b``; ``ExchangeLog.get`` finds
    those by their end.)"""
    return f"{os.urandom(4).hex()}-{int(time.time() * 1000):012x}"


@dataclass
class Exchange:
    """One request and what came of it. ``status``: ok, invalid (answer failed validation; ``errors``),
    truncated (cut by the token limit), error (no answer: ``error`` says why)."""

    call_id: str
    engine: str
    model: str
    mode: str
    endpoint: str
    attempt: int
    request: dict[str, Any]
    id: str = field(default_factory=new_id)
    started: float = field(default_factory=time.time)
    duration_s: float | None = None
    status: str = "ok"
    answer: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def answered(self, completion: Any, began: float) -> None:
        """Fill in the answer from an OpenAI ``ChatCompletion`` (what instructor parses)."""
        self.duration_s = round(time.perf_counter() - began, 4)
        choice = (getattr(completion, "choices", None) or [None])[0]
        message = getattr(choice, "message", None)
        calls = getattr(message, "tool_calls", None) or []
        if calls:
            self.answer = getattr(calls[0].function, "arguments", None)
        else:
            self.answer = getattr(message, "content", None)
        self.finish_reason = getattr(choice, "finish_reason", None)
        usage = getattr(completion, "usage", None)
        if usage is not None:
            self.prompt_tokens = getattr(usage, "prompt_tokens", None)
            self.completion_tokens = getattr(usage, "completion_tokens", None)
        if self.finish_reason == "length":
            self.status = "truncated"

    def failed(self, message: str, began: float) -> None:
        self.duration_s = round(time.perf_counter() - began, 4)
        self.status, self.error = "error", message


def request_record(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What was sent, minus the schema instructor adds to every request (``tools``/``response_format``:
    the same for every call of a schema, and large)."""
    record: dict[str, Any] = {"messages": [_plain(m) for m in kwargs.get("messages", [])]}
    for name in ("max_tokens", "temperature"):
        if kwargs.get(name) is not None:
            record[name] = kwargs[name]
    if "tools" in kwargs:
        record["tools"] = [t.get("function", {}).get("name") for t in kwargs["tools"]]
    if "response_format" in kwargs:
        record["response_format"] = kwargs["response_format"].get("type")
    return record


def _plain(message: Any) -> Any:
    if hasattr(message, "model_dump"):
        return message.model_dump(exclude_none=True)
    return message


class ExchangeLog:
    """The SQLite file of exchanges; thread-safe (one connection behind a lock: writes are small)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.problem: str | None = None

    @staticmethod
    def enabled(path: Path) -> bool:
        """False after ``summarizer logs off`` (a marker file beside the database)."""
        return not (Path(path).parent / OFF_MARKER).exists()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            from .files import private_file

            private_file(self.path)  # 0600 in a 0700 folder: it holds every article and answer
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def record(self, exchanges: list[Exchange]) -> None:
        """Store ``exchanges``; a log that cannot be written is a warning once, then skipped."""
        if not exchanges or self.problem is not None:
            return
        rows = [
            (
                e.id,
                e.call_id,
                e.started,
                e.duration_s,
                e.engine,
                e.model,
                e.mode,
                e.endpoint,
                e.attempt,
                e.status,
                _dump(e.request),
                e.answer,
                e.finish_reason,
                e.prompt_tokens,
                e.completion_tokens,
                _dump(e.errors),
                e.error,
            )
            for e in exchanges
        ]
        try:
            with self._lock:
                self._connect().executemany(f"INSERT OR REPLACE INTO exchanges VALUES ({', '.join('?' * 17)})", rows)
        except (OSError, sqlite3.Error) as exc:
            self.problem = str(exc)
            _log.warning("cannot write the exchange log at %s (%s); going on without it", self.path, exc)

    def recent(self, count: int = 3, *, call_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The last ``count`` exchanges, newest first."""
        if not self.path.exists():
            return []
        where, args = [], []
        if call_id:
            where.append("call_id = ?")
            args.append(call_id)
        if status:
            where.append("status = ?")
            args.append(status)
        sql = (
            "SELECT * FROM exchanges"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY started DESC, id DESC LIMIT ?"
        )
        with self._lock:
            cursor = self._connect().execute(sql, (*args, count))
            return [_row(cursor, row) for row in cursor.fetchall()]

    def get(self, exchange_id: str) -> dict[str, Any] | None:
        """One exchange by its id, or by a unique start of it, or else by a unique end of it (the random
        part of an id written before the random part came first)."""
        if not self.path.exists() or not exchange_id:
            return None
        escaped = exchange_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            for pattern in (escaped + "%", "%" + escaped):
                cursor = self._connect().execute(
                    "SELECT * FROM exchanges WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2", (pattern,)
                )
                rows = cursor.fetchall()
                if rows:
                    return _row(cursor, rows[0]) if len(rows) == 1 else None
            return None

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock:
            return int(self._connect().execute("SELECT count(*) FROM exchanges").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    record = {description[0]: value for description, value in zip(cursor.description, row, strict=True)}
    for name in ("request", "errors"):
        record[name] = json.loads(record[name]) if record[name] else None
    return record


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
