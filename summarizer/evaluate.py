"""Scoring summaries against human references: ROUGE, grounding, validity, tokens and cost.

``score_summarizer`` runs records ({id?, text, reference, lang?}) through a ``Summarizer`` (the
batch runner: same cache, concurrency and limits) and, if asked, through the lead-N
baseline (the article's first N sentences: the classic news baseline), then scores each
item. ROUGE F1 comes from Google's ``rouge-score`` package: Porter-stemmed for English;
for other languages with a Unicode word tokenizer, since the package's default one
drops every non-ASCII letter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archives import Item, content_id
from .errors import ConfigError, InputError
from .files import output_error, write_atomic
from .options import CallOptions
from .pricing import cost
from .text import Source, sentences

if TYPE_CHECKING:
    from .core import Summarizer
    from .outcome import Outcome
    from .schemas import SchemaSpec

ROUGE = ("rouge1", "rouge2", "rougeL")


@dataclass
class Score:
    """One item scored for one system."""

    id: str
    system: str
    lang: str
    valid: bool
    rouge1: float | None = None
    rouge2: float | None = None
    rougeL: float | None = None  # noqa: N815 (the metric's own name)
    grounded: int = 0  # verbatim strings (quotes, evidence) found in the article
    grounded_total: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    cached: bool = False
    error: str | None = None
    attempts: int = 0  # answers the model gave (1 + re-asks), failed items included
    seconds: float | None = None  # the run's wall time per article (items run concurrently share it)
    summary: str = field(default="", repr=False)


class _UnicodeTokenizer:
    """Lower-cased Unicode words: for languages the default ROUGE tokenizer cannot see."""

    def tokenize(self, text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())


def _scorers() -> tuple[Any, Any]:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise ConfigError("the eval command needs rouge-score", hint="pip install 'summarizer[eval]'") from None
    english = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=True)
    other = rouge_scorer.RougeScorer(list(ROUGE), tokenizer=_UnicodeTokenizer())
    return english, other


def json_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line of a JSONL file; one clear error for anything else."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise InputError(f"{path}:{number} is not valid JSON") from None
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{number} is not a JSON object")
                yield number, record
        except UnicodeDecodeError:
            raise InputError(f"{path} is not UTF-8 text; give JSONL records") from None


def read_records(
    path: str | Path, *, limit: int | None = None, lang: str | None = None, split: str | None = None
) -> list[dict[str, Any]]:
    """Records with ``text`` and ``reference`` (a string, or ``references``: a list, the first is used)."""
    records: list[dict[str, Any]] = []
    for number, record in json_objects(path):
        reference = record.get("reference") or (record.get("references") or [None])[0]
        if not isinstance(record.get("text"), str) or not isinstance(reference, str):
            raise InputError(f"{path}:{number} needs a 'text' and a 'reference'")
        if (lang and record.get("lang") != lang) or (split and record.get("split") != split):
            continue
        records.append(
            {
                "id": str(record.get("id") or content_id(record["text"])),
                "text": record["text"],
                "reference": reference,
                "lang": record.get("lang") or "und",
            }
        )
        if limit and len(records) >= limit:
            break
    if not records:
        raise InputError(f"{path} has no records to evaluate (with these filters)")
    return records


def summary_text(record: dict[str, Any]) -> str:
    """The prose a reference is compared with: ``summary`` if the schema has one, else bullets or points."""
    if isinstance(record.get("summary"), str):
        return str(record["summary"])
    for name in ("bullets", "key_points", "points"):
        values = record.get(name)
        if isinstance(values, list) and values:
            return " ".join(v if isinstance(v, str) else str(v.get("point", "")) for v in values)
    return " ".join(str(v) for v in record.values() if isinstance(v, str))


def grounded_strings(schema: dict[str, Any], record: Any, defs: dict[str, Any] | None = None) -> Iterator[str]:
    """Every value of a field marked ``x-grounded`` in ``schema``, anywhere in ``record``."""
    defs = defs if defs is not None else {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if isinstance(record, str):
        if schema.get("x-grounded") is True:
            yield record
    elif isinstance(record, list):
        for value in record:
            yield from grounded_strings(schema.get("items", {}), value, defs)
    elif isinstance(record, dict):
        for name, value in record.items():
            yield from grounded_strings(schema.get("properties", {}).get(name, {}), value, defs)


def lead(text: str, n: int = 3) -> str:
    return " ".join(sentences(text)[:n])


def score_text(scorers: tuple[Any, Any], lang: str, candidate: str, reference: str) -> dict[str, Any]:
    scorer = scorers[0] if lang == "en" else scorers[1]
    scores = scorer.score(reference, candidate)
    return {name: round(scores[name].fmeasure, 4) for name in ROUGE}


def score_lead(records: Iterable[dict[str, Any]], n: int = 3) -> list[Score]:
    scorers = _scorers()
    scored = []
    for record in records:
        text = lead(record["text"], n)
        scored.append(
            Score(
                id=record["id"],
                system=f"lead-{n}",
                lang=record["lang"],
                valid=True,
                summary=text,
                **score_text(scorers, record["lang"], text, record["reference"]),
            )
        )
    return scored


async def summarize_records(
    summarizer: Summarizer,
    records: list[dict[str, Any]],
    *,
    options: CallOptions | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[tuple[dict[str, Any], Outcome]]:
    """Each record (``id``, ``text``, ``title`` if known) with its outcome, summarized by the batch runner: the
    same cache, concurrency and limits as ``summarizer batch``. Outcomes come as they finish."""
    from .batching import BatchRunner

    runner = BatchRunner(summarizer, concurrency=concurrency, options=options or CallOptions())
    by_id = {str(record["id"]): record for record in records}
    items = [
        Item(
            id=str(r["id"]),
            source=str(r["id"]),
            data=r["text"],
            html=False,
            fields={"title": r["title"]} if r.get("title") else {},
        )
        for r in records
    ]
    async for outcome in runner.run(items):
        yield by_id[outcome.id], outcome


async def score_summarizer(
    summarizer: Summarizer,
    records: list[dict[str, Any]],
    *,
    system: str,
    options: CallOptions | None = None,
    concurrency: int | None = None,
) -> list[Score]:
    """Summarize every record with the batch runner, then score it; failures are scored invalid."""
    from .schemas import resolve

    scorers = _scorers()
    options = options or CallOptions()
    spec: SchemaSpec = (
        resolve(options.schema_name, summarizer.schema_dirs) if options.schema_name else summarizer.schema
    )
    scored: dict[str, Score] = {}
    started = time.perf_counter()
    async for record, outcome in summarize_records(summarizer, records, options=options, concurrency=concurrency):
        if outcome.result is None:
            scored[outcome.id] = Score(
                id=outcome.id,
                system=system,
                lang=record["lang"],
                valid=False,
                error=str(outcome.error),
                attempts=outcome.spent.completions,
            )
            continue
        data = outcome.result.summary.model_dump(mode="json")
        meta = outcome.result.meta
        text = summary_text(data)
        source = Source(record["text"])
        strings = list(grounded_strings(spec.json_schema, data))
        usage = meta.usage
        scored[outcome.id] = Score(
            id=outcome.id,
            system=system,
            lang=record["lang"],
            valid=True,
            summary=text,
            grounded=sum(1 for s in strings if source.contains(s)),
            grounded_total=len(strings),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=_item_cost(summarizer, meta),
            cached=meta.cached,
            attempts=meta.attempts,
            **score_text(scorers, record["lang"], text, record["reference"]),
        )
    per_article = (time.perf_counter() - started) / max(1, len(scored))
    for score in scored.values():
        score.seconds = round(per_article, 3)
    return [scored[record["id"]] for record in records if record["id"] in scored]


def _item_cost(summarizer: Any, meta: Any) -> float | None:
    """What an item cost: nothing for a cached answer or an offline engine, else its tokens at the model's price
    (rounded to a millionth of a cent: the sum of two float products is not worth 19 digits in a report)."""
    if meta.cached or not summarizer.engine.paid:  # an endpoint answered (llm, or hybrid over one)
        return 0.0
    usage = meta.usage
    price = cost(meta.model, usage.prompt_tokens, usage.completion_tokens, summarizer.settings.prices)
    return None if price is None else round(price, 8)


def aggregate(scores: list[Score]) -> list[dict[str, Any]]:
    """One row per system: means over its items (ROUGE over the valid ones)."""
    rows = []
    for system in dict.fromkeys(s.system for s in scores):
        mine = [s for s in scores if s.system == system]
        valid = [s for s in mine if s.valid]
        total_grounded = sum(s.grounded_total for s in valid)
        costs = [s.cost_usd for s in valid if s.cost_usd is not None]
        row: dict[str, Any] = {"system": system, "items": len(mine), "valid_rate": len(valid) / len(mine)}
        for name in ROUGE:
            values = [getattr(s, name) for s in valid if getattr(s, name) is not None]
            row[name] = round(statistics.mean(values), 4) if values else None
        row["grounding_rate"] = round(sum(s.grounded for s in valid) / total_grounded, 4) if total_grounded else None
        row["mean_tokens"] = (
            round(statistics.mean(s.prompt_tokens + s.completion_tokens for s in valid), 1) if valid else 0
        )
        row["cost_per_article_usd"] = round(statistics.mean(costs), 6) if costs and len(costs) == len(valid) else None
        seconds = [s.seconds for s in mine if s.seconds is not None]
        row["seconds_per_article"] = round(statistics.mean(seconds), 3) if seconds else None
        asked = [s for s in mine if s.attempts]
        row["reasks_per_article"] = round(statistics.mean(s.attempts - 1 for s in asked), 3) if asked else None
        rows.append(row)
    return rows


def by_language(scores: list[Score]) -> list[dict[str, Any]]:
    rows = []
    for system, lang in dict.fromkeys((s.system, s.lang) for s in scores):
        valid = [s for s in scores if s.system == system and s.lang == lang and s.valid]
        if valid:
            rows.append(
                {
                    "system": system,
                    "lang": lang,
                    "items": len(valid),
                    **{name: round(statistics.mean(getattr(s, name) or 0 for s in valid), 4) for name in ROUGE},
                }
            )
    return rows


def write_report(scores: list[Score], path: str | Path) -> None:
    """Per-item scores as JSONL, or CSV when the name ends in .csv."""
    target = Path(path)
    rows = [asdict(s) for s in scores]
    buffer = io.StringIO()
    if target.suffix.lower() == ".csv":
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: " ".join(v.split()) if isinstance(v, str) else v for k, v in row.items()})
    else:
        for row in rows:
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_atomic(target, buffer.getvalue())


def plot(scores: list[Score], path: str | Path) -> None:
    """A PNG with the distribution of each ROUGE score, one colour per system."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("--plot needs matplotlib", hint="pip install 'summarizer[eval]'") from None
    systems = list(dict.fromkeys(s.system for s in scores))
    figure, axes = plt.subplots(1, len(ROUGE), figsize=(4 * len(ROUGE), 3.2), sharey=True)
    for axis, name in zip(axes, ROUGE, strict=True):
        data = [[getattr(s, name) for s in scores if s.system == system and s.valid] for system in systems]
        axis.hist(data, bins=20, range=(0, 1), label=systems, alpha=0.85)
        axis.set_title(name.replace("rouge", "ROUGE-"))
        axis.set_xlabel("F1")
    axes[0].set_ylabel("articles")
    axes[-1].legend(fontsize=8)
    figure.tight_layout()
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    except OSError as exc:
        raise output_error(Path(path), exc) from None
    finally:
        plt.close(figure)


