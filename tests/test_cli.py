"""The installed console script, run as a user runs it: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from summarizer.testing import Answer, Fault, grounded_news

from .conftest import API_KEY, ROOT

EXAMPLE = str(ROOT / "examples" / "article.txt")


def run(
    cli: list[str],
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    traceback_ok: bool = False,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [*cli, *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
    assert traceback_ok or "Traceback" not in done.stderr, done.stderr
    return done


def llm_env(server: Any) -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("summarizer: error:")
    return lines[0]


def test_example_article_offline_prints_grounded_news_json(cli):
    done = run(cli, "summarize", EXAMPLE)
    assert done.returncode == 0
    summary = json.loads(done.stdout)
    assert set(summary) >= {"headline", "summary", "key_points", "entities", "quotes", "language"}
    text = Path(EXAMPLE).read_text()
    assert all(kp["evidence"] in text for kp in summary["key_points"])
    assert "offline extractive engine" in done.stderr


def test_meta_output_file_and_formats(cli, tmp_path):
    out = tmp_path / "out.json"
    assert run(cli, "summarize", EXAMPLE, "--meta", "-o", str(out)).returncode == 0
    data = json.loads(out.read_text())
    assert data["meta"]["engine"] == "extractive" and data["meta"]["source"]["path"] == EXAMPLE
    markdown = run(cli, "summarize", EXAMPLE, "--format", "markdown").stdout
    assert markdown.startswith("# ") and "## Key points" in markdown
    headline, rule = run(cli, "summarize", EXAMPLE, "--format", "text").stdout.split("\n")[:2]
    assert headline == data["summary"]["headline"] and rule == "=" * len(headline)  # as written, underlined


def test_stdin_html_through_the_llm(cli, server):
    page = (ROOT / "tests" / "fixtures" / "html" / "zyte_latimes.com_098bb3e96c.html").read_bytes()
    done = run(cli, "summarize", "-", "--meta", env=llm_env(server), stdin=page)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["meta"]["engine"] == "llm" and data["meta"]["source"]["author"] == "Meg James"
    assert "Meg James" in server.requests[0]["messages"][1]["content"]  # metadata reaches the prompt
    assert done.stderr == ""


def test_cache_hit_then_offline_replay_from_export(cli, server, tmp_path):
    env = llm_env(server)
    assert run(cli, "summarize", EXAMPLE, env=env).returncode == 0
    cached = run(cli, "summarize", EXAMPLE, "--meta", env=env)
    assert json.loads(cached.stdout)["meta"]["cached"] is True and len(server.requests) == 1

    export = tmp_path / "fixtures.jsonl"
    assert run(cli, "cache", "export", str(export)).returncode == 0
    other = {**env, "SUMMARIZER_CACHE": str(tmp_path / "other.sqlite3")}
    miss = run(cli, "summarize", EXAMPLE, "--offline", env=other)
    assert miss.returncode == 7 and "--offline" in one_error_line(miss)
    assert run(cli, "cache", "import", str(export), env=other).returncode == 0
    replay = run(cli, "summarize", EXAMPLE, "--offline", env=other)
    assert replay.returncode == 0 and len(server.requests) == 1

    stats = run(cli, "cache", "stats", "--json", env=other)
    assert json.loads(stats.stdout)["entries"] == 1
    assert run(cli, "cache", "clear", "--yes", env=other).returncode == 0
    assert json.loads(run(cli, "cache", "stats", "--json", env=other).stdout)["entries"] == 0
    assert run(cli, "cache", "path", env=other).stdout.strip() == str(tmp_path / "other.sqlite3")


@pytest.mark.parametrize(
    "setup,args,code",
    [
        ("none", ["summarize", "missing.txt"], 3),
        ("empty", ["summarize", "{tmp}/empty.txt"], 3),
        ("binary", ["summarize", "{tmp}/binary.txt"], 3),
        ("none", ["summarize", EXAMPLE, "--engine", "llm"], 4),
        ("none", ["summarize", EXAMPLE, "--schema", "nope"], 4),
        ("badconfig", ["summarize", EXAMPLE, "--config", "{tmp}/bad.toml"], 4),
        ("none", ["summarize", EXAMPLE, "--format", "xml"], 2),
        ("none", ["summarize", EXAMPLE, "--no-such-flag"], 2),
        ("none", ["summarize", EXAMPLE, "--max-retries", "-1"], 2),
    ],
)
def test_user_errors_are_one_line_with_documented_codes(cli, tmp_path, setup, args, code):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01binary" * 50)
    (tmp_path / "bad.toml").write_text("model = [unclosed")
    done = run(cli, *[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == code
    one_error_line(done)


def test_unreachable_server_exits_5(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run(
        cli,
        "summarize",
        EXAMPLE,
        "--no-cache",
        env={"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "SUMMARIZER_TRANSPORT_ATTEMPTS": "2"},
    )
    assert done.returncode == 5 and "cannot reach" in one_error_line(done)


def test_validation_exhausted_exits_6(cli, server):
    text = Path(EXAMPLE).read_text()
    bad = grounded_news(text)
    bad["quotes"] = [{"speaker": "Sterling", "text": "a sentence that is not in the article"}]
    server.push(*[Answer(bad)] * 3)
    done = run(cli, "summarize", EXAMPLE, "--no-cache", env=llm_env(server))
    assert done.returncode == 6 and "not found verbatim" in one_error_line(done)
    assert len(server.requests) == 3


def test_the_api_key_never_leaks(cli, server, tmp_path):
    env = {**llm_env(server), "SUMMARIZER_CACHE": str(tmp_path / "leak.sqlite3")}
    out = tmp_path / "out.json"
    ok = run(cli, "--debug", "summarize", EXAMPLE, "--meta", "-o", str(out), env=env)
    assert ok.returncode == 0
    server.push(Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
    refused = run(cli, "--debug", "summarize", EXAMPLE, "--refresh", env=env, traceback_ok=True)
    assert "Traceback" in refused.stderr  # --debug really shows the details, scrubbed
    assert refused.returncode == 5
    exported = run(cli, "cache", "export", "-", env=env).stdout
    assert server.headers[0]["authorization"] == f"Bearer {API_KEY}"  # it was really used
    for place in (
        ok.stdout,
        ok.stderr,
        out.read_text(),
        refused.stdout,
        refused.stderr,
        exported,
        (tmp_path / "leak.sqlite3").read_bytes().decode("latin-1"),
    ):
        assert API_KEY not in place and API_KEY[:16] not in place


def test_schemas_and_version(cli):
    listed = run(cli, "schemas", "list").stdout
    assert "news" in listed and "brief" in listed
    shown = json.loads(run(cli, "schemas", "show", "news").stdout)
    assert shown["$defs"]["Quote"]["properties"]["text"]["x-grounded"] is True
    assert run(cli, "--version").stdout.startswith("summarizer ")
    helped = run(cli, "summarize", "--help").stdout
    assert "--offline" in helped and "--mode" in helped


def test_a_key_from_the_config_file_is_scrubbed_too(cli, server, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'api_key = "{API_KEY}"\nbase_url = "{server.url}"\n')
    server.push(Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
    done = run(cli, "summarize", EXAMPLE, "--config", str(config), "--no-cache")
    assert done.returncode == 5 and server.headers[0]["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in done.stderr and API_KEY[:16] not in done.stderr
