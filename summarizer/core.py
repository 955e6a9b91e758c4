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

from . import chunking, hybrid, pointing, prompts, tokens
from .batching import BatchRunner, iterate_in_thread
from .cache import AnswerCache, make_key, open_cache
from .calls import ResolvedCall
from .config import Settings, load_settings
from .engines import Engine, Pacer, Transport, Wiring, engine_for
from .engines.client import LLMClient
from .engines.modes import PROBE_ORDER
from .errors import CacheMiss, ConfigError
from .exchanges import new_id
from .grounding import CONTEXT_KEY, grounding_context
from .options import CallOptions
from .outcome import BatchInput, Outcome
from .quality import QUALITY_KEY
from .result import Ledger, Meta, Result, Usage
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
        transport: Transport | None = None,
        throttle: Pacer | None = None,
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
        self._engine: Engine | None = None
        self._wiring = Wiring(transport, throttle, lambda: self.cache)
        self._budgets: dict[tuple[str, str], int] = {}
        self._limits: dict[tuple[str, str], int] = {}
        self._specs: dict[str, SchemaSpec] = {}

    # -- public API -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine calls will use (``engines.engine_for``: chosen once, from the settings); a ``ConfigError``
        if the settings ask for one that cannot run (``llm`` with no endpoint configured)."""
        if self._engine is None:
            engine = engine_for(self.settings, self._wiring)
            with self._lock:
                if self._engine is None:
                    self._engine = engine
        return self._engine

    def resolve(self, options: CallOptions | None = None, *, schema: SchemaArg = None, **fields: Any) -> ResolvedCall:
        """The call that ``options`` (or its fields as keywords) and ``schema`` make with these settings, every
        choice made: model, schema, mode, style, language, limits, evidence, the hybrid way."""
        given: SchemaSpec | None = None
        if isinstance(schema, str):
            fields = {**fields, "schema": schema}
        elif schema is not None:
            given = schema if isinstance(schema, SchemaSpec) else resolve(schema, self.schema_dirs)
        call = CallOptions.build(options, **fields)
        spec = given or self._spec(call.schema_name)
        settings, engine = self.settings, self.engine
        model = call.model or settings.model
        hybrid_way = engine.hybrid and hybrid.supports(spec)
        if call.max_retries is not None:
            retries = call.max_retries
        else:  # the hybrid way: a field still degenerate after one re-ask is the tool's own, so more rarely pay
            retries = min(settings.max_retries, 1) if hybrid_way else settings.max_retries
        return ResolvedCall(
            options=call,
            spec=spec,
            model=model,
            model_id=engine.model_id(model),
            mode=settings.mode,
            style=call.style or settings.style,
            language=call.language,
            instructions=call.instructions.strip() if call.instructions and call.instructions.strip() else None,
            temperature=call.temperature if call.temperature is not None else settings.temperature,
            max_tokens=settings.max_tokens,
            max_retries=retries,
            evidence=settings.evidence or engine.evidence,
            hybrid=hybrid_way,
            refresh=call.refresh,
            offline=call.offline or settings.offline,
            sentences=call.sentences or settings.sentences,
            method=call.method or settings.method,
        )

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
        plan = self._plan(article, self.resolve(options, schema=schema, **fields))
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
                    plan.call.max_retries,
                    call=plan.call,
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

        call = self.resolve(options, schema=schema, **fields)
        size = len(article.text if isinstance(article, Article) else article)
        if size > _PLAN_IN_THREAD:  # normalising and counting a long text takes ~1 ms per 1,000 words
            plan = await asyncio.to_thread(self._plan, article, call)
        else:
            plan = self._plan(article, call)
        if isinstance(plan, Result):
            return plan
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def ask(answer: type[BaseModel], messages: list[dict[str, Any]], context: dict[str, Any]) -> Any:
            async with gate:
                return await self.llm.arequest(
                    answer,
                    messages,
                    context,
                    call.max_retries,
                    call=call,
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
        call = CallOptions.build(options, **fields)
        runner = BatchRunner(self, concurrency=concurrency, ordered=ordered, skip=skip, options=call)
        async for outcome in runner.run(inputs):
            yield outcome

    def batch(
        self, inputs: Iterable[BatchInput], options: CallOptions | None = None, **fields: Any
    ) -> Iterator[Outcome]:
        """``abatch`` for synchronous code: an event loop runs in a helper thread."""

        async def close_loop_client() -> None:
            if self._engine is not None:
                await self._engine.aclose()

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

        self.engine.warm_up(self.schema)
        _ = self.cache

    def models(self) -> list[str]:
        """What the configured engine can run: the endpoint's models (``GET /v1/models``), the local model file."""
        return self.engine.models()

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        if self._engine is not None:
            self._engine.close()

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()
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
        options: CallOptions | ResolvedCall | None = None,
        *,
        schema: SchemaArg = None,
        chunked: int | None = None,
        normalized: str | None = None,
        mode: str | None = None,
    ) -> str:
        """The cache key of a request for ``article``: same text, model, schema, prompts and options. ``mode``:
        the instructor mode the answer was asked in (default: the call's mode setting)."""
        call = options if isinstance(options, ResolvedCall) else self.resolve(options, schema=schema)
        text = article.text if isinstance(article, Article) else article
        # The mode is part of what was asked (tools, a JSON schema, a prompt): answers differ by it.
        options_key: dict[str, Any] = {
            "temperature": call.temperature,
            "max_tokens": call.max_tokens,
            "mode": mode or call.mode,
        }
        if call.hybrid:
            options_key["hybrid"] = prompts.load(hybrid.PROMPT).version
        elif call.evidence == "numbers":
            options_key["evidence"] = "numbers"
        if call.language:
            options_key["language"] = call.language
        if call.instructions:
            options_key["instructions"] = call.instructions
        if call.style != "standard":
            options_key["style"] = call.style
            if call.style == "dense":
                options_key["density"] = [prompts.load("densify-v1").version, self.settings.density_rounds]
        if chunked:  # the parts depend on the budget, the merge on its prompt
            options_key["chunked"] = [prompts.load("reduce-v1").version, chunked, self.settings.chunk_overlap_tokens]
        return make_key(
            text,
            model=call.model_id,
            schema_fingerprint=call.spec.fingerprint,
            prompt_version=self.prompt.version,
            normalized=normalized,
            options=options_key,
        )

    def _lookup_keys(self, article: Article, call: ResolvedCall, **key: Any) -> Iterator[str]:
        """Where a cached answer of this call may be, most likely first (each key made only if the one before
        missed): under the mode the call fixes; with ``mode = auto``, under the mode this endpoint is known to
        take, then any other (an answer is stored under the mode it was asked in, so a replay with ``--mode
        json_schema`` finds what ``auto`` chose; the oldest entries say ``auto``)."""
        if call.mode != "auto":
            yield self.cache_key(article, call, **key)
            return
        known = self.llm.known_mode if self.engine.uses_model else None
        for mode in (*([known] if known else []), *(m for m in PROBE_ORDER if m != known), "auto"):
            yield self.cache_key(article, call, mode=mode, **key)

    def _spec(self, name: str | None) -> SchemaSpec:
        if not name:
            return self.schema
        spec = self._specs.get(name)  # resolving a name reads the schema folders: once per name
        if spec is None:
            spec = self._specs[name] = resolve(name, self.schema_dirs)
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
        window = self.engine.context_window(model)
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
        client = getattr(self._engine, "made_client", None)
        return client.throttle.rate_limited if client is not None else 0

    @property
    def cache_problem(self) -> str | None:
        """Why the cache is not being used although it is on (unopenable or corrupted file), if it is not."""
        if self._cache_problem is not None:
            return self._cache_problem
        problem = self._cache.problem if self._cache is not None else None
        return f"cannot use the cache at {self._cache.path}: {problem}" if self._cache and problem else None

    @property
    def llm(self) -> LLMClient:
        """The model client of the engine (``engines.client.LLMClient``, made on first use)."""
        return self.engine.client

    def answer_limit(self, spec: SchemaSpec, model: str) -> int:
        """``max_tokens`` of an answer: what the schema's length limits allow, at most a quarter of the window."""
        limit = self._limits.get((model, spec.fingerprint))
        if limit is None:
            from .schemas import answer_tokens

            limit = self._limits[(model, spec.fingerprint)] = min(
                answer_tokens(spec.json_schema), self.engine.context_window(model) // 4
            )
        return limit

    def _plan(self, article: str | Article, call: ResolvedCall) -> Plan | Result[Any]:
        started = time.perf_counter()
        if isinstance(article, str):
            article = from_text(article, max_chars=self.settings.max_input_chars)
        spec, engine = call.spec, self.engine
        if call.style == "dense" and "summary" not in spec.model.model_fields:
            raise ConfigError(f"the dense style rewrites a 'summary' field, and schema {spec.name!r} has none")
        context = grounding_context(article.text)
        answered = engine.answer_at_once(article, call, context, started)
        if answered is not None:
            if call.style != "standard":
                answered.meta.warnings.append(f"the {engine.name} engine has one style; {call.style!r} needs an LLM")
            if call.instructions:
                answered.meta.warnings.append(
                    f"the {engine.name} engine follows no instructions; --instructions needs an LLM"
                )
            return answered
        if call.hybrid:
            return self._plan_hybrid(article, call, context, started)
        model = call.model
        budget = self.input_budget(model, spec)
        # Counting exactly costs ~0.1 ms per 1,000 words; a cache hit should not pay it when the
        # (high-erring) estimate says the article fits with room to spare.
        # No script takes under one character a token, so a text of at most budget/2 characters fits.
        might_split = len(article.text) > budget // 2 and tokens.estimate(article.text) > budget // 2
        counted = engine.count(article.text, model) if might_split else None
        chunked = counted is not None and counted.tokens > budget
        key = {"chunked": budget if chunked else None, "normalized": context[CONTEXT_KEY].normalized}
        hit = self._cached(self._lookup_keys(article, call, **key), article, call, context, started)
        if hit is not None:
            return hit
        parts: list[str] = []
        counted = counted or engine.count(article.text, model)  # exact for OpenAI and local models; for meta
        if chunked:
            parts = chunking.split(
                article.text,
                budget,
                lambda text: engine.count(text, model).tokens,
                self.settings.chunk_overlap_tokens,
            )
        context[QUALITY_KEY] = True  # from here on, records are the model's: degenerate text is re-asked
        plan = Plan(
            article,
            call,
            key,
            context,
            [],
            started,
            source_language=detect_language(article.text),
            input_tokens=counted,
            parts=parts,
            budget=budget,
            max_tokens=self.answer_limit(spec, model),
            call_id=new_id(),
        )
        shown = article.text
        if self._points(call, chunked):
            shown, plan.sentences = pointing.numbered(article.text)
            plan.answer_model = model_from_json_schema(
                pointing.pointing_schema(spec.json_schema, len(plan.sentences)), spec.model.__name__
            )
        plan.messages = self.prompt.messages(shown, article.metadata(), language=call.language, style=call.style)
        if plan.answer_model is not None:
            plan.messages[-1]["content"] += "\n\n" + pointing.INSTRUCTION
        if not chunked and call.style == "standard" and not call.max_tokens:
            self._group_fields(plan)
        plan.messages = prompts.with_instructions(plan.messages, call.instructions)
        return plan

    def _cached(
        self, keys: Iterable[str], article: Article, call: ResolvedCall, context: dict[str, Any], started: float
    ) -> Result[Any] | None:
        """The first cached answer under ``keys`` (re-validated against the article), None on a miss; CacheMiss if
        ``offline`` forbids asking."""
        cache = self.cache
        if cache is not None and not call.refresh:
            for key in keys:
                hit = cache.get(key)
                if hit is None:
                    continue
                try:
                    instance = call.spec.model.model_validate(hit[0], context=context)
                except ValidationError:
                    continue  # the schema's validators changed since; ask again
                meta = {
                    **hit[1],
                    "cached": True,
                    "latency_s": round(time.perf_counter() - started, 6),
                    "source": article.source_info(),
                    "warnings": [*article.warnings, *hit[1].get("answer_warnings", []), *self.engine.unused(call)],
                }
                return Result(instance, Meta.model_validate(meta))
        if call.offline:
            mode = f", mode {call.mode}" if call.mode != "auto" else ""
            replaying = not self.settings.llm_configured  # the auto engine replays an endpoint's answers
            raise CacheMiss(
                f"no cached answer for this article (model {call.model}, schema {call.spec.name}{mode}) and "
                "--offline forbids a request",
                hint="with no LLM configured, --engine extractive summarizes with no model and no cache"
                if replaying
                else None,
            )
        return None

    def _plan_hybrid(
        self, article: Article, call: ResolvedCall, context: dict[str, Any], started: float
    ) -> Plan | Result[Any]:
        """A hybrid call: the extractive record drafted, the model asked only for the writing."""
        key = {"normalized": context[CONTEXT_KEY].normalized}
        hit = self._cached(self._lookup_keys(article, call, **key), article, call, context, started)
        if hit is not None:
            return hit
        draft = hybrid.draft(article, call.spec, language=call.language, style=call.style)
        from .schemas import answer_tokens

        # The context has no QUALITY_KEY: the writing is checked for degenerate text by the hybrid loop itself
        # (so a field that stays bad is replaced by the tool's, not the whole call failed), and the merged
        # record, whose other fields are the tool's, by the grounding validators only.
        window = self.engine.context_window(call.model)
        return Plan(
            article,
            call,
            key,
            context,
            prompts.with_instructions(draft.messages, call.instructions),
            started,
            source_language=detect_language(article.text),
            input_tokens=self.engine.count(article.text, call.model),
            max_tokens=min(answer_tokens(draft.answer_model.model_json_schema()) + 64, window // 4),
            call_id=new_id(),
            hybrid=draft,
        )

    def _group_fields(self, plan: Plan) -> None:
        """Said before sending: a record the model's answer budget cannot hold is asked in field groups (by
        default on the local engine, whose small models fill every list to its limit; ``field_groups``)."""
        from .schemas import answer_tokens, field_groups

        asked = (
            pointing.pointing_schema(plan.spec.json_schema, len(plan.sentences))
            if plan.answer_model is not None
            else plan.spec.json_schema
        )
        budget = self.engine.context_window(plan.call.model) // 4
        groups = field_groups(asked, budget)
        if len(groups) < 2:
            return
        warning = (
            f"the {plan.spec.name} schema's longest answer (~{answer_tokens(asked):,} tokens) does not fit "
            f"this model's answer budget ({budget:,})"
        )
        grouped = self.settings.field_groups if self.settings.field_groups is not None else self.engine.field_groups
        if grouped:
            plan.groups = [model_from_json_schema(group, group["title"]) for group in groups]
            plan.max_tokens = max(min(answer_tokens(group), budget) for group in groups)
            warning += f": asked in {len(groups)} field groups"
        else:  # each group re-sends the article: an endpoint's user decides (a capable model rarely needs it)
            warning += ": a long answer may be cut off (field_groups = true asks it in parts)"
        _log.warning("%s", warning)
        plan.warnings.append(warning)

    def evidence(self) -> str:
        """How verbatim fields are asked for: ``evidence`` if set, else the engine's default (see README)."""
        return self.resolve().evidence

    def _points(self, call: ResolvedCall, chunked: bool) -> bool:
        """Whether this call asks for sentence numbers: evidence by number, one request (not for parts or
        density rounds, which rewrite records), and a schema with verbatim fields."""
        return (
            call.evidence == "numbers"
            and call.style == "standard"
            and not chunked
            and bool(pointing.verbatim_fields(call.spec.json_schema))
        )

    def _finish(self, plan: Plan, instance: Any, stats: Ledger) -> Result[Any]:
        call, engine = plan.call, self.engine
        mode = self.llm.known_mode
        meta = Meta(
            engine="hybrid" if plan.hybrid is not None else engine.name,  # type: ignore[arg-type]
            model=engine.model_name(call.model),
            schema=plan.spec.name,
            mode=mode,
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
            warnings=[*plan.article.warnings, *plan.warnings, *self.engine.unused(call)],
            source_language=plan.source_language,
            degenerate_answers=sum(1 for fields in plan.degenerate if fields),
            language=call.language,
            input_tokens=plan.input_tokens.tokens if plan.input_tokens else None,
            tokens_estimated=bool(plan.input_tokens and not plan.input_tokens.exact),
            chunks=max(1, len(plan.parts)),
            reduce_steps=plan.reduce_steps,
            style=call.style,
            rounds=plan.rounds,
        )
        cache = self.cache
        if cache is not None and plan.key is not None:
            stored = meta.to_dict()
            del stored["source"], stored["warnings"]  # these describe this call, not the answer
            if plan.warnings:  # these describe the answer (the hybrid's fields the tool wrote): kept with it
                stored["answer_warnings"] = plan.warnings
            # Stored under the mode it was asked in (``_lookup_keys`` finds it from ``auto`` and from that mode).
            key = self.cache_key(plan.article, call, mode=mode or call.mode, **plan.key)
            cache.put(key, instance.model_dump(mode="json"), stored)
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