#: The table of systems, (header, key of an ``aggregate`` row): printed by the CLI, written by ``markdown``.
COLUMNS = [
    ("system", "system"),
    ("items", "items"),
    ("ROUGE-1", "rouge1"),
    ("ROUGE-2", "rouge2"),
    ("ROUGE-L", "rougeL"),
    ("grounding", "grounding_rate"),
    ("valid", "valid_rate"),
    ("tokens/article", "mean_tokens"),
    ("cost/article", "cost_per_article_usd"),
    ("s/article", "seconds_per_article"),
    ("re-asks/article", "reasks_per_article"),
]


def cell(value: Any, key: str = "") -> str:
    """A value of an ``aggregate`` or ``by_language`` row as printed and written: ROUGE and rates to 4 places,
    tokens to 1, seconds and re-asks to 3, a cost in dollars to 6 (a millionth of a dollar)."""
    if value is None:
        return "–"
    if not isinstance(value, float):
        return str(value)
    if key == "mean_tokens":
        return f"{value:.1f}"
    if key == "cost_per_article_usd":
        return "$0" if value == 0 else f"${value:.6f}"
    if key in ("seconds_per_article", "reasks_per_article"):
        return f"{value:.3f}"
    return f"{value:.4f}"


def markdown(rows: list[dict[str, Any]], languages: list[dict[str, Any]], *, command: str, data: str) -> str:

    headers = [header for header, _ in COLUMNS]
    keys = [key for _, key in COLUMNS]
    lines = [
        "# Evaluation baseline",
        "",
        f"Data: `{data}`. Produced by:",
        "",
        "```",
        command,
        "```",
        "",
        "ROUGE is F1 (rouge-score; Porter stemming for English, Unicode words otherwise). Grounding is the",
        "share of quotes and evidence found verbatim in the article; valid, the share of articles that",
        "gave a schema-valid summary.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(cell(row.get(key), key) for key in keys) + " |" for row in rows]
    lines += [
        "",
        "By language (ROUGE F1):",
        "",
        "| system | lang | items | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['system']} | {r['lang']} | {r['items']} | {cell(r['rouge1'])} | {cell(r['rouge2'])} | "
        f"{cell(r['rougeL'])} |"
        for r in languages
    ]
    return "\n".join(lines) + "\n"
