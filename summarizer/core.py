"""``Summarizer``: the one entry point. The CLI and the HTTP service are thin layers over it.

A call is planned once (input checks, schema, tokens, cache lookup, prompt) by shared
code, then either answered at once (extractive engine, cache hit) or run as a workflow:
a generator that yields the LLM requests it needs, step by step (one request; or one per
part of a long article, then merge steps; then Chain of Density rounds), and receives
the validated answers. The sync path runs each step's requests one after another, the
async path concurrently; everything else is shared.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from . import chunking, extractive, hybrid, pointing, prompts, tokens
from .cache import AnswerCache, make_key, open_cache
from .config import Settings, load_settings
from .errors import CacheMiss, ConfigError
from .exchanges import new_id
from .grounding import CONTEXT_KEY, grounding_context
from .llm import Ledger
from .options import CallOptions
from .outcome import BatchInput, Outcome
from .quality import QUALITY_KEY
from .result import Meta, Result, Usage
from .schemas import SchemaSpec, model_from_json_schema, resolve, user_dirs
from .sources import Article, from_text
from .text import detect_language
from .workflow import Plan, advance, steps

_log = logging.getLogger("summarizer")
T = TypeVar("T")

SchemaArg = str | type[BaseModel] | SchemaSpec | None
_PLAN_IN_THREAD = 50_000  # characters of article above which the async path plans off the event loop


class Summarizer:
    """Summarize articles into a validated, grounded schema instance.

    Long-lived and thread-safe: create one and share it. ``with Summarizer() as s:``
    (or ``async with``) closes its HTTP clients and cache connection.

    >>> s = Summarizer(model="gpt-4o-mini")          # settings from env / config file
    >>> result = s.summarize(text)                    # or: await s.asummarize(text)
    >>> result.summary.headline, result.meta.cached
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        schema: SchemaArg = None,
        settings: Settings | None = None,
        config_file: str | Path | None = None,
        transport: Any = None,
        throttle: Any = None,
        **overrides: Any,
    ) -> None:
        """``transport``: an httpx2 transport the LLM clients send through instead of the network, e.g.
        ``httpx2.MockTransport(handler)`` (``summarizer.testing.mock_transport`` answers like the fake
        server, in-process); sync and async calls both use it. ``throttle``: the request pacing to use
        instead of this process's own (``throttle.Throttle``; the Ray runner shares one across a cluster)."""
        if settings is None:
            settings = load_settings(config_file, model=model, **overrides)
        elif model or overrides:
            settings = settings.model_copy(
                update={k: v for k, v in {"model": model, **overrides}.items() if v is not None}
            )
        self.settings = settings
        self.schema_dirs = user_dirs(settings.schema_dirs)
        self.schema = resolve(schema or settings.schema_name, self.schema_dirs)
        self.prompt = prompts.load()
        self._lock = threading.Lock()
        self._cache: AnswerCache | None = None
        self._cache_problem: str | None = None
        #: Where ``offload`` sends heavy extraction work; None: a thread.
        self.extraction_pool: concurrent.futures.Executor | None = None
        self._llm: Any = None
        self._local: Any = None
        self._transport = transport
        self._throttle = throttle
        self._budgets: dict[tuple[str, str], int] = {}
        self._limits: dict[tuple[str, str], int] = {}
        self._specs: dict[str, SchemaSpec] = {}

    # -- public API -------------------------------------------------------------------------

    @property
    def engine(self) -> str:
        """The engine calls will use: ``llm`` (an endpoint), ``local`` (a GGUF model in this process) or
        ``extractive`` (no model)."""
        engine = self.settings.engine
        if engine == "auto":
            return "llm" if self.settings.llm_configured else "extractive"
        if engine == "hybrid":  # the model behind it: the endpoint if one is configured, else the local model
            return "llm" if self.settings.llm_configured else "local"
        if engine == "llm" and not self.settings.llm_configured:
            raise ConfigError(
                "no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server",
                hint="or use --engine extractive",
            )
        return engine

    @property
    def hybrid(self) -> bool:
        """Whether calls go the hybrid way (``hybrid``: the tool finds, the model writes): ``--engine hybrid``,
        the local engine unless ``hybrid = false``, any model engine with ``hybrid = true``."""
        if self.engine == "extractive":
            return False
        if self.settings.hybrid is not None:
            return self.settings.hybrid
        return self.settings.engine in ("hybrid", "local")

    def summarize(
        self,
        article: str | Article,
        options: CallOptions | None = None,
        *,
        schema: SchemaArg = None,
        ledger: Ledger | None = None,
        **fields: Any,
    ) -> Result[Any]:
        """Summarize one article. ``options`` (a ``CallOptions``) or its fields as keywords override the
        settings for this call: ``model``, ``max_retries`` (re-asks), ``language`` (ISO 639-1 code of the
        summary; quotes and evidence stay verbatim), ``style`` (brief, standard, dense), ``temperature``,
        ``refresh``, ``offline``; for the extractive engine ``sentences`` (the summary's) and ``method``
        (lexrank, textrank, luhn, lead). ``schema`` is a name (or file, ``module:Class``, field list) or a pydantic
        model. An article longer than the model's budget is split, summarized part by part, merged.
        ``ledger`` (a ``Ledger``), if given, receives what the call spent, also when it fails."""
        call, spec = self._call(options, schema, fields)
        plan = self._plan(article, call, spec)
        if isinstance(plan, Result):
            return plan
        ledger = ledger if ledger is not None else Ledger()
        workflow = steps(plan, self.prompt, self.settings.density_rounds)
        step, instance = advance(workflow, None)
        while step:
            answers = [
                self.llm.request(
                    answer,
                    messages,
                    context,
                    plan.max_retries,
                    options=call,
                    ledger=ledger,
                    max_tokens=plan.max_tokens,
                    call_id=plan.call_id,
                )
                for answer, messages, context in step
            ]
            step, instance = advance(workflow, answers)
        return self._finish(plan, instance, ledger)

    async def asummarize(
        self,
        article: str | Article,
        options: CallOptions | None = None,
        *,
        schema: SchemaArg = None,
        ledger: Ledger | None = None,
        **fields: Any,
    ) -> Result[Any]:
        """``summarize`` for async code; the same options. The parts of a long article go out concurrently."""

        call, spec = self._call(options, schema, fields)
        size = len(article.text if isinstance(article, Article) else article)
        if size > _PLAN_IN_THREAD:  # normalising and counting a long text takes ~1 ms per 1,000 words
            plan = await asyncio.to_thread(self._plan, article, call, spec)
        else:
            plan = self._plan(article, call, spec)
        if isinstance(plan, Result):
            return plan
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def ask(answer: type[BaseModel], messages: list[dict[str, Any]], context: dict[str, Any]) -> Any:
            async with gate:
                return await self.llm.arequest(
                    answer,
                    messages,
                    context,
                    plan.max_retries,
                    options=call,
                    ledger=spent,
                    max_tokens=plan.max_tokens,
                    call_id=plan.call_id,
                )

        spent = ledger if ledger is not None else Ledger()
        workflow = steps(plan, self.prompt, self.settings.density_rounds)
        step, instance = advance(workflow, None)
        while step:
            answers = list(await asyncio.gather(*(ask(*request) for request in step)))
            step, instance = advance(workflow, answers)
        return self._finish(plan, instance, spent)

    async def abatch(
        self,
        inputs: Iterable[BatchInput],
        options: CallOptions | None = None,
        *,
        concurrency: int | None = None,
        ordered: bool = False,
        skip: Collection[str] = (),
        **fields: Any,
    ) -> AsyncIterator[Outcome]:
        """Summarize many articles concurrently; yields an ``Outcome`` per item as each completes.

        ``inputs`` is any iterable of texts, ``Article``s or ``archives.Item``s (for files and
        archives: ``archives.iter_items(paths)``). At most ``concurrency`` (default: settings)
        are in flight; requests are paced to ``rpm``/``tpm``; ids in ``skip`` are not done
        again; ``ordered`` yields in input order; ``options`` (or its fields as keywords) apply
        to every item. A failed item is an outcome with ``error`` set, and the batch goes on.
        """
        from .batch import BatchRunner  # the runner needs the Summarizer's type only: no import cycle either way

        call, _ = self._call(options, None, fields)
        runner = BatchRunner(self, concurrency=concurrency, ordered=ordered, skip=skip, options=call)
        async for outcome in runner.run(inputs):
            yield outcome

    def batch(
        self, inputs: Iterable[BatchInput], options: CallOptions | None = None, **fields: Any
    ) -> Iterator[Outcome]:
        """``abatch`` for synchronous code: an event loop runs in a helper thread."""
        from .batch import iterate_in_thread

        async def close_loop_client() -> None:
            if self._llm is not None:
                await self._llm.aclose()

        return iterate_in_thread(lambda: self.abatch(inputs, options, **fields), finally_=close_loop_client)

    async def offload(self, function: Callable[..., T], /, *args: Any, heavy: bool = False, **kwargs: Any) -> T:
        """Run input work (decoding, HTML extraction) off the event loop.

        In a thread by default. lxml parses a big page holding the GIL, so a thread still stalls
        the loop for as long (0.5 s for 2 MB): with ``extraction_pool`` set (the service sets a
        process pool) work marked ``heavy`` goes there instead."""

        if heavy and self.extraction_pool is not None:
            call = functools.partial(function, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self.extraction_pool, call)
        return await asyncio.to_thread(function, *args, **kwargs)

    def warm_up(self) -> None:
        """Import and build now what the first call would (openai and instructor take ~1.5 s to import,
        the tokenizer tables ~2 s to load, trafilatura ~0.5 s). A service calls this in a worker thread at
        start-up, so that no request pays it on the event loop, stalling every other request meanwhile."""
        import trafilatura  # noqa: F401  (HTML extraction)

        if self.engine == "local":
            self.local_model.warm_up()  # the worker process and the weights (~0.5 s for the small model)
        elif self.engine == "llm":
            from tenacity import AsyncRetrying  # noqa: F401  (the async transport retries)

            from .llm import prepared

            prepared(self.schema.model)
            _ = self.llm._create  # openai's client and instructor's patch, built once
            tokens.count("warm up", self.settings.model)  # loads the tokenizer's tables (~2 s, ~150 MB)
        _ = self.cache

    def models(self) -> list[str]:
        """What the configured engine can run: the endpoint's models (``GET /v1/models``), the local model file."""
        if self.engine == "extractive":
            return []
        return list(self.llm.models())

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        if self._llm is not None:
            self._llm.close()
            if self._llm.log is not None:
                self._llm.log.close()

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

    def cache_key(
        self,
        article: str | Article,
        options: CallOptions | None = None,
        *,
        schema: SchemaArg = None,
        chunked: int | None = None,
        normalized: str | None = None,
    ) -> str:
        """The cache key of a request for ``article``: same text, model, schema, prompts and options."""
        call = options or CallOptions()
        text = article.text if isinstance(article, Article) else article
        spec = self._spec(schema, call)
        temperature = call.temperature if call.temperature is not None else self.settings.temperature
        # The mode is part of what was asked (tools, a JSON schema, a prompt): answers differ by it.
        options_key: dict[str, Any] = {
            "temperature": temperature,
            "max_tokens": self.settings.max_tokens,
            "mode": self.settings.mode,
        }
        if self.hybrid and hybrid.supports(spec):
            options_key["hybrid"] = prompts.load(hybrid.PROMPT).version
        elif self.evidence() == "numbers":
            options_key["evidence"] = "numbers"
        if call.language:
            options_key["language"] = call.language
        if call.instructions and call.instructions.strip():
            options_key["instructions"] = call.instructions.strip()
        style = call.style or self.settings.style
        if style != "standard":
            options_key["style"] = style
            if style == "dense":
                options_key["density"] = [prompts.load("densify-v1").version, self.settings.density_rounds]
        if chunked:  # the parts depend on the budget, the merge on its prompt
            options_key["chunked"] = [prompts.load("reduce-v1").version, chunked, self.settings.chunk_overlap_tokens]
        return make_key(
            text,
            model=self._model_name(call),
            schema_fingerprint=spec.fingerprint,
            prompt_version=self.prompt.version,
            normalized=normalized,
            options=options_key,
        )

    def _call(
        self, options: CallOptions | None, schema: SchemaArg, fields: dict[str, Any]
    ) -> tuple[CallOptions, SchemaSpec | None]:
        """The call's options (keywords over ``options``) and, for a schema given as a class or spec, that spec."""
        given: SchemaSpec | None = None
        if isinstance(schema, str):
            fields = {**fields, "schema": schema}
        elif schema is not None:
            given = resolve(schema, self.schema_dirs)
        return CallOptions.build(options, **fields), given

    def _spec(self, given: SchemaArg, call: CallOptions) -> SchemaSpec:
        if given is not None:
            return given if isinstance(given, SchemaSpec) else resolve(given, self.schema_dirs)
        if not call.schema_name:
            return self.schema
        spec = self._specs.get(call.schema_name)  # resolving a name reads the schema folders: once per name
        if spec is None:
            spec = self._specs[call.schema_name] = resolve(call.schema_name, self.schema_dirs)
        return spec

    def input_budget(self, model: str | None = None, schema: SchemaArg = None) -> int:
        """Tokens of article text one request can carry: the context window less the prompt, the schema
        and room for the answer. ``chunk_tokens`` in the settings overrides it."""
        if self.settings.chunk_tokens:
            return self.settings.chunk_tokens
        model = model or self.settings.model
        spec = resolve(schema, self.schema_dirs) if schema is not None else self.schema
        remembered = self._budgets.get((model, spec.fingerprint))
        if remembered is None:
            remembered = self._budgets[(model, spec.fingerprint)] = self._compute_budget(model, spec)
        return remembered

    def _compute_budget(self, model: str, spec: SchemaSpec) -> int:
        window = self._window(model)
        # An estimate (it errs high): loading a tokenizer's tables costs ~150 MB, which a run that
        # only reads the cache should not pay.
        overhead = tokens.estimate(
            json.dumps(spec.json_schema) + "".join(str(m["content"]) for m in self.prompt.messages("", {}))
        )
        answer = self.settings.max_tokens or self.answer_limit(spec, model)
        return max(256, window - overhead - answer - 200)

    # -- shared machinery -------------------------------------------------------------------

    @property
    def cache(self) -> AnswerCache | None:
        """The answer cache, or None when it is off or cannot be opened (see ``cache_problem``)."""
        if not self.settings.use_cache:
            return None
        with self._lock:
            if self._cache is None and self._cache_problem is None:
                try:
                    self._cache = open_cache(self.settings.cache_location)
                except ConfigError as exc:  # never fail a summary only because the cache is unusable
                    self._cache_problem = str(exc)
                    _log.warning("%s; summarizing without the cache", exc)
        return self._cache

    @property
    def rate_limited(self) -> int:
        """429 answers the endpoint gave so far (the request pacer counts them)."""
        return self._llm.throttle.rate_limited if self._llm is not None else 0

    @property
    def cache_problem(self) -> str | None:
        """Why the cache is not being used although it is on (unopenable or corrupted file), if it is not."""
        if self._cache_problem is not None:
            return self._cache_problem
        problem = self._cache.problem if self._cache is not None else None
        return f"cannot use the cache at {self._cache.path}: {problem}" if self._cache and problem else None

    @property
    def llm(self) -> Any:
        """The ``llm.LLMClient`` of the ``llm`` and ``local`` engines (made on first use)."""
        if self._llm is not None:
            return self._llm
        local = self.local_model
        cache = self.cache
        with self._lock:
            if self._llm is None:
                from .exchanges import ExchangeLog
                from .llm import LLMClient, ModeMemory

                modes = ModeMemory(cache.endpoint_mode, cache.remember_mode) if cache else ModeMemory()
                log_path = self.settings.resolved_log_path
                log = ExchangeLog(log_path) if self.settings.log and ExchangeLog.enabled(log_path) else None
                self._llm = LLMClient(
                    self.settings, transport=self._transport, local=local, modes=modes, log=log, throttle=self._throttle
                )
        return self._llm

    @property
    def local_model(self) -> Any:
        """The ``local.LocalModel`` of the local engine (one per process and file), else None."""
        if self._local is None and self.engine == "local":
            from . import local

            self._local = local.shared(local.model_path(self.settings.model_path), self.settings.local_context)
        return self._local

    def _model_name(self, call: CallOptions) -> str:
        """The model a call asks: the local engine's file (name and hash), else the option or setting."""
        local = self.local_model
        return local.model_id if local is not None else call.model or self.settings.model

    def _count(self, text: str, model: str) -> tokens.TokenCount:
        local = self.local_model
        return local.count(text) if local is not None else tokens.count(text, model)

    def _window(self, model: str) -> int:
        local = self.local_model
        if local is not None:
            return int(self.settings.context_windows.get(local.name, local.context_window))
        return tokens.context_window(model, self.settings.context_windows)

    def answer_limit(self, spec: SchemaSpec, model: str) -> int:
        """``max_tokens`` of an answer: what the schema's length limits allow, at most a quarter of the window."""
        limit = self._limits.get((model, spec.fingerprint))
        if limit is None:
            from .schemas import answer_tokens

            limit = self._limits[(model, spec.fingerprint)] = min(
                answer_tokens(spec.json_schema), self._window(model) // 4
            )
        return limit

    def _plan(self, article: str | Article, call: CallOptions, given: SchemaSpec | None = None) -> Plan | Result[Any]:
        started = time.perf_counter()
        if isinstance(article, str):
            article = from_text(article, max_chars=self.settings.max_input_chars)
        spec = self._spec(given, call)
        language = call.language
        style = call.style or self.settings.style
        if style == "dense" and "summary" not in spec.model.model_fields:
            raise ConfigError(f"the dense style rewrites a 'summary' field, and schema {spec.name!r} has none")
        context = grounding_context(article.text)
        if self.engine == "extractive":
            result = extractive.as_result(
                article,
                spec,
                context,
                started,
                language,
                detect_language(article.text),
                sentences=call.sentences or self.settings.sentences,
                method=call.method or self.settings.method,
            )
            if style != "standard":
                result.meta.warnings.append(f"the extractive engine has one style; {style!r} needs an LLM")
            if call.instructions:
                result.meta.warnings.append(
                    "the extractive engine follows no instructions; --instructions needs an LLM"
                )
            return result
        model = self._model_name(call)
        if self.hybrid and hybrid.supports(spec):
            return self._plan_hybrid(article, call, spec, context, model, language, style, started)
        budget = self.input_budget(model, spec)
        # Counting exactly costs ~0.1 ms per 1,000 words; a cache hit should not pay it when the
        # (high-erring) estimate says the article fits with room to spare.
        # No script takes under one character a token, so a text of at most budget/2 characters fits.
        might_split = len(article.text) > budget // 2 and tokens.estimate(article.text) > budget // 2
        counted = self._count(article.text, model) if might_split else None
        chunked = counted is not None and counted.tokens > budget
        key = self.cache_key(
            article, call, schema=spec, chunked=budget if chunked else None, normalized=context[CONTEXT_KEY].normalized
        )
        hit = self._cached(key, article, call, spec, context, model, started)
        if hit is not None:
            return hit
        parts: list[str] = []
        counted = counted or self._count(article.text, model)  # exact for OpenAI and local models; for meta
        source_language = detect_language(article.text)
        if chunked:
            parts = chunking.split(
                article.text, budget, lambda text: self._count(text, model).tokens, self.settings.chunk_overlap_tokens
            )
        retries = self.settings.max_retries if call.max_retries is None else call.max_retries
        context[QUALITY_KEY] = True  # from here on, records are the model's: degenerate text is re-asked
        plan = Plan(
            article,
            spec,
            key,
            context,
            [],
            started,
            model,
            retries,
            call,
            language=language,
            style=style,
            source_language=source_language,
            input_tokens=counted,
            parts=parts,
            budget=budget,
            max_tokens=self.answer_limit(spec, model),
            call_id=new_id(),
        )
        shown = article.text
        if self._points(spec, style, chunked):
            shown, plan.sentences = pointing.numbered(article.text)
            plan.answer_model = model_from_json_schema(
                pointing.pointing_schema(spec.json_schema, len(plan.sentences)), spec.model.__name__
            )
        plan.messages = self.prompt.messages(shown, article.metadata(), language=language, style=style)
        if plan.answer_model is not None:
            plan.messages[-1]["content"] += "\n\n" + pointing.INSTRUCTION
        if not chunked and style == "standard" and not self.settings.max_tokens:
            self._group_fields(plan, model)
        plan.messages = prompts.with_instructions(plan.messages, call.instructions)
        return plan

    def _cached(
        self,
        key: str,
        article: Article,
        call: CallOptions,
        spec: SchemaSpec,
        context: dict[str, Any],
        model: str,
        started: float,
    ) -> Result[Any] | None:
        """The cached answer for ``key`` (re-validated against the article), None on a miss; CacheMiss if
        ``offline`` forbids asking."""
        cache = self.cache
        if cache is not None and not call.refresh:
            hit = cache.get(key)
            if hit is not None:
                try:
                    instance = spec.model.model_validate(hit[0], context=context)
                except ValidationError:
                    instance = None  # the schema's validators changed since; ask again
                if instance is not None:
                    meta = {
                        **hit[1],
                        "cached": True,
                        "latency_s": round(time.perf_counter() - started, 6),
                        "source": article.source_info(),
                        "warnings": [*article.warnings, *hit[1].get("answer_warnings", []), *self._unused(call)],
                    }
                    return Result(instance, Meta.model_validate(meta))
        if call.offline:
            raise CacheMiss(
                f"no cached answer for this article (model {model}, schema {spec.name}) and --offline forbids a request"
            )
        return None

    def _plan_hybrid(
        self,
        article: Article,
        call: CallOptions,
        spec: SchemaSpec,
        context: dict[str, Any],
        model: str,
        language: str | None,
        style: str,
        started: float,
    ) -> Plan | Result[Any]:
        """A hybrid call: the extractive record drafted, the model asked only for the writing."""
        key = self.cache_key(article, call, schema=spec, normalized=context[CONTEXT_KEY].normalized)
        hit = self._cached(key, article, call, spec, context, model, started)
        if hit is not None:
            return hit
        draft = hybrid.draft(article, spec, language=language, style=style)
        from .schemas import answer_tokens

        # One re-ask by default: a field still degenerate after it is the tool's own, so more rarely pay.
        retries = min(self.settings.max_retries, 1) if call.max_retries is None else call.max_retries
        # The context has no QUALITY_KEY: the writing is checked for degenerate text by the hybrid loop itself
        # (so a field that stays bad is replaced by the tool's, not the whole call failed), and the merged
        # record, whose other fields are the tool's, by the grounding validators only.
        messages = prompts.with_instructions(draft.messages, call.instructions)
        return Plan(
            article,
            spec,
            key,
            context,
            messages,
            started,
            model,
            retries,
            call,
            language=language,
            style=style,
            source_language=detect_language(article.text),
            input_tokens=self._count(article.text, model),
            max_tokens=min(answer_tokens(draft.answer_model.model_json_schema()) + 64, self._window(model) // 4),
            call_id=new_id(),
            hybrid=draft,
        )

    def _group_fields(self, plan: Plan, model: str) -> None:
        """Said before sending: a record the model's answer budget cannot hold is asked in field groups (by
        default on the local engine, whose small models fill every list to its limit; ``field_groups``)."""
        from .schemas import answer_tokens, field_groups

        asked = (
            pointing.pointing_schema(plan.spec.json_schema, len(plan.sentences))
            if plan.answer_model is not None
            else plan.spec.json_schema
        )
        budget = self._window(model) // 4
        groups = field_groups(asked, budget)
        if len(groups) < 2:
            return
        warning = (
            f"the {plan.spec.name} schema's longest answer (~{answer_tokens(asked):,} tokens) does not fit "
            f"this model's answer budget ({budget:,})"
        )
        grouped = self.settings.field_groups if self.settings.field_groups is not None else self.engine == "local"
        if grouped:
            plan.groups = [model_from_json_schema(group, group["title"]) for group in groups]
            plan.max_tokens = max(min(answer_tokens(group), budget) for group in groups)
            warning += f": asked in {len(groups)} field groups"
        else:  # each group re-sends the article: an endpoint's user decides (a capable model rarely needs it)
            warning += ": a long answer may be cut off (field_groups = true asks it in parts)"
        _log.warning("%s", warning)
        plan.warnings.append(warning)

    def _unused(self, call: CallOptions) -> list[str]:
        """What a model engine does not take, said in ``meta.warnings`` (the call's options or the settings):
        the summary's length and ranking method are the extractive engine's."""
        said = []
        sentences = call.sentences or self.settings.sentences
        if sentences != extractive.SENTENCES:
            said.append(
                f"--sentences {sentences} is for the extractive engine; the model writes the summary in at most "
                "the schema's sentences"
            )
        method = call.method or self.settings.method
        if method != extractive.METHODS[0]:
            said.append(f"--method {method} is for the extractive engine; the model chooses what matters itself")
        return said

    def evidence(self) -> str:
        """How verbatim fields are asked for: ``evidence`` if set, else the engine's default (see README)."""
        return self.settings.evidence or ("numbers" if self.engine == "local" else "verbatim")

    def _points(self, spec: SchemaSpec, style: str, chunked: bool) -> bool:
        """Whether this call asks for sentence numbers: evidence by number, one request (not for parts or
        density rounds, which rewrite records), and a schema with verbatim fields."""
        return (
            self.evidence() == "numbers"
            and style == "standard"
            and not chunked
            and pointing.verbatim_fields(spec.json_schema)
        )

    def _finish(self, plan: Plan, instance: Any, stats: Ledger) -> Result[Any]:
        meta = Meta(
            engine="hybrid" if plan.hybrid is not None else "local" if self.engine == "local" else "llm",
            model=self.local_model.name if self.engine == "local" else plan.model,
            schema=plan.spec.name,
            mode=self.llm.known_mode,
            prompt_version=prompts.load(hybrid.PROMPT).version if plan.hybrid is not None else self.prompt.version,
            attempts=stats.completions,
            requests=stats.requests,
            usage=Usage(
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.completion_tokens,
                total_tokens=stats.prompt_tokens + stats.completion_tokens,
            ),
            latency_s=round(time.perf_counter() - plan.started, 6),
            source=plan.article.source_info(),
            warnings=[*plan.article.warnings, *plan.warnings, *self._unused(plan.options)],
            source_language=plan.source_language,
            degenerate_answers=sum(1 for fields in plan.degenerate if fields),
            language=plan.language,
            input_tokens=plan.input_tokens.tokens if plan.input_tokens else None,
            tokens_estimated=bool(plan.input_tokens and not plan.input_tokens.exact),
            chunks=max(1, len(plan.parts)),
            reduce_steps=plan.reduce_steps,
            style=plan.style,
            rounds=plan.rounds,
        )
        cache = self.cache
        if cache is not None and plan.key is not None:
            stored = meta.to_dict()
            del stored["source"], stored["warnings"]  # these describe this call, not the answer
            if plan.warnings:  # these describe the answer (the hybrid's fields the tool wrote): kept with it
                stored["answer_warnings"] = plan.warnings
            cache.put(plan.key, instance.model_dump(mode="json"), stored)
        if self.cache_problem:
            meta.warnings = [*meta.warnings, f"{self.cache_problem}; answered without the cache"]
        return Result(instance, meta)


def summarize(article: str | Article, **options: Any) -> Result[Any]:
    """One-off convenience: ``Summarizer(**settings).summarize(article, schema=...)``."""
    schema = options.pop("schema", None)
    with Summarizer(**options) as summarizer:
        return summarizer.summarize(article, schema=schema)


async def asummarize(article: str | Article, **options: Any) -> Result[Any]:
    """One-off async convenience: ``await Summarizer(**options).asummarize(article)``."""
    schema = options.pop("schema", None)
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(article, schema=schema)
