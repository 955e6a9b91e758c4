"""CPU cost of the offline extractive engine per article, on distinct real articles.

Runs ``extractive.summarize`` over every article of eval/news_refs.jsonl and
tests/fixtures/fields.jsonl (163 distinct texts, 7 languages, 40 to 1,600 words) and prints CPU
milliseconds per article next to the lead-3 baseline (sentence splitting only), measured in the
same run so the ratio survives a noisy machine. ``--against REV`` also runs the engine as it was
at git revision REV, interleaved round by round, for a before/after ratio:

    python bench/extractive.py [--rounds 3] [--against bd568a0]
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from summarizer import extractive
from summarizer.text import sentences

ROOT = Path(__file__).resolve().parent.parent


def articles() -> list[dict[str, Any]]:
    rows = []
    for path in (ROOT / "eval" / "news_refs.jsonl", ROOT / "tests" / "fixtures" / "fields.jsonl"):
        rows += [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [{"text": r["text"], "title": r.get("title")} for r in rows]


def engine_at(revision: str) -> ModuleType:
    """``summarizer.extractive`` as it was at ``revision`` (imported next to today's package)."""
    source = subprocess.run(["git", "show", f"{revision}:summarizer/extractive.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    target = ROOT / "summarizer" / "_bench_extractive_then.py"
    target.write_text(source, encoding="utf-8")
    try:
        return importlib.import_module("summarizer._bench_extractive_then")
    finally:
        target.unlink()


def cpu_ms(fn: Callable[[dict[str, Any]], Any], rows: list[dict[str, Any]]) -> float:
    started = time.process_time()
    for row in rows:
        fn(row)
    return (time.process_time() - started) * 1000 / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also time the engine of this git revision")
    args = parser.parse_args()
    rows = articles()
    engines = {"now": extractive}
    if args.against:
        engines[args.against] = engine_at(args.against)
    for engine in engines.values():  # imports and lazily loaded word lists are not per-article cost
        engine.summarize(rows[0]["text"])
    timings: dict[str, list[float]] = {name: [] for name in [*engines, "lead-3"]}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            timings[name].append(cpu_ms(lambda r, e=engine: e.summarize(r["text"], title=r["title"]), rows))
        timings["lead-3"].append(cpu_ms(lambda r: " ".join(sentences(r["text"])[:3]), rows))
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{len(rows)} distinct articles, median of {args.rounds} rounds, CPU ms per article")
    for name in engines:
        print(f"extractive engine ({name}): {median[name]:.2f} ms  ({median[name] / median['lead-3']:.0f}x lead-3)")
    print(f"lead-3 baseline: {median['lead-3']:.3f} ms")
    if args.against:
        print(f"now / {args.against}: {median['now'] / median[args.against]:.2f}x")


if __name__ == "__main__":
    main()
