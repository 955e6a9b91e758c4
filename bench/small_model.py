"""SmolLM2-135M on the news schema, three ways, side by side in one run (issue 19).

    python bench/small_model.py -n 5           # needs the local engine (summarizer install-local); ~15 min
    python bench/small_model.py -n 5 --markdown docs/small_model.md

- ``llm``: the model answers the whole ``news`` record, evidence copied verbatim;
- ``llm --evidence numbers``: the whole record, evidence pointed at by sentence number;
- ``hybrid``: the tool finds, the model writes headline, summary and three points.

Per variant, on the first N English eval articles of 500-2,500 characters (``eval/news_refs.jsonl``,
greedy decoding): schema-valid first answer, grounded first answer, final success, degenerate answers
caught, re-asks, output tokens and seconds per article, ROUGE-1/L F1 of the summary against the human
reference; and the structured-field scores of ``eval-fields`` on the first M annotated English articles
(``tests/fixtures/fields.jsonl``) for hybrid next to the extractive engine. Then the same articles
against the fake endpoint with full-size answers: output tokens per article, llm vs hybrid (a cost proxy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import LLMError, Summarizer, ValidationFailed  # noqa: E402
from summarizer.evaluate import _scorers, score_text  # noqa: E402
from summarizer.exchanges import ExchangeLog  # noqa: E402
from summarizer.field_scores import read_annotations, score_article, totals  # noqa: E402
from summarizer.testing import full_responder, mock_transport  # noqa: E402

VARIANTS = {
    "llm (verbatim)": {"engine": "local", "hybrid": False, "evidence": "verbatim"},
    "llm --evidence numbers": {"engine": "local", "hybrid": False, "evidence": "numbers"},
    "hybrid": {"engine": "local"},
}


def articles(count: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    return [r for r in rows if r["lang"] == "en" and 500 < len(r["text"]) < 2500][:count]


def run(name: str, options: dict[str, Any], items: list[dict[str, Any]], work: Path) -> dict[str, float]:
    log_path = work / f"{name.split()[0]}-{len(options)}.sqlite3"
    summarizer = Summarizer(schema="news", use_cache=False, temperature=0.0, log_path=log_path, **options)
    log = ExchangeLog(log_path)
    scorers = _scorers()
    rows = []
    for item in items:
        started = time.perf_counter()
        result = None
        try:
            result = summarizer.summarize(item["text"])
        except (ValidationFailed, LLMError) as exc:
            print(f"  {name}: {item['id'][:30]} failed: {str(exc)[:100]}", flush=True)
        seconds = time.perf_counter() - started
        last = log.recent(1)[0]
        exchanges = list(reversed(log.recent(20, call_id=last["call_id"])))
        first = exchanges[0]
        messages = " ".join(e.get("msg", "") for e in first["errors"] or [])
        degenerate = sum(1 for e in exchanges if "degenerate" in json.dumps(e["errors"] or []))
        if result is not None:
            degenerate = max(degenerate, result.meta.degenerate_answers)
        rouge = (
            score_text(scorers, "en", result.summary.summary, item["reference"])
            if result
            else {"rouge1": 0.0, "rougeL": 0.0}
        )
        rows.append(
            {
                "valid_first": float(
                    first["status"] == "ok"
                    or (first["status"] == "invalid" and "verbatim" in messages and "degenerate" not in messages)
                ),
                "grounded_first": float(first["status"] == "ok" and not (result and result.meta.degenerate_answers)),
                "success": float(result is not None),
                "degenerate": float(degenerate),
                "reasks": float(len(exchanges) - 1),
                "output_tokens": float(sum(e["completion_tokens"] or 0 for e in exchanges)),
                "seconds": seconds,
                "rouge1": rouge["rouge1"],
                "rougeL": rouge["rougeL"],
            }
        )
        print(
            f"  {name}: {item['id'][:30]} {seconds:5.1f} s {rows[-1]['output_tokens']:5.0f} tokens "
            f"{'ok' if result else 'FAILED'}",
            flush=True,
        )
    summarizer.close()
    return {key: statistics.mean(row[key] for row in rows) for key in rows[0]}


def field_scores(options: dict[str, Any], count: int) -> dict[str, Any]:
    gold = [
        r
        for r in read_annotations(ROOT / "tests" / "fixtures" / "fields.jsonl")
        if r["lang"] == "en" and not r.get("split")
    ][:count]
    with Summarizer(use_cache=False, log=False, temperature=0.0, **options) as summarizer:
        scores = []
        for record in gold:
            result = summarizer.summarize(record["text"])
            scores.append(score_article(result.summary.model_dump(mode="json"), record, result.meta.warnings))
    return totals(scores)[0]


def fake_tokens(items: list[dict[str, Any]]) -> dict[str, float]:
    out = {}
    for name, options in (("llm", {}), ("hybrid", {"engine": "hybrid"})):
        with Summarizer(
            transport=mock_transport(full_responder),
            base_url="http://fake/v1",
            api_key="k",
            mode="tools",
            use_cache=False,
            log=False,
            **options,
        ) as summarizer:
            out[name] = statistics.mean(summarizer.summarize(i["text"]).meta.usage.completion_tokens for i in items)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5, help="eval articles per variant")
    parser.add_argument("--fields", type=int, default=5, help="annotated articles for the field scores")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--only", action="append", choices=list(VARIANTS), help="run only these variants")
    args = parser.parse_args()
    items = articles(args.n)
    work = Path(tempfile.mkdtemp())
    results = {}
    for name, options in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        results[name] = run(name, options, items, work)
        print(f"{name}: {results[name]}", flush=True)
    head = (
        "| variant | schema-valid first | grounded, not degenerate, first | final success | degenerate caught "
        "/article | re-asks/article | output tokens/article | s/article | ROUGE-1 | ROUGE-L |"
    )
    lines = [f"SmolLM2-135M-Instruct, news schema, {len(items)} eval articles, 2 cores:", "", head, "|" + "---|" * 10]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['valid_first']:.2f} | {r['grounded_first']:.2f} | {r['success']:.2f} | "
            f"{r['degenerate']:.2f} | {r['reasks']:.2f} | {r['output_tokens']:.0f} | {r['seconds']:.1f} | "
            f"{r['rouge1']:.3f} | {r['rougeL']:.3f} |"
        )
    fields = {
        "extractive": field_scores({"engine": "extractive"}, args.fields),
        "hybrid": field_scores({"engine": "local"}, args.fields),
    }
    keys = [
        "person_f1",
        "organization_f1",
        "location_f1",
        "quote_recall",
        "speaker_accuracy",
        "dateline_accuracy",
        "figure_recall",
        "role_recall",
    ]
    lines += [
        "",
        f"Structured fields, {args.fields} annotated English articles (eval-fields):",
        "",
        "| engine | " + " | ".join(keys) + " |",
        "|" + "---|" * (len(keys) + 1),
    ]
    for name, row in fields.items():
        lines.append(f"| {name} | " + " | ".join(str(row.get(k)) for k in keys) + " |")
    tokens = fake_tokens(items)
    lines += [
        "",
        "Fake endpoint, full-size answers, same articles: output tokens per article",
        "",
        "| llm | hybrid | hybrid / llm |",
        "|---|---|---|",
        f"| {tokens['llm']:.0f} | {tokens['hybrid']:.0f} | {tokens['hybrid'] / tokens['llm']:.2f}x |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
