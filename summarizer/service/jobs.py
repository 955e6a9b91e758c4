"""Batch jobs for the HTTP service: recorded in SQLite, run one at a time by the batch runner, resumed on start.

Each job is a folder (``input.jsonl``, ``results.jsonl``, ``errors.jsonl``) and a row in
``jobs.sqlite3``. The worker runs ``batch.run_files`` on it, the same code as the CLI,
so a job interrupted by a restart resumes exactly like a re-run of ``summarizer batch``:
lines already in ``results.jsonl`` are skipped, answers already paid for come from the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ..errors import SummarizerError
from ..files import private_file, private_folder
from ..netguard import Resolver, UrlPolicy
from ..options import CallOptions

if TYPE_CHECKING:
    from ..batching import BatchStats
    from ..core import Summarizer

Status = Literal["queued", "running", "done", "failed", "cancelled"]
UNFINISHED = ("queued", "running")
# A job's options beside the call options: which fields of the uploaded JSONL hold the article and its id.
FIELD_OPTIONS = ("text_field", "id_field")
# The library's messages give command-line advice; the service's callers name fields of their request instead.
HTTP_WORDING = {
    "(choose it with --text-field)": "(name it with the upload's text_field form field or query parameter)",
    "and --offline forbids a request": 'and "offline": true in the request forbids asking the model',
}


def for_http(message: str) -> str:
    """``message`` with the command line's advice put as an HTTP caller would follow it."""
    for said, instead in HTTP_WORDING.items():
        message = message.replace(said, instead)
    return message


_log = logging.getLogger("summarizer.service.jobs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    options TEXT NOT NULL,
    counts TEXT NOT NULL,
    error TEXT
)
"""


class Counts(BaseModel):
    total: int | None = None
    done: int = 0
    cached: int = 0
    failed: int = 0


class Job(BaseModel):
    """A batch job as the service reports it."""

    id: str
    status: Status
    created_at: float
    updated_at: float
    options: dict[str, Any] = Field(default_factory=dict)
    counts: Counts = Field(default_factory=Counts)
    progress: float | None = Field(None, description="Share of items finished (0..1), when the total is known.")
    error: str | None = None


class JobStore:
    """The jobs table and the job folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        private_folder(root)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(private_file(root / "jobs.sqlite3"), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def create(self, options: dict[str, Any]) -> Job:
        """A new queued job with an empty folder; the caller writes ``input.jsonl`` before ``queue``."""
        now = time.time()
        job = Job(id=uuid.uuid4().hex, status="queued", created_at=now, updated_at=now, options=options, progress=None)
        folder = private_folder(self.folder(job.id))  # 0700, its files 0600: they hold every article and answer
        for name in ("input.jsonl", "results.jsonl", "errors.jsonl"):  # opened later with "w"/"a": mode kept
            private_file(folder / name)
        with self._lock:
            self._conn.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job.id, job.status, now, now, json.dumps(options), job.counts.model_dump_json(), None),
            )
        return job

    def set_options(self, job_id: str, options: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute("UPDATE jobs SET options = ? WHERE id = ?", (json.dumps(options), job_id))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, status, created_at, updated_at, options, counts, error FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return _job(row) if row else None

    def unfinished(self) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, status, created_at, updated_at, options, counts, error FROM jobs "
                "WHERE status IN ('queued', 'running') ORDER BY created_at"
            ).fetchall()
        return [_job(row) for row in rows]

    def recent(self, *, status: Status | None = None, limit: int = 100) -> list[Job]:
        """The newest jobs first (at most ``limit``), of one ``status`` if given."""
        where, values = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, status, created_at, updated_at, options, counts, error FROM jobs "
                f"{where} ORDER BY created_at DESC, id LIMIT ?",
                (*values, limit),
            ).fetchall()
        return [_job(row) for row in rows]

    def update(
        self, job_id: str, *, status: Status | None = None, counts: Counts | None = None, error: str | None = None
    ) -> None:
        sets: list[str] = ["updated_at = ?"]
        values: list[Any] = [time.time()]
        if status is not None:
            sets.append("status = ?")
            values.append(status)
        if counts is not None:
            sets.append("counts = ?")
            values.append(counts.model_dump_json())
        if error is not None:
            sets.append("error = ?")
            values.append(error)
        with self._lock:
            self._conn.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id = ?", (*values, job_id))

    def delete(self, job_id: str) -> None:
        """Remove the job: its folder and its row."""
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
        with self._lock:
            self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def count_unfinished(self) -> int:
        with self._lock:
            return int(
                self._conn.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0]
            )

    def bytes_used(self) -> int:
        """Bytes held by all job folders (inputs, results, errors)."""
        return sum(path.stat().st_size for path in self.root.glob("*/*") if path.is_file())

    def expire(self, older_than_s: float) -> int:
        """Delete finished jobs (and their files) that ended more than ``older_than_s`` seconds ago."""
        cutoff = time.time() - older_than_s
        with self._lock:
            ids = [
                row[0]
                for row in self._conn.execute(
                    "SELECT id FROM jobs WHERE status NOT IN ('queued', 'running') AND updated_at < ?", (cutoff,)
                )
            ]
        for job_id in ids:
            self.delete(job_id)
        return len(ids)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _job(row: tuple[Any, ...]) -> Job:
    counts = Counts.model_validate_json(row[5])
    progress = None
    if counts.total:
        progress = round(min(1.0, (counts.done + counts.failed) / counts.total), 4)
    return Job(
        id=row[0],
        status=row[1],
        created_at=row[2],
        updated_at=row[3],
        options=json.loads(row[4]),
        counts=counts,
        progress=progress if row[1] != "done" else 1.0,
        error=row[6],
    )


