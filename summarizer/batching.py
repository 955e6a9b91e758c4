"""Many articles through one ``Summarizer``, concurrently, nothing lost (``Summarizer.abatch``).

Two parts, one job each:

- a feeder thread walks the inputs (files, archives, stdin can block; decoding JSON
  costs CPU), skips ids already done, and hands items over with bounded read-ahead;
- the event loop keeps at most ``concurrency`` summaries in flight (each one a task
  calling ``Summarizer.asummarize``; pacing to rpm/tpm happens per HTTP request in the
  LLM client) and yields each ``Outcome`` as it completes, or in input order.

Files in and files out are the runners' (``runners/``): the local one drives this.

A failed item becomes an ``Outcome`` with ``error`` set; the batch goes on. Only a
failure that would hit every item (a refused key, an unknown model, an endpoint that
stays unreachable) stops it, after which a re-run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .archives import IdSet, Item, content_id
from .engines.deferral import Deferred
from .errors import InternalError, LLMError, SummarizerError
from .options import CallOptions
from .outcome import BatchInput, Outcome
from .sources import Article

if TYPE_CHECKING:
    from .core import Summarizer
    from .netguard import Resolver, UrlPolicy

_END = object()
T = TypeVar("T")
_HTML_IN_THREAD = 2048  # bytes of HTML above which extraction runs off the event loop
HEAVY_HTML = 200_000  # bytes of HTML above which it goes to the extraction pool, where there is one
_STOP_AFTER_CONSECUTIVE = 10  # unreachable-endpoint failures in a row that stop the batch
WITHOUT_CACHE = "; answered without the cache"  # how core.Summarizer ends the warning of such an answer


def _unreachable(error: SummarizerError) -> bool:
    """An endpoint that cannot be reached stops a batch after ``_STOP_AFTER_CONSECUTIVE`` items in a row."""
    return isinstance(error, LLMError) and error.reason == "unreachable"


@dataclass
class BatchStats:
    """Counts for the progress bar and the final report. ``cached`` items are also ``done``."""

    total: int | None = None
    done: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0  # already in the output (resume)
    duplicates: int = 0  # an id seen earlier in this run
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    submitted: int = 0  # requests sent through the Batch API
    polled: int = 0  # of those, answered (or failed) so far, as the provider counts
    batch_prompt_tokens: int = 0  # tokens of answers used from Batch API batches (billed at batch prices)
    batch_completion_tokens: int = 0
    without_cache: int = 0  # items answered without the cache because it was unusable (a Redis outage)
    cache_problem: str | None = None  # the first reason it was unusable, kept after the cache has recovered
    cost_usd: float | None = None
    peak_rss_mb: float | None = None
    wall_s: float = 0.0
    started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def seen(self) -> int:
        return self.done + self.failed + self.skipped + self.duplicates

    @property
    def per_second(self) -> float:
        return (self.done + self.failed) / self.wall_s if self.wall_s > 0 else 0.0

    def count(self, outcome: Outcome) -> None:
        """Count an item: what it spent comes from its ledger, whether it succeeded or failed (a cache hit
        spent nothing now; its meta keeps the original call's usage)."""
        spent = outcome.spent
        cached = outcome.result is not None and outcome.result.meta.cached
        self.add(
            ok=outcome.error is None,
            cached=cached,
            requests=spent.requests,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
        )
        self.batch_prompt_tokens += spent.batch_prompt_tokens
        self.batch_completion_tokens += spent.batch_completion_tokens
        if outcome.result is not None:
            self.cache_missed(outcome.result.meta.warnings)

    def cache_missed(self, warnings: list[str]) -> None:
        """Count an item ``meta.warnings`` says was answered without the cache (core's wording)."""
        problem = next((w for w in warnings if w.endswith(WITHOUT_CACHE)), None)
        if problem is not None:
            self.without_cache += 1
            self.cache_problem = self.cache_problem or problem[: -len(WITHOUT_CACHE)]

    def add(self, *, ok: bool, cached: bool, requests: int, prompt_tokens: int, completion_tokens: int) -> None:
        """Count an item from its parts (runners whose outcomes arrive as rows, not ``Outcome``s)."""
        self.requests += requests
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        if not ok:
            self.failed += 1
            return
        self.done += 1
        if cached:
            self.cached += 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["started"]
        data["articles_per_s"] = round(self.per_second, 3)
        data["wall_s"] = round(self.wall_s, 3)
        if self.cost_usd is not None:
            data["cost_usd"] = round(self.cost_usd, 6)
        return data


class _Feeder(threading.Thread):
    """Walks the inputs in a thread and hands items to the event loop, at most ``room`` ahead."""

    def __init__(
        self,
        inputs: Iterable[BatchInput],
        loop: asyncio.AbstractEventLoop,
        room: int,
        skip: Collection[str],
        max_bytes: int,
    ) -> None:
        super().__init__(name="summarizer-batch-feeder", daemon=True)
        self.inputs = inputs
        self.loop = loop
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.slots = threading.Semaphore(room)
        self.stopping = threading.Event()
        self.skip = skip
        self.max_bytes = max_bytes
        self.skipped = 0
        self.duplicates = 0

    def _hand_over(self, entry: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the run was abandoned
            self.loop.call_soon_threadsafe(self.queue.put_nowait, entry)

    def run(self) -> None:
        seen = IdSet()
        index = 0
        try:
            for raw in self.inputs:
                if self.stopping.is_set():
                    return
                item = as_item(raw)
                if item.id in self.skip:
                    self.skipped += 1
                    continue
                if item.id in seen:
                    self.duplicates += 1
                    continue
                seen.add(item.id)
                while not self.slots.acquire(timeout=0.2):
                    if self.stopping.is_set():
                        return
                item.resolve(self.max_bytes)  # now, while an archive is positioned at this member
                self._hand_over((index, item))
                index += 1
        except BaseException as exc:  # a broken input stream: surface it in the loop
            self._hand_over(exc)
        finally:
            self._hand_over(_END)


def as_item(raw: BatchInput) -> Item:
    if isinstance(raw, Item):
        return raw
    if isinstance(raw, Article):
        item_id = raw.url or raw.path or content_id(raw.text)
        item = Item(id=item_id, source=raw.path or raw.url or item_id, data=raw.text, html=False)
        item.fields = {k: v for k, v in raw.metadata().items()}
        return item
    if isinstance(raw, str):
        item_id = content_id(raw)
        return Item(id=item_id, source=item_id, data=raw)
    raise TypeError(f"batch inputs are texts, Articles or Items, not {type(raw).__name__}")


class HostGate:
    """Politeness towards the sites a batch of URLs is fetched from: at most ``per_host`` fetches in flight
    from one host, and at least ``delay_s`` seconds between the starts of two fetches from it."""

    def __init__(self, per_host: int, delay_s: float) -> None:
        self.per_host = per_host
        self.delay_s = delay_s
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        slots = self._slots.setdefault(host, asyncio.Semaphore(self.per_host))
        async with slots:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self.delay_s  # reserved now: the next one waits behind it
            if start > now:
                await asyncio.sleep(start - now)
            yield


class BatchRunner:
    """Runs items through a ``Summarizer``; ``stats`` is live while ``run`` iterates.

    URL items (``Item.fetch_url``) are fetched first through ``netguard`` within ``url_policy`` (default: any
    address, as the command line fetches; the service passes its SSRF policy), politely (``HostGate``)."""

    def __init__(
        self,
        summarizer: Summarizer,
        *,
        concurrency: int | None = None,
        ordered: bool = False,
        skip: Collection[str] = (),
        options: CallOptions | None = None,
        url_policy: UrlPolicy | None = None,
        resolver: Resolver | None = None,
        stats: BatchStats | None = None,
    ) -> None:
        self.summarizer = summarizer
        self.url_policy = url_policy
        self.resolver = resolver
        self.gate = HostGate(summarizer.settings.fetch_per_host, summarizer.settings.fetch_delay_s)
        self.options = options or CallOptions()  # for every item
        self.concurrency = concurrency or summarizer.engine.concurrency(summarizer.settings)
        self.ordered = ordered
        self.skip = skip
        self.stats = stats if stats is not None else BatchStats()
        self._feeder: _Feeder | None = None

    async def run(self, inputs: Iterable[BatchInput]) -> AsyncIterator[Outcome]:
        loop = asyncio.get_running_loop()
        settings = self.summarizer.settings
        limit = self.concurrency
        window = max(4 * limit, 64)  # ordered: started but not yet emitted
        feeder = self._feeder = _Feeder(inputs, loop, window, self.skip, settings.max_input_bytes)
        events = feeder.queue  # items from the feeder and finished tasks, in one queue
        tasks: set[asyncio.Task[None]] = set()
        waiting: deque[tuple[int, Item]] = deque()
        finished: dict[int, Outcome] = {}
        next_emit = 0
        started = 0
        exhausted = False
        unreachable = 0
        inflight = 0  # started, outcome not yet received (a task leaves ``tasks`` a moment later)
        feeder.start()
        try:
            while not (exhausted and not inflight and not waiting):
                while waiting and inflight < limit and (not self.ordered or started - next_emit < window):
                    index, item = waiting.popleft()
                    feeder.slots.release()
                    task = loop.create_task(self._one(index, item, events))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    started += 1
                    inflight += 1
                entry = await events.get()
                if isinstance(entry, Outcome):
                    inflight -= 1
                    self._sync_counts()
                    if entry.deferred is not None:  # kept for a batch: neither done nor failed yet
                        yield entry
                        continue
                    if entry.error is not None:
                        unreachable = unreachable + 1 if _unreachable(entry.error) else 0
                        if stops_the_batch(entry.error, unreachable):
                            raise entry.error
                    self.stats.count(entry)
                    if not self.ordered:
                        yield entry
                        continue
                    finished[entry.index] = entry
                    while next_emit in finished:
                        yield finished.pop(next_emit)
                        next_emit += 1
                elif entry is _END:
                    exhausted = True
                elif isinstance(entry, BaseException):
                    raise entry
                else:
                    waiting.append(entry)
        finally:
            feeder.stopping.set()
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            self._sync_counts()
            self.stats.wall_s = time.perf_counter() - self.stats.started

    def _sync_counts(self) -> None:
        if self._feeder is not None:
            self.stats.skipped = self._feeder.skipped
            self.stats.duplicates = self._feeder.duplicates
        self.stats.rate_limited = self.summarizer.rate_limited

    async def _one(self, index: int, item: Item, events: asyncio.Queue[Any]) -> None:
        outcome = Outcome(item.id, item.source, index)

        async def article() -> Article:
            limits = item_limits(self.summarizer.settings)
            if item.fetch_url is not None and item.data is None and item.error is None:
                await self._fetch(item)
            if item.data is not None and len(item.data) > _HTML_IN_THREAD and item.may_be_html():
                found = await self.summarizer.offload(item.article, heavy=len(item.data) > HEAVY_HTML, **limits)
            else:
                found = item.article(**limits)
            item.data = None  # the article holds the text now; the raw bytes can go
            return found

        await summarize_into(outcome, self.summarizer, article, self.options)
        events.put_nowait(outcome)

    async def _fetch(self, item: Item) -> None:
        """Download a URL item's page into ``item.data`` (an InputError is the item's error: refused by the
        policy, unreachable, HTTP 4xx/5xx, too large)."""
        from urllib.parse import urlsplit

        from .netguard import ALLOW_ALL, fetch, system_resolver

        url = item.fetch_url or ""
        settings = self.summarizer.settings
        async with self.gate.turn((urlsplit(url).hostname or "").lower()):
            data, final_url, headers = await asyncio.to_thread(
                fetch,
                url,
                policy=self.url_policy or ALLOW_ALL,
                max_bytes=settings.max_input_bytes,
                timeout=settings.fetch_timeout,
                resolver=self.resolver or system_resolver,
            )
        content_type = headers.get("content-type", "").lower()
        item.data = data
        item.html = True if "html" in content_type else None
        if "charset=" in content_type:
            item.charset = content_type.split("charset=", 1)[1].split(";")[0].strip().strip('"') or None
        item.fields["url"] = final_url


def item_limits(settings: Any) -> dict[str, int]:
    """The size limits ``Item.article`` applies."""
    return {
        "max_bytes": settings.max_input_bytes,
        "max_chars": settings.max_input_chars,
        "max_html_bytes": settings.max_html_bytes,
    }


async def summarize_into(
    outcome: Outcome, summarizer: Summarizer, article: Callable[[], Awaitable[Article]], options: CallOptions
) -> Outcome:
    """Fill ``outcome`` with the summary of ``await article()``, or with the error that stopped it (every
    runner's one item: a bug in one item must not cost the rest of the batch)."""
    try:
        outcome.result = await summarizer.asummarize(await article(), options, ledger=outcome.spent)
    except SummarizerError as exc:
        outcome.error = exc
    except Deferred as deferred:
        outcome.deferred = deferred.body
    except Exception as exc:
        error = InternalError(f"internal error: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        outcome.error = error
    return outcome


def stops_the_batch(error: SummarizerError, unreachable_in_a_row: int) -> bool:
    """Whether this failure stops a batch: it would hit every item, or the endpoint stayed unreachable for
    ``_STOP_AFTER_CONSECUTIVE`` items in a row (``unreachable_in_a_row`` counts this one)."""
    return error.stops_batch or unreachable_in_a_row >= _STOP_AFTER_CONSECUTIVE


def iterate_in_thread(
    make: Callable[[], AsyncIterator[T]], *, finally_: Callable[[], Awaitable[None]] | None = None, buffer: int = 1024
) -> Iterator[T]:
    """Iterate an async iterator from synchronous code: its event loop runs in a helper thread, and items
    come over a bounded queue. Stopping early (``break``) stops the loop; ``finally_`` runs in it at the end."""

    handoff: queue.Queue[Any] = queue.Queue(maxsize=buffer)
    done = object()
    stop = threading.Event()

    async def pump() -> None:
        try:
            async for item in make():
                while not stop.is_set():
                    try:
                        handoff.put_nowait(item)
                        break
                    except queue.Full:
                        await asyncio.sleep(0.01)
                if stop.is_set():
                    return
        finally:
            if finally_ is not None:
                await finally_()

    def main() -> None:
        try:
            asyncio.run(pump())
            handoff.put(done)
        except BaseException as exc:
            handoff.put(exc)

    thread = threading.Thread(target=main, name="summarizer-batch", daemon=True)
    thread.start()
    try:
        while (entry := handoff.get()) is not done:
            if isinstance(entry, BaseException):
                raise entry
            yield entry
    finally:
        stop.set()
        thread.join(timeout=5)
