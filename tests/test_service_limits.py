"""One caller must not stall or fill the service, nor learn a secret from it.

A real uvicorn server in a thread (one event loop, as in production) takes each abuse while
``/healthz`` is asked again and again: the health checks must be answered while the heavy
request is still in flight (ordering, not a time limit). Limits are refused before the
expensive work, with 413/429 problem details.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from summarizer.config import load_settings
from summarizer.errors import ConfigError
from summarizer.secrets import protect
from summarizer.service.app import create_app
from summarizer.testing import Fault

from .conftest import API_KEY
from .test_batch import story
from .test_service import build, free_port


class Live:
    """The service on a free loopback port, served by uvicorn in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Live:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers={"content-type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def client(server: Any, tmp_path: Path) -> Iterator[Any]:
    with build(server, tmp_path) as test_client:
        yield test_client


@pytest.fixture
def live(server: Any, tmp_path: Path) -> Iterator[Callable[..., Live]]:
    started: list[Live] = []

    def start(**overrides: Any) -> Live:
        options: dict[str, Any] = {
            "base_url": server.url,
            "api_key": API_KEY,
            "timeout": 30.0,
            "state_dir": tmp_path / "state",
        }
        options.update(overrides)
        service = Live(create_app(load_settings(**options))).__enter__()
        started.append(service)
        return service

    yield start
    for service in started:
        service.__exit__()


def health_during(service: Live, heavy: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``heavy`` in a thread; ask /healthz until it returns. Returns its result and how many
    health checks were answered while it was still in flight."""
    result: dict[str, Any] = {}
    finished = threading.Event()

    def work() -> None:
        try:
            result["value"] = heavy()
        finally:
            finished.set()

    threading.Thread(target=work, daemon=True).start()
    answered = 0
    while not finished.is_set():
        status, _ = service.call("GET", "/healthz")
        if not finished.is_set():
            assert status == 200
            answered += 1
    return result["value"], answered


def test_a_huge_json_batch_does_not_stall_the_service(live):
    service = live(max_batch_items=2_000_000)
    body = json.dumps({"items": [{} for _ in range(1_000_000)]}).encode()
    (status, _), answered = health_during(service, lambda: service.call("POST", "/v1/batches", body))
    assert status == 202 and answered >= 3, (status, answered)


def test_over_the_item_limit_is_413_before_anything_is_stored(live, tmp_path):
    service = live(max_batch_items=1000)
    status, problem = service.call("POST", "/v1/batches", json.dumps({"items": [{}] * 1001}).encode())
    assert status == 413 and "1,000" in problem["detail"]
    upload = b"".join(b'{"text": "x"}\n' for _ in range(1001))
    boundary = "b0undary"
    form = (
        (
            f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\n'
            f"content-type: application/x-ndjson\r\n\r\n"
        ).encode()
        + upload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, problem = service.call("POST", "/v1/batches", form, f"multipart/form-data; boundary={boundary}")
    assert status == 413 and "1,000" in problem["detail"]
    assert [p for p in (tmp_path / "state").iterdir() if p.is_dir()] == []  # nothing was left behind


def test_html_over_the_extraction_limit_is_413_and_a_big_page_is_extracted_off_the_loop(live):
    service = live(max_html_bytes=3_000_000)
    paragraph = "<p>" + "The council met on Tuesday to discuss the new tram line and its budget. " * 20 + "</p>"
    page = "<html><head><title>Tram</title></head><body><article>" + paragraph * 1400 + "</article></body></html>"
    too_big = page * 2
    status, problem = service.call("POST", "/v1/summaries", json.dumps({"html": too_big}).encode())
    assert status == 413 and "HTML" in problem["detail"]
    (status, _), answered = health_during(
        service, lambda: service.call("POST", "/v1/summaries", json.dumps({"html": page}).encode())
    )
    assert status == 200 and answered >= 3, (status, answered)


def test_a_long_text_is_planned_off_the_event_loop(live):
    service = live()
    text = " ".join(story(n) for n in range(1500))[:900_000]
    (status, body), answered = health_during(
        service, lambda: service.call("POST", "/v1/summaries", json.dumps({"text": text}).encode())
    )
    assert status == 200 and body["meta"]["chunks"] >= 1 and answered >= 3, (status, answered)


def test_a_text_of_over_200k_tokens_is_counted_in_pieces(client):
    # 999,000 characters, 225,000 o200k tokens: over the encoder's 200,000-token chunk limit in one piece.
    text = " ".join(f"{story(n)} Figures {n * 7919:,}; {n * 31}.{n % 97}% ({n % 13}/{n % 7})." for n in range(3000))
    text = text[:999_000]
    response = client.post("/v1/summaries", json={"text": text})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["input_tokens"] > 200_000


def test_queued_jobs_and_storage_have_quotas(server, tmp_path):
    server.latency = 0.3
    try:
        with build(server, tmp_path, max_queued_jobs=2, concurrency=1) as client:
            for n in range(2):
                assert client.post("/v1/batches", json={"items": [story(n)] * 3}).status_code == 202
            response = client.post("/v1/batches", json={"items": [story(9)]})
            assert response.status_code == 429 and response.headers["retry-after"]
    finally:
        server.latency = 0.0
    with build(server, tmp_path / "b", max_stored_bytes=10) as client:
        assert client.post("/v1/batches", json={"items": [story(1)]}).status_code == 202
        response = client.post("/v1/batches", json={"items": [story(2)]})
        assert response.status_code == 429 and "storage" in response.json()["detail"]


def test_the_errors_file_never_shows_where_the_service_keeps_its_files(client, tmp_path):
    from .test_service import wait_for

    job_id = client.post("/v1/batches", json={"items": [{}, {"text": " "}, story(1)]}).json()["id"]
    wait_for(client, job_id)
    errors = client.get(f"/v1/batches/{job_id}/errors").text
    assert errors.count("\n") == 2
    assert str(tmp_path) not in errors and "input.jsonl" in errors


def test_empty_text_is_400_like_any_text_without_an_article(client):
    for text in ("", "   "):
        response = client.post("/v1/summaries", json={"text": text})
        assert response.status_code == 400, response.text


# -- secrets and the access log --------------------------------------------------------------------


def test_no_response_differs_by_whether_caller_text_matches_part_of_the_key(client):
    protect(API_KEY)
    candidates = [API_KEY[:n] for n in (8, 12, 20)] + [API_KEY[-20:], API_KEY[5:17].lower(), "sk-test-x" + "Q" * 10]
    for name in candidates:
        response = client.post("/v1/summaries", json={"text": story(1), "schema": name})
        assert response.status_code == 422
        assert repr(name) in response.json()["detail"]  # echoed as given: never partly redacted


def test_an_upstream_error_that_echoes_the_key_reaches_no_caller(server, tmp_path, cli):
    from .test_cli import llm_env, run

    echo = f"bad key ...{API_KEY[-20:]} (lower: {API_KEY.lower()})"
    with build(server, tmp_path, transport_attempts=1) as client:
        server.push(Fault(401, message=echo))
        response = client.post("/v1/summaries", json={"text": story(1)})
        assert response.status_code == 502
        server.push(Fault(400, message=echo))
        response = client.post("/v1/summaries", json={"text": story(2)})
        assert response.status_code == 502
        for text in (response.text,):
            assert API_KEY[-20:] not in text and API_KEY.lower() not in text and "bad key" not in text
    # The CLI shows the key's owner the server's words, scrubbed; its --debug log too; its errors file too.
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": story(3)}) + "\n")
    server.responder = lambda request: Fault(400, message=echo)
    try:
        done = run(
            cli,
            "--debug",
            "batch",
            str(source),
            "-o",
            str(tmp_path / "out.jsonl"),
            env={**llm_env(server), "SUMMARIZER_TRANSPORT_ATTEMPTS": "1"},
            traceback_ok=True,
        )
        single = run(
            cli,
            "summarize",
            "-",
            env={**llm_env(server), "SUMMARIZER_TRANSPORT_ATTEMPTS": "1"},
            stdin=story(4).encode(),
        )
    finally:
        from summarizer.testing import default_responder

        server.responder = default_responder
    errors_file = (tmp_path / "out.jsonl.errors.jsonl").read_text()
    for text in (done.stderr, errors_file, single.stderr):
        assert API_KEY[-20:] not in text and API_KEY.lower() not in text and API_KEY not in text
        assert API_KEY[-12:].lower() not in text.lower()
    assert "bad key" in single.stderr and "[redacted]" in single.stderr  # the owner sees what the server said


def test_an_empty_or_blank_token_is_a_configuration_error(cli):
    from .test_cli import run

    for token in ("", "   "):
        with pytest.raises(ConfigError, match="token is empty"):
            load_settings(api_token=token)
        done = run(cli, "serve", "--host", "0.0.0.0", "--port", str(free_port()), env={"SUMMARIZER_API_TOKEN": token})
        assert done.returncode == 4 and "token is empty" in done.stderr


def test_control_characters_in_the_path_cannot_forge_access_log_lines(client, caplog):
    caplog.set_level(logging.INFO, logger="summarizer.access")
    client.get("/healthz%0a127.0.0.1%20GET%20/admin%20200%0d")
    lines = [r.getMessage() for r in caplog.records if r.name == "summarizer.access"]
    assert len(lines) == 1 and "\n" not in lines[0] and "\r" not in lines[0]
    assert "\\n127.0.0.1 GET /admin 200\\r" in lines[0]
