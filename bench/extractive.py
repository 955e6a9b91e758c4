"""CPU cost of the offline extractive engine per article, on distinct real articles.

Runs ``extractive.summarize`` over every article of eval/news_refs.jsonl and
tests/fixtures/fields.jsonl (distinct texts, 4 languages, 100 to 1,600 words) and prints
CPU milliseconds per article, next to the lead-3 baseline (sentence splitting only) measured
in the same run, so that the ratio survives a noisy machine.

    python bench/extractive.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from summarizer import extractive
from summarizer.text import sentences

ROOT = Path(__file__).resolve().parent.parent


def articles() -> list[dict[str, str]]:
    rows = []
    for path in (ROOT / "eval" / "news_refs.jsonl", ROOT / "tests" / "fixtures" / "fields.jsonl"):
        rows += [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [{"text": r["text"], "title": r.get("title")} for r in rows]


def cpu_ms(fn, rows) -> float:  # type: ignore[no-untyped-def]
    started = time.process_time()
    for row in rows:
        fn(row)
    return (time.process_time() - started) * 1000 / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = articles()
    extractive.summarize(rows[0]["text"])  # imports and lazily loaded tables are not per-article cost
    engine, lead = [], []
    for _ in range(args.rounds):
        engine.append(cpu_ms(lambda r: extractive.summarize(r["text"], title=r["title"]), rows))
        lead.append(cpu_ms(lambda r: " ".join(sentences(r["text"])[:3]), rows))
    e, b = statistics.median(engine), statistics.median(lead)
    print(f"{len(rows)} distinct articles, median of {args.rounds} rounds")
    print(f"extractive engine: {e:.2f} ms CPU/article; lead-3: {b:.3f} ms; ratio {e / b:.0f}x")


if __name__ == "__main__":
    main()
