"""Hostile input (issue 21), the rest: readiness that follows the world (3), private stored data (5), slow
clients (6) and the smaller findings (8), each as a caller or an input file would meet it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from summarizer import Summarizer
from summarizer.config import load_settings
from summarizer.errors import ConfigError, InputError
from summarizer.service.app import create_app

from .conftest import API_KEY, RedisServer, free_port, start_helper
from .test_batch_api import inputs as batch_api_inputs
from .test_batch_api import invalid_first
from .test_batch_api import run as run_batch_api

PROBLEM = "application/problem+json"


def service(server: Any, tmp_path: Path, **overrides: Any) -> TestClient:
    options: dict[str, Any] = {
        "base_url": server.url,
        "api_key": API_KEY,
        "timeout": 5.0,
        "state_dir": tmp_path / "state",
    }
    resolver = overrides.pop("resolver", None)
    options.update(overrides)
    return TestClient(create_app(load_settings(**options), resolver=resolver), raise_server_exceptions=False)


def call(cli: list[str], server: Any, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.url, **env},
    )


# -- 3. readiness re-probes its dependencies on its own schedule ----------------------------------------------


def _redis_on(port: int, folder: Path) -> subprocess.Popen[bytes]:
    import redis

    binary = shutil.which("redis-server")
    assert binary
    process = start_helper(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(400):
        with contextlib.suppress(redis.ConnectionError):
            client.ping()
            break
        time.sleep(0.05)
    client.close()
    return process


def test_readyz_recovers_after_a_redis_outage_without_any_traffic(server, article, tmp_path):
    redis = RedisServer(tmp_path)  # skips without redis-server (fails under SUMMARIZER_REQUIRE_SERVERS)
    settings = load_settings(
        base_url=server.url, api_key=API_KEY, cache_path=redis.url, state_dir=tmp_path / "st", ready_probe_s=0.1
    )
    app = create_app(settings)
    state = app.state.service
    try:
        with TestClient(app) as client:
            assert client.get("/readyz").json()["checks"] == {"cache": "ok", "state": "ok", "llm": "ok"}
            redis.stop()
            assert client.post("/v1/summaries", json={"text": article}).status_code == 200  # answered anyway
            assert client.get("/readyz").status_code == 503
            restarted = _redis_on(redis.port, tmp_path)
            try:
                # No request from here on: the background probe alone must notice Redis is back.
                while state.readiness.get("cache") != "ok":
                    time.sleep(0.05)
                assert state.summarizer.cache_problem is None  # the cache is used again at once, too
                ready = client.get("/readyz")
                assert ready.status_code == 200, ready.text
                second = client.post("/v1/summaries", json={"text": article + " One more sentence here."})
                assert not any("cache" in w for w in second.json()["meta"]["warnings"])
            finally:
                restarted.terminate()
                restarted.wait()
    finally:
        with contextlib.suppress(Exception):
            redis.stop()


def test_readyz_reports_a_state_folder_that_cannot_take_files(server, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    with service(server, tmp_path) as client:
        assert client.get("/readyz").status_code == 200
        (tmp_path / "state").chmod(0o500)
        try:
            refused = client.get("/readyz")
        finally:
            (tmp_path / "state").chmod(0o700)
        assert refused.status_code == 503 and "state: unusable" in refused.json()["detail"]
        assert str(tmp_path) not in refused.text
        assert client.get("/readyz").status_code == 200


# -- 5. stored data is private by default ------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def _stored(tmp_path: Path, server: Any, article: str, **settings: Any) -> list[Path]:
    """Make every kind of stored data under ``tmp_path``; return the paths made."""
    made = Summarizer(
        base_url=server.url, api_key=API_KEY, cache_path=tmp_path / "c" / "cache.sqlite3", log=True, **settings
    )
    made.summarize(article)
    made.close()
    with TestClient(
        create_app(
            load_settings(
                base_url=server.url,
                api_key=API_KEY,
                state_dir=tmp_path / "state",
                cache_path=tmp_path / "c" / "cache.sqlite3",
                **settings,
            )
        )
    ) as client:
        job = client.post("/v1/batches", json={"items": [article]}).json()
        while client.get(f"/v1/batches/{job['id']}").json()["status"] not in ("done", "failed"):
            time.sleep(0.05)
    source = batch_api_inputs(tmp_path, [{"text": article}], 2, marked=set())
    run_batch_api(server, source, tmp_path / "out" / "out.jsonl")
    user_files = {source, tmp_path / "out", tmp_path / "out" / "out.jsonl", tmp_path / "out" / "out.jsonl.errors.jsonl"}
    return [path for path in tmp_path.rglob("*") if path not in user_files]


def test_stored_data_is_created_0600_in_0700_folders_whatever_the_umask(server, article, tmp_path):
    with umask(0):  # the worst case: everything world-writable unless the tool sets the mode itself
        made = _stored(tmp_path, server, article)
    kinds = {path.name.split("-")[0].split(".")[0] for path in made}
    assert {"cache", "logs", "jobs", "input", "results", "errors", "state", "requests", "output"} <= kinds, kinds
    for path in made:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), (path, oct(_mode(path)))


def test_shared_files_leaves_the_mode_to_the_umask(server, article, tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZER_SHARED_FILES", "true")  # every Settings of the process agrees, as in a deployment
    try:
        with umask(0o007):
            made = _stored(tmp_path, server, article)
        for path in made:
            assert _mode(path) == (0o770 if path.is_dir() else 0o660), (path, oct(_mode(path)))
    finally:
        monkeypatch.delenv("SUMMARIZER_SHARED_FILES")
        load_settings()  # back to private for the tests after this one


# -- 6. slow clients -----------------------------------------------------------------------------------


@contextlib.contextmanager
def guarded_server(**limits: Any) -> Iterator[int]:
    """uvicorn with the service's protocol and ``limits`` around a tiny app that reads the body, on a free port."""
    import uvicorn

    from summarizer.service.http_guard import guarded_protocol

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = b"got %d" % len(body)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    port = free_port()
    protocol = guarded_protocol(
        header_timeout=limits.get("header_timeout", 1.0),
        body_timeout=limits.get("body_timeout", 0.5),
        max_connections=limits.get("max_connections", 50),
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=protocol,
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=limits.get("keep_alive", 0.3),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join()


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (blocks until then)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_connection_that_never_finishes_its_headers_is_closed():
    with guarded_server() as port:
        silent = socket.create_connection(("127.0.0.1", port))
        dribbling = socket.create_connection(("127.0.0.1", port))
        dribbling.sendall(b"GET / HTTP/1.1\r\n")
        stop = threading.Event()

        def dribble() -> None:  # one header byte every 50 ms: each byte must not buy more time
            with contextlib.suppress(OSError):
                while not stop.is_set():
                    dribbling.sendall(b"x")
                    time.sleep(0.05)

        feeder = threading.Thread(target=dribble, daemon=True)
        feeder.start()
        assert _until_closed(silent) == b""
        assert _until_closed(dribbling) == b""
        stop.set()
        feeder.join()
        with socket.create_connection(("127.0.0.1", port)) as good:  # a prompt client is served as before
            good.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc")
            assert _until_closed(good).endswith(b"got 3")


def test_a_body_that_stalls_closes_the_connection_and_a_keep_alive_one_is_not_held():
    with guarded_server() as port:
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly part of it")
        assert _until_closed(stalled) == b""
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        answer = _until_closed(idle)  # answered, then closed after the keep-alive time
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"got 0")


