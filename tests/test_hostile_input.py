"""Hostile input (issue 21): what a caller or an input file can send must cost memory in proportion to its
size, stay one item's problem, and never reach a terminal or a log as a secret or an escape sequence.

Everything here runs the offline extractive engine (no key set: the default), so no LLM is needed.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from summarizer.archives import iter_items
from summarizer.config import load_settings
from summarizer.errors import ConfigError, InputTooLarge
from summarizer.jsonguard import MAX_DEPTH, JsonTooDeep, check, depth
from summarizer.service.app import create_app
from summarizer.testing import Fault

from .conftest import API_KEY
from .test_batch import read_jsonl, story, write_jsonl

PROBLEM = "application/problem+json"


def offline_service(tmp_path: Path) -> TestClient:
    return TestClient(create_app(load_settings(state_dir=tmp_path / "state")), raise_server_exceptions=False)


def finished(client: TestClient, job_id: str) -> dict[str, Any]:
    """The job once it has ended (polled; no time limit)."""
    while (job := client.get(f"/v1/batches/{job_id}").json())["status"] not in ("done", "failed", "cancelled"):
        time.sleep(0.05)
    return dict(job)


def nested(levels: int, kind: str = "[") -> bytes:
    """A JSON value ``levels`` deep: lists, or objects ``{"a": ...}``."""
    if kind == "[":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


# -- 1. a depth and size budget before anything is built ---------------------------------------------------


def _parsed_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_parsed_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_parsed_depth(v) for v in value), default=0)
    return 0


def test_jsonguard_counts_the_levels_a_parser_sees_and_refuses_past_the_budget():
    pieces = '[]{}"\\ab\n\u00e9'
    rng = random.Random(21)

    def value(level: int) -> Any:
        roll = rng.random()
        if level > 8 or roll < 0.3:
            return rng.choice(["".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))), 1, None, True])
        if roll < 0.65:
            return [value(level + 1) for _ in range(rng.randint(0, 3))]
        return {"".join(rng.choice(pieces) for _ in range(3)): value(level + 1) for _ in range(rng.randint(0, 3))}

    for _ in range(3000):  # brackets, quotes and backslashes inside strings never count
        document = value(0)
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
        assert depth(text) == depth(text.encode()) == _parsed_depth(document), text
    across = json.dumps(['x\\"[' * 40_000, [[{"k": "]" * 70_000}]]])  # strings that span the scan's chunks
    assert depth(across) == 4
    check(nested(MAX_DEPTH))
    with pytest.raises(JsonTooDeep, match=f"the body is nested more than {MAX_DEPTH} levels deep"):
        check(nested(MAX_DEPTH + 1), what="the body")
    with pytest.raises(JsonTooDeep):  # unbalanced: a parser would recurse before it saw the missing ends
        check(b"[" * 10_000)
    with pytest.raises(InputTooLarge):
        check(b"[1, 2, 3]", max_bytes=5)


_PEAK_OF_ONE_POST = """
import sys, tracemalloc
from pathlib import Path
from fastapi.testclient import TestClient
from summarizer.config import load_settings
from summarizer.service.app import create_app

state_dir, body_file = sys.argv[1:3]
body = Path(body_file).read_bytes()
with TestClient(create_app(load_settings(state_dir=state_dir)), raise_server_exceptions=False) as client:
    post = dict(url="/v1/batches", content=body, headers={"content-type": "application/json"})
    client.post(**post)  # the first request imports what answering takes; that is not the body's cost
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    response = client.post(**post)
    print(response.status_code, tracemalloc.get_traced_memory()[1] - before)
