"""Client CPU per article: our pipeline against a bare instructor call and a raw openai call.

The fake server runs in another process with 0 ms latency, so process CPU time here is
the client's own work. Cache off. Same schema (news), same prompt and validation context.
Every call sends a different article (the 128 of eval/news_refs.jsonl, in the same order
for every variant; no article twice within a variant, so nothing is warm by repetition),
and the server answers each with a full-size grounded answer (``testing.full_news``: every
list filled as far as the article allows), as a real model's answers are, not the fake's
three-point default. All three variants measured side by side in one run.

    python bench/overhead.py [-n 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
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
from summarizer.schemas import resolve  # noqa: E402
from summarizer.testing import serve_in_subprocess  # noqa: E402


def measure(label: str, call: Any, articles: list[str], warmup: list[str]) -> dict[str, float]:
    for article in warmup:  # imports, first-use tables: not per-article work
        call(article)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for article in articles:
        call(article)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"label": label, "cpu_ms": cpu / len(articles) * 1000, "wall_ms": wall / len(articles) * 1000}


def startup(command: list[str], runs: int = 10) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=128, help="articles per variant (at most 128: each once)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; variants alternate within each")
    parser.add_argument(
        "--mode", choices=["tools", "json_schema"], default="tools", help="the instructor mode of ours and bare"
    )
    args = parser.parse_args()

    import instructor
    import openai

    rows = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    articles = [row["text"] for row in rows][: args.n]
    warmup = [(ROOT / "examples" / "article.txt").read_text()] * 3
    url, server = serve_in_subprocess(full=True)
    try:
        news = resolve("news").model
        template = load()
        # What a user following instructor's docs writes: template messages, a (truthy) context
        # dict holding the article for both the templates and the validators.
        template_messages = [{"role": "system", "content": template.system}, {"role": "user", "content": template.user}]

        ours = Summarizer(base_url=url, api_key="bench", use_cache=False, mode=args.mode, log=False)
        logged = Summarizer(
            base_url=url,
            api_key="bench",
            use_cache=False,
            mode=args.mode,
            log_path=Path(tempfile.mkdtemp()) / "logs.sqlite3",
        )

        bare_client = instructor.from_openai(
            openai.OpenAI(base_url=url, api_key="bench", max_retries=0),
            mode=getattr(instructor.Mode, args.mode.upper()),
        )

        def bare(article: str) -> Any:
            source = grounding_context(article)
            tag = nonce(article, "")
            context = {
                **source,
                "article": article,
                "nonce": tag,
                "open": lambda block: opening(block, tag),
                "close": lambda block: closing(block, tag),
            }
            return bare_client.chat.completions.create(
                model="gpt-4o-mini",
                response_model=news,
                messages=[dict(m) for m in template_messages],
                context=context,
                max_retries=2,
            )

        wrapped = instructor.openai_schema(news)

        def bare_rendered(article: str) -> Any:
            # The leanest bare call: messages rendered by the caller (no instructor templating) and the schema
            # wrapped for instructor once (else instructor builds a wrapper class, and its schema, per call).
            return bare_client.chat.completions.create(
                model="gpt-4o-mini",
                response_model=wrapped,
                messages=template.messages(article),
                context=grounding_context(article),
                max_retries=2,
            )

        raw_client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)
        tool = {"type": "function", "function": {"name": "News", "parameters": news.model_json_schema()}}

        def raw(article: str) -> Any:
            completion = raw_client.chat.completions.create(
                model="gpt-4o-mini",
                messages=template.messages(article),
                tools=[tool],
                tool_choice={"type": "function", "function": {"name": "News"}},
            )
            arguments = completion.choices[0].message.tool_calls[0].function.arguments
            return news.model_validate_json(arguments, context=grounding_context(article))

        variants = [
            ("raw openai + model_validate_json", raw),
            ("bare instructor 1.17 call", bare),
            ("bare instructor, lean (rendered, wrapped once)", bare_rendered),
            ("summarizer (ours, log off)", ours.summarize),
            ("summarizer (ours, exchanges logged)", logged.summarize),
        ]
        runs: dict[str, list[dict[str, float]]] = {label: [] for label, _ in variants}
        for _ in range(args.rounds):
            for label, call in variants:
                runs[label].append(measure(label, call, articles, warmup))
        results = [
            {
                "label": label,
                "cpu_ms": statistics.median(r["cpu_ms"] for r in found),
                "wall_ms": statistics.median(r["wall_ms"] for r in found),
            }
            for label, found in runs.items()
        ]
    finally:
        server.terminate()

    base = results[1]["cpu_ms"]
    print(
        f"client CPU per article, {len(articles)} distinct articles x {args.rounds} rounds (median), full-size "
        f"answers, fake server at 0 ms latency in another process, cache off, mode {args.mode}"
    )
    print(f"{'variant':38} {'CPU ms':>8} {'wall ms':>8} {'CPU vs bare instructor':>24}")
    for r in results:
        print(f"{r['label']:38} {r['cpu_ms']:8.2f} {r['wall_ms']:8.2f} {r['cpu_ms'] / base:23.2f}x")

    script = str(Path(sys.executable).parent / "summarizer")
    help_s = startup([script, "--help"])
    python_s = startup([sys.executable, "-c", "pass"])
    print(f"\n`summarizer --help` start-up: {help_s:.3f} s median of 10 (bare `python -c pass`: {python_s:.3f} s)")
    lean = results[2]["cpu_ms"]
    print(
        f"\nours vs the lean bare call: {results[3]['cpu_ms'] / lean:.2f}x (log off), "
        f"{results[4]['cpu_ms'] / lean:.2f}x (logged)"
    )
    print(
        json.dumps(
            {
                "ours_over_bare_cpu": round(results[3]["cpu_ms"] / base, 3),
                "ours_logged_over_bare_cpu": round(results[4]["cpu_ms"] / base, 3),
                "ours_over_lean_bare_cpu": round(results[3]["cpu_ms"] / lean, 3),
                "raw_over_bare_cpu": round(results[0]["cpu_ms"] / base, 3),
                "help_startup_s": round(help_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
