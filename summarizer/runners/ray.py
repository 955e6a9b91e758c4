"""The Ray Data runner: the same batch on a Ray cluster (``--runner ray``, extra ``summarizer[ray]``).

Three stages, each scaling its own way:

1. **read** (tasks): the inputs are cut into units — one dump, archive or WARC file each, or up
   to ``FILES_PER_UNIT`` loose files — and each unit is read by ``archives`` in a task, so many
   files are read at once; ids already in the output are dropped here, before any request;
2. **extract** (tasks, ``map_batches``): bytes to article text, the CPU-heavy HTML step, on
   every CPU of every node;
3. **summarize** (an actor pool): each actor holds one long-lived ``Summarizer`` and keeps
   ``concurrency`` summaries in flight on its own event loop (an async ``__call__``, so Ray
   hands it several batches at once). Every actor paces its requests through one
   ``SharedThrottle`` actor: ``--rpm``/``--tpm`` and the 429 back-off hold for the whole cluster.

Rows come back to the driver, which writes them with the local runner's sinks (same lines, same
errors file, same resume) and keeps the same counts. The LLM is the slow part (a few thousand
rows a second at most), so one writer costs nothing and keeps "each id once" exact. A lost
worker node is Ray's to handle (its tasks and actors are retried elsewhere; an item whose
answer was already cached costs no request the second time); a killed driver is resumed by
running the command again. ``summarize_dataset`` is stage 3 for people with their own pipeline.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..archives import ARTICLE_SUFFIXES, IdSet, Item, kind_of
from ..batching import BatchStats, _unreachable, item_limits, stops_the_batch, summarize_into
from ..errors import ConfigError, InternalError, SummarizerError
from ..options import CallOptions
from ..outcome import Outcome
from ..sources import Article
from .run import Run

if TYPE_CHECKING:
    import ray.data

    from ..config import Settings
    from ..core import Summarizer

_log = logging.getLogger("summarizer.runners.ray")
FILES_PER_UNIT = 256  # loose files read by one task
EXTRACT_BATCH = 16  # articles per extraction task call
# What an actor reserves for scheduling. It mostly waits on the LLM (a quarter of a CPU at 8 in flight and
# 500 ms latency); reserving more starves the read and extract tasks, which need a whole free CPU on one node:
# 9 actors at half a CPU on a 5-CPU, 3-node cluster left no node with one, and nothing reached the pool.
ACTOR_CPUS = 0.1
OUTPUT_COLUMNS = (
    "id",
    "source",
    "summary",
    "meta",
    "error",
    "message",
    "attempts",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "raised",
)


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--runner ray needs Ray", hint="pip install 'summarizer[ray]'") from None
    return ray


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at ``address`` (``auto``: the one this machine belongs to), or start a local one
    with every core when there is none; once per process."""
    ray = ray_module()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours is the progress shown
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": we did
    import warnings

    warnings.filterwarnings("ignore", module=r"ray\.")  # Ray's deprecation and sizing advice is not for our users
    if ray.is_initialized():
        return
    _reachable(address)
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"cannot join the Ray cluster at {address}: {' '.join(str(exc).split())[:200]}",
            hint="start one with `ray start --head`, or leave out --ray-address for a local one",
        ) from None


def _reachable(address: str | None) -> None:
    """Fail in seconds, not minutes, on a ``host:port`` nobody listens on (Ray waits for its GCS for minutes)."""
    import socket

    if not address or address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            return
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address}: {exc}",
            hint="check --ray-address (host:port of the head, or auto), or leave it out for a local Ray",
        ) from None


# -- one rate limit for the cluster ---------------------------------------------------------------------


class _ThrottleActor:
    """A ``Throttle`` in an actor: every request in the cluster books its start here."""

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        from ..throttle import Throttle

        self.throttle = Throttle(rpm, tpm)

    def reserve(self, tokens: int) -> float:
        return self.throttle.reserve(tokens)

    def on_rate_limited(self, retry_after: float | None) -> None:
        self.throttle.on_rate_limited(retry_after)

    def on_success(self) -> None:
        self.throttle.on_success()

    def counts(self) -> dict[str, float]:
        return {"rate_limited": self.throttle.rate_limited, "waited": self.throttle.waited}


