"""The local runner: files in, files out, in this process (``batching.BatchRunner`` over the event loop)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archives import iter_items
from ..batching import BatchRunner, BatchStats
from ..options import CallOptions
from ..outcome import BatchInput
from .run import Progress, Run, relative

if TYPE_CHECKING:
    from ..core import Summarizer
    from ..netguard import Resolver, UrlPolicy


async def run_files(
    summarizer: Summarizer,
    sources: list[str] | None = None,
    *,
    items: Iterable[BatchInput] | None = None,
    output: str | Path | None,
    errors: str | Path | None = None,
    fmt: str = "jsonl",
    resume: bool = True,
    ordered: bool = False,
    concurrency: int | None = None,
    text_field: str = "text",
    id_field: str = "id",
    count: bool = True,
    options: CallOptions | None = None,
    on_progress: Progress | None = None,
    relative_to: Path | None = None,
    reword: dict[str, str] | None = None,
    url_policy: UrlPolicy | None = None,
    resolver: Resolver | None = None,
) -> BatchStats:
    """Summarize ``sources`` (paths, globs, ``-``) or ``items`` (texts, Articles, Items) into files.

    The output gets one line per item as it completes (``output=None``: stdout); failed
    items go to ``errors`` (by default ``<output>.errors.jsonl``). With ``resume`` an
    existing output is repaired (a partial last line from a crash is cut) and its ids are
    skipped. Returns the final counts; ``stats.total`` is filled in when counting finishes.
    ``relative_to`` shortens paths under that folder in ids, sources and messages (the service
    never shows a caller where it keeps its files). ``reword`` replaces phrases of the errors file's
    messages: the service's callers are told about their request's fields, not the command line's flags.
    URL inputs (arguments, URL lists, records with only a ``url``) are fetched within ``url_policy`` (default:
    any address) with ``resolver`` for DNS (default: the system's).
    """
    if (sources is None) == (items is None):
        raise TypeError("give either sources (paths) or items (texts, articles), not both")
    specs = list(sources or [])
    run = Run.start(
        summarizer,
        specs if items is None else None,
        output=output,
        errors=errors,
        fmt=fmt,
        resume=resume,
        options=options,
        on_progress=on_progress,
        text_field=text_field,
        id_field=id_field,
        count=count,
    )
    if items is None:
        items = iter_items(
            specs, text_field=text_field, id_field=id_field, max_bytes=summarizer.settings.max_input_bytes
        )
        if relative_to is not None:
            items = relative(items, f"{relative_to}{os.sep}")
    runner = BatchRunner(
        summarizer,
        concurrency=concurrency,
        ordered=ordered,
        skip=run.done_ids,
        options=run.call.options,
        url_policy=url_policy,
        resolver=resolver,
        stats=run.stats,
    )
    try:
        async for outcome in runner.run(items):
            run.write(outcome, reword)
            run.report()
    finally:
        run.finish()
    return run.stats


def run_files_blocking(summarizer: Summarizer, sources: list[str] | None = None, **arguments: Any) -> BatchStats:
    """``run_files`` for code without an event loop: one runs for the batch, and its HTTP clients close with it."""

    async def go() -> BatchStats:
        try:
            return await run_files(summarizer, sources, **arguments)
        finally:
            await summarizer.aclose()

    return asyncio.run(go())
