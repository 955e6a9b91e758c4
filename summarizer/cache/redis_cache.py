"""The answer cache in Redis: one cache for every batch worker, Ray actor and service replica.

Same keys, rows and maintenance commands as the SQLite ``Cache`` (``get``/``put``, the
``--mode auto`` memory, ``stats``/``clear``/``export``/``import``), so a user switches with
``--cache redis://host:6379/0`` and nothing else changes. Entries live under one prefix
(``summarizer:``): ``clear`` deletes those keys and never the rest of the database.

An outage must not fail a summary: a refused connection or a timeout is logged once,
remembered in ``problem`` (which the CLI and ``meta.warnings`` report), and the cache is
skipped for ``RETRY_AFTER`` seconds, so a batch of thousands does not wait a timeout per
item; the first call that works again clears it. The URL may hold a password: it is shown
only as ``redacted`` (no ``user:password@``) and registered with ``secrets.protect``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ..errors import ConfigError
from .lines import dump, export_line, iso, parse_entries

_log = logging.getLogger("summarizer.cache")
PREFIX = "summarizer:answer:"
MODES = "summarizer:endpoint_modes"
RETRY_AFTER = 5.0  # seconds the cache is skipped after a failed call
_TIMEOUT = 2.0  # seconds per Redis call: a cache that slow is worse than none


def redacted(url: str) -> str:
    """``url`` as it may be shown: never a user or password."""
    from ..secrets import without_credentials

    return without_credentials(url)


class RedisCache:
    """The ``Cache`` interface over a Redis server (redis-py's thread-safe connection pool)."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigError(
                "a redis:// cache needs the redis package", hint="pip install 'summarizer[ray]' (or: pip install redis)"
            ) from None
        from urllib.parse import urlsplit

        from ..secrets import protect

        password = urlsplit(url).password
        protect(password)
        self.path = redacted(url)  # what messages call it (the SQLite cache's file path)
        self.problem: str | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT, health_check_interval=30
            )
        except (ValueError, redis.RedisError) as exc:
            raise ConfigError(
                f"cannot use the cache at {self.path}: {_detail(exc, password)}",
                hint="give it as redis://[:password@]host:port/db",
            ) from None
        self._password = password

    # -- the summary path: never fails ----------------------------------------------------------------
    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, action: str, exc: BaseException) -> None:
        with self._lock:
            first = self.problem is None
            self.problem = f"Redis did not answer ({_detail(exc, self._password)})"
            self._down_until = time.monotonic() + RETRY_AFTER
        if first:
            _log.warning(
                "could not %s the cache at %s (%s); going on without it, trying again every %.0f s",
                action,
                self.path,
                self.problem,
                RETRY_AFTER,
            )

    def _worked(self) -> None:
        if self.problem is not None:
            with self._lock:
                self.problem = None
            _log.warning("the cache at %s answers again", self.path)

    def get(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if not self._usable():
            return None
        try:
            raw = self._redis.hmget(PREFIX + key, "summary", "meta")
        except self._errors as exc:
            self._failed("read", exc)
            return None
        self._worked()
        if raw[0] is None or raw[1] is None:
            return None
        try:
            return json.loads(raw[0]), json.loads(raw[1])
        except ValueError:  # someone else's value under our prefix: a miss
            return None

    def put(self, key: str, summary: dict[str, Any], meta: dict[str, Any]) -> None:
        if not self._usable():
            return
        try:
            self._redis.hset(PREFIX + key, mapping=_row(summary, meta, time.time()))
        except self._errors as exc:
            self._failed("write", exc)
            return
        self._worked()

    def endpoint_mode(self, endpoint: str) -> str | None:
        if not self._usable():
            return None
        try:
            mode = self._redis.hget(MODES, endpoint)
        except self._errors as exc:
            self._failed("read", exc)
            return None
        return mode.decode() if isinstance(mode, bytes) else None

    def remember_mode(self, endpoint: str, mode: str) -> None:
        if not self._usable():
            return
        try:
            self._redis.hset(MODES, endpoint, mode)
        except self._errors as exc:
            self._failed("write", exc)

    # -- maintenance: one clear error --------------------------------------------------------------
    def _unusable(self, exc: BaseException) -> ConfigError:
        return ConfigError(
            f"cannot use the cache at {self.path}: {_detail(exc, self._password)}",
            hint="start Redis or fix the URL, or use --no-cache or a file cache (--cache PATH)",
        )

    def check(self) -> None:
        try:
            self._redis.ping()
        except self._errors as exc:
            raise self._unusable(exc) from None

    def probe(self) -> str | None:
        """Ping Redis now, whatever ``RETRY_AFTER`` says: the outage is over (``problem`` cleared, the cache used
        again at once) or still on (``problem`` set). The service's readiness probe calls it on its own schedule,
        so readiness and ``meta.warnings`` follow Redis without waiting for traffic. Returns ``problem``."""
        try:
            self._redis.ping()
        except self._errors as exc:
            self._failed("reach", exc)
            return self.problem
        self._worked()
        with self._lock:
            self._down_until = 0.0
        return None

    def _keys(self) -> Iterator[bytes]:
        yield from self._redis.scan_iter(match=PREFIX + "*", count=1000)

    def stats(self) -> dict[str, Any]:
        try:
            count, oldest, newest = 0, None, None
            by_model: dict[str, int] = {}
            keys = list(self._keys())
            for start in range(0, len(keys), 1000):
                pipe = self._redis.pipeline(transaction=False)
                for key in keys[start : start + 1000]:
                    pipe.hmget(key, "model", "created_at")
                for model, created in pipe.execute():
                    count += 1
                    name = model.decode() if model else "?"
                    by_model[name] = by_model.get(name, 0) + 1
                    if created:
                        stamp = float(created)
                        oldest = stamp if oldest is None else min(oldest, stamp)
                        newest = stamp if newest is None else max(newest, stamp)
            size = int(self._redis.info("memory").get("used_memory", 0))
        except self._errors as exc:
            raise self._unusable(exc) from None
        ordered = dict(sorted(by_model.items(), key=lambda kv: -kv[1]))
        return {
            "path": self.path,
            "entries": count,
            "bytes": size,
            "by_model": ordered,
            "oldest": iso(oldest),
            "newest": iso(newest),
        }

    def clear(self) -> int:
        try:
            removed = 0
            batch: list[bytes] = []
            for key in self._keys():
                batch.append(key)
                if len(batch) >= 1000:
                    removed += int(self._redis.delete(*batch))
                    batch = []
            if batch:
                removed += int(self._redis.delete(*batch))
            self._redis.delete(MODES)
            return removed
        except self._errors as exc:
            raise self._unusable(exc) from None

    def export(self, out: IO[str]) -> int:
        try:
            keys = sorted(self._keys())
            count = 0
            for start in range(0, len(keys), 500):
                pipe = self._redis.pipeline(transaction=False)
                chunk = keys[start : start + 500]
                for key in chunk:
                    pipe.hmget(key, "created_at", "summary", "meta")
                for key, (created, summary, meta) in zip(chunk, pipe.execute(), strict=True):
                    if summary is None or meta is None:
                        continue
                    out.write(
                        export_line(
                            key.decode()[len(PREFIX) :], float(created or 0), json.loads(summary), json.loads(meta)
                        )
                    )
                    count += 1
            return count
        except self._errors as exc:
            raise self._unusable(exc) from None

    def import_lines(self, lines: Iterable[str]) -> int:
        rows = [(key, _row(summary, meta, created_at)) for key, created_at, summary, meta in parse_entries(lines)]
        try:  # all or nothing, like the SQLite import's transaction
            pipe = self._redis.pipeline(transaction=True)
            for key, row in rows:
                pipe.hset(PREFIX + key, mapping=row)
            pipe.execute()
        except self._errors as exc:
            raise self._unusable(exc) from None
        return len(rows)

    def close(self) -> None:
        self._redis.close()


def _row(summary: dict[str, Any], meta: dict[str, Any], created: float) -> dict[Any, Any]:
    return {
        "created_at": repr(float(created)),
        "model": str(meta.get("model") or ""),
        "schema_name": str(meta.get("schema") or ""),
        "prompt_version": str(meta.get("prompt_version") or ""),
        "summary": dump(summary),
        "meta": dump(meta),
    }


def _detail(exc: BaseException, password: str | None) -> str:
    """A redis-py error as one line, never holding the URL's password."""
    from ..secrets import redact

    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return redact(text, [password]) if password else text