def start_throttle(rpm: float | None, tpm: float | None) -> Any:
    """The cluster's throttle actor, on the driver's node (it must outlive any worker node)."""
    ray = ray_module()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(_ThrottleActor)
    return actor.options(scheduling_strategy=here).remote(rpm, tpm)


class SharedThrottle:
    """What an LLM client sees as its throttle (``throttle.Throttle``'s interface), backed by the actor.

    Answers (``on_success``, ``on_rate_limited``) are reported without waiting; a start is booked and
    then slept on locally. If the actor cannot be reached, requests go unpaced rather than fail."""

    def __init__(self, actor: Any, rpm: float | None, tpm: float | None) -> None:
        self.actor = actor
        self.rpm, self.tpm = rpm, tpm
        self.rate_limited = 0
        self.waited = 0.0

    @property
    def active(self) -> bool:
        return True

    def _booked(self, reference: Any) -> float:
        delay = float(reference)
        self.waited += delay
        return delay

    def wait(self, tokens: int = 0) -> None:
        ray = ray_module()
        try:
            delay = self._booked(ray.get(self.actor.reserve.remote(tokens)))
        except Exception as exc:  # any Ray failure: go on unpaced, never fail the item
            _log.warning("the shared rate limiter did not answer (%s); this request goes unpaced", exc)
            return
        if delay > 0:
            time.sleep(delay)

    async def await_turn(self, tokens: int = 0) -> None:
        try:
            delay = self._booked(await self.actor.reserve.remote(tokens))
        except Exception as exc:
            _log.warning("the shared rate limiter did not answer (%s); this request goes unpaced", exc)
            return
        if delay > 0:
            await asyncio.sleep(delay)

    def on_rate_limited(self, retry_after: float | None) -> None:
        self.rate_limited += 1
        self.actor.on_rate_limited.remote(retry_after)

    def on_success(self) -> None:
        self.actor.on_success.remote()


# -- stage 1: read --------------------------------------------------------------------------------------


def units_of(specs: list[str]) -> Iterator[dict[str, Any]]:
    """The inputs as units of reading work: one file that holds many articles, or a list of loose files."""
    import glob

    files: list[str] = []
    for spec in specs:
        kind = kind_of(spec)
        paths: Iterable[str]
        if kind == "dir":
            paths = (
                str(Path(folder) / name)
                for folder, dirs, names in sorted(os.walk(spec))
                if not any(part.startswith(".") for part in Path(folder).relative_to(spec).parts)
                for name in sorted(names)
                if name.lower().endswith(ARTICLE_SUFFIXES) and not name.startswith(".")
            )
        elif kind == "glob":
            paths = (m for m in glob.iglob(spec, recursive=True) if Path(m).is_file())
        else:
            paths = [spec]
        for path in paths:
            if kind_of(path) == "article":
                files.append(path)
                if len(files) == FILES_PER_UNIT:
                    yield {"files": files}
                    files = []
            else:
                yield {"spec": path}
    if files:
        yield {"files": files}


def _read_unit(
    row: dict[str, Any], *, text_field: str, id_field: str, max_bytes: int, skip: IdSet, strip: str
) -> list[dict[str, Any]]:
    from ..archives import _file_item, iter_items

    unit = json.loads(row["unit"])
    items: Iterable[Item]
    if "files" in unit:
        items = (_file_item(Path(path), path, max_bytes) for path in unit["files"])
    else:
        items = iter_items([unit["spec"]], text_field=text_field, id_field=id_field, max_bytes=max_bytes)
    rows = []
    for item in items:
        if strip:
            item.id, item.source = item.id.replace(strip, ""), item.source.replace(strip, "")
        if item.id in skip:
            continue
        rows.append(_item_row(item.resolve(max_bytes)))
    return rows


def _item_row(item: Item) -> dict[str, Any]:
    """An item, its bytes read, as a dataset row (``_item_of`` turns it back)."""
    return {
        "id": item.id,
        "source": item.source,
        "bytes": item.data if isinstance(item.data, bytes) else None,
        "text": item.data if isinstance(item.data, str) else None,
        "html": "" if item.html is None else str(int(item.html)),
        "charset": item.charset or "",
        "fields": json.dumps(item.fields),
        "error": item.error or "",
    }


