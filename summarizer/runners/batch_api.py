"""The OpenAI Batch API path (``--via batch-api``): the same answers at half price, within 24 hours.

The requests are not rebuilt here. The live path runs with a *deferral* set for the run
(``engines.deferral.deferring``, a per-run value), which the model client calls with every
request exactly as it would go to the chat completions endpoint:

1. **collect**: each item runs through ``Summarizer.asummarize``; the deferral keeps its request
   (the item's outcome is ``deferred``), so the batch lines hold precisely what the live path would send —
   messages, tools or response_format, model, max_tokens — with ``custom_id`` = the item id.
   Cache hits and the extractive engine answer at once and are written straight away.
2. **submit**: lines go into files of at most ``MAX_REQUESTS`` requests / ``MAX_BYTES`` bytes
   (the provider's per-batch limits), uploaded through the files API, one batch each. The
   batch ids are saved in ``<output>.batch-api/state.json`` *before* anything waits, and
   every batch carries its file's digest in its metadata, so a re-run polls the batches it
   made (found again even if the driver died between create and save) and never re-submits.
3. **poll** with progress until every batch ends (completed, failed, expired or cancelled).
4. **answer**: the items run through the live path again; this time the deferral returns the
   downloaded answer for each request, and instructor validates it with the same validators
   and context (grounding included). An answer that fails validation makes instructor re-ask:
   that request is not in the batch output, so it goes live (``--reask-via live``) or is kept
   for a follow-up batch (``--reask-via batch-api``, one round per re-ask). Items a failed,
   expired or cancelled batch did not answer are asked the same way.

Requests are matched to answers by a digest of the request body, so a re-run needs no memory
of which item made which request: the prompt is deterministic. The cost is reported at
batch prices (half the live price) for batch answers and at live prices for the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archives import iter_items
from ..batching import BatchRunner, BatchStats
from ..engines.deferral import Deferred, deferring
from ..errors import ConfigError, InputError
from ..files import private_folder, write_private
from ..options import CallOptions
from ..result import Ledger
from .run import Run

if TYPE_CHECKING:
    from ..core import Summarizer

_log = logging.getLogger("summarizer.runners.batch_api")
MAX_REQUESTS = 50_000  # the provider's limit per batch
MAX_BYTES = 190_000_000  # under its 200 MB input file limit
ENDPOINT = "/v1/chat/completions"
BATCH_DISCOUNT = 0.5  # batch prices are half the live ones
TERMINAL = ("completed", "failed", "expired", "cancelled")
_NOT_BODY = ("timeout", "extra_headers", "extra_query")


def request_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the openai client would send for ``chat.completions.create(**kwargs)``."""
    body = {k: v for k, v in kwargs.items() if k not in _NOT_BODY and k != "extra_body"}
    body.update(kwargs.get("extra_body") or {})
    return body


def digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def custom_id(item_id: str) -> str:
    """The item id, or (past the provider's 64 characters) a digest of it."""
    return item_id if len(item_id) <= 64 else "id-sha256:" + hashlib.sha256(item_id.encode()).hexdigest()[:48]


@dataclass
class State:
    """What was submitted, kept beside the output so that a re-run polls instead of re-submitting."""

    folder: Path
    batches: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> State:
        path = folder / "state.json"
        if not path.is_file():
            return cls(folder)
        try:
            return cls(folder, json.loads(path.read_text(encoding="utf-8"))["batches"])
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path} is not a batch-api state file; remove the folder to start over") from None

    def save(self) -> None:
        write_private(self.folder / "state.json", json.dumps({"batches": self.batches}, indent=2) + "\n")

    def submitted(self) -> set[str]:
        """Digests of every request already in a batch file."""
        found: set[str] = set()
        for batch in self.batches:
            found.update(batch["digests"])
        return found


class Deferral:
    """The deferral: hands back a batch answer where there is one; else keeps the request for a batch
    (``defer``) or lets it go live now."""

    def __init__(self, answers: dict[str, dict[str, Any]], *, defer: bool) -> None:
        self.answers = answers  # request digest -> chat completion (as JSON)
        self.defer = defer
        self.kept: dict[str, tuple[str, dict[str, Any]]] = {}  # digest -> (custom id, body)
        self.handed = 0  # batch answers handed out (each counted by its item's ledger as a request)

    async def __call__(self, kwargs: dict[str, Any], ledger: Ledger | None) -> Any:
        from openai.types.chat import ChatCompletion

        body = request_body(kwargs)
        answer = self.answers.get(digest(body))
        if answer is not None:
            self.handed += 1
            if ledger is not None:
                usage = answer.get("usage") or {}
                ledger.batch_prompt_tokens += usage.get("prompt_tokens", 0) or 0
                ledger.batch_completion_tokens += usage.get("completion_tokens", 0) or 0
            return ChatCompletion.model_validate(answer)
        if self.defer:
            raise Deferred(body)
        return None  # a re-ask, or a request no batch answered: send it now


