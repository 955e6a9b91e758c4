"""Client CPU per article: our pipeline against a bare instructor call and a raw openai call.

The fake server runs in another process with 0 ms latency, so process CPU time here is
the client's own work. Cache off. Same schema (news), same prompt, same article, same
validation context; all three variants measured side by side in one run.

    python bench/overhead.py [-n 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
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


def measure(label: str, call: Any, n: int, warmup: int = 20) -> dict[str, float]:
    for _ in range(warmup):
        call()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        call()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"label": label, "cpu_ms": cpu / n * 1000, "wall_ms": wall / n * 1000}


def startup(command: list[str], runs: int = 10) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="calls per variant")
    args = parser.parse_args()

    import instructor
    import openai

    article = (ROOT / "examples" / "article.txt").read_text()
    url, server = serve_in_subprocess()
    try:
        news = resolve("news").model
        template = load()
        # What a user following instructor's docs writes: template messages, a (truthy) context
        # dict holding the article for both the templates and the validators.
        source = grounding_context(article)
        tag = nonce(article, "")
        context = {**source, "article": article, "nonce": tag, "open": lambda block: opening(block, tag),
                   "close": lambda block: closing(block, tag)}
        template_messages = [{"role": "system", "content": template.system},
                             {"role": "user", "content": template.user}]

        ours = Summarizer(base_url=url, api_key="bench", use_cache=False)

        bare_client = instructor.from_openai(openai.OpenAI(base_url=url, api_key="bench", max_retries=0))

        def bare() -> Any:
            return bare_client.chat.completions.create(
                model="gpt-4o-mini", response_model=news, messages=[dict(m) for m in template_messages], context=context,
                max_retries=2)

        raw_client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)
        tool = {"type": "function", "function": {"name": "News", "parameters": news.model_json_schema()}}
        rendered = template.messages(article)

        def raw() -> Any:
            completion = raw_client.chat.completions.create(
                model="gpt-4o-mini", messages=rendered, tools=[tool],
                tool_choice={"type": "function", "function": {"name": "News"}})
            arguments = completion.choices[0].message.tool_calls[0].function.arguments
            return news.model_validate_json(arguments, context=source)

        results = [measure("raw openai + model_validate_json", raw, args.n),
                   measure("bare instructor 1.17 call", bare, args.n),
                   measure("summarizer (ours)", lambda: ours.summarize(article), args.n)]
    finally:
        server.terminate()

    base = results[1]["cpu_ms"]
    print(f"client CPU per article, N={args.n}, fake server at 0 ms latency in another process, cache off")
    print(f"{'variant':38} {'CPU ms':>8} {'wall ms':>8} {'CPU vs bare instructor':>24}")
    for r in results:
        print(f"{r['label']:38} {r['cpu_ms']:8.2f} {r['wall_ms']:8.2f} {r['cpu_ms'] / base:23.2f}x")

    script = str(Path(sys.executable).parent / "summarizer")
    help_s = startup([script, "--help"])
    python_s = startup([sys.executable, "-c", "pass"])
    print(f"\n`summarizer --help` start-up: {help_s:.3f} s median of 10 (bare `python -c pass`: {python_s:.3f} s)")
    print(json.dumps({"ours_over_bare_cpu": round(results[2]["cpu_ms"] / base, 3),
                      "raw_over_bare_cpu": round(results[0]["cpu_ms"] / base, 3),
                      "help_startup_s": round(help_s, 3)}))


if __name__ == "__main__":
    main()