def _item_of(row: dict[str, Any]) -> Item:
    return Item(
        id=row["id"],
        source=row["source"],
        data=row["bytes"] if row["bytes"] is not None else row["text"],
        html=None if row["html"] == "" else row["html"] == "1",
        charset=row["charset"] or None,
        fields=json.loads(row["fields"]),
        error=row["error"] or None,
    )


# -- stage 2: extract -----------------------------------------------------------------------------------


def _extract(batch: Any, *, limits: dict[str, int]) -> Any:
    return _articles_table([_extracted(_item_of(row), limits) for row in batch.to_pylist()])


def _extracted(item: Item, limits: dict[str, int]) -> dict[str, Any]:
    """The article of ``item`` as JSON text, or the error that stopped it, pickled."""
    result: dict[str, Any] = {"id": item.id, "source": item.source, "article": None, "raised": None}
    try:
        article = item.article(**limits)
        result["article"] = json.dumps(article.to_dict())
    except SummarizerError as exc:
        result["raised"] = pickle.dumps(exc)
    except Exception as exc:  # a bug must not cost the rest of the batch
        result["raised"] = pickle.dumps(InternalError(f"internal error: {type(exc).__name__}: {exc}"))
    return result


def _articles_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("id", pa.string()), ("source", pa.string()), ("article", pa.string()), ("raised", pa.binary())]
        ),
    )


# -- stage 3: summarize ---------------------------------------------------------------------------------


class _Summarize:
    """One actor: one ``Summarizer`` for its lifetime, ``concurrency`` items in flight across its batches."""

    def __init__(
        self, settings: dict[str, Any], options: dict[str, Any], schema: Any, concurrency: int, throttle: Any
    ) -> None:
        from ..config import Settings
        from ..core import Summarizer

        made = Settings(**settings)
        shared = SharedThrottle(throttle, made.rpm, made.tpm) if throttle is not None else None
        self.summarizer = Summarizer(settings=made, schema=schema, throttle=shared)
        self.summarizer.warm_up()  # imports and tables now, while the pool is still starting, not on first items
        self.options = CallOptions(**options)
        self.concurrency = concurrency
        self.slots: asyncio.Semaphore | None = None

    async def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        if self.slots is None:
            self.slots = asyncio.Semaphore(self.concurrency)
        rows = await asyncio.gather(*(self._one(row) for row in batch.to_pylist()))
        return pa.Table.from_pylist(rows, schema=output_schema())

    async def _one(self, row: dict[str, Any]) -> dict[str, Any]:
        outcome = Outcome(row["id"], row["source"], 0)
        if row["raised"] is not None:
            outcome.error = pickle.loads(row["raised"])
            return row_of(outcome)
        fields = json.loads(row["article"])

        async def article() -> Article:
            return Article.from_dict(fields)

        assert self.slots is not None
        async with self.slots:
            await summarize_into(outcome, self.summarizer, article, self.options)
        return row_of(outcome)


def output_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("source", pa.string()),
            ("summary", pa.string()),
            ("meta", pa.string()),
            ("error", pa.string()),
            ("message", pa.string()),
            ("attempts", pa.int64()),
            ("requests", pa.int64()),
            ("prompt_tokens", pa.int64()),
            ("completion_tokens", pa.int64()),
            ("raised", pa.binary()),
        ]
    )


