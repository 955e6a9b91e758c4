"""/healthz latency while one caller abuses the service; all figures from one run.

    python bench/service_abuse.py        # about a minute

The service runs as `summarizer serve` in its own process (one event loop, as deployed), the
LLM is the fake server in a third process. For each abuse this process sends the heavy
request from a thread and asks GET /healthz back to back until it returns, then reports the
health checks' worst and median latency (target: worst under 200 ms) and what the heavy
request got. Abuses:

- idle: no heavy request (the floor)
- 1M-item JSON batch (15 MB) against the default 100,000-item limit: refused (413) after counting
- 1M-item JSON batch accepted (limit raised to 2,000,000): parsed and stored off the event loop
- 10 MB of HTML: refused (413) before extraction
- 1.9 MB of HTML: extracted (trafilatura) in a worker thread
- 900,000 characters of text: planned and counted in a worker thread, then summarized
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.testing import serve_in_subprocess  # noqa: E402

CLI = str(Path(sys.executable).parent / "summarizer")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start(llm_url: str, state: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environment = {**os.environ, "OPENAI_BASE_URL": llm_url, "OPENAI_API_KEY": "bench",
                   "SUMMARIZER_CACHE": str(state / "cache.sqlite3"), **env}
    process = subprocess.Popen([CLI, "serve", "--port", str(port), "--state-dir", str(state / "jobs")],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the service did not start")


def during(port: int, heavy: bytes | None, path: str) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def send() -> None:
        started = time.perf_counter()
        if heavy is not None:
            status, _ = call(port, "POST", path, heavy)
            outcome.update(status=status, seconds=round(time.perf_counter() - started, 2))
        else:
            time.sleep(2)
        done.set()

    threading.Thread(target=send, daemon=True).start()
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        call(port, "GET", "/healthz")
        latencies.append((time.perf_counter() - started) * 1000)
    return {**outcome, "health_checks": len(latencies), "worst_ms": round(max(latencies), 1),
            "median_ms": round(statistics.median(latencies), 1)}


def main() -> None:
    llm_url, llm = serve_in_subprocess()
    million = json.dumps({"items": [{} for _ in range(1_000_000)]}).encode()
    paragraph = "<p>" + "The council met on Tuesday to discuss the new tram line and its budget. " * 20 + "</p>"
    page = "<html><head><title>Tram</title></head><body><article>" + paragraph * 1300 + "</article></body></html>"
    huge_html = json.dumps({"html": page * 6}).encode()
    big_html = json.dumps({"html": page}).encode()
    story = "The council met on Tuesday. It voted for the new tram line after a long debate. "
    text = json.dumps({"text": "".join(f"{story}Item {n}. " for n in range(20_000))[:900_000]}).encode()
    cases = [("idle", None, "/healthz", {}),
             ("1M-item JSON batch, refused (limit 100,000)", million, "/v1/batches", {}),
             ("1M-item JSON batch, accepted (limit 2,000,000)", million, "/v1/batches",
              {"SUMMARIZER_MAX_BATCH_ITEMS": "2000000"}),
             (f"{len(page) * 6 / 1e6:.1f} MB of HTML, refused", huge_html, "/v1/summaries", {}),
             (f"{len(page) / 1e6:.1f} MB of HTML, extracted", big_html, "/v1/summaries", {}),
             ("900,000 characters of text", text, "/v1/summaries", {})]
    try:
        for name, body, path, env in cases:
            with tempfile.TemporaryDirectory() as folder:
                process, port = start(llm_url, Path(folder), **env)
                try:
                    print(f"{name}: {json.dumps(during(port, body, path))}", flush=True)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
    finally:
        llm.terminate()


if __name__ == "__main__":
    main()