def run_files(
    summarizer: Summarizer,
    sources: list[str],
    *,
    output: str | Path | None,
    errors: str | Path | None = None,
    fmt: str = "jsonl",
    resume: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    options: CallOptions | None = None,
    on_progress: Callable[[BatchStats], None] | None = None,
    reask_via: str = "live",
    poll_s: float | None = None,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> BatchStats:
    """The local runner's ``run_files`` through the Batch API: the same output lines, errors file and resume."""
    engine = summarizer.engine
    if not engine.batch_api:
        raise ConfigError(
            f"--via batch-api needs an LLM endpoint with the Batch API (OpenAI), not the {engine.name} engine",
            hint="choose --engine llm (or auto) with OPENAI_API_KEY set, or leave out --via"
            if summarizer.settings.llm_configured
            else "set OPENAI_API_KEY, or leave out --via",
        )
    if output in (None, "-"):
        raise InputError("--via batch-api needs -o: its batches are remembered beside the output")
    if "-" in sources:
        raise InputError("--via batch-api reads files (each is read twice), not standard input")
    run = Run.start(  # checks the inputs
        summarizer,
        sources,
        output=output,
        errors=errors,
        fmt=fmt,
        resume=resume,
        options=options,
        on_progress=on_progress,
        text_field=text_field,
        id_field=id_field,
    )
    options = run.call.options
    folder = Path(f"{str(output).rstrip('/')}.batch-api")
    private_folder(folder)  # 0700, its files 0600: the requests hold every article
    state = State.load(folder)
    stats = run.stats
    poll = poll_s if poll_s is not None else summarizer.settings.batch_poll_s
    client = summarizer.llm.openai_client
    done = run.done_ids

    def items() -> Iterable[Any]:
        return iter_items(
            sources, text_field=text_field, id_field=id_field, max_bytes=summarizer.settings.max_input_bytes
        )

    report = run.report

    async def replay(deferral: Deferral, final: bool, first: bool) -> None:
        """Run every item not yet written through the live path with ``deferral`` set for this run's tasks."""
        runner = BatchRunner(
            summarizer, skip=done, options=options, concurrency=summarizer.settings.concurrency if final else 64
        )
        token = deferring.set(deferral)  # the tasks the runner starts copy it; other runs never see it
        quiet = logging.getLogger("instructor")
        level = quiet.level
        if deferral.defer:  # instructor logs every deferred request as a failed call
            quiet.setLevel(logging.CRITICAL)
        try:
            async for outcome in runner.run(items()):
                if outcome.deferred is not None:
                    body = outcome.deferred
                    deferral.kept.setdefault(digest(body), (custom_id(outcome.id), body))
                    continue
                if outcome.error is not None:  # (one that stops the batch was raised by the runner already)
                    if not final:  # asked again in the final round, which writes what still fails
                        continue
                    run.write(outcome)
                else:
                    run.write(outcome)
                    done.add(outcome.id)
                stats.count(outcome)
                if not final:  # nothing goes live before the last round: all its requests were batch answers
                    sent["answers"] += outcome.spent.requests
                report()
            if final:
                sent["answers"] += deferral.handed
            if first:  # later rounds also skip what this run wrote
                stats.skipped, stats.duplicates = runner.stats.skipped, runner.stats.duplicates
        finally:
            deferring.reset(token)
            quiet.setLevel(level)

    # The report's requests: those sent live, plus every line this run put in a batch, answered or not (the
    # ledgers count a batch answer where it is used; a failed or expired line, never used, would be missing).
    sent = {"answers": 0, "lines": 0}
    answers: dict[str, dict[str, Any]] = {}
    last = summarizer.settings.max_retries + 1 if reask_via == "batch-api" else 1
    round_number = 0
    try:
        while True:
            # Round 0 collects; each later one hands out the answers so far and keeps its re-asks for the next
            # batch. The last one sends what is still unanswered live (re-asks, failed or expired requests) and
            # writes the errors.
            final = round_number == last
            deferral = Deferral(answers, defer=not final)
            asyncio.run(_closing(summarizer, replay(deferral, final=final, first=round_number == 0)))
            if final:
                break
            round_number = round_number + 1 if deferral.kept else last
            if not deferral.kept:
                continue
            submitted = state.submitted()
            new = [(cid, body) for key, (cid, body) in deferral.kept.items() if key not in submitted]
            _submit(client, state, folder, new, round_number - 1, max_requests, max_bytes)
            sent["lines"] += len(new)
            stats.submitted = sum(len(batch["digests"]) for batch in state.batches)
            _wait(client, state, poll, stats, report)
            answers.update(_download(client, state, folder))
    finally:
        stats.requests += sent["lines"] - sent["answers"]
        run.finish(price=lambda counted: _price(counted, summarizer, run.call.model))
    return stats


async def _closing(summarizer: Summarizer, work: Any) -> None:
    """Run ``work``, then close the async HTTP client it opened on this event loop (the sync one stays)."""
    try:
        await work
    finally:
        await summarizer.llm.aclose()


def _price(stats: BatchStats, summarizer: Summarizer, model: str) -> float | None:
    """Answers that came from a batch at batch prices; what went live (re-asks, unanswered items) at live ones."""
    from ..pricing import cost

    prices = summarizer.settings.prices
    live = cost(
        model,
        stats.prompt_tokens - stats.batch_prompt_tokens,
        stats.completion_tokens - stats.batch_completion_tokens,
        prices,
    )
    batched = cost(model, stats.batch_prompt_tokens, stats.batch_completion_tokens, prices)
    return None if live is None or batched is None else live + BATCH_DISCOUNT * batched


def _submit(
    client: Any,
    state: State,
    folder: Path,
    requests: list[tuple[str, dict[str, Any]]],
    round_number: int,
    max_requests: int,
    max_bytes: int,
) -> None:
    """Write ``requests`` into files within the limits, upload each and create its batch (ids saved at once)."""
    files: list[list[str]] = [[]]
    size = 0
    for cid, body in requests:
        line = (
            json.dumps(
                {"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": body},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )
        if files[-1] and (len(files[-1]) >= max_requests or size + len(line.encode()) > max_bytes):
            files.append([])
            size = 0
        files[-1].append(line)
        size += len(line.encode())
    for lines in files:
        if not lines:
            continue
        text = "".join(lines)
        file_digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        path = folder / f"requests-{round_number}-{file_digest}.jsonl"
        write_private(path, text)
        existing = _find_batch(client, file_digest)
        if existing is None:
            with open(path, "rb") as fh:
                uploaded = client.files.create(file=fh, purpose="batch")
            existing = client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={"summarizer": file_digest},
            )
        state.batches.append(
            {
                "id": existing.id,
                "round": round_number,
                "file": path.name,
                "status": existing.status,
                "output_file_id": existing.output_file_id,
                "error_file_id": existing.error_file_id,
                "digests": [digest(json.loads(line)["body"]) for line in lines],
                "custom_ids": [json.loads(line)["custom_id"] for line in lines],
            }
        )
        state.save()
        _log.warning("submitted batch %s: %d request(s)", existing.id, len(lines))


def _find_batch(client: Any, file_digest: str) -> Any:
    """A batch this tool already created for the same file (a driver killed between create and save)."""
    try:
        for batch in client.batches.list(limit=100):
            if (batch.metadata or {}).get("summarizer") == file_digest and batch.status != "cancelled":
                return batch
    except Exception as exc:  # listing is only a safety net
        _log.debug("could not list batches: %s", exc)
    return None


FIRST_POLL_S = 1.0  # the first wait between polls; each next one doubles, up to batch_poll_s


def _wait(client: Any, state: State, poll_s: float, stats: BatchStats, report: Callable[[], None]) -> None:
    """Poll every unfinished batch until each has ended; progress through ``report``.

    The first waits are short (1 s, then doubling) and grow to ``poll_s`` (``--poll-interval``, setting
    ``batch_poll_s``): a small batch that ends in seconds is not kept waiting 30 s, a long one is not polled
    more than every ``poll_s``."""
    wait = min(FIRST_POLL_S, poll_s)
    while True:
        waiting = 0
        answered = 0
        for batch in state.batches:
            if batch["status"] in TERMINAL and "downloaded" in batch:
                continue
            if batch["status"] not in TERMINAL:
                found = client.batches.retrieve(batch["id"])
                batch.update(
                    status=found.status, output_file_id=found.output_file_id, error_file_id=found.error_file_id
                )
                counts = found.request_counts
                answered += (counts.completed + counts.failed) if counts else 0
                if found.status not in TERMINAL:
                    waiting += 1
                elif found.status != "completed":
                    _log.warning("batch %s ended %s: its unanswered items are asked again", found.id, found.status)
        state.save()
        stats.polled = answered
        report()
        if not waiting:
            return
        time.sleep(wait)
        wait = min(wait * 2, poll_s)


def _download(client: Any, state: State, folder: Path) -> dict[str, dict[str, Any]]:
    """Every answer of every ended batch, by request digest (output files kept locally: read once)."""
    answers: dict[str, dict[str, Any]] = {}
    for batch in state.batches:
        if batch["status"] not in TERMINAL:
            continue
        local = folder / f"output-{batch['id']}.jsonl"
        if "downloaded" not in batch:
            text = client.files.content(batch["output_file_id"]).text if batch.get("output_file_id") else ""
            write_private(local, text)
            batch["downloaded"] = True
            state.save()
        by_custom_id = dict(zip(batch["custom_ids"], batch["digests"], strict=True))
        for line in local.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                response = row.get("response") or {}
                key = by_custom_id.get(row["custom_id"])
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # an unreadable line: its item is asked again
            if key is not None and response.get("status_code") == 200 and isinstance(response.get("body"), dict):
                answers[key] = response["body"]
    return answers


__all__ = ["Deferred", "run_files"]


async def run_files_async(summarizer: Summarizer, sources: list[str], **arguments: Any) -> BatchStats:
    """``run_files`` for async callers, in a thread (it runs event loops of its own, one per round)."""
    return await asyncio.to_thread(run_files, summarizer, sources, **arguments)
