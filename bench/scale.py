"""Past one machine: the Ray runner, the Redis cache and the Batch API, against the fake server, in one run.

    python bench/scale.py                   # all five (about 12 minutes on 2 cores)
    python bench/scale.py --only ray        # or: nodes, cache, 429, batch-api

1. engine overhead on one machine: the same 1,000 items through the local runner (concurrency 16) and the
   Ray runner (2 actors x 8, a local Ray started beforehand), at 0 ms and at 500 ms server latency;
2. scaling out: 1 vs 2 worker nodes (ray.cluster_utils.Cluster, one actor per node, 8 in flight each) at
   2 s latency: the work is latency-bound, so twice the actors should take about half the time (>= 1.8x);
   reported on the wall clock (cluster start excluded, actor start included) and from the first answer
   to the last (the steady state);
3. a fully cached 10,000-item re-run through the local runner: Redis cache (a real redis-server on
   loopback) vs the SQLite cache, items/s and requests (must be 0);
4. 429s with no --rpm: the fake enforces 600 requests/min; the local runner and the Ray runner (3 actors
   pacing through one throttle actor) each find the pace the endpoint allows;
5. the Batch API path vs the live path for the same 200 items, a tenth of which get an ungrounded quote on
   the first ask: requests sent live, requests submitted in batches, re-asks, cost.

Articles are the real ones from eval/news_refs.jsonl, each made unique by a closing line; the fake answers
with full-size grounded records (``testing.full_responder``) except where said.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer import Summarizer  # noqa: E402
from summarizer.config import load_settings  # noqa: E402
from summarizer.runners.local import run_files  # noqa: E402
from summarizer.testing import FakeLLMServer, full_responder, serve_in_subprocess, ungrounded_first  # noqa: E402

SHARED = ROOT / "eval" / "news_refs.jsonl"
MARK = "Orbital cabbages were mentioned."


def bases() -> list[str]:
    path = SHARED if SHARED.exists() else ROOT / "tests" / "fixtures" / "articles.jsonl"
    return [json.loads(line)["text"].strip() for line in path.read_text().splitlines() if line.strip()]


def write_items(path: Path, count: int, marked_every: int = 0) -> Path:
    texts = bases()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            text = f"{texts[i % len(texts)]}\n\nThis is item {i} of the benchmark archive."
            if marked_every and i % marked_every == 0:
                text += " " + MARK
            fh.write(json.dumps({"id": f"item-{i}", "text": text}) + "\n")
    return path


def local_run(url: str, source: Path, out: Path, cache: Any, concurrency: int) -> tuple[float, Any]:
    summarizer = Summarizer(
        base_url=url, api_key="bench", mode="tools", cache_path=cache, log=False, use_cache=cache is not None
    )

    async def go() -> Any:
        try:
            return await run_files(summarizer, [str(source)], output=out, concurrency=concurrency, count=False)
        finally:
            await summarizer.aclose()

    started = time.perf_counter()
    stats = asyncio.run(go())
    return time.perf_counter() - started, stats


def ray_run(url: str, source: Path, out: Path, actors: int, concurrency: int, **more: Any) -> tuple[float, Any]:
    from summarizer.core import Summarizer
    from summarizer.runners import ray as ray_runner

    settings = load_settings(base_url=url, api_key="bench", mode="tools", use_cache=False, log=False, **more)
    started = time.perf_counter()
    stats = ray_runner.run_files(
        Summarizer(settings=settings), [str(source)], output=out, actors=actors, concurrency=concurrency
    )
    return time.perf_counter() - started, stats


def engine_overhead(work: Path) -> list[str]:
    import ray

    source = write_items(work / "items.jsonl", 1000)
    ray.init(include_dashboard=False, log_to_driver=False)
    rows = ["| latency | local runner (c=16) | Ray runner (2 actors x 8) | Ray / local |", "|---|---|---|---|"]
    try:
        for latency in (0.0, 0.5):
            url, server = serve_in_subprocess(latency=latency, full=True)
            try:
                local_s, local = local_run(url, source, work / f"local-{latency}.jsonl", None, 16)
                ray_s, on_ray = ray_run(url, source, work / f"ray-{latency}.jsonl", 2, 8)
            finally:
                server.terminate()
            assert local.done == on_ray.done == 1000, (local, on_ray)
            rows.append(
                f"| {latency * 1000:.0f} ms | {local_s:.1f} s ({1000 / local_s:.0f}/s) | {ray_s:.1f} s "
                f"({1000 / ray_s:.0f}/s) | {ray_s / local_s:.2f}x time |"
            )
    finally:
        ray.shutdown()
    return rows


def rate_limit(work: Path) -> list[str]:
    """429 handling for the whole cluster: the fake enforces 600 requests/min (a token bucket), no --rpm is
    given; the local runner and the Ray runner (3 actors, one throttle actor) each find the pace themselves."""
    import ray

    count = 300
    source = write_items(work / "limited.jsonl", count)
    rows = [
        "| runner (no --rpm; endpoint allows 600/min) | wall | achieved / limit | 429 answers |",
        "|---|---|---|---|",
    ]
    ray.init(include_dashboard=False, log_to_driver=False)
    try:
        for name in ("local (c=24)", "Ray (3 actors x 8)"):
            url, server = serve_in_subprocess(rate_limit=600)
            try:
                if name.startswith("local"):
                    seconds, stats = local_run(url, source, work / "local-limited.jsonl", None, 24)
                else:
                    seconds, stats = ray_run(url, source, work / "ray-limited.jsonl", 3, 8)
            finally:
                server.terminate()
            assert stats.done == count, stats
            rows.append(f"| {name} | {seconds:.1f} s | {count / seconds / 10:.2f} | {stats.rate_limited} |")
    finally:
        ray.shutdown()
    return rows


def node_scaling(work: Path) -> list[str]:
    import ray
    from ray.cluster_utils import Cluster

    count = 320
    source = write_items(work / "nodes.jsonl", count)
    rows = [
        "| worker nodes (1 actor each, 8 in flight) | wall, 320 items at 2 s latency | first to last answer "
        "| speed-up (wall / steady) |",
        "|---|---|---|---|",
    ]
    measured: dict[int, tuple[float, float]] = {}
    with FakeLLMServer(full_responder, latency=2.0) as server:  # in-process: its sleeping threads cost no CPU
        for nodes in (1, 2):
            server.reset()
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
            for _ in range(nodes):
                cluster.add_node(num_cpus=2)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, log_to_driver=False)
            try:
                seconds, stats = ray_run(server.url, source, work / f"nodes-{nodes}.jsonl", nodes, 8)
                assert stats.done == count, stats
                steady = max(server.times) - min(server.times) + 2.0
                measured[nodes] = (seconds, steady)
            finally:
                ray.shutdown()
                cluster.shutdown()
    for nodes, (wall, steady) in measured.items():
        rows.append(
            f"| {nodes} | {wall:.1f} s | {steady:.1f} s | {measured[1][0] / wall:.2f}x / "
            f"{measured[1][1] / steady:.2f}x |"
        )
    return rows


def cache_rerun(work: Path) -> list[str]:
    from summarizer.cache import Cache
    from summarizer.cache.redis_cache import RedisCache

    source = write_items(work / "cached.jsonl", 10_000)
    sqlite = work / "cache.sqlite3"
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        return ["(redis-server is not installed: apt-get install redis-server)"]
    fill_url, filler = serve_in_subprocess(full=True)  # its CPU (building full answers) is not ours
    try:
        fill_s, filled = local_run(fill_url, source, work / "fill.jsonl", sqlite, 32)
    finally:
        filler.terminate()
    assert filled.done == 10_000
    with FakeLLMServer(full_responder) as server:  # in this process, to count requests (there must be none)
        port = 6399
        redis = subprocess.Popen(
            [redis_bin, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(work)],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            for _ in range(100):
                try:
                    RedisCache(url).check()
                    break
                except Exception:
                    time.sleep(0.05)
            exported = io.StringIO()
            Cache(sqlite).export(exported)
            RedisCache(url).import_lines(io.StringIO(exported.getvalue()))
            server.reset()
            rows = ["| cache | 10,000 cached items | items/s | requests |", "|---|---|---|---|"]
            results = {}
            for name, cache in (("SQLite", sqlite), ("Redis", url)):
                seconds, stats = local_run(server.url, source, work / f"rerun-{name}.jsonl", cache, 32)
                assert stats.cached == 10_000, stats
                results[name] = seconds
                rows.append(f"| {name} | {seconds:.1f} s | {10_000 / seconds:,.0f} | {len(server.requests)} |")
            rows.append(f"| Redis / SQLite | {results['Redis'] / results['SQLite']:.2f}x time | | |")
            rows.append(f"(filling the cache: 10,000 live items in {fill_s:.0f} s)")
            return rows
        finally:
            redis.terminate()


def batch_api_vs_live(work: Path) -> list[str]:
    from summarizer.runners.batch_api import run_files as via_batch_api

    source = write_items(work / "batch.jsonl", 200, marked_every=10)
    rows = ["| path | sent live | submitted in batches | re-asks | est. cost (gpt-4o-mini) |", "|---|---|---|---|---|"]
    with FakeLLMServer(ungrounded_first(MARK, then=full_responder)) as server:
        _, live = local_run(server.url, source, work / "live.jsonl", work / "live.sqlite3", 16)
        live_requests = len(server.requests)
        rows.append(f"| live | {live_requests} | 0 | {live_requests - 200} | ${live.cost_usd:.4f} |")
        server.reset()
        summarizer = Summarizer(
            base_url=server.url, api_key="bench", mode="tools", log=False, cache_path=work / "batch.sqlite3"
        )
        batched = via_batch_api(summarizer, [str(source)], output=work / "batch-out.jsonl", poll_s=0.01)
        summarizer.close()
        submitted = server.batch_api.lines
        rows.append(
            f"| --via batch-api | {len(server.requests)} | {submitted} | {len(server.requests)} | "
            f"${batched.cost_usd:.4f} |"
        )
        rows.append(f"| batch / live cost | | | | {batched.cost_usd / live.cost_usd:.2f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["ray", "nodes", "cache", "429", "batch-api"])
    args = parser.parse_args()
    parts = {
        "ray": engine_overhead,
        "nodes": node_scaling,
        "cache": cache_rerun,
        "429": rate_limit,
        "batch-api": batch_api_vs_live,
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, part in parts.items():
            if args.only and args.only != name:
                continue
            work = Path(folder) / name
            work.mkdir()
            print(f"\n## {name}\n", flush=True)
            print("\n".join(part(work)), flush=True)


if __name__ == "__main__":
    main()
