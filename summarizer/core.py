"""``Summarizer``: the one entry point. The CLI and the HTTP service are thin layers over it.

A call is planned once (input checks, schema, cache lookup, prompt) by shared code, then
either answered at once (extractive engine, cache hit) or sent to the LLM by the sync
or the async path; both finish through the same code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from . import extractive, prompts
from .cache import Cache, make_key
from .config import Settings, load_settings
from .errors import CacheMiss, ConfigError, InputError, SummarizerError, ValidationFailed
from .grounding import CONTEXT_KEY, grounding_context
from .result import Meta, Result, Usage
from .schemas import SchemaSpec, resolve
from .sources import Article, from_text

if TYPE_CHECKING:
    from .batch import BatchInput, Outcome

SchemaArg = str | type[BaseModel] | SchemaSpec | None


@dataclass
class _Plan:
    """A call that needs the LLM: everything prepared, nothing sent yet."""

    article: Article
    spec: SchemaSpec
    key: str | None
    context: dict[str, Any]
    messages: list[dict[str, Any]]
    started: float
    model: str
    max_retries: int


class Summarizer:
    """Summarize articles into a validated, grounded schema instance.

    Long-lived and thread-safe: create one and share it. ``with Summarizer() as s:``
    (or ``async with``) closes its HTTP clients and cache connection.

    >>> s = Summarizer(model="gpt-4o-mini")          # settings from env / config file
    >>> result = s.summarize(text)                    # or: await s.asummarize(text)
    >>> result.summary.headline, result.meta.cached
    """

    def __init__(self, model: str | None = None, *, schema: SchemaArg = None,
                 settings: Settings | None = None, config_file: str | Path | None = None,
                 **overrides: Any) -> None:
        if settings is None:
            settings = load_settings(config_file, model=model, **overrides)
        elif model or overrides:
            settings = settings.model_copy(update={k: v for k, v in
                                                   {"model": model, **overrides}.items() if v is not None})
        self.settings = settings
        self.schema = resolve(schema or settings.schema_name)
        self.prompt = prompts.load()
        self._lock = threading.Lock()
        self._cache: Cache | None = None
        self._llm: Any = None

    # -- public API -------------------------------------------------------------------------

    @property
    def engine(self) -> str:
        """The engine calls will use: ``llm`` or ``extractive``."""
        engine = self.settings.engine
        if engine == "auto":
            return "llm" if self.settings.llm_configured else "extractive"
        if engine == "llm" and not self.settings.llm_configured:
            raise ConfigError("no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server",
                              hint="or use --engine extractive")
        return engine

    def summarize(self, article: str | Article, *, schema: SchemaArg = None, refresh: bool = False,
                  offline: bool = False, model: str | None = None, max_retries: int | None = None,
                  language: str | None = None) -> Result[Any]:
        """Summarize one article. Per-call ``model``, ``max_retries`` (re-asks) and ``language`` (ISO 639-1
        code for the summary's language; quotes and evidence stay verbatim) override the settings."""
        plan = self._plan(article, schema, refresh, offline, model, max_retries, language)
        if isinstance(plan, Result):
            return plan
        from .llm import track, untrack

        stats, token = track()
        try:
            instance = self.llm.request(plan.spec.model, plan.messages, plan.context, plan.max_retries,
                                        model_name=plan.model)
        except SummarizerError as exc:
            _charge(exc, stats)
            raise
        finally:
            untrack(token)
        return self._finish(plan, instance, stats)

    async def asummarize(self, article: str | Article, *, schema: SchemaArg = None, refresh: bool = False,
                         offline: bool = False, model: str | None = None, max_retries: int | None = None,
                         language: str | None = None) -> Result[Any]:
        """``summarize`` for async code; the same options."""
        plan = self._plan(article, schema, refresh, offline, model, max_retries, language)
        if isinstance(plan, Result):
            return plan
        from .llm import track, untrack

        stats, token = track()
        try:
            instance = await self.llm.arequest(plan.spec.model, plan.messages, plan.context, plan.max_retries,
                                               model_name=plan.model)
        except SummarizerError as exc:
            _charge(exc, stats)
            raise
        finally:
            untrack(token)
        return self._finish(plan, instance, stats)

    async def abatch(self, inputs: Iterable[BatchInput], *, concurrency: int | None = None,
                     ordered: bool = False, skip: Collection[str] = (), refresh: bool = False,
                     offline: bool = False) -> AsyncIterator[Outcome]:
        """Summarize many articles concurrently; yields an ``Outcome`` per item as each completes.

        ``inputs`` is any iterable of texts, ``Article``s or ``archives.Item``s (for files and
        archives: ``archives.iter_items(paths)``). At most ``concurrency`` (default: settings)
        are in flight; requests are paced to ``rpm``/``tpm``; ids in ``skip`` are not done
        again; ``ordered`` yields in input order. A failed item is an outcome with ``error``
        set, and the batch goes on.
        """
        from .batch import BatchRunner

        runner = BatchRunner(self, concurrency=concurrency, ordered=ordered, skip=skip, refresh=refresh,
                             offline=offline)
        async for outcome in runner.run(inputs):
            yield outcome

    def batch(self, inputs: Iterable[BatchInput], **options: Any) -> Iterator[Outcome]:
        """``abatch`` for synchronous code: an event loop runs in a helper thread."""
        import asyncio
        import queue

        handoff: queue.Queue[Any] = queue.Queue(maxsize=1024)
        done = object()
        stop = threading.Event()

        async def pump() -> None:
            try:
                async for outcome in self.abatch(inputs, **options):
                    while not stop.is_set():
                        try:
                            handoff.put(outcome, timeout=0.2)
                            break
                        except queue.Full:
                            await asyncio.sleep(0)
                    if stop.is_set():
                        return
            finally:
                if self._llm is not None:
                    await self._llm.aclose()

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

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        if self._llm is not None:
            self._llm.close()

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()
        self.close()

    def __enter__(self) -> Summarizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def cache_key(self, article: str | Article, schema: SchemaArg = None, *, model: str | None = None,
                  language: str | None = None, normalized: str | None = None) -> str:
        """The cache key of a request for ``article``: same text, model, schema, prompt and options."""
        text = article.text if isinstance(article, Article) else article
        spec = resolve(schema) if schema is not None else self.schema
        options: dict[str, Any] = {"temperature": self.settings.temperature, "max_tokens": self.settings.max_tokens}
        if language:
            options["language"] = language
        return make_key(text, model=model or self.settings.model, schema_fingerprint=spec.fingerprint,
                        prompt_version=self.prompt.version, normalized=normalized, options=options)

    # -- shared machinery -------------------------------------------------------------------

    @property
    def cache(self) -> Cache | None:
        if not self.settings.use_cache:
            return None
        with self._lock:
            if self._cache is None:
                self._cache = Cache(self.settings.resolved_cache_path)
        return self._cache

    @property
    def llm(self) -> Any:
        with self._lock:
            if self._llm is None:
                from .llm import LLMClient

                self._llm = LLMClient(self.settings)
        return self._llm

    def _plan(self, article: str | Article, schema: SchemaArg, refresh: bool, offline: bool,
              model: str | None = None, max_retries: int | None = None,
              language: str | None = None) -> _Plan | Result[Any]:
        started = time.perf_counter()
        if isinstance(article, str):
            article = from_text(article, max_chars=self.settings.max_input_chars)
        spec = resolve(schema) if schema is not None else self.schema
        language = check_language(language)
        context = grounding_context(article.text)
        if self.engine == "extractive":
            return self._extractive(article, spec, context, started, language)
        model = model or self.settings.model
        key = self.cache_key(article, spec, model=model, language=language,
                             normalized=context[CONTEXT_KEY].normalized)
        cache = self.cache
        if cache is not None and not refresh:
            hit = cache.get(key)
            if hit is not None:
                try:
                    instance = spec.model.model_validate(hit[0], context=context)
                except ValidationError:
                    instance = None  # the schema's validators changed since; ask again
                if instance is not None:
                    meta = {**hit[1], "cached": True, "latency_s": round(time.perf_counter() - started, 6),
                            "source": article.source_info(), "warnings": article.warnings}
                    return Result(instance, Meta.model_validate(meta))
        if offline:
            raise CacheMiss(f"no cached answer for this article (model {model}, "
                            f"schema {spec.name}) and --offline forbids a request")
        messages = self.prompt.messages(article.text, article.metadata(), language=language)
        retries = self.settings.max_retries if max_retries is None else max_retries
        return _Plan(article, spec, key, context, messages, started, model, retries)

    def _finish(self, plan: _Plan, instance: Any, stats: Any) -> Result[Any]:
        meta = Meta(
            engine="llm", model=plan.model, schema=plan.spec.name, mode=self.settings.mode,
            prompt_version=self.prompt.version, attempts=stats.completions, requests=stats.requests,
            usage=Usage(prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens,
                        total_tokens=stats.prompt_tokens + stats.completion_tokens),
            latency_s=round(time.perf_counter() - plan.started, 6), source=plan.article.source_info(),
            warnings=plan.article.warnings,
        )
        cache = self.cache
        if cache is not None and plan.key is not None:
            stored = meta.to_dict()
            del stored["source"], stored["warnings"]  # these describe this call, not the answer
            cache.put(plan.key, instance.model_dump(mode="json"), stored)
        return Result(instance, meta)

    def _extractive(self, article: Article, spec: SchemaSpec, context: dict[str, Any],
                    started: float, language: str | None = None) -> Result[Any]:
        record = extractive.summarize(article.text, title=article.title, date=article.date)
        if len(record["key_points"]) < 3:
            raise InputError("the article is too short to summarize: it has fewer than 3 sentences")
        if spec.name == "brief":
            record = extractive.brief(record)
        elif spec.name != "news":
            raise ConfigError(f"the extractive engine fills the news and brief schemas, not {spec.name!r}",
                              hint="configure an LLM (OPENAI_API_KEY or OPENAI_BASE_URL) for other schemas")
        try:
            instance = spec.model.model_validate(record, context=context)
        except ValidationError as exc:  # a bug in the engine: never hand out an ungrounded answer
            raise ValidationFailed(f"extractive summary failed validation: {exc.errors()[0]['msg']}",
                                   errors=[[{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]}
                                            for e in exc.errors()]], attempts=1) from None
        warnings = list(article.warnings)
        if language and language != record.get("language"):
            warnings.append(f"the extractive engine cannot write in {language!r}: the summary is in the "
                            "article's own language")
        meta = Meta(engine="extractive", schema=spec.name, attempts=1,
                    latency_s=round(time.perf_counter() - started, 6), source=article.source_info(),
                    warnings=warnings)
        return Result(instance, meta)


def check_language(code: str | None) -> str | None:
    """A two-letter ISO 639-1 code (lower-cased), or None."""
    if code is None or code == "":
        return None
    code = code.strip().lower()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise ConfigError(f"language must be a two-letter ISO 639-1 code such as en, de or ur, not {code!r}")
    return code


def _charge(error: SummarizerError, stats: Any) -> None:
    """Record on a failure what the call spent, so batch totals and costs include failed items."""
    error.requests = stats.requests
    error.prompt_tokens = stats.prompt_tokens
    error.completion_tokens = stats.completion_tokens


def summarize(article: str | Article, **options: Any) -> Result[Any]:
    """One-off convenience: ``Summarizer(**options).summarize(article)``."""
    schema = options.pop("schema", None)
    with Summarizer(**options) as summarizer:
        return summarizer.summarize(article, schema=schema)


async def asummarize(article: str | Article, **options: Any) -> Result[Any]:
    """One-off async convenience: ``await Summarizer(**options).asummarize(article)``."""
    schema = options.pop("schema", None)
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(article, schema=schema)