def test_past_the_connection_cap_a_new_connection_is_answered_503_at_once():
    with guarded_server(max_connections=5, header_timeout=600) as port:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        extra = socket.create_connection(("127.0.0.1", port))
        answer = _until_closed(extra)
        assert answer.startswith(b"HTTP/1.1 503") and b'"busy"' in answer
        for sock in held:
            sock.close()


def test_serve_runs_uvicorn_with_the_slow_client_limits(monkeypatch, tmp_path, capsys):
    import logging

    import uvicorn

    from summarizer.cli import app as cli_app
    from summarizer.service.http_guard import GuardedH11Protocol

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.setenv("SUMMARIZER_HEADER_TIMEOUT_S", "7")
    monkeypatch.setenv("SUMMARIZER_MAX_CONNECTIONS", "300")
    from typer.testing import CliRunner

    ours = logging.getLogger("summarizer")  # serve sets up the service's log: put it back afterwards
    for attribute in ("handlers", "propagate", "level"):
        monkeypatch.setattr(
            ours, attribute, getattr(ours, attribute)[:] if attribute == "handlers" else getattr(ours, attribute)
        )
    for _ in range(2):
        done = CliRunner().invoke(cli_app, ["serve", "--state-dir", str(tmp_path / "state")])
        assert done.exit_code == 0, done.output
    assert issubclass(seen["http"], GuardedH11Protocol)
    assert (seen["http"].header_timeout, seen["http"].body_timeout, seen["http"].max_connections) == (7, 30, 300)
    assert seen["timeout_keep_alive"] == 5 and seen["h11_max_incomplete_event_size"] == 16384
    # The runner's stderr is closed now: the service's log writes to the stderr of the moment, set up once
    # (was: a handler on the closed stream, and a "Logging error" traceback for every later record)
    ours.warning("a record after the runner's stream closed")
    err = capsys.readouterr().err
    assert err.count("a record after the runner's stream closed") == 1 and "Logging error" not in err, err


# -- 8. the smaller ones -------------------------------------------------------------------------------


