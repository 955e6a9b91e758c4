"""Pacing under 429s, against the fake server; every figure from one run.

    python bench/pacing.py            # all three (about a minute and a half)
    python bench/pacing.py --only storm

1. enforced limit, no --rpm: the server is a token bucket of 1,200 requests/min (burst 20) that
   answers 429 with the Retry-After it computes. Reported: answered requests per second over the
   run / the limit (target >= 0.85), and how many 429s it took.
2. enforced limit, --rpm at the limit: the same bucket, the client paced to 1,200/min. Target: no 429.
3. storm: 300 articles, concurrency 16, 30 % of requests fail: ~7 % 429 (Retry-After: 1), 500s,
   8-second stalls (client timeout 5 s), truncated and schema-invalid answers. Reported: wall time
   (target under a minute), done/failed, requests and 429s.

Articles are distinct (eval/news_refs.jsonl, each made unique by a closing line); the fake server
runs in this process (threads), so its count is exact.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import Summarizer  # noqa: E402
from summarizer.runners.local import run_files  # noqa: E402
from summarizer.testing import FakeLLMServer, fault_storm  # noqa: E402

LIMIT = 1200.0  # requests per minute the bucket allows


def articles(n: int) -> list[dict[str, str]]:
    bases = [json.loads(line)["text"].strip() for line in (ROOT / "eval" / "news_refs.jsonl").open()]
    return [{"id": f"a{i}", "text": f"{bases[i % len(bases)]}\n\nItem {i} of the pacing benchmark."} for i in range(n)]


def run(server: FakeLLMServer, n: int, concurrency: int, **settings: Any) -> tuple[Any, float]:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in articles(n)))
        summarizer = Summarizer(
            base_url=server.url, api_key="bench", use_cache=False, concurrency=concurrency, **settings
        )
        started = time.perf_counter()

        async def go() -> Any:
            try:
                return await run_files(summarizer, [str(source)], output=Path(folder) / "out.jsonl", count=False)
            finally:
                await summarizer.aclose()

        stats = asyncio.run(go())
        return stats, time.perf_counter() - started


def limited(rpm: float | None) -> dict[str, Any]:
    with FakeLLMServer(record=False, rate_limit=LIMIT) as server:
        assert server.bucket is not None
        server.bucket.burst = server.bucket.tokens = LIMIT / 60
        stats, wall = run(server, 400, 16, rpm=rpm)
        answered = server.count - server.limited
    return {
        "done": stats.done,
        "failed": stats.failed,
        "wall_s": round(wall, 1),
        "answered_per_s": round(answered / wall, 2),
        "ratio": round(answered / wall / (LIMIT / 60), 3),
        "429s": server.limited,
    }


def storm() -> dict[str, Any]:
    stormy = fault_storm(7, stall=8.0, retry_after=1, rate_limited=0.07)

    with FakeLLMServer(stormy, record=False) as server:
        stats, wall = run(server, 300, 16, timeout=5.0, max_retries=1)
        sent = server.count
    return {
        "done": stats.done,
        "failed": stats.failed,
        "wall_s": round(wall, 1),
        "requests": sent,
        "429s": stats.rate_limited,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["limit", "paced", "storm"])
    only = parser.parse_args().only
    if only in (None, "limit"):
        print("enforced limit 1,200/min, no --rpm:", json.dumps(limited(None)), flush=True)
    if only in (None, "paced"):
        print("enforced limit 1,200/min, --rpm 1200:", json.dumps(limited(LIMIT)), flush=True)
    if only in (None, "storm"):
        print("30 % fault storm, 300 items, concurrency 16:", json.dumps(storm()), flush=True)


if __name__ == "__main__":
    main()