def row_of(outcome: Outcome) -> dict[str, Any]:
    """An outcome as a dataset row: the output record's ``summary`` and ``meta`` as JSON text, or the errors-file
    fields (and the error itself, pickled, for the driver's stop decision); what the item spent either way."""
    spent = outcome.spent
    row: dict[str, Any] = {
        "id": outcome.id,
        "source": outcome.source,
        "summary": None,
        "meta": None,
        "error": None,
        "message": None,
        "attempts": 0,
        "requests": spent.requests,
        "prompt_tokens": spent.prompt_tokens,
        "completion_tokens": spent.completion_tokens,
        "raised": None,
    }
    if outcome.ok:
        record = outcome.record()
        row["summary"], row["meta"] = _dump(record["summary"]), _dump(record["meta"])
    else:
        error = outcome.error_record()
        row.update(
            error=error["error"],
            message=error["message"],
            attempts=error["attempts"],
            raised=pickle.dumps(outcome.error),
        )
    return row


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def summarize_dataset(
    ds: ray.data.Dataset,
    *,
    settings: Settings | None = None,
    options: CallOptions | None = None,
    schema: Any = None,
    concurrency: int | None = None,
    actors: int | tuple[int, int] | None = None,
    throttle: Any = None,
    text_column: str = "text",
) -> ray.data.Dataset:
    """Summarize every row of ``ds`` (a ``text`` column, or ``text_column``; ``id``, ``title``, ``url``, ``date``,
    ``author``, ``site`` used when present) on an actor pool. Rows out: ``OUTPUT_COLUMNS`` — ``summary`` and
    ``meta`` as JSON text for a success, ``error``/``message`` for a failure (never both).

    ``actors``: pool size (default: one per CPU of the cluster, at most 8); ``concurrency``: summaries in
    flight per actor (default: the ``concurrency`` setting); ``throttle``: a ``start_throttle`` actor, made
    here from ``settings.rpm``/``tpm`` when not given."""
    from ..config import load_settings

    runtime = ray_module()
    settings = settings or load_settings()
    if throttle is None:
        throttle = start_throttle(settings.rpm, settings.tpm)
    articles: Any = ds.map_batches(
        functools.partial(_rows_to_articles, text_column=text_column, limits=item_limits(settings)),
        batch_format="pyarrow",
        batch_size=EXTRACT_BATCH,
    )
    summarized = summarize_articles(
        articles, runtime, settings, options or CallOptions(), schema, concurrency, actors, throttle
    )
    return cast("ray.data.Dataset", summarized)


def _rows_to_articles(batch: Any, *, text_column: str, limits: dict[str, int]) -> Any:
    """A user's rows, extracted (ids from ``id``, else a hash of the text; the id is also the source)."""
    from ..archives import _record_item

    items = [
        _record_item(record, f"row:{number}", text_column, "id") for number, record in enumerate(batch.to_pylist())
    ]
    for item in items:
        item.source = item.id
    return _articles_table([_extracted(item, limits) for item in items])


