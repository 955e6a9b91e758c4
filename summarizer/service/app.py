"""The HTTP service: FastAPI over the same ``Summarizer``, batch runner and cache as the CLI.

Routes translate HTTP to library calls and library errors to RFC 9457 problem details;
nothing else. One shared ``Summarizer`` (one async client, one cache, one request
throttle) serves every request; at most ``max_inflight`` summaries run at once and the
next caller gets 429 with ``Retry-After`` instead of a growing queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hmac
import json
import logging
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..batching import HEAVY_HTML
from ..config import Settings, load_settings
from ..core import Summarizer
from ..errors import CacheMiss, ConfigError, InputError, InputTooLarge, SummarizerError
from ..netguard import Resolver, UrlPolicy
from ..options import CallOptions
from ..result import Meta
from ..secrets import scrub, scrub_whole
from .jobs import FIELD_OPTIONS, Job, JobStore, JobWorker, Status, for_http

PROBLEM = "application/problem+json"
_access = logging.getLogger("summarizer.access")
_log = logging.getLogger("summarizer.service.app")


# -- request and response models ------------------------------------------------------------------


class SummaryRequest(CallOptions):
    """One article, as ``text``, ``html`` or a ``url`` to fetch (exactly one of them), and the call's options."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["html"]}, {"required": ["url"]}]}
    )

    # Typed ``str`` with a None default: the field may be left out, but not sent as null.
    # An empty or blank text is bad input (400), like binary data or a page without an article.
    text: str = Field(None, description="Plain text or Markdown.")  # type: ignore[assignment]
    html: str = Field(
        None,  # type: ignore[assignment]
        description="An HTML page; the article is extracted with trafilatura.",
    )
    url: str = Field(
        None,
        min_length=1,
        max_length=2048,  # type: ignore[assignment]
        description="An http(s) URL to fetch (public addresses only).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SummaryRequest:
        given = [name for name in ("text", "html", "url") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, html or url")
        return self

    def call_options(self) -> CallOptions:
        return CallOptions.model_validate(self.model_dump(include=set(CallOptions.model_fields)))


class SummaryResponse(BaseModel):
    summary: dict[str, Any] = Field(description="An instance of the requested schema.")
    meta: Meta


class SchemaInfo(BaseModel):
    name: str
    description: str
    fields: list[str]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    text: str | None = None
    html: str | None = None


class BatchRequest(CallOptions):
    """A JSON batch: the items, and options for all of them. Read as a stream (see ``_stream_json_batch``):
    this model documents the body and validates each item."""

    items: list[BatchItem | str] = Field(
        min_length=1,
        description="Articles: objects with text or html "
        "(and optional id, title, url, date), objects with only a url (the "
        "page is fetched, public addresses only; the url is the id), or plain "
        "strings.",
    )


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


def _problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": Problem, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


# -- errors -------------------------------------------------------------------------------------


class ServiceError(Exception):
    """An HTTP-level refusal (auth, size, queue) with its status and headers."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


def problem(
    status: int,
    kind: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:summarizer:problem:{kind}",
        title=kind.replace("-", " "),
        status=status,
        detail=scrub_whole(detail),
        instance=instance,
        errors=errors,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers)


# -- ASGI middleware: body limit and access log ---------------------------------------------------


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; FastAPI lets HTTP exceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the {limit:,}-byte limit")


class BodyLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed in chunks."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, "body-too-large", f"the request body is over the {self.limit:,}-byte limit", instance=scope.get("path")
        )
        await response(scope, receive, send)


class JsonBudget:
    """400 for a JSON body nested deeper than ``jsonguard.MAX_DEPTH``, before any parser sees it: parsers pay for
    a body's shape, not its size (ijson's memory grows with the square of the depth, ``json`` recurses).

    JSON bodies (no content type, ``application/json`` or ``+json``) are read whole, as the routes read them
    anyway (``BodyLimit``, outside this, caps their size), scanned, then handed on in one piece."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or not _json_body(scope):
            await self.app(scope, receive, send)
            return
        from ..jsonguard import JsonTooDeep, check

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        try:
            if len(body) > 65536:  # a big body is scanned off the event loop
                await asyncio.to_thread(check, body, what="the request body")
            else:
                check(body, what="the request body")
        except JsonTooDeep as exc:
            await problem(exc.http_status, exc.problem, str(exc), instance=scope.get("path"))(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _json_body(scope: Scope) -> bool:
    """Whether the request's body would be read as JSON (FastAPI does so with no content type too)."""
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
    return content_type in (b"", b"application/json") or (
        content_type.startswith(b"application/") and content_type.endswith(b"+json")
    )


class AccessLog:
    """One line per request: method, path (no query string), status, milliseconds. Never bodies or headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            _access.info(
                "%s %s %d %.1fms",
                printable(scope["method"]),
                printable(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )


def printable(text: str, limit: int = 512) -> str:
    """``text`` safe for a log line: control characters (``%0a`` in a path) escaped, length capped."""
    if text.isprintable() and len(text) <= limit:
        return text
    escaped = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:limit])
    return escaped + ("..." if len(text) > limit else "")


def _extraction_pool() -> concurrent.futures.Executor | None:
    """Processes for extracting big HTML pages (lxml holds the GIL while it parses), started and warmed now;
    None (extraction in threads) where processes cannot be started."""

    workers = max(1, min(4, (os.cpu_count() or 2) - 1))
    try:
        # spawn, not fork (the service has threads) nor forkserver (its server process outlives a parent that
        # is killed): the workers are this process's own children and end with it.
        pool = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_die_with_parent
        )
        for done in [pool.submit(_warm_extractor) for _ in range(workers)]:
            done.result(timeout=120)
    except Exception as exc:  # e.g. no /dev/shm in a sandbox: slower under abuse, still correct
        _log.warning("no extraction processes (%s: %s); big pages are extracted in threads", type(exc).__name__, exc)
        return None
    return pool


def _warm_extractor() -> None:
    import trafilatura  # noqa: F401


def _die_with_parent() -> None:
    """In an extraction worker: ask Linux to end it when the service dies, even by SIGKILL (an idle pool
    worker would otherwise wait on its queue forever)."""
    import ctypes
    import signal

    with contextlib.suppress(Exception):  # not Linux, or no libc: the pool still shuts down with the service
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


async def _read_upload(request: Request) -> tuple[CallOptions, Any]:
    form = await request.form(max_files=1, max_fields=len(_OPTION_FIELDS) + len(FIELD_OPTIONS) + 1)
    unknown = sorted(set(form.keys()) - {"file", *_OPTION_FIELDS, *FIELD_OPTIONS})
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", unknown[0]),
                    "msg": f"unknown form field; the fields are file, {', '.join((*_OPTION_FIELDS, *FIELD_OPTIONS))}",
                }
            ]
        )
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ServiceError(400, "bad-input", "the multipart form needs a 'file' field with the JSONL")
    if not getattr(upload, "size", None):
        raise InputError("the uploaded file is empty")
    head = await upload.read(8192)
    await upload.seek(0)
    if not head.lstrip().startswith((b"{", b"[")):
        raise InputError(
            'the uploaded file is not JSONL: each line must be a JSON object such as {"id": "a1", "text": "..."}'
        )
    fields = {key: form.get(key) for key in _OPTION_FIELDS if isinstance(form.get(key), str)}
    try:
        options = CallOptions.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return options, upload


_OPTION_FIELDS = tuple(field.alias or name for name, field in CallOptions.model_fields.items())


def _multipart_schema() -> dict[str, Any]:
    """The upload form's OpenAPI schema: ``file`` plus the call options, generated from ``CallOptions``."""
    options = CallOptions.model_json_schema(by_alias=True)
    return {
        "type": "object",
        "required": ["file"],
        "additionalProperties": False,
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "JSONL: one {id?, text|html, ...} object a line",
            },
            **options["properties"],
            "text_field": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": _FIELD_HELP["text_field"],
            },
            "id_field": {"type": "string", "minLength": 1, "maxLength": 200, "description": _FIELD_HELP["id_field"]},
        },
    }


