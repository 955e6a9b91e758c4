"""CPU cost of the offline extractive engine per article, on distinct real articles.

Runs ``extractive.summarize`` over every article of eval/news_refs.jsonl and
tests/fixtures/fields.jsonl (190 distinct texts, 7 languages, 40 to 1,600 words) and prints CPU
milliseconds per article next to the lead-3 baseline (sentence splitting only), measured in the
same run so the ratio survives a noisy machine. ``--against REV`` also runs the engine as it was
at git revision REV (the whole ``summarizer`` package of that revision, so its entity, attribution and
figure modules too), interleaved round by round, for a before/after ratio. With ``--against``, each
engine runs in a fresh worker process per round (the same for both), timed inside the worker:

    python bench/extractive.py [--rounds 3] [--against bd568a0] [--methods]

``--methods`` also times each ranking method (``--method``: lexrank, textrank, luhn, lead), as the engine
runs them for a news record (key points never in the summary).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
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
    """``summarizer.extractive`` as it was at ``revision`` (imported next to today's package; only that
    module is of then: use ``package_at`` for the whole engine)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:summarizer/extractive.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    target = ROOT / "summarizer" / "_bench_extractive_then.py"
    target.write_text(source, encoding="utf-8")
    try:
        return importlib.import_module("summarizer._bench_extractive_then")
    finally:
        target.unlink()


def package_at(revision: str, into: Path) -> Path:
    """The ``summarizer`` package as it was at ``revision``, unpacked under ``into``."""
    archive = into / "then.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "archive", revision, "summarizer"], cwd=ROOT, check=True, stdout=fh)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


_WORKER = """
import json, sys, time
sys.path.insert(0, {root!r})
from summarizer import extractive
assert extractive.__file__.startswith({root!r}), extractive.__file__
rows = []
for path in {paths!r}:
    rows += [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
extractive.summarize(rows[0]["text"])  # imports and lazily loaded word lists are not per-article cost
started = time.process_time()
for row in rows:
    extractive.summarize(row["text"], title=row.get("title"))
print((time.process_time() - started) * 1000 / len(rows))
"""


def in_worker(root: Path) -> float:
    """CPU ms per article of the engine of the package under ``root``, timed in a fresh process."""
    paths = [str(ROOT / "eval" / "news_refs.jsonl"), str(ROOT / "tests" / "fixtures" / "fields.jsonl")]
    done = subprocess.run(
        [sys.executable, "-c", _WORKER.format(root=str(root), paths=paths)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    )
    return float(done.stdout.strip().splitlines()[-1])


def cpu_ms(fn: Callable[[dict[str, Any]], Any], rows: list[dict[str, Any]]) -> float:
    started = time.process_time()
    for row in rows:
        fn(row)
    return (time.process_time() - started) * 1000 / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also time the engine of this git revision")
    parser.add_argument("--methods", action="store_true", help="also time each ranking method (--method)")
    args = parser.parse_args()
    rows = articles()
    if args.against:
        return compare(args.against, args.rounds, rows)
    engines: dict[str, Callable[[dict[str, Any]], Any]] = {
        "now": lambda r: extractive.summarize(r["text"], title=r["title"])
    }
    if args.methods:
        for method in extractive.METHODS:
            engines[f"now, --method {method}"] = lambda r, m=method: extractive.summarize(
                r["text"], title=r["title"], method=m, distinct=True
            )
    extractive.summarize(rows[0]["text"])  # imports and lazily loaded word lists are not per-article cost
    timings: dict[str, list[float]] = {name: [] for name in [*engines, "lead-3"]}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            timings[name].append(cpu_ms(engine, rows))
        timings["lead-3"].append(cpu_ms(lambda r: " ".join(sentences(r["text"])[:3]), rows))
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{len(rows)} distinct articles, median of {args.rounds} rounds, CPU ms per article")
    for name in engines:
        print(f"extractive engine ({name}): {median[name]:.2f} ms  ({median[name] / median['lead-3']:.0f}x lead-3)")
    print(f"lead-3 baseline: {median['lead-3']:.3f} ms")


def compare(revision: str, rounds: int, rows: list[dict[str, Any]]) -> None:
    """Today's engine and ``revision``'s, each in its own worker process, alternating round by round."""
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"now": ROOT, revision: package_at(revision, Path(tmp))}
        timings: dict[str, list[float]] = {name: [] for name in [*roots, "lead-3"]}
        for _ in range(rounds):
            for name, root in roots.items():
                timings[name].append(in_worker(root))
            timings["lead-3"].append(cpu_ms(lambda r: " ".join(sentences(r["text"])[:3]), rows))
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{len(rows)} distinct articles, median of {rounds} rounds, CPU ms per article (worker processes)")
    for name in roots:
        print(f"extractive engine ({name}): {median[name]:.2f} ms  ({median[name] / median['lead-3']:.0f}x lead-3)")
    print(f"lead-3 baseline: {median['lead-3']:.3f} ms")
    print(f"now / {revision}: {median['now'] / median[revision]:.2f}x")


if __name__ == "__main__":
    main()