def summarize_articles(
    ds: Any,
    ray: Any,
    settings: Settings,
    options: CallOptions,
    schema: Any,
    concurrency: int | None,
    actors: int | tuple[int, int] | None,
    throttle: Any,
) -> Any:
    per_actor = concurrency or settings.concurrency
    if actors is None:
        actors = max(1, min(8, int(ray.cluster_resources().get("CPU", 1))))
    fields = settings.model_dump()  # every value, so that no worker's environment changes what is asked
    # Blocks of half an actor's concurrency, up to four in flight per actor: its semaphore stays full while
    # the next block is on its way (one big block would go to one actor, one at a time).
    rows = max(1, per_actor // 2)
    sizes = {"size": actors} if isinstance(actors, int) else {"min_size": actors[0], "max_size": actors[1]}
    return ds.repartition(target_num_rows_per_block=rows).map_batches(
        _Summarize,
        batch_format="pyarrow",
        batch_size=rows,
        num_cpus=ACTOR_CPUS,
        compute=ray.data.ActorPoolStrategy(**sizes, max_tasks_in_flight_per_actor=4, max_concurrent_calls_per_actor=4),
        fn_constructor_kwargs={
            "settings": fields,
            "options": options.model_dump(exclude_unset=True),
            "schema": schema,
            "concurrency": per_actor,
            "throttle": throttle,
        },
    )  # Ray Data's defaults for an actor pool: spread over the nodes, restarted (and its tasks retried) if lost


# -- the driver -----------------------------------------------------------------------------------------


def run_files(
    summarizer: Summarizer,
    specs: list[str],
    *,
    schema: Any = None,
    output: str | Path | None,
    errors: str | Path | None = None,
    fmt: str = "jsonl",
    resume: bool = True,
    concurrency: int | None = None,
    actors: int | None = None,
    address: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    options: CallOptions | None = None,
    on_progress: Callable[[BatchStats], None] | None = None,
    relative_to: Path | None = None,
    reword: dict[str, str] | None = None,
    stop: threading.Event | None = None,
) -> BatchStats:
    """The local runner's ``run_files`` on Ray: the same output lines, errors file, resume and counts.

    ``summarizer`` is the driver's (the call is resolved there once); each actor makes its own from the same
    settings. ``schema``: what the actors resolve (a name, file or ``module:Class``; default: the call's).
    Stops like the local runner (a refused key, an endpoint that stays unreachable) by raising that error;
    ``stop`` (set from another thread) ends the run early, as a cancelled job does."""
    settings = summarizer.settings
    run = Run.start(
        summarizer,
        specs,
        output=output,
        errors=errors,
        fmt=fmt,
        resume=resume,
        options=options,
        on_progress=on_progress,
        text_field=text_field,
        id_field=id_field,
        refuse_stdin="--runner ray reads files and folders, not standard input",
    )
    stats = run.stats
    schema = schema or run.call.options.schema_name or summarizer.schema.name
    throttle = None
    try:
        units = list(units_of(specs))
        connect(address or settings.ray_address)
        ray = ray_module()
        throttle = start_throttle(settings.rpm, settings.tpm)
        strip = f"{relative_to}{os.sep}" if relative_to is not None else ""
        ds = ray.data.from_items([{"unit": json.dumps(unit)} for unit in units], override_num_blocks=max(1, len(units)))
        ds = ds.flat_map(
            _read_unit,
            fn_kwargs={
                "text_field": text_field,
                "id_field": id_field,
                "max_bytes": settings.max_input_bytes,
                "skip": run.done_ids,
                "strip": strip,
            },
        )
        ds = ds.map_batches(
            _extract, batch_format="pyarrow", batch_size=EXTRACT_BATCH, fn_kwargs={"limits": item_limits(settings)}
        )
        per_actor = concurrency or summarizer.engine.concurrency(settings)
        ds = summarize_articles(
            ds, ray, settings, run.call.options, schema, per_actor, actors or settings.ray_actors, throttle
        )
        written = IdSet()
        unreachable = 0
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            for row in batch.to_pylist():
                if row["id"] in written:  # a block computed twice after a lost node: its lines once
                    stats.duplicates += 1
                    continue
                written.add(row["id"])
                ok = row["error"] is None
                stats.add(
                    ok=ok,
                    cached=ok and bool(json.loads(row["meta"]).get("cached")),
                    requests=row["requests"],
                    prompt_tokens=row["prompt_tokens"],
                    completion_tokens=row["completion_tokens"],
                )
                if ok:
                    run.sink.write_record(
                        {
                            "id": row["id"],
                            "source": row["source"],
                            "summary": json.loads(row["summary"]),
                            "meta": json.loads(row["meta"]),
                        }
                    )
                else:
                    error: SummarizerError = pickle.loads(row["raised"])
                    unreachable = unreachable + 1 if _unreachable(error) else 0
                    if stops_the_batch(error, unreachable):
                        raise error
                    fields = ("id", "source", "error", "message", "attempts")
                    run.write_error({name: row[name] for name in fields}, reword)
                run.report()
            if stop is not None and stop.is_set():
                break
        else:  # read to the end: whatever the inputs hold beyond what came back was already in the output
            if stats.total is not None:
                stats.skipped = max(0, stats.total - stats.done - stats.failed - stats.duplicates)
    finally:
        if throttle is not None:
            try:
                stats.rate_limited = int(ray_module().get(throttle.counts.remote(), timeout=10)["rate_limited"])
            except Exception:  # only a count for the report
                pass
        run.finish()
    return stats


async def run_files_async(summarizer: Summarizer, specs: list[str], **arguments: Any) -> BatchStats:
    """``run_files`` for async callers (the CLI, the service's jobs with ``runner = "ray"``), in a thread;
    cancelling the task (a deleted job) stops the run at its next block."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(run_files, summarizer, specs, stop=stop, **arguments)
    except asyncio.CancelledError:
        stop.set()
        raise