"""


def peak_of_one_post(tmp_path: Path, body: bytes) -> int:
    """The most memory that answering a POST /v1/batches of ``body`` added to what the service held, in bytes.

    Measured in a fresh interpreter traced from its start (``-X tracemalloc``): starting and stopping tracemalloc
    in the test process raced with threads that earlier tests left allocating (CPython 3.11 never got the fix
    of gh-128679) and hung a CI run."""
    (tmp_path / "body.json").write_bytes(body)
    run = subprocess.run(
        [
            sys.executable,
            "-X",
            "tracemalloc",
            "-c",
            _PEAK_OF_ONE_POST,
            str(tmp_path / "peak-state"),
            str(tmp_path / "body.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    status, peak = run.stdout.split()
    assert status in ("400", "413"), run.stdout
    return int(peak)


def test_a_nested_batch_body_is_refused_before_parsing_with_memory_bounded_by_its_size(tmp_path):
    """Was: ijson kept every open level's path, so 20 KB of brackets took +240 MB (peak RSS 70 -> 311 MB)
    and got a 422 afterwards; 200 KB reached 22 GB. Now a 400 problem from a scan of the raw bytes."""
    body = b'{"items": ' + nested(10_000) + b"}"
    with offline_service(tmp_path) as client:
        response = client.post("/v1/batches", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == "urn:summarizer:problem:json-too-deep"
        assert problem["detail"] == f"the request body is nested more than {MAX_DEPTH} levels deep"
        assert client.get("/v1/batches/none").status_code == 404  # nothing was stored; the service is fine
    peak = peak_of_one_post(tmp_path, body)
    assert peak < 10 * len(body) + 2_000_000, peak


def test_one_item_full_of_small_nested_values_is_refused_by_its_shape_before_it_is_built(tmp_path):
    """Was: accepted, each item built whole: 24 MB of 60-deep objects in one item took peak RSS 70 -> 1,676 MB.
    Now a 413 from the first (streaming) pass (measured: 194 MB for that body)."""
    body = b'{"items": [{"text": "x", "d": [' + b",".join([nested(20, "{")] * 2_000) + b"]}]}"
    with offline_service(tmp_path) as client:
        response = client.post("/v1/batches", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413, response.text
        assert response.json()["detail"].startswith("items[0] holds more than 1,000 JSON values")
        fine = client.post("/v1/batches", json={"items": [{"id": "a", "text": story(1), "tags": ["x", "y"]}]})
        assert fine.status_code == 202, fine.text
    peak = peak_of_one_post(tmp_path, body)
    assert peak < 10 * len(body) + 2_000_000, peak


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/batches", b'{"items": [{"text": "x", "deep": ' + nested(10_000, "{") + b"}]}"),  # was a 500
        ("/v1/summaries", b'{"text": "x", "deep": ' + nested(10_000, "{") + b"}"),
        ("/v1/summaries", nested(10_000, "{")),  # no content type: FastAPI reads it as JSON too
    ],
)
def test_objects_nested_10000_deep_are_a_400_problem_not_a_500(tmp_path, path, body):
    headers = {} if body.startswith(b'{"a"') else {"content-type": "application/json; charset=utf-8"}
    with offline_service(tmp_path) as client:
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "urn:summarizer:problem:json-too-deep"
        shallow = client.post("/v1/summaries", json={"text": story(1), "extra": nested(MAX_DEPTH - 2).decode()})
        assert shallow.status_code in (200, 422)  # past the guard: answered as before


def test_deep_jsonl_lines_json_records_and_schema_files_are_refused_before_parsing(tmp_path):
    lines = tmp_path / "in.jsonl"
    lines.write_bytes(
        b'{"id": "deep", "text": '
        + nested(5_000)
        + b"}\n"
        + json.dumps({"id": "ok", "text": story(1)}).encode()
        + b"\n"
    )
    first, second = iter_items([str(lines)])
    assert first.error == f"{lines}:1 is nested more than {MAX_DEPTH} levels deep" and second.id == "ok"
    array = tmp_path / "in.json"
    array.write_bytes(
        b'[{"id": "a", "text": "one"}, {"id": "deep", "text": "x", "d": '
        + nested(5_000, "{")
        + b'}, "loose", {"id": "b", "text": "two"}]'
    )
    read = list(iter_items([str(array)]))
    assert [(i.id, i.error) for i in read] == [
        ("a", None),
        (f"{array}:[1]", f"{array}:[1] is nested more than {MAX_DEPTH} levels deep"),
        (f"{array}:[2]", f"{array}:[2] is not a JSON object"),
        ("b", None),
    ]
    schema = tmp_path / "deep.json"
    schema.write_text('{"type": "object", "properties": {"a": ' + nested(5_000, "{").decode() + "}}")
    from summarizer.schemas import resolve

    with pytest.raises(ConfigError, match=f"is nested more than {MAX_DEPTH} levels deep"):
        resolve(str(schema))
    from summarizer.cache.lines import parse_entries

    with pytest.raises(JsonTooDeep, match=f"line 1 is nested more than {MAX_DEPTH} levels deep"):  # cache import
        list(parse_entries(['{"key": "k", "summary": ' + nested(5_000).decode() + ', "meta": {}}']))


# -- 2. one bad line is one item error; the rest of the batch finishes -------------------------------------


def poisoned_jsonl(path: Path) -> Path:
    """10 good lines, 5 bad ones and one 10 KB line nested 5,000 deep (the issue's file)."""
    good = [json.dumps({"id": f"g{n}", "text": story(n)}) for n in range(10)]
    bad = [
        "{not json",
        "[1, 2, 3]",
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "blank", "text": " "}),
        json.dumps({"id": {"an": ["object"]}, "text": 5}),
    ]
    deep = '{"id": "deep", "text": ' + "[" * 5_000 + "]" * 5_000 + "}"
    lines = good[:4] + bad[:3] + [deep] + good[4:] + bad[3:]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_poison_line_is_an_item_error_and_a_rerun_retries_only_the_bad_items(cli, tmp_path):
    """Was: exit 1, no results (the 5,000-deep line raised RecursionError in the reader)."""
    from .test_cli import run

    source = poisoned_jsonl(tmp_path / "in.jsonl")
    out, errors, stats = tmp_path / "out.jsonl", tmp_path / "errors.jsonl", tmp_path / "stats.json"
    done = run(cli, "batch", str(source), "-o", str(out), "--errors", str(errors))
    assert done.returncode == 8, done.stderr  # some items failed: see the errors file
    assert sorted(row["id"] for row in read_jsonl(out)) == sorted(f"g{n}" for n in range(10))
    failed = read_jsonl(errors)
    assert len(failed) == 6
    for row in failed:
        assert row["message"] and "\n" not in row["message"] and len(row["message"]) < 400, row
    assert f"{source}:8 is nested more than {MAX_DEPTH} levels deep" in {row["message"] for row in failed}
    again = run(cli, "batch", str(source), "-o", str(out), "--errors", str(errors), "--stats-json", str(stats))
    assert again.returncode == 8, again.stderr
    counts = json.loads(stats.read_text())
    assert (counts["skipped"], counts["failed"], counts["done"]) == (10, 6, 0)
    assert len(read_jsonl(out)) == 10