_FIELD_HELP = {
    "text_field": "JSONL upload: the field of each line holding the article, text or HTML (default: text, "
    "else html). Also a query parameter.",
    "id_field": "JSONL upload: the field of each line holding a stable id (default: id; without one, a hash of "
    "the text). Also a query parameter.",
}


async def _upload_fields(request: Request, query: dict[str, str | None]) -> dict[str, str]:
    """``text_field`` and ``id_field`` of an upload, from its form or the query string (not both, differing)."""
    form = await request.form()  # already parsed by _read_upload: starlette keeps it
    fields: dict[str, str] = {}
    for name in FIELD_OPTIONS:
        in_form, in_query = form.get(name), query.get(name)
        if in_form is not None and (not isinstance(in_form, str) or not 0 < len(in_form) <= 200):
            raise RequestValidationError([{"loc": ("body", name), "msg": "give a field name of 1 to 200 characters"}])
        if in_form is not None and in_query is not None and in_form != in_query:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", name),
                        "msg": f"the form says {name}={in_form!r}, the query {name}={in_query!r}: give one",
                    }
                ]
            )
        value = in_form if in_form is not None else in_query
        if value is not None:
            fields[name] = value
    return fields


def _save_upload(upload: Any, target: Path, max_items: int) -> None:
    """Copy the uploaded JSONL into the job folder, refusing it past ``max_items`` non-blank lines."""
    source = upload.file
    source.seek(0)
    lines = 0
    with open(target, "wb") as out:
        for line in source:
            if line.strip():
                lines += 1
                if lines > max_items:
                    raise InputTooLarge(
                        f"the upload has more than {max_items:,} items, the limit for one batch job",
                        hint="split it into several jobs",
                    )
            out.write(line)
    if not lines:
        raise InputError("the uploaded file is empty")


