"""Verbatim evidence vs evidence by number, on the local model (SmolLM2-135M-Instruct, in-process).

For each of N short eval articles (the same ones, in the same order, for both strategies), one call with a
grounded schema, re-asks allowed; from the exchange log: was the first answer schema-valid, was it grounded,
did the call end in a result, how many re-asks, output tokens, seconds. Side by side in one run.

    python bench/evidence.py [-n 10] [--schema 'headline, summary: two sentences, evidence!: ...']
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import LLMError, Summarizer, ValidationFailed  # noqa: E402
from summarizer.exchanges import ExchangeLog  # noqa: E402

SCHEMA = (
    "headline, summary: two sentences, evidence!: the article sentence that states the main fact, "
    "detail!: another article sentence with an important detail"
)


def grounding_error(errors: list[dict[str, str]]) -> bool:
    return any("verbatim" in (e.get("msg") or "") or "article" in (e.get("msg") or "") for e in errors)


def run(strategy: str, articles: list[str], schema: str, retries: int, work: Path) -> list[dict[str, float]]:
    summarizer = Summarizer(
        engine="local",
        schema=schema,
        evidence=strategy,
        max_retries=retries,
        use_cache=False,
        temperature=0.0,
        log_path=work / f"{strategy}.sqlite3",
    )
    log = ExchangeLog(work / f"{strategy}.sqlite3")
    rows = []
    for article in articles:
        started = time.perf_counter()
        try:
            summarizer.summarize(article)
            success = 1.0
        except (ValidationFailed, LLMError):
            success = 0.0
        seconds = time.perf_counter() - started
        last = log.recent(1)[0]
        exchanges = list(reversed(log.recent(20, call_id=last["call_id"])))
        first = exchanges[0]
        first_errors = first["errors"] or []
        rows.append(
            {
                "valid_first": float(
                    first["status"] == "ok"
                    or (first["status"] == "invalid" and all(grounding_error([e]) for e in first_errors))
                ),
                "grounded_first": float(first["status"] == "ok"),
                "success": success,
                "reasks": float(len(exchanges) - 1),
                "output_tokens": float(sum(e["completion_tokens"] or 0 for e in exchanges)),
                "seconds": seconds,
            }
        )
    summarizer.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--schema", default=SCHEMA)
    parser.add_argument("--max-retries", type=int, default=2)
    args = parser.parse_args()
    records = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    articles = [r["text"] for r in records if r["lang"] == "en" and 500 < len(r["text"]) < 2500][: args.n]
    work = Path(tempfile.mkdtemp())
    results = {
        strategy: run(strategy, articles, args.schema, args.max_retries, work) for strategy in ("verbatim", "numbers")
    }
    print(
        f"local engine (SmolLM2-135M-Instruct), {len(articles)} articles, schema {args.schema!r}, "
        f"max_retries {args.max_retries}"
    )
    measures = ["valid_first", "grounded_first", "success", "reasks", "output_tokens", "seconds"]
    print(f"{'strategy':10} " + " ".join(f"{m:>15}" for m in measures))
    summary = {}
    for strategy, rows in results.items():
        means = {m: statistics.mean(r[m] for r in rows) for m in measures}
        summary[strategy] = {m: round(v, 3) for m, v in means.items()}
        print(f"{strategy:10} " + " ".join(f"{means[m]:15.2f}" for m in measures))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