def test_a_service_job_with_a_poison_line_finishes_the_rest(tmp_path):
    """Was: the job ended ``failed: internal error`` with 0 of 10 done and an empty errors file."""
    source = poisoned_jsonl(tmp_path / "in.jsonl")
    with offline_service(tmp_path) as client:
        created = client.post("/v1/batches", files={"file": ("in.jsonl", source.read_bytes())})
        assert created.status_code == 202, created.text
        job = finished(client, created.json()["id"])
        assert job["status"] == "done", job
        assert (job["counts"]["done"], job["counts"]["failed"]) == (10, 6)
        results = [json.loads(line) for line in client.get(f"/v1/batches/{job['id']}/results").text.splitlines()]
        errors = [json.loads(line) for line in client.get(f"/v1/batches/{job['id']}/errors").text.splitlines()]
        assert len(results) == 10 and len(errors) == 6
        assert any(f"is nested more than {MAX_DEPTH} levels deep" in row["message"] for row in errors)


def test_a_broken_json_array_is_reported_and_the_other_inputs_are_read(tmp_path):
    array = tmp_path / "broken.json"
    array.write_text('[{"id": "a", "text": "one"}, {"id": "b", "te', encoding="utf-8")
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": "c", "text": story(3)}])
    read = list(iter_items([str(array), str(good)]))
    assert [i.id for i in read] == ["a", "broken.json:<unreadable>", "c"]
    assert read[1].error is not None and "\n" not in read[1].error


# -- 3. a key echoed in any encoding is redacted wherever it is shown ---------------------------------------