_ITEM_EVENTS = 2_000  # parse events in one item of a JSON batch (about 1,000 values: fields and what they nest)


def _stream_json_batch(body: bytes, target: Path, max_items: int) -> CallOptions:
    """Validate a JSON batch body and write its items to ``target`` as JSONL, one item at a time.

    Two streaming passes (ijson) instead of one ``model_validate_json``: a 25 MB body of a
    million small items would otherwise take a gigabyte and seconds before the item limit
    could even be checked. The first pass reads the options and counts the items (stopping
    at the limit), the second validates and writes each item. The second pass builds one item at a time,
    so an item's size in objects is capped in the first (``_ITEM_EVENTS``; ``JsonBudget`` has capped the
    nesting): memory follows the body's bytes, not its shape."""
    import ijson

    if not body.strip():
        raise RequestValidationError([{"loc": ("body",), "msg": "the body is empty; send a JSON object with items"}])
    options: dict[str, Any] = {}
    count = values = 0
    try:
        events = ijson.parse(body, use_float=True)
        first = next(events, None)
        if first is None or first[1] != "start_map":
            raise RequestValidationError([{"loc": ("body",), "msg": "send a JSON object with an 'items' list"}])
        for prefix, event, value in events:
            if prefix == "" and event == "map_key" and value not in ("items", *_OPTION_FIELDS):
                raise RequestValidationError(
                    [
                        {
                            "loc": ("body", str(value)[:64]),
                            "msg": f"unknown field; the fields are items, {', '.join(_OPTION_FIELDS)}",
                        }
                    ]
                )
            if prefix in _OPTION_FIELDS:
                options[prefix] = {} if event in ("start_map", "start_array") else value  # non-strings fail below
            elif prefix == "items.item" and event in (
                "start_map",
                "string",
                "start_array",
                "number",
                "boolean",
                "null",
            ):
                count += 1
                values = 0
                if count > max_items:
                    raise InputTooLarge(
                        f"the batch has more than {max_items:,} items, the limit for one job",
                        hint="split it into several jobs",
                    )
            if prefix.startswith("items.item"):
                values += 1  # the second pass builds each item whole: its size in objects is capped, not only bytes
                if values > _ITEM_EVENTS:
                    raise InputTooLarge(
                        f"items[{count - 1}] holds more than {_ITEM_EVENTS // 2:,} JSON values",
                        hint="an item is an object of text or html, id and metadata strings",
                    )
        parsed = CallOptions.model_validate(options)
        if count == 0:
            raise RequestValidationError([{"loc": ("body", "items"), "msg": "give at least one item"}])
        with open(target, "w", encoding="utf-8") as out:
            for raw in ijson.items(body, "items.item", use_float=True):
                out.write(_item_line(raw if isinstance(raw, str) else BatchItem.model_validate(raw)))
    except ijson.JSONError as exc:
        raise RequestValidationError([{"loc": ("body",), "msg": f"invalid JSON: {str(exc)[:200]}"}]) from None
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return parsed


