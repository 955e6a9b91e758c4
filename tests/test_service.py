"""The HTTP service through FastAPI's TestClient: every endpoint and every error status.

The LLM is the fake server on 127.0.0.1; URL fetching goes to a small page server on
127.0.0.1 (allowed explicitly where a test needs it) and never leaves the machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from summarizer.config import load_settings
from summarizer.service.app import create_app
from summarizer.testing import Answer, Fault, Stall

from .conftest import API_KEY
from .test_batch import html_page, story

TOKEN = "service-token-0123456789-DO-NOT-LEAK"


def build(server: Any, tmp_path: Path, **overrides: Any) -> TestClient:
    options: dict[str, Any] = {
        "base_url": server.url,
        "api_key": API_KEY,
        "timeout": 5.0,
        "state_dir": tmp_path / "state",
    }
    options.update(overrides)
    return TestClient(create_app(load_settings(**options)), raise_server_exceptions=False)


@pytest.fixture
def client(server: Any, tmp_path: Path) -> Iterator[TestClient]:
    with build(server, tmp_path) as test_client:
        yield test_client


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:summarizer:problem:") and body["detail"]
    assert "Traceback" not in response.text and API_KEY not in response.text and TOKEN not in response.text
    return dict(body)


class Pages:
    """A tiny web server on 127.0.0.1 serving an article page and redirects."""

    def __init__(self) -> None:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                pages.hits.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("=", 1)[1])
                    self.end_headers()
                    return
                body = html_page(7).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.hits: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pages() -> Iterator[Pages]:
    served = Pages()
    yield served
    served.close()


# -- summaries ------------------------------------------------------------------------------------


def test_summary_from_text_and_from_html(client, server):
    response = client.post("/v1/summaries", json={"text": story(1)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["engine"] == "llm" and body["meta"]["schema"] == "news"
    assert all(point["evidence"] in story(1) for point in body["summary"]["key_points"])
    response = client.post(
        "/v1/summaries",
        json={"html": html_page(2), "schema": "brief", "model": "other-model", "max_retries": 0, "language": "de"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["model"] == "other-model" and server.requests[-1]["model"] == "other-model"
    assert '"de"' in server.requests[-1]["messages"][-1]["content"]  # the language reached the prompt
    again = client.post("/v1/summaries", json={"text": story(1)})
    assert again.json()["meta"]["cached"] is True
    fresh = client.post("/v1/summaries", json={"text": story(1), "refresh": True})
    assert fresh.json()["meta"]["cached"] is False and server.count == 3


def test_summary_from_an_allowed_url(server, tmp_path, pages):
    with build(server, tmp_path, fetch_allow_networks=["127.0.0.1/32"]) as client:
        response = client.post("/v1/summaries", json={"url": f"{pages.base}/story"})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["source"]["title"] == "Tram story 7"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/story",
        "http://localhost:{port}/story",
        "http://10.1.2.3/story",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/story",
        "http://[::ffff:127.0.0.1]:{port}/story",
        "http://0.0.0.0:{port}/",
        "http://100.64.0.1/",
        "file:///etc/passwd",
    ],
)
def test_urls_to_private_addresses_are_refused_without_a_connection(client, pages, url):
    port = pages.base.rsplit(":", 1)[1]
    body = assert_problem(client.post("/v1/summaries", json={"url": url.format(port=port)}), 400)
    assert "refusing to fetch" in body["detail"]
    assert pages.hits == []


@pytest.mark.parametrize(
    "target", ["http://127.0.0.2:{port}/story", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/story"]
)
def test_a_redirect_to_a_private_address_is_refused(server, tmp_path, pages, target):
    port = pages.base.rsplit(":", 1)[1]
    with build(server, tmp_path, fetch_allow_networks=["127.0.0.1/32"]) as client:
        response = client.post("/v1/summaries", json={"url": f"{pages.base}/redirect?to={target.format(port=port)}"})
    body = assert_problem(response, 400)
    assert "refusing to fetch" in body["detail"]
    assert len(pages.hits) == 1  # the redirect itself; its target was never contacted


def test_bad_input_is_400(client):
    assert_problem(client.post("/v1/summaries", json={"text": "   "}), 400)
    assert_problem(client.post("/v1/summaries", json={"text": "\x00\x01\x02\x03" * 50}), 400)
    assert_problem(client.post("/v1/summaries", json={"html": "<html><body></body></html>"}), 400)


def test_invalid_requests_are_422_with_the_errors(client):
    for payload in (
        {"text": story(1), "url": "http://example.com/"},
        {},
        {"text": story(1), "language": "english"},
        {"text": story(1), "max_retries": 99},
        {"text": story(1), "unknown": 1},
    ):
        body = assert_problem(client.post("/v1/summaries", json=payload), 422)
        assert body["errors"]
    body = assert_problem(client.post("/v1/summaries", json={"text": story(1), "schema": "../../etc/passwd"}), 422)
    assert "unknown schema" in body["detail"]
    assert_problem(
        client.post("/v1/summaries", content=b"{not json", headers={"content-type": "application/json"}), 422
    )


def test_upstream_failures_are_502_and_timeouts_504(server, tmp_path):
    with build(server, tmp_path, transport_attempts=2, timeout=0.3, max_retries=0) as client:
        server.push(Fault(500), Fault(500))
        assert_problem(client.post("/v1/summaries", json={"text": story(1)}), 502)
        server.push(Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
        body = assert_problem(client.post("/v1/summaries", json={"text": story(2)}), 502)
        assert "refused the API key" in body["detail"]
        server.push(Answer({"headline": 1}))
        assert_problem(client.post("/v1/summaries", json={"text": story(3)}), 502)
        server.push(Stall(1.0), Stall(1.0))
        body = assert_problem(client.post("/v1/summaries", json={"text": story(4)}), 504)
        assert "did not answer" in body["detail"]


def test_a_full_queue_answers_429_with_retry_after(server, tmp_path):
    server.push(Stall(1.0))
    with build(server, tmp_path, max_inflight=1) as client:
        first: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: first.update(r=client.post("/v1/summaries", json={"text": story(1)})))
        worker.start()
        deadline = time.monotonic() + 10
        while server.count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        response = client.post("/v1/summaries", json={"text": story(2)})
        worker.join()
    assert_problem(response, 429)
    assert response.headers["retry-after"] == "1"
    assert first["r"].status_code == 200


def test_body_over_the_limit_is_413_announced_or_streamed(server, tmp_path):
    with build(server, tmp_path, max_body_bytes=2000) as client:
        assert_problem(client.post("/v1/summaries", json={"text": story(1) * 10}), 413)

        def chunks() -> Iterator[bytes]:
            yield b'{"text": "'
            for _ in range(10):
                yield b"x" * 500
            yield b'"}'

        assert_problem(
            client.post("/v1/summaries", content=chunks(), headers={"content-type": "application/json"}), 413
        )
        assert client.post("/v1/summaries", json={"text": story(1)}).status_code == 200


# -- auth, schemas, health ----------------------------------------------------------------------------


def test_bearer_token_is_required_when_set(server, tmp_path):
    with build(server, tmp_path, api_token=TOKEN) as client:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}):
            response = client.post("/v1/summaries", json={"text": story(1)}, headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert_problem(client.get("/v1/schemas", headers=headers), 401)
        good = {"authorization": f"Bearer {TOKEN}"}
        assert client.post("/v1/summaries", json={"text": story(1)}, headers=good).status_code == 200
        assert client.get("/v1/schemas", headers=good).status_code == 200
        assert client.get("/healthz").status_code == 200  # probes need no token


def test_schemas_list_and_show(client):
    listed = {entry["name"]: entry for entry in client.get("/v1/schemas").json()}
    assert {"news", "brief"} <= set(listed) and "headline" in listed["news"]["fields"]
    shown = client.get("/v1/schemas/news").json()
    assert shown["type"] == "object" and "key_points" in shown["properties"]
    assert_problem(client.get("/v1/schemas/nope"), 404)
    assert_problem(client.get("/v1/schemas/..%2F..%2Fetc%2Fpasswd"), 404)


def test_health_and_readiness(server, tmp_path):
    with build(server, tmp_path) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/readyz").json() == {
            "status": "ready",
            "checks": {"cache": "ok", "state": "ok", "llm": "ok"},
        }
    with build(server, tmp_path, base_url=None, api_key=None) as client:
        body = assert_problem(client.get("/readyz"), 503)
        assert "no LLM endpoint configured" in body["detail"]
    with build(server, tmp_path, base_url=None, api_key=None, engine="extractive") as client:
        assert client.get("/readyz").json()["status"] == "ready"
    unwritable = tmp_path / "ro"
    unwritable.mkdir()
    (unwritable / "cache.sqlite3").write_bytes(b"")
    unwritable.chmod(0o500)
    try:
        with build(server, tmp_path, cache_path=unwritable / "cache.sqlite3") as client:
            response = client.get("/readyz")
        import os

        if os.geteuid() != 0:  # root writes anywhere: the check cannot fail there
            assert_problem(response, 503)
    finally:
        unwritable.chmod(0o700)


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/v1/nothing"), 404)
    assert_problem(client.put("/v1/summaries", json={}), 405)


# -- batches ----------------------------------------------------------------------------------------


def wait_for(
    client: TestClient, job_id: str, statuses: tuple[str, ...] = ("done", "failed", "cancelled"), seconds: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/v1/batches/{job_id}").json()
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']}")


def test_batch_from_a_json_list_and_from_a_jsonl_upload(client, server):
    items = [{"id": f"j{n}", "text": story(n)} for n in range(5)] + [story(9), {"id": "bad", "text": " "}]
    created = client.post("/v1/batches", json={"items": items, "schema": "brief"})
    assert created.status_code == 202, created.text
    job = wait_for(client, created.json()["id"])
    assert job["status"] == "done" and job["counts"] == {"total": 7, "done": 6, "cached": 0, "failed": 1}
    assert job["progress"] == 1.0 and job["options"] == {"schema": "brief"}
    results = [json.loads(line) for line in client.get(f"/v1/batches/{job['id']}/results").text.splitlines()]
    assert {r["id"] for r in results} >= {f"j{n}" for n in range(5)} and len(results) == 6
    assert all(set(r["summary"]) == {"headline", "bullets"} for r in results)
    errors = [json.loads(line) for line in client.get(f"/v1/batches/{job['id']}/errors").text.splitlines()]
    assert [e["id"] for e in errors] == ["bad"] and errors[0]["error"] == "input"

    lines = "".join(json.dumps({"id": f"u{n}", "text": story(n)}) + "\n" for n in range(3)).encode()
    upload = client.post(
        "/v1/batches",
        files={"file": ("dump.jsonl", lines, "application/x-ndjson")},
        data={"language": "fr", "style": "brief"},
    )
    assert upload.status_code == 202, upload.text
    job = wait_for(client, upload.json()["id"])
    assert job["counts"]["done"] == 3 and job["options"] == {"language": "fr", "style": "brief"}


def test_batch_requests_that_cannot_start(client):
    assert_problem(client.post("/v1/batches", json={"items": []}), 422)
    assert_problem(client.post("/v1/batches", json={"items": [story(1)], "schema": "nope"}), 422)
    assert_problem(client.post("/v1/batches", files={"file": ("empty.jsonl", b"", "application/x-ndjson")}), 400)
    assert_problem(client.post("/v1/batches", files={"schema": (None, "news")}), 400)  # no file
    assert_problem(client.post("/v1/batches", files={"file": ("a.gif", b"GIF89a\x01\x00", "image/gif")}), 400)
    assert_problem(
        client.post("/v1/batches", files={"file": ("a.jsonl", b"{}", "application/x-ndjson"), "notes": (None, "x")}),
        422,
    )
    assert_problem(
        client.post(
            "/v1/batches", files={"file": ("a.jsonl", b"{}", "application/x-ndjson"), "model": (None, "{not a model}")}
        ),
        422,
    )
    assert_problem(client.post("/v1/batches", data={"schema": "news"}), 415)
    assert_problem(client.post("/v1/batches", content=b"x", headers={"content-type": "text/plain"}), 415)
    for path in ("/v1/batches/nope", "/v1/batches/nope/results", "/v1/batches/nope/errors"):
        assert_problem(client.get(path), 404)
    assert_problem(client.delete("/v1/batches/nope"), 404)


def test_deleting_a_running_batch_cancels_it_and_removes_its_files(server, tmp_path):
    server.latency = 0.2
    try:
        with build(server, tmp_path, concurrency=1) as client:
            job_id = client.post("/v1/batches", json={"items": [story(n) for n in range(50)]}).json()["id"]
            wait_for(client, job_id, ("running",))
            assert (tmp_path / "state" / job_id).is_dir()
            cancelled = client.delete(f"/v1/batches/{job_id}")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
            time.sleep(0.5)
            seen = server.count
            time.sleep(0.5)
            assert server.count == seen < 50  # nothing more is sent for it
            assert_problem(client.get(f"/v1/batches/{job_id}"), 404)
            assert not (tmp_path / "state" / job_id).exists()
    finally:
        server.latency = 0.0


def test_finished_jobs_and_their_files_expire_after_the_retention_period(server, tmp_path):
    with build(server, tmp_path, job_retention_hours=0.5 / 3600) as client:  # half a second
        job_id = client.post("/v1/batches", json={"items": [story(1)]}).json()["id"]
        wait_for(client, job_id)
        deadline = time.monotonic() + 30
        while client.get(f"/v1/batches/{job_id}").status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert_problem(client.get(f"/v1/batches/{job_id}"), 404)
        assert not (tmp_path / "state" / job_id).exists()


def test_openapi_documents_every_route_and_problem_responses(client):
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/summaries",
        "/v1/schemas",
        "/v1/schemas/{name}",
        "/v1/batches",
        "/v1/batches/{job_id}",
        "/v1/batches/{job_id}/results",
        "/v1/batches/{job_id}/errors",
        "/healthz",
        "/readyz",
    } <= set(spec["paths"])
    responses = spec["paths"]["/v1/summaries"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "502", "504"} <= set(responses)
    assert client.get("/docs").status_code == 200


def test_swagger_ui_and_redoc_are_served_without_a_cdn(client):
    """/docs and /redoc load their scripts and styles from the service itself: they work offline."""
    import re

    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert assets, page
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            if url.endswith((".js", ".css", ".png")):
                asset = client.get(url)
                assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert "cdn" not in client.get("/docs").text.lower()


# -- the real server --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    text = raw.decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def start_service(cli: list[str], port: int, env: dict[str, str], state: Path) -> Any:
    import subprocess

    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--state-dir", str(state)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the service did not start: {process.stderr.read().decode() if process.stderr else ''}")


def test_real_server_over_http_and_a_batch_job_survives_a_restart(cli, tmp_path):
    import os
    import signal

    from summarizer.testing import FakeLLMServer, article_of

    port, state = free_port(), tmp_path / "state"
    items = [{"id": f"r{n}", "text": story(n)} for n in range(80)]
    with FakeLLMServer(latency=0.05) as llm:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": llm.url,
            "OPENAI_API_KEY": API_KEY,
            "SUMMARIZER_CONCURRENCY": "2",
            "SUMMARIZER_API_TOKEN": TOKEN,
        }
        auth = {"authorization": f"Bearer {TOKEN}"}
        base = f"http://127.0.0.1:{port}"
        process = start_service(cli, port, env, state)
        try:
            status, body = http("POST", f"{base}/v1/summaries", {"text": story(1)}, auth)
            assert status == 200 and body["meta"]["engine"] == "llm"
            status, body = http("POST", f"{base}/v1/summaries", {"text": story(1)})
            assert status == 401 and body["status"] == 401
            status, job = http("POST", f"{base}/v1/batches", {"items": items}, auth)
            assert status == 202
            results = state / job["id"] / "results.jsonl"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (not results.exists() or results.read_bytes().count(b"\n") < 15):
                time.sleep(0.02)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        data = results.read_bytes()
        finished = {json.loads(line)["id"] for line in data[: data.rfind(b"\n") + 1].decode().splitlines()}
        assert 15 <= len(finished) < len(items), "the job finished before the server could be killed"
        before_restart = llm.count

        process = start_service(cli, port, env, state)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status, current = http("GET", f"{base}/v1/batches/{job['id']}", headers=auth)
                if current["status"] == "done":
                    break
                time.sleep(0.1)
            assert current["status"] == "done" and current["counts"]["done"] == len(items)
            status, text = http("GET", f"{base}/v1/batches/{job['id']}/results", headers=auth)
            ids = [json.loads(line)["id"] for line in text.splitlines()]
            assert sorted(ids) == sorted(item["id"] for item in items)  # all of them, each once
        finally:
            process.terminate()
            process.wait(timeout=30)
        asked_again = [article_of(r) for r in llm.requests[before_restart:]]
    texts_done = {item["text"] for item in items if item["id"] in finished}
    assert not texts_done & set(asked_again)  # nothing finished before the crash was requested again
    assert len(asked_again) == len(set(asked_again)) <= len(items) - len(finished)


def test_serve_refuses_a_public_address_without_a_token(cli):
    from .test_cli import run

    done = run(cli, "serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 4 and "refusing to listen on 0.0.0.0 without a token" in done.stderr


def test_the_sync_path_is_thread_safe(make, server):
    from concurrent.futures import ThreadPoolExecutor

    from .test_batch import PARAGRAPH

    summarizer = make()
    texts = [f"Report {n} opens the council pages. {PARAGRAPH}" for n in range(24)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(summarizer.summarize, texts))
    assert server.count == 24 and all(not r.meta.cached and r.meta.requests == 1 for r in results)
    assert [r.summary.headline.split()[1] for r in results] == [str(n) for n in range(24)]  # each got its own answer


def test_access_log_has_no_bodies_queries_or_secrets(server, tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    with build(server, tmp_path, api_token=TOKEN) as client:
        auth = {"authorization": f"Bearer {TOKEN}"}
        client.post("/v1/summaries?debug=secret-query", json={"text": story(1)}, headers=auth)
        server.push(Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
        client.post("/v1/summaries", json={"text": story(2)}, headers=auth)
    access = [r.getMessage() for r in caplog.records if r.name == "summarizer.access"]
    assert access[0].startswith("POST /v1/summaries 200 ") and len(access) == 2
    # Everything the service side logged (the test's own HTTP client logs its request URLs as "HTTP Request").
    everything = "\n".join(r.getMessage() for r in caplog.records if not r.getMessage().startswith("HTTP Request:"))
    assert "secret-query" not in everything and "Tram" not in "\n".join(access)
    assert API_KEY not in everything and TOKEN not in everything


def test_a_body_that_is_not_json_is_415_not_a_missing_field(client):
    said = client.post("/v1/summaries", content=b"The council met on Tuesday.", headers={"content-type": "text/plain"})
    assert said.status_code == 415 and said.headers["content-type"].startswith("application/problem+json")
    assert said.json()["type"].endswith("unsupported-media-type")
    plain = client.post("/v1/summaries", json={"text": "The council met on Tuesday. It voted for a tram line."})
    assert plain.status_code != 415  # JSON goes through (its own answer is another test's)