def _counts(stats: BatchStats) -> Counts:
    # Items already in the results when a job resumes (after a restart) count as done.
    return Counts(total=stats.total, done=stats.done + stats.skipped, cached=stats.cached, failed=stats.failed)


class JobWorker:
    """Runs queued jobs one after another in the service's event loop, and deletes expired ones."""

    def __init__(
        self,
        summarizer: Summarizer,
        store: JobStore,
        *,
        retention_s: float = 7 * 86400,
        url_policy: UrlPolicy | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.summarizer = summarizer
        # A job's records that only name a ``url`` are fetched: within the service's SSRF policy, never the
        # command line's allow-everything one.
        self.url_policy = url_policy or UrlPolicy(allow_networks=tuple(summarizer.settings.fetch_allow_networks))
        self.resolver = resolver
        self.store = store
        self.retention_s = retention_s
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._current: tuple[str, asyncio.Task[Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        for job in self.store.unfinished():  # a restart: pick up where the last process stopped
            self._queue.put_nowait(job.id)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._work())
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Delete finished jobs past the retention period: at start, then every few minutes."""
        while True:
            try:
                removed = await asyncio.to_thread(self.store.expire, self.retention_s)
                if removed:
                    _log.info("deleted %d expired batch job(s)", removed)
            except Exception as exc:  # the next sweep tries again
                _log.warning("could not delete expired batch jobs: %s", exc)
            await asyncio.sleep(min(600.0, max(1.0, self.retention_s / 10)))

    async def delete(self, job_id: str) -> Job | None:
        """Cancel the job if it is unfinished, wait for it to stop, then remove its files and record."""
        job = self.cancel(job_id)
        if job is None:
            return None
        current = self._current
        if current is not None and current[0] == job_id:
            await asyncio.wait([current[1]], timeout=10)
        await asyncio.to_thread(self.store.delete, job_id)
        return job

    def submit(self, job_id: str) -> None:
        self._queue.put_nowait(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.store.get(job_id)
        if job is None or job.status not in UNFINISHED:
            return job
        self.store.update(job_id, status="cancelled")
        if self._current is not None and self._current[0] == job_id:
            self._current[1].cancel()
        return self.store.get(job_id)

    async def stop(self) -> None:
        """Stop working; a running job stays ``running`` and resumes at the next start."""
        for task in (self._sweeper, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            job = self.store.get(job_id)
            if job is None or job.status not in UNFINISHED:
                continue
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._current = (job_id, task)
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():  # the worker itself is stopping: stop the job too, leave it 'running'
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise
            finally:
                self._current = None

    async def _run(self, job: Job) -> None:
        from ..runners import runner_for

        folder = self.store.folder(job.id)
        self.store.update(job.id, status="running")
        last = 0.0

        def progress(stats: BatchStats) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.5:
                last = now
                self.store.update(job.id, counts=_counts(stats))

        fields = {name: job.options[name] for name in FIELD_OPTIONS if job.options.get(name)}
        call = CallOptions.model_validate({k: v for k, v in job.options.items() if k not in FIELD_OPTIONS})
        runner = runner_for(self.summarizer.settings)  # SUMMARIZER_RUNNER=ray: the job runs on the cluster
        more: dict[str, Any] = {"reword": HTTP_WORDING}
        if runner.fetches_urls:
            more.update(url_policy=self.url_policy, resolver=self.resolver)
        try:
            stats = await runner.arun(
                self.summarizer,
                [str(folder / "input.jsonl")],
                output=folder / "results.jsonl",
                errors=folder / "errors.jsonl",
                resume=True,
                options=call,
                on_progress=progress,
                relative_to=folder,
                **fields,
                **more,
            )
        except asyncio.CancelledError:
            raise
        except SummarizerError as exc:
            self.store.update(job.id, status="failed", error=for_http(str(exc).replace(str(folder) + "/", "")))
            return
        except Exception as exc:  # never let one job take the worker down
            _log.error("batch job %s failed: %s: %s", job.id, type(exc).__name__, exc)
            self.store.update(job.id, status="failed", error="internal error")
            return
        self.store.update(job.id, status="done", counts=_counts(stats))