def _item_line(item: BatchItem | str) -> str:

    record = {"text": item} if isinstance(item, str) else item.model_dump(exclude_none=True)
    return json.dumps(record, ensure_ascii=False) + "\n"


async def _complete_lines(path: Path) -> AsyncIterator[bytes]:
    """The file's complete lines (a line being written is left for the next read)."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        pending = b""
        while chunk := await asyncio.to_thread(fh.read, 1 << 16):
            pending += chunk
            cut = pending.rfind(b"\n") + 1
            if cut:
                yield pending[:cut]
                pending = pending[cut:]


# -- state and dependencies ------------------------------------------------------------------------


@dataclass
class AppState:
    """What the routes share, typed: set up by ``create_app`` and its lifespan, read through dependencies."""

    settings: Settings
    policy: UrlPolicy
    resolver: Resolver | None = None
    token: str | None = None
    summarizer: Summarizer | None = None  # from start-up on
    store: JobStore | None = None
    worker: JobWorker | None = None
    inflight: int = 0
    readiness: dict[str, str] = field(default_factory=dict)  # the last probe's checks (see ``probe``)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """One of ``max_inflight`` summaries; 429 when none is free (a queue that grows helps nobody)."""
        limit = self.settings.max_inflight
        if self.inflight >= limit:
            raise ServiceError(
                429, "busy", f"{limit} summaries are in progress; retry shortly", headers={"Retry-After": "1"}
            )
        self.inflight += 1
        try:
            yield
        finally:
            self.inflight -= 1


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.service
    return state


State = Annotated[AppState, Depends(app_state)]


def running(state: State) -> Summarizer:
    assert state.summarizer is not None, "the service has not started"
    return state.summarizer


def job_store(state: State) -> JobStore:
    assert state.store is not None, "the service has not started"
    return state.store


def job_worker(state: State) -> JobWorker:
    assert state.worker is not None, "the service has not started"
    return state.worker


TheSummarizer = Annotated[Summarizer, Depends(running)]
Store = Annotated[JobStore, Depends(job_store)]
Worker = Annotated[JobWorker, Depends(job_worker)]


async def authorized(request: Request, state: State) -> None:
    """With a token configured, every /v1 call must send it as a bearer token (compared in constant time)."""
    if state.token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), state.token.encode()):
        raise ServiceError(
            401,
            "unauthorized",
            "missing or wrong bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="summarizer"'},
        )


def schema_or_422(summarizer: Summarizer, name: str | None) -> None:
    """Callers name bundled or configured schemas; never a path, a module or a field list."""
    from ..schemas import available

    if name is not None and name not in available(summarizer.schema_dirs):
        raise ConfigError(f"unknown schema {name!r}; GET /v1/schemas lists them")


def job_or_404(store: JobStore, job_id: str) -> Job:
    job = store.get(job_id) if len(job_id) <= 64 else None
    if job is None:
        raise ServiceError(404, "not-found", f"no batch job {job_id}")
    return job


# -- routers ---------------------------------------------------------------------------------------

ops = APIRouter(tags=["ops"])
summaries = APIRouter(prefix="/v1", tags=["summaries"], dependencies=[Depends(authorized)])
schemas = APIRouter(prefix="/v1", tags=["schemas"], dependencies=[Depends(authorized)])
batches = APIRouter(prefix="/v1", tags=["batches"], dependencies=[Depends(authorized)])


@ops.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok", version=__version__)


@ops.get("/readyz", response_model=Readiness, responses=_problem_responses(503))
async def readyz(state: State, summarizer: TheSummarizer) -> Any:
    """Ready to serve: the cache is usable, the state folder writable and an LLM endpoint configured (or the
    extractive engine). The dependencies are probed now, and every ``ready_probe_s`` seconds in the background."""
    checks = await asyncio.to_thread(probe, state)
    if all(value == "ok" or value.startswith(("off", "extractive")) for value in checks.values()):
        return Readiness(status="ready", checks=checks)
    return problem(503, "not-ready", "; ".join(f"{k}: {v}" for k, v in checks.items()), "/readyz")


def probe(state: AppState) -> dict[str, str]:
    """Check the service's dependencies now (blocking: call it in a thread): the cache (a Redis outage that
    has ended is noticed here, and the cache used again, without waiting for a summary to touch it), the state
    folder and job database, and the LLM settings. Remembered in ``state.readiness``."""
    checks: dict[str, str] = {}
    summarizer = state.summarizer
    assert summarizer is not None, "the service has not started"
    cache = summarizer.cache
    unusable = "unusable (summaries are answered without it; see the service log)"
    if cache is None:
        checks["cache"] = unusable if summarizer.cache_problem else "off"
    else:
        try:
            reprobe = getattr(cache, "probe", None)  # Redis: a ping that also ends a remembered outage
            if reprobe is not None:
                if reprobe() is not None:
                    raise ConfigError("Redis did not answer")
            else:
                cache.check()
            checks["cache"] = unusable if summarizer.cache_problem else "ok"
        except Exception:
            checks["cache"] = unusable
            _log.warning("readiness: %s", summarizer.cache_problem or "the cache failed its check")
    checks["state"] = _probe_state(state)
    try:
        engine = summarizer.engine
        checks["llm"] = "ok" if engine.uses_model else f"{engine.name} engine (no LLM configured)"
        if engine.fallback:
            checks["llm"] = "no LLM endpoint configured (set OPENAI_API_KEY or OPENAI_BASE_URL)"
    except ConfigError as exc:
        checks["llm"] = str(exc)
    state.readiness = checks
    return checks


def _probe_state(state: AppState) -> str:
    """ "ok" when the state folder takes a new file and the job database answers; else why not (no path)."""
    store = state.store
    if store is None:
        return "not started"
    try:
        marker = store.root / f".ready-{os.getpid()}"
        marker.write_bytes(b"")
        marker.unlink()
        store.count_unfinished()
    except Exception as exc:
        _log.warning(
            "readiness: the state folder %s is unusable: %s: %s", store.root, type(exc).__name__, scrub(str(exc))
        )
        return "unusable (batch jobs cannot be stored; see the service log)"
    return "ok"


async def _probe_forever(state: AppState) -> None:
    """The readiness probe on its own schedule: a replica recovers from an outage without any traffic."""
    while True:
        await asyncio.sleep(state.settings.ready_probe_s)
        try:
            await asyncio.to_thread(probe, state)
        except Exception as exc:  # a probe must never end the loop
            _log.warning("readiness probe failed: %s: %s", type(exc).__name__, scrub(str(exc)))


def json_only(request: Request) -> None:
    """A body that is not JSON is a 415 (FastAPI would call it a 422: a field missing from a body it never read)."""
    if not _json_body(request.scope):
        raise ServiceError(415, "unsupported-media-type", "send the request as application/json")


@summaries.post(
    "/summaries",
    response_model=SummaryResponse,
    dependencies=[Depends(json_only)],
    responses={
        **_problem_responses(400, 401, 413, 415, 422, 429, 502, 504),
        404: {
            **_problem_responses(404)[404],
            "description": 'Not cached: the request has "offline": true and the cache holds '
            "no answer for it (problem type urn:summarizer:problem:not-cached)",
        },
    },
)
async def create_summary(body: SummaryRequest, state: State, summarizer: TheSummarizer) -> SummaryResponse:
    """Summarize one article given as text, HTML or a URL."""
    from ..sources import fetch, from_bytes, from_text

    settings = state.settings
    schema_or_422(summarizer, body.schema_name)
    with state.slot():
        max_chars = settings.max_input_chars
        if body.url is not None:
            article = await asyncio.to_thread(
                fetch,
                body.url,
                max_bytes=settings.max_input_bytes,
                timeout=settings.fetch_timeout,
                policy=state.policy,
                max_chars=max_chars,
                resolver=state.resolver,
                max_html_bytes=settings.max_html_bytes,
            )
        elif body.html is not None:
            data = body.html.encode("utf-8", "surrogatepass")
            article = await summarizer.offload(
                from_bytes,
                data,
                name="the HTML",
                html=True,
                max_chars=max_chars,
                heavy=len(data) > HEAVY_HTML,
                max_html_bytes=settings.max_html_bytes,
            )
        else:
            article = from_text(body.text or "", name="the article", max_chars=max_chars)
        try:
            result = await summarizer.asummarize(article, body.call_options())
        except CacheMiss as exc:
            raise CacheMiss(for_http(exc.message), hint=exc.hint) from None
    return SummaryResponse(summary=result.summary.model_dump(mode="json"), meta=result.meta)


@schemas.get("/schemas", response_model=list[SchemaInfo], responses=_problem_responses(401))
async def list_schemas(summarizer: TheSummarizer) -> list[SchemaInfo]:
    """The schemas a summary can be asked for."""
    from ..schemas import available, resolve

    dirs = summarizer.schema_dirs
    return [
        SchemaInfo(
            name=name,
            description=resolve(name, dirs).json_schema.get("description", ""),
            fields=list(resolve(name, dirs).model.model_fields),
        )
        for name in available(dirs)
    ]


@schemas.get("/schemas/{name}", response_model=dict[str, Any], responses=_problem_responses(401, 404))
async def show_schema(name: str, summarizer: TheSummarizer) -> dict[str, Any]:
    """One schema as JSON Schema, with the x-grounded and x-max-sentences markers."""
    from ..schemas import available, resolve

    dirs = summarizer.schema_dirs
    if name not in available(dirs):
        raise ServiceError(404, "not-found", f"no schema named {name!r}")
    return resolve(name, dirs).json_schema


@batches.post(
    "/batches",
    status_code=202,
    response_model=Job,
    responses=_problem_responses(400, 401, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}},
                "multipart/form-data": {"schema": _multipart_schema()},
            },
        }
    },
)
async def create_batch(
    request: Request,
    state: State,
    summarizer: TheSummarizer,
    store: Store,
    worker: Worker,
    text_field: Annotated[
        str | None, Query(min_length=1, max_length=200, description=_FIELD_HELP["text_field"])
    ] = None,
    id_field: Annotated[str | None, Query(min_length=1, max_length=200, description=_FIELD_HELP["id_field"])] = None,
) -> Job:
    """Start a batch job from a JSONL upload (multipart field ``file``) or a JSON list of items.

    An upload whose lines keep the article elsewhere than ``text`` names that field with ``text_field`` (and
    its id field with ``id_field``), as form fields or query parameters: ``POST /v1/batches?text_field=body``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/json", ""):
        raise ServiceError(415, "unsupported-media-type", "send application/json or multipart/form-data")
    await _check_room(state.settings, store)
    limit = state.settings.max_batch_items
    save: Callable[[], CallOptions | None]
    if content_type == "multipart/form-data":
        options, upload = await _read_upload(request)
        fields = await _upload_fields(request, {"text_field": text_field, "id_field": id_field})
        schema_or_422(summarizer, options.schema_name)
        job = store.create({**options.stored(), **fields})
        save = functools.partial(_save_upload, upload, store.folder(job.id) / "input.jsonl", limit)
    else:
        if text_field is not None or id_field is not None:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "text_field" if text_field is not None else "id_field"),
                        "msg": "text_field and id_field name the fields of a JSONL upload; "
                        "the items of a JSON batch have text or html, and id",
                    }
                ]
            )
        body = await request.body()
        job = store.create({})
        save = functools.partial(_stream_json_batch, body, store.folder(job.id) / "input.jsonl", limit)
    try:
        parsed = await asyncio.to_thread(save)  # parsing a big body must not stall every other request
        if parsed is not None:
            schema_or_422(summarizer, parsed.schema_name)
            store.set_options(job.id, parsed.stored())
    except BaseException:
        await asyncio.to_thread(store.delete, job.id)
        raise
    worker.submit(job.id)
    return store.get(job.id) or job