def test_950000_characters_without_whitespace_are_cut_into_parts_not_an_index_error():
    from summarizer.chunking import split

    text = "a" * 950_001
    parts = split(text, 1000, lambda piece: len(piece) // 4)
    assert "".join(parts) == text and all(len(part) // 4 <= 1000 for part in parts)


def test_a_text_without_whitespace_over_the_window_is_summarized_in_parts(cli, server, tmp_path):
    source = tmp_path / "long.txt"
    source.write_text("a" * 950_001)
    done = call(cli, server, "summarize", str(source), "--no-cache", "-o", str(tmp_path / "out.json"))
    assert "IndexError" not in done.stderr and "internal error" not in done.stderr
    assert done.returncode in (0, 5, 6), done.stderr  # summarized, or the model's answer refused: never a crash


def test_a_lone_surrogate_is_a_clear_400_and_exit_3_with_no_request(cli, server, article, tmp_path):
    with service(server, tmp_path) as client:
        body = json.dumps({"text": article + " \ud800 end."})  # ASCII JSON: the \ud800 escape, unpaired
        response = client.post("/v1/summaries", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "lone surrogate" in response.json()["detail"]
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": article + " \ud800 end."}) + "\n")
    done = call_stdin(cli, server, "summarize", "--no-cache", stdin=article + " x")  # a sanity call: it works
    with pytest.raises(InputError, match="lone surrogate"):
        Summarizer(base_url=server.url, api_key=API_KEY, use_cache=False).summarize(article + " \ud800 end.")
    batch = call(cli, server, "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--no-progress")
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert batch.returncode == 8 and errors[0]["error"] == "input" and "lone surrogate" in errors[0]["message"]
    assert done.returncode == 0 and len(server.requests) == 1  # only the sanity call reached the model


def call_stdin(cli: list[str], server: Any, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.url},
    )


def test_a_recursive_ref_is_a_config_error_exit_4(cli, server, article, tmp_path):
    from summarizer.schemas import resolve

    schema = tmp_path / "loop.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/node"}},
                "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
            }
        )
    )
    with pytest.raises(ConfigError, match="recursive"):
        resolve(str(schema), [])
    (tmp_path / "a.txt").write_text(article)
    done = call(cli, server, "summarize", str(tmp_path / "a.txt"), "--schema", str(schema))
    assert done.returncode == 4 and "recursive $ref" in done.stderr and "internal error" not in done.stderr
    assert server.requests == []


def test_a_redis_url_with_a_bad_port_is_exit_4(cli, server, article, tmp_path):
    (tmp_path / "a.txt").write_text(article)
    for command in (["summarize", str(tmp_path / "a.txt")], ["cache", "stats"]):
        done = call(cli, server, *command, "--cache", "redis://:pw-secret-123@host:notaport/0")
        assert done.returncode == 4, done.stderr
        assert "port" in done.stderr and "internal error" not in done.stderr and "pw-secret" not in done.stderr
    assert server.requests == []


def test_an_ssrf_refusal_does_not_tell_the_caller_the_address(server, tmp_path):
    def resolver(host: str, port: int) -> list[str]:
        return ["10.77.66.55"]

    with service(server, tmp_path, resolver=resolver) as client:
        response = client.post("/v1/summaries", json={"url": "http://intranet.example/story"})
    assert response.status_code == 400 and "refusing to fetch" in response.json()["detail"]
    assert "10.77" not in response.text


def test_the_batch_api_report_counts_every_request_sent(server, articles, tmp_path):
    server.responder = invalid_first
    server.batch_api.behaviour.failed = {"item-4", "item-9"}  # sent in a batch, never answered: asked live
    source = batch_api_inputs(tmp_path, articles, 24, marked={1, 7, 13})
    stats = run_batch_api(server, source, tmp_path / "out.jsonl")
    assert server.batch_api.lines == 24 and len(server.requests) == 5
    assert stats.requests == 24 + 5


def test_a_redis_outage_is_in_the_batch_report_and_stats_json(cli, server, articles, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "text": r["text"]}) + "\n" for i, r in enumerate(articles[:3])))
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    done = call(
        cli,
        server,
        "batch",
        str(source),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--cache",
        url,
        "--stats-json",
        str(tmp_path / "stats.json"),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["without_cache"] == 3 and "127.0.0.1" in stats["cache_problem"]
    assert "cache: 3 item(s) answered without it" in done.stderr


def test_output_under_proc_is_refused_before_the_answer_is_paid_for(cli, server, article, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("os.access already says no to anyone but root")
    (tmp_path / "a.txt").write_text(article)
    for target in ("/proc/summary.json", "/sys/kernel/summary.json", "/proc/version"):
        done = call(cli, server, "summarize", str(tmp_path / "a.txt"), "-o", target)
        assert done.returncode == 9, (target, done.stderr)
    assert server.requests == []


def test_the_probe_loop_survives_a_failing_probe(monkeypatch, server, tmp_path):
    from summarizer.service import app as service_module

    calls: list[int] = []

    def broken(state: Any) -> dict[str, str]:
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(service_module, "probe", broken)
    state = type("S", (), {"settings": load_settings(ready_probe_s=0.01)})()

    async def run() -> None:
        task = asyncio.create_task(service_module._probe_forever(state))  # type: ignore[arg-type]
        while len(calls) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert len(calls) >= 3
