"""Batch throughput, cached re-runs and memory, against the fake server; ratios measured side by side.

    python bench/batch.py                 # all four, as in the README (about 3 minutes)
    python bench/batch.py --only latency  # or: cpu, cached, memory

1. latency-bound: server latency 500 ms, N=1000, concurrency 32: achieved / ideal (C/L = 64/s).
2. CPU-bound: server latency 0 ms, N=1000, concurrency 32: our batch runner (output file and cache
   writes included) against a bare async instructor loop with a semaphore, same schema and
   prompt; the bare loop is measured both as instructor's docs write it (template messages,
   a context dict) and lean (messages rendered once, a falsy validation context, as we do).
3. cached re-run: a 10,000-item JSONL whose answers are all in the cache, through the CLI:
   items/s and the requests the server saw (must be 0).
4. memory: peak RSS of the CLI on 10,000 and 100,000 cached items.

The fake server runs in another process for 1 and 2 (its CPU is not ours), in this one for 3 and 4
(to count requests). Articles are the real ones from eval/news_refs.jsonl, each made
unique by a closing line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import Summarizer  # noqa: E402
from summarizer.grounding import grounding_context  # noqa: E402
from summarizer.prompts import closing, load, nonce, opening  # noqa: E402

try:
    from summarizer.runners.local import run_files
except ImportError:  # a version from before the runners package (bench/compare.py runs this script there too)
    from summarizer.batch import run_files  # type: ignore[no-redef]
from summarizer.schemas import resolve  # noqa: E402
from summarizer.testing import FakeLLMServer, grounded_news, serve_in_subprocess  # noqa: E402

SHARED = ROOT / "eval" / "news_refs.jsonl"
CLI = str(Path(sys.executable).parent / "summarizer")


def base_articles() -> list[str]:
    path = SHARED if SHARED.exists() else ROOT / "tests" / "fixtures" / "articles.jsonl"
    return [json.loads(line)["text"].strip() for line in path.read_text().splitlines() if line.strip()]


def texts(n: int, bases: list[str]) -> list[str]:
    return [f"{bases[i % len(bases)]}\n\nThis is item {i} of the benchmark archive." for i in range(n)]


def write_jsonl(path: Path, items: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i, text in enumerate(items):
            fh.write(json.dumps({"id": f"item-{i}", "text": text}) + "\n")


async def ours(url: str, items: list[str], concurrency: int, workdir: Path) -> float:
    summarizer = Summarizer(
        base_url=url, api_key="bench", cache_path=workdir / "cache.sqlite3", concurrency=concurrency, timeout=30
    )
    started = time.perf_counter()
    try:
        stats = await run_files(summarizer, items=items, output=workdir / "out.jsonl", resume=False)
    finally:
        await summarizer.aclose()
        summarizer.close()
    wall = time.perf_counter() - started
    assert stats.done == len(items), stats
    return wall


async def bare(url: str, items: list[str], concurrency: int, lean: bool) -> float:
    import instructor
    import openai

    news = resolve("news").model
    template = load()
    client = instructor.from_openai(openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0, timeout=30))
    semaphore = asyncio.Semaphore(concurrency)
    template_messages = [{"role": "system", "content": template.system}, {"role": "user", "content": template.user}]

    async def one(text: str) -> Any:
        async with semaphore:
            if lean:
                messages, context = template.messages(text), grounding_context(text)
            else:
                messages = [dict(m) for m in template_messages]
                tag = nonce(text, "")
                context = {
                    **grounding_context(text),
                    "article": text,
                    "nonce": tag,
                    "open": lambda block, tag=tag: opening(block, tag),
                    "close": lambda block, tag=tag: closing(block, tag),
                }
            return await client.chat.completions.create(
                model="gpt-4o-mini", response_model=news, messages=messages, context=context, max_retries=2
            )

    started = time.perf_counter()
    try:
        results = await asyncio.gather(*(one(t) for t in items))
    finally:
        await client.client.close()
    assert len(results) == len(items)
    return time.perf_counter() - started


def latency_bound(bases: list[str], n: int = 1000, concurrency: int = 32, latency: float = 0.5) -> dict[str, float]:
    url, server = serve_in_subprocess(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall = asyncio.run(ours(url, texts(n, bases), concurrency, Path(tmp)))
    finally:
        server.terminate()
    ideal = concurrency / latency
    achieved = n / wall
    print(
        f"1. latency-bound  N={n} C={concurrency} L={latency * 1000:.0f} ms: {achieved:.1f}/s achieved, "
        f"{ideal:.0f}/s ideal -> {achieved / ideal:.3f} of ideal (target >= 0.85)"
    )
    return {"latency_bound_ratio": achieved / ideal, "latency_bound_per_s": achieved}


def cpu_bound(bases: list[str], n: int = 1000, concurrency: int = 32) -> dict[str, float]:
    url, server = serve_in_subprocess(0.0)
    items = texts(n, bases)
    try:
        asyncio.run(bare(url, items[:50], concurrency, lean=True))  # warm up imports and the server
        with tempfile.TemporaryDirectory() as tmp:
            ours_wall = asyncio.run(ours(url, items, concurrency, Path(tmp)))
        docs_wall = asyncio.run(bare(url, items, concurrency, lean=False))
        lean_wall = asyncio.run(bare(url, items, concurrency, lean=True))
    finally:
        server.terminate()
    rate = {name: n / wall for name, wall in (("ours", ours_wall), ("docs", docs_wall), ("lean", lean_wall))}
    print(
        f"2. CPU-bound      N={n} C={concurrency} L=0 ms: ours {rate['ours']:.1f}/s · bare instructor loop as "
        f"documented {rate['docs']:.1f}/s · lean bare loop {rate['lean']:.1f}/s"
    )
    print(
        f"   ours / documented bare = {rate['ours'] / rate['docs']:.2f}x, ours / lean bare = "
        f"{rate['ours'] / rate['lean']:.2f}x (target >= 1.0)"
    )
    return {
        "cpu_ours_per_s": rate["ours"],
        "cpu_vs_docs_bare": rate["ours"] / rate["docs"],
        "cpu_vs_lean_bare": rate["ours"] / rate["lean"],
    }


def prefill(cache_path: Path, items: list[str], url: str) -> None:
    """Store, for every item, the answer the fake server would give: what a first run leaves behind."""
    summarizer = Summarizer(base_url=url, api_key="bench", cache_path=cache_path)
    cache = summarizer.cache
    assert cache is not None
    answers: dict[str, dict[str, Any]] = {}
    meta = {
        "engine": "llm",
        "model": summarizer.settings.model,
        "schema": "news",
        "mode": "tools",
        "prompt_version": summarizer.prompt.version,
        "cached": False,
        "attempts": 1,
        "requests": 1,
        "usage": {"prompt_tokens": 900, "completion_tokens": 250, "total_tokens": 1150},
        "latency_s": 0.01,
    }
    # As a first run leaves it: the endpoint's mode remembered, each answer under the mode it was asked in (a
    # library from before answers were stored by the mode used keys them by the mode setting).
    summarizer.llm.modes.put(summarizer.llm.endpoint, "tools")
    conn = cache._connect()
    conn.execute("BEGIN")
    for text in items:
        base = text.rsplit("\n\nThis is item", 1)[0]
        if base not in answers:
            answers[base] = grounded_news(base)
        try:
            key = summarizer.cache_key(text, mode="tools")
        except TypeError:
            key = summarizer.cache_key(text)
        cache.put(key, answers[base], meta)
    conn.execute("COMMIT")
    summarizer.close()


def run_cli(args: list[str], env: dict[str, str]) -> float:
    """Run the CLI; returns its wall time. (Its peak RSS comes from --stats-json: the command reads its own
    VmHWM, because ru_maxrss of a child started by fork+exec includes this big parent's memory.)"""
    started = time.perf_counter()
    done = subprocess.run([CLI, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise SystemExit(f"summarizer batch failed ({done.returncode}): {done.stderr.decode()}")
    return time.perf_counter() - started


def cached_and_memory(bases: list[str], sizes: tuple[int, ...]) -> dict[str, float]:
    figures: dict[str, float] = {}
    with FakeLLMServer() as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.url,
            "OPENAI_API_KEY": "bench",
            "SUMMARIZER_CACHE": str(work / "cache.sqlite3"),
        }
        rss: dict[int, float] = {}
        for n in sizes:
            items = texts(n, bases)
            source = work / f"in-{n}.jsonl"
            write_jsonl(source, items)
            prefill(work / "cache.sqlite3", items, server.url)
            del items
            server.reset()
            stats_path = work / f"stats-{n}.json"
            wall = run_cli(
                [
                    "batch",
                    str(source),
                    "-o",
                    str(work / f"out-{n}.jsonl"),
                    "--no-progress",
                    "--stats-json",
                    str(stats_path),
                ],
                env,
            )
            stats = json.loads(stats_path.read_text())
            rss[n] = stats["peak_rss_mb"]
            assert stats["cached"] == n == stats["done"], stats
            print(
                f"3. cached re-run  N={n:,}: {stats['articles_per_s']:,.0f} items/s in the runner, "
                f"{n / wall:,.0f} items/s for the whole command ({wall:.1f} s with start-up); "
                f"requests at the server: {server.count} (target >= 3,000/s, 0 requests)"
            )
            print(f"4. memory         N={n:,}: peak RSS {rss[n]:.0f} MB")
            figures[f"cached_per_s_{n}"] = stats["articles_per_s"]
            figures[f"requests_{n}"] = server.count
            figures[f"peak_rss_mb_{n}"] = rss[n]
            (work / f"out-{n}.jsonl").unlink()
            source.unlink()
        if len(sizes) == 2:
            small, large = sizes
            print(
                f"   peak RSS {large:,} / {small:,} items = {rss[large] / rss[small]:.2f}x "
                f"(target <= 250 MB and <= 1.2x)"
            )
            figures["rss_ratio"] = rss[large] / rss[small]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["latency", "cpu", "cached", "memory"])
    args = parser.parse_args()
    bases = base_articles()
    figures: dict[str, float] = {}
    if args.only in (None, "latency"):
        figures |= latency_bound(bases)
    if args.only in (None, "cpu"):
        figures |= cpu_bound(bases)
    if args.only in (None, "cached", "memory"):
        figures |= cached_and_memory(bases, (10_000,) if args.only == "cached" else (10_000, 100_000))
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