async def _check_room(settings: Settings, store: JobStore) -> None:
    """429 before reading a body when the queue or the storage quota is full."""
    if store.count_unfinished() >= settings.max_queued_jobs:
        raise ServiceError(
            429,
            "busy",
            f"{settings.max_queued_jobs} batch jobs are queued or running; retry when one has finished",
            headers={"Retry-After": "30"},
        )
    if await asyncio.to_thread(store.bytes_used) >= settings.max_stored_bytes:
        raise ServiceError(
            429,
            "storage-full",
            "the service's storage for batch jobs is full; delete finished "
            "jobs (DELETE /v1/batches/ID) or retry when they expire",
            headers={"Retry-After": "300"},
        )


class BatchList(BaseModel):
    """Batch jobs, newest first."""

    jobs: list[Job] = Field(
        description="Each job as GET /v1/batches/{id} gives it: id, status, counts, progress, "
        "created_at, updated_at, options, error."
    )


@batches.get("/batches", response_model=BatchList, responses=_problem_responses(401, 422))
async def list_batches(
    store: Store,
    status: Annotated[Status | None, Query(description="Only jobs with this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many jobs.")] = 100,
) -> BatchList:
    """The batch jobs the service keeps (finished ones until they expire), newest first."""
    return BatchList(jobs=await asyncio.to_thread(store.recent, status=status, limit=limit))


