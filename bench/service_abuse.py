"""/healthz latency while one caller abuses the service; all figures from one run.

    python bench/service_abuse.py        # about two minutes

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
- (issue 21, 1) 200 KB of `{"items": [[[[…` and an object 10,000 deep inside one item: refused (400)
  before parsing
- (issue 21, 2) a JSONL upload of 10 good lines, 5 bad ones and one 10 KB line nested 5,000 deep: the
  job ends done, 10 results and 6 item errors (the health checks run until the job has ended)
- (issue 21, 6) 1,100 idle sockets (half of them sending a header a byte at a time) against a service
  whose open-files limit is 1,024: reports when the service closed them and how /healthz fared
  (its answers by status) for 15 s

For each it also prints the service process's peak RSS (VmHWM; every abuse gets a fresh service) and
its RSS when idle before the abuse.
"""

from __future__ import annotations

import json
import os
import resource
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
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start(llm_url: str, state: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environment = {
        **os.environ,
        "OPENAI_BASE_URL": llm_url,
        "OPENAI_API_KEY": "bench",
        "SUMMARIZER_CACHE": str(state / "cache.sqlite3"),
        **env,
    }
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--state-dir", str(state / "jobs")],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_files_limit,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the service did not start")


def _files_limit() -> None:
    """In the service: the usual open-files limit of 1,024 (the idle-socket abuse is measured against it)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024 if hard == resource.RLIM_INFINITY else min(1024, hard), hard))


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def during(
    port: int, heavy: bytes | None, path: str, content_type: str = "application/json", until: Any = None
) -> dict[str, Any]:
    """Send ``heavy`` from a thread (then wait for ``until(port, answer)`` if given) and ask /healthz back
    to back until it is over."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def send() -> None:
        started = time.perf_counter()
        try:
            if heavy is not None:
                status, answer = post(port, path, heavy, content_type)
                outcome.update(status=status, seconds=round(time.perf_counter() - started, 2))
                if until is not None:
                    outcome.update(until(port, answer))
                    outcome["seconds"] = round(time.perf_counter() - started, 2)
            else:
                time.sleep(2)
        finally:
            done.set()

    threading.Thread(target=send, daemon=True).start()
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        call(port, "GET", "/healthz")
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        **outcome,
        "health_checks": len(latencies),
        "worst_ms": round(max(latencies), 1),
        "median_ms": round(statistics.median(latencies), 1),
    }