def encoded_keys(key: str) -> dict[str, str]:
    """The key as an upstream might echo it (issue 21's list)."""
    import base64

    b64 = base64.b64encode(key.encode()).decode()
    return {
        "base64": b64,
        "base64 of a header": base64.b64encode(f"Authorization: Bearer {key}".encode()).decode(),
        "base64url, shifted": base64.urlsafe_b64encode(b"k=" + key.encode()).decode(),
        "base64 in lines of 7": "\n".join(b64[i : i + 7] for i in range(0, len(b64), 7)),
        "percent-encoded": "".join(f"%{byte:02X}" for byte in key.encode()),
        "hex": key.encode().hex(),
        "HEX": key.encode().hex().upper(),
        "reversed": key[::-1],
        "lines of 7": "\n".join(key[i : i + 7] for i in range(0, len(key), 7)),
        "spaced out": " ".join(key),
        "json-escaped lines": "\\n".join(key[i : i + 7] for i in range(0, len(key), 7)),
        "a 9-character piece": key[12:21],
        "reversed and spaced": " ".join(key[::-1]),
    }


def leaks(text: str, key: str) -> list[str]:
    """Which encodings of ``key`` still show an 8-character piece in ``text`` (whitespace ignored)."""
    flat = "".join(text.split()).replace("\\n", "").casefold()
    found = []
    for name, form in encoded_keys(key).items():
        form = "".join(form.split()).replace("\\n", "").casefold()
        if name == "base64 of a header":  # its first 32 characters encode "Authorization: Bearer " (+2 bytes)
            form = form[32:]
        if any(form[i : i + 8] in flat for i in range(len(form) - 7)):
            found.append(name)
    return found


def test_a_key_echoed_in_any_encoding_is_redacted_and_the_words_around_it_kept():
    from summarizer.secrets import MARK, redact

    key = "sk-test-DO-NOT-LEAK-4242-qwertyZXCV"
    for name, form in encoded_keys(key).items():
        shown = redact(f"upstream said: {form} (request 42)", [key])
        assert not leaks(shown, key), (name, shown)
        assert shown.startswith("upstream said: ") and shown.endswith(" (request 42)") and MARK in shown, shown
    innocent = (
        "Error code: 429 - rate limited; request id req_5f2c9a1b77de, retry in 20 s. The council voted "
        "on Tuesday to expand the tram network by 12 km (aGVsbG8gd29ybGQ=, 68656c6c6f)."
    )
    assert redact(innocent, [key]) == innocent


def test_an_upstream_that_echoes_the_key_encoded_reaches_no_stderr_debug_output_or_exchange_log(cli, server, tmp_path):
    from .test_cli import llm_env, run

    echo = "bad key: " + " | ".join(encoded_keys(API_KEY).values())
    server.responder = lambda request: Fault(400, message=echo)
    try:
        env = {**llm_env(server), "SUMMARIZER_TRANSPORT_ATTEMPTS": "1"}
        plain = run(cli, "summarize", "-", env=env, stdin=story(1).encode())
        debug = run(cli, "--debug", "summarize", "-", "--refresh", env=env, stdin=story(2).encode(), traceback_ok=True)
    finally:
        from summarizer.testing import default_responder

        server.responder = default_responder
    assert plain.returncode != 0 and "bad key" in plain.stderr and "[redacted]" in plain.stderr
    assert "bad key" in debug.stderr
    logged = b"".join(path.read_bytes() for path in tmp_path.glob("logs.sqlite3*")).decode("latin-1")
    assert "[redacted]" in logged
    for shown in (plain.stderr, debug.stderr, logged):
        assert leaks(shown, API_KEY) == []


