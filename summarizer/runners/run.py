"""The skeleton every runner shares: how a run starts and how it ends.

Start: the inputs checked, the call resolved once (schema, model), the output opened with resume (a
crash's partial last line cut, its ids to skip), the errors file, the counts, and the inputs counted in
the background for the progress bar. Finish: both files closed, the wall time, the cost (from the
engine: an endpoint's tokens at the model's price), peak memory, and the last report. The local, Ray
and Batch API runners differ only in what happens between.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archives import IdSet, Item, check_inputs, count_items
from ..batching import BatchStats
from ..calls import ResolvedCall
from ..options import CallOptions
from ..outcome import Outcome
from ..pricing import cost
from .sinks import ErrorSink, Sink, is_folder_output, open_sink

if TYPE_CHECKING:
    from ..core import Summarizer

Progress = Callable[[BatchStats], None]


@dataclass
class Run:
    """One run of a runner: its resolved call, its output and errors files and its counts."""

    summarizer: Summarizer
    call: ResolvedCall
    sink: Sink
    errors: ErrorSink
    stats: BatchStats
    on_progress: Progress | None = None

    @classmethod
    def start(
        cls,
        summarizer: Summarizer,
        specs: list[str] | None,
        *,
        output: str | Path | None,
        errors: str | Path | None = None,
        fmt: str = "jsonl",
        resume: bool = True,
        options: CallOptions | None = None,
        on_progress: Progress | None = None,
        text_field: str = "text",
        id_field: str = "id",
        count: bool = True,
        refuse_stdin: str | None = None,
    ) -> Run:
        if specs is not None:
            check_inputs(specs, refuse_stdin=refuse_stdin)
        call = summarizer.resolve(options)
        sink = open_sink(output, fmt=fmt, schema=call.spec, resume=resume)
        error_sink = ErrorSink(errors if errors is not None else default_errors_path(output, fmt))
        run = cls(summarizer, call, sink, error_sink, BatchStats(), on_progress)
        if count and specs and "-" not in specs:
            count_in_background(run.stats, specs, text_field=text_field, id_field=id_field)
        return run

    @property
    def done_ids(self) -> IdSet:
        """Ids already in the output (resume): not to be done again."""
        return self.sink.done_ids

    def write(self, outcome: Outcome, reword: dict[str, str] | None = None) -> None:
        """An outcome to its file: a summary to the output, a failure to the errors file (its message with
        ``reword``'s phrases replaced: the service's callers are told about their request, not the CLI's flags)."""
        if outcome.ok:
            self.sink.write(outcome)
        else:
            self.write_error(outcome.error_record(), reword)

    def write_error(self, record: dict[str, Any], reword: dict[str, str] | None = None) -> None:
        """An errors-file record (``Outcome.error_record``'s fields), its message reworded."""
        for said, instead in (reword or {}).items():
            record["message"] = record["message"].replace(said, instead)
        self.errors.write_record(record)

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.stats)

    def finish(self, price: Callable[[BatchStats], float | None] | None = None) -> BatchStats:
        """Close the files and complete the counts; ``price`` replaces the default pricing (the Batch API's
        discount)."""
        self.sink.close()
        self.errors.close()
        stats = self.stats
        stats.wall_s = time.perf_counter() - stats.started
        if price is not None:
            stats.cost_usd = price(stats)
        elif self.summarizer.engine.paid:
            prices = self.summarizer.settings.prices
            stats.cost_usd = cost(self.call.model, stats.prompt_tokens, stats.completion_tokens, prices)
        else:
            stats.cost_usd = 0.0
        stats.peak_rss_mb = peak_rss_mb()
        self.report()
        return stats


def default_errors_path(output: str | Path | None, fmt: str = "jsonl") -> str | None:
    """Where failed items go when no errors file is named: beside the output, or in its folder (None: stderr)."""
    if output in (None, "-"):
        return None
    return str(Path(output) / "errors.jsonl") if is_folder_output(output, fmt) else f"{output}.errors.jsonl"


def relative(items: Iterable[Item], prefix: str) -> Iterator[Item]:
    """``items`` with ``prefix`` taken out of their ids, sources and errors (a job's folder is not shown)."""
    for item in items:
        item.id, item.source = item.id.replace(prefix, ""), item.source.replace(prefix, "")
        if item.error:
            item.error = item.error.replace(prefix, "")
        yield item


def count_in_background(stats: BatchStats, specs: list[str], *, text_field: str, id_field: str) -> None:
    """Fill in ``stats.total`` from a thread: counting reads the inputs once more, so it runs beside the batch,
    and it is only for the progress bar (a failure leaves the total unknown)."""

    def count() -> None:
        with contextlib.suppress(Exception):
            stats.total = count_items(specs, text_field=text_field, id_field=id_field)

    threading.Thread(target=count, name="summarizer-batch-count", daemon=True).start()


def peak_rss_mb() -> float | None:
    """This process's peak resident memory. ``VmHWM`` where there is /proc: unlike ``ru_maxrss`` it is not
    inflated by the parent's memory when the process was started by fork+exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    try:
        import resource  # not on Windows

        scale = 1 if sys.platform == "darwin" else 1024
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)
    except (ImportError, OSError):
        return None