def post(port: int, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def job_ended(port: int, answer: bytes) -> dict[str, Any]:
    """Poll the job the answer created until it has ended; its status, counts and error lines."""
    job_id = json.loads(answer)["id"]
    while True:
        job = json.loads(call(port, "GET", f"/v1/batches/{job_id}")[1])
        if job["status"] in ("done", "failed", "cancelled"):
            errors = call(port, "GET", f"/v1/batches/{job_id}/errors")[1].decode().splitlines()
            results = call(port, "GET", f"/v1/batches/{job_id}/results")[1].decode().splitlines()
            return {"job": job["status"], "results": len(results), "item_errors": len(errors)}
        time.sleep(0.2)


def poison_upload() -> tuple[bytes, str]:
    """multipart/form-data: 10 good lines, 5 bad ones and one 10 KB line nested 5,000 deep."""
    story = (
        "The council met on Tuesday to discuss the new tram line. It voted for the line after a long debate. "
        "The mayor said the work would start in spring and end within two years. "
    )
    lines = [json.dumps({"id": f"good-{n}", "text": story + f"This is story {n}."}) for n in range(10)]
    lines += [
        '{"id": "bad-1", "text": ',
        "not json at all",
        '{"id": "bad-3"}',
        "[1, 2, 3]",
        '{"id": "bad-5", "text": 7}',
    ]
    lines.append('{"id": "deep", "text": ' + "[" * 5000 + "]" * 5000 + "}")
    content = ("\n".join(lines) + "\n").encode()
    boundary = "benchboundary7d1"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
            f"Content-Type: application/jsonl\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def idle_sockets(port: int, count: int = 1100, watch_s: float = 15.0) -> dict[str, Any]:
    """Open ``count`` connections that never finish a request (half send a header byte by byte), then ask
    /healthz for ``watch_s`` seconds; when were the idle sockets closed by the service?"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 256)), hard))
    started = time.perf_counter()
    sockets: list[socket.socket] = []
    for number in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            break
        if number % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sockets.append(sock)
    opened = len(sockets)
    closed_at: list[float] = []
    stop = threading.Event()

    def watch() -> None:  # dribble a header byte now and then; note when the service closes each socket
        import select

        poller = select.poll()  # select() stops at descriptor 1,024
        live = {sock.fileno(): sock for sock in sockets}
        for fd in live:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while live and not stop.is_set():
            for sock in list(live.values())[1::2]:
                try:
                    sock.send(b"x")
                except OSError:
                    pass
            for fd, _ in poller.poll(200):
                sock = live.pop(fd, None)
                if sock is None:
                    continue
                poller.unregister(fd)
                closed_at.append(time.perf_counter() - started)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    statuses: dict[str, int] = {}
    latencies = []
    while time.perf_counter() - started < watch_s:
        begun = time.perf_counter()
        try:
            status = str(call(port, "GET", "/healthz")[0])
        except OSError as exc:
            status = type(exc).__name__
        latencies.append((time.perf_counter() - begun) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    stop.set()
    watcher.join()
    for sock in sockets:
        sock.close()
    closed_at.sort()
    return {
        "sockets_opened": opened,
        "closed_by_service": len(closed_at),
        "last_closed_s": round(closed_at[-1], 1) if closed_at else None,
        "healthz_by_status": statuses,
        "health_checks": len(latencies),
        "worst_ms": round(max(latencies), 1),
        "median_ms": round(statistics.median(latencies), 1),
    }


def main() -> None:
    llm_url, llm = serve_in_subprocess()
    million = json.dumps({"items": [{} for _ in range(1_000_000)]}).encode()
    paragraph = "<p>" + "The council met on Tuesday to discuss the new tram line and its budget. " * 20 + "</p>"
    page = "<html><head><title>Tram</title></head><body><article>" + paragraph * 1300 + "</article></body></html>"
    huge_html = json.dumps({"html": page * 6}).encode()
    big_html = json.dumps({"html": page}).encode()
    story = "The council met on Tuesday. It voted for the new tram line after a long debate. "
    text = json.dumps({"text": "".join(f"{story}Item {n}. " for n in range(20_000))[:900_000]}).encode()
    poison, poison_type = poison_upload()
    cases = [
        ("idle", None, "/healthz", {}),
        ("1M-item JSON batch, refused (limit 100,000)", million, "/v1/batches", {}),
        (
            "1M-item JSON batch, accepted (limit 2,000,000)",
            million,
            "/v1/batches",
            {"SUMMARIZER_MAX_BATCH_ITEMS": "2000000"},
        ),
        (f"{len(page) * 6 / 1e6:.1f} MB of HTML, refused", huge_html, "/v1/summaries", {}),
        (f"{len(page) / 1e6:.1f} MB of HTML, extracted", big_html, "/v1/summaries", {}),
        ("900,000 characters of text", text, "/v1/summaries", {}),
        ("(1) 200 KB of [[[[ as the items", b'{"items": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "/v1/batches", {}),
        (
            "(1) an object 10,000 deep in one item",
            b'{"items": [{"text": "x", "extra": ' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}]}",
            "/v1/batches",
            {},
        ),
        ("(2) poison-line upload (10 good, 5 bad, 1 nested 5,000 deep)", poison, "/v1/batches", {}),
        ("(6) 1,100 idle and slow-header sockets, open-files limit 1,024", "sockets", "/healthz", {}),
    ]
    try:
        for name, body, path, env in cases:
            with tempfile.TemporaryDirectory() as folder:
                process, port = start(llm_url, Path(folder), **env)
                try:
                    idle_mb = memory_mb(process.pid, "VmRSS")
                    if body == "sockets":
                        figures = idle_sockets(port)
                    elif body is poison:
                        figures = during(port, poison, path, poison_type, until=job_ended)
                    else:
                        figures = during(port, body, path)
                    figures.update(idle_rss_mb=idle_mb, peak_rss_mb=memory_mb(process.pid, "VmHWM"))
                    print(f"{name}: {json.dumps(figures)}", flush=True)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
    finally:
        llm.terminate()


if __name__ == "__main__":
    main()