@batches.get("/batches/{job_id}", response_model=Job, responses=_problem_responses(401, 404))
async def get_batch(job_id: str, store: Store) -> Job:
    """Status, counts and progress of a batch job."""
    return job_or_404(store, job_id)


_NDJSON: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        "description": "JSON lines, as far as the job has got",
    }
}


def _stream(store: JobStore, job_id: str, name: str) -> StreamingResponse:
    job = job_or_404(store, job_id)
    return StreamingResponse(_complete_lines(store.folder(job.id) / name), media_type="application/x-ndjson")


@batches.get(
    "/batches/{job_id}/results", response_class=StreamingResponse, responses={**_NDJSON, **_problem_responses(401, 404)}
)
async def batch_results(job_id: str, store: Store) -> StreamingResponse:
    """The results so far, one ``{id, source, summary, meta}`` JSON line per article."""
    return _stream(store, job_id, "results.jsonl")


@batches.get(
    "/batches/{job_id}/errors", response_class=StreamingResponse, responses={**_NDJSON, **_problem_responses(401, 404)}
)
async def batch_errors(job_id: str, store: Store) -> StreamingResponse:
    """The failed items so far, one ``{id, source, error, message, attempts}`` JSON line each."""
    return _stream(store, job_id, "errors.jsonl")