def test_settings_shows_the_base_url_without_credentials_or_secret_parameters(cli):
    from .test_cli import run

    url = "https://user:pa55w0rd-SECRET@llm.example.com:8443/v1?api_key=sk-query-SECRET-123&api-version=2024-06-01"
    done = run(cli, "settings", env={"OPENAI_BASE_URL": url, "COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    assert "pa55w0rd" not in done.stdout and "sk-query-SECRET" not in done.stdout and "user:" not in done.stdout
    assert "https://llm.example.com:8443/v1?api_key=[redacted]&api-version=2024-06-01" in done.stdout


# -- 4. control characters from articles, ids and answers never reach a terminal raw ------------------------

HOSTILE = "the cost \x1b]0;pwned\x07 estimated at \x1b[2J300 million euros\x9b31m was \u202etoo high\r"
RAW = (b"\x1b", b"\x07", b"\xc2\x9b", "\u202e".encode())  # ESC, BEL, a one-character CSI, a bidi override


def hostile_article(path: Path) -> Path:
    path.write_text(f"{story(1)} Opponents argued that {HOSTILE}. Construction starts next spring.\n", encoding="utf-8")
    return path


def on_a_terminal(cli: list[str], *args: str, env: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Run the CLI with stdout on a pseudo-terminal; what the terminal received."""
    import os
    import pty
    import subprocess

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*cli, *args],
        env={**os.environ, **(env or {}), "COLUMNS": "200", "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    )
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    code = process.wait()
    os.close(controller)
    return code, screen


def test_for_terminal_escapes_every_control_character_and_keeps_lines_when_asked():
    from summarizer.render import for_terminal

    shown = for_terminal(f"{HOSTILE}\nnext\tline")
    assert shown == (
        "the cost \\u001b]0;pwned\\u0007 estimated at \\u001b[2J300 million euros\\u009b31m was "
        "\\u202etoo high\\r\nnext\tline"
    )
    assert for_terminal("id\nsummarizer: done 999 items OK", lines=False) == "id\\nsummarizer: done 999 items OK"
    assert json.loads(for_terminal(json.dumps({"a": HOSTILE}, ensure_ascii=False))) == {"a": HOSTILE}  # JSON stays JSON
    assert for_terminal("Überschrift \u2014 «ok» 東京") == "Überschrift \u2014 «ok» 東京"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_summary_printed_to_a_terminal_has_its_control_characters_escaped_and_a_file_keeps_them(cli, tmp_path, fmt):
    from .test_cli import run

    article = hostile_article(tmp_path / "article.txt")
    code, screen = on_a_terminal(cli, "summarize", str(article), "--format", fmt, "--no-cache")
    assert code == 0 and b"million euros" in screen, screen
    assert not [raw for raw in RAW if raw in screen], screen
    assert b"\\u001b]0;pwned\\u0007" in screen
    piped = run(cli, "summarize", str(article), "--format", fmt, "--no-cache")
    assert piped.returncode == 0 and "\x1b]0;pwned\x07" in piped.stdout  # a pipe or a file gets the bytes
    run(cli, "summarize", str(article), "--format", fmt, "--no-cache", "-o", str(tmp_path / f"out.{fmt}"))
    assert "\x1b]0;pwned\x07" in (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")


def test_logs_show_escapes_the_article_and_answer_on_a_terminal(cli, server, tmp_path):
    from .test_cli import llm_env, run

    env = llm_env(server)
    article = hostile_article(tmp_path / "article.txt")
    assert run(cli, "summarize", str(article), env=env).returncode == 0
    exchange = json.loads(run(cli, "logs", "--json", env=env).stdout)[0]["id"]
    for args in (("logs", "show", exchange), ("logs", "-n", "1")):
        code, screen = on_a_terminal(cli, *args, env=env)
        assert code == 0 and exchange.encode() in screen, screen
        assert not [raw for raw in RAW if raw in screen], screen
    code, screen = on_a_terminal(cli, "logs", "show", exchange, env=env)
    assert b"\\u001b]0;pwned\\u0007" in screen


def test_the_batch_failed_line_cannot_forge_lines_or_steer_the_terminal(cli, tmp_path):
    from .test_cli import run

    forged = "x\x1b]0;pwned\x07\nsummarizer: done 999 items OK"
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": forged, "text": " "}, {"id": "fine", "text": story(1)}])
    done = run(cli, "batch", str(source))  # no output file: results on stdout, failures on stderr
    assert done.returncode == 8, done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("summarizer: done 999")], done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "summarizer: failed x\\u001b]0;pwned\\u0007\\nsummarizer: done 999 items OK: " in done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["fine"]