@batches.delete("/batches/{job_id}", response_model=Job, responses=_problem_responses(401, 404))
async def cancel_batch(job_id: str, store: Store, worker: Worker) -> Job:
    """Delete a job: cancel it if it is queued or running, then remove its files and its record.
    Returns the job as it was at the end (status ``cancelled`` if it had not finished)."""
    job_or_404(store, job_id)
    return await worker.delete(job_id) or job_or_404(store, job_id)


# -- the app ---------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, *, resolver: Resolver | None = None) -> FastAPI:
    """Build the service. Settings as everywhere: arguments > env > config file > defaults.

    ``resolver`` replaces DNS for URL fetching (tests that must not reach the network use it)."""
    settings = settings or load_settings()
    if "log" not in settings.model_fields_set:
        # Off unless asked for (SUMMARIZER_LOG=true): the log keeps every caller's article, and a service's
        # callers would grow it without bound.
        settings = settings.model_copy(update={"log": False})
    state = AppState(
        settings=settings,
        policy=UrlPolicy(allow_networks=tuple(settings.fetch_allow_networks)),
        resolver=resolver,
        token=settings.api_token.get_secret_value() if settings.api_token else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from ..core import Summarizer

        summarizer = state.summarizer = Summarizer(settings=settings)
        await asyncio.to_thread(summarizer.warm_up)  # no request pays the big imports on the event loop
        summarizer.extraction_pool = await asyncio.to_thread(_extraction_pool)
        store = state.store = JobStore(settings.resolved_state_dir)
        worker = state.worker = JobWorker(
            summarizer,
            store,
            retention_s=settings.job_retention_hours * 3600,
            url_policy=state.policy,
            resolver=state.resolver,
        )
        worker.start()
        prober = asyncio.create_task(_probe_forever(state))
        try:
            yield
        finally:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober
            await worker.stop()
            await summarizer.aclose()
            store.close()
            if summarizer.extraction_pool is not None:
                await asyncio.to_thread(summarizer.extraction_pool.shutdown, wait=True, cancel_futures=True)

    # /docs (Swagger UI) and /redoc from assets shipped in fastapi-offline, served by the service itself: no CDN,
    # so they work on a machine without internet.
    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(
        title="summarizer",
        version=__version__,
        lifespan=lifespan,
        description="News articles into structured, grounded summaries. Errors are RFC 9457 problem "
        "details. Send `Authorization: Bearer <token>` when the service has a token.",
    )
    app.state.service = state
    for router in (ops, summaries, schemas, batches):
        app.include_router(router)
    _install_problem_handlers(app)
    app.add_middleware(JsonBudget)  # inside BodyLimit: the size is capped while the body streams in
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


def _install_problem_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, leaves as an RFC 9457 problem; never a stack trace."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, request.url.path, exc.headers)

    @app.exception_handler(SummarizerError)
    async def _library_error(request: Request, exc: SummarizerError) -> JSONResponse:
        return problem(exc.http_status, exc.problem, str(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]) or "invalid request"
        return problem(422, "invalid-request", detail, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}.get(exc.status_code, "http-error")
        return problem(exc.status_code, kind, str(exc.detail), request.url.path, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        _log.error("internal error on %s: %s: %s", request.url.path, type(exc).__name__, scrub(str(exc)))
        return problem(500, "internal-error", "internal error (the service log has the details)", request.url.path)
