"""The exchange log (``summarizer logs``), ``--mode auto``, ``summarizer models`` and answers bounded by the
schema, at the fake server (the real server's side of these is in test_real_model.py)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from summarizer.exchanges import ExchangeLog
from summarizer.schemas import FIELD_MAX_LENGTH, answer_tokens, clip_to_limits, parse_fields, resolve
from summarizer.testing import Answer, Fault, default_responder, grounded_news

from .conftest import API_KEY
from .test_cli import EXAMPLE, run


def run_cli(*args, env=None):
    return run([sys.executable, "-m", "summarizer"], *args, env=env)


def _log(tmp_path):
    return ExchangeLog(tmp_path / "logs.sqlite3")


def test_every_exchange_is_logged_with_its_validation_errors_and_re_ask(make, server, article, tmp_path):
    server.push(Answer({**grounded_news(article), "quotes": [{"speaker": "x", "text": "words never written"}]}))
    result = make(cache_path=tmp_path / "c.sqlite3").summarize(article)
    rows = list(reversed(_log(tmp_path).recent(10)))
    assert [(row["attempt"], row["status"]) for row in rows] == [(1, "invalid"), (2, "ok")]
    assert len({row["call_id"] for row in rows}) == 1
    first, second = rows
    assert any("words never written" in e["msg"] or "article" in e["msg"] for e in first["errors"])
    assert "words never written" in first["answer"]
    assert first["request"]["messages"][1]["content"] == server.requests[0]["messages"][1]["content"]
    assert len(second["request"]["messages"]) > len(first["request"]["messages"])  # the re-ask is in it
    assert second["prompt_tokens"] > first["prompt_tokens"] > 0 and second["completion_tokens"] > 0
    assert result.meta.usage.prompt_tokens == sum(row["prompt_tokens"] for row in rows)
    assert rows[0]["model"] == "gpt-4o-mini" and rows[0]["mode"] == "tools"
    assert rows[0]["endpoint"] == server.url and rows[0]["engine"] == "llm"


def test_transport_faults_are_logged_and_the_key_never_is(make, server, article, tmp_path):
    server.push(Fault(500, message=f"upstream broke for key {API_KEY}"))
    make(cache_path=tmp_path / "c.sqlite3").summarize(article)
    rows = list(reversed(_log(tmp_path).recent(10)))
    assert [row["status"] for row in rows] == ["error", "ok"]
    assert "500" in rows[0]["error"] or "InternalServerError" in rows[0]["error"]
    dump = b"".join(p.read_bytes() for p in tmp_path.glob("logs.sqlite3*"))
    assert API_KEY.encode() not in dump and API_KEY[-12:].encode() not in dump


def test_no_log_and_logs_off_stop_the_log(make, server, article, tmp_path):
    make(cache_path=tmp_path / "c.sqlite3", log=False).summarize(article)
    assert _log(tmp_path).count() == 0
    (tmp_path / "logs-off").touch()
    make(cache_path=tmp_path / "c.sqlite3").summarize(article, refresh=True)
    assert _log(tmp_path).count() == 0


def test_the_logs_command_lists_shows_and_turns_logging_off_and_on(server, tmp_path):
    article_file = Path(EXAMPLE)
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY, "SUMMARIZER_CACHE": str(tmp_path / "c.db")}
    assert run_cli("summarize", str(article_file), env=env).returncode == 0
    listed = run_cli("logs", "--json", env=env)
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["status"] == "ok"
    assert run_cli("logs", "path", env=env).stdout.strip() == str(tmp_path / "logs.sqlite3")
    shown = run_cli("logs", "show", rows[0]["id"][:15], env=env)
    assert shown.returncode == 0 and "--- answer ---" in shown.stdout and "--- system ---" in shown.stdout
    plain = run_cli("logs", "-n", "1", env=env)
    assert rows[0]["id"] in plain.stdout
    missing = run_cli("logs", "show", "nope", env=env)
    assert missing.returncode == 3 and "no logged exchange" in missing.stderr
    assert run_cli("logs", "off", env=env).returncode == 0
    assert run_cli("summarize", str(article_file), "--refresh", env=env).returncode == 0
    assert len(json.loads(run_cli("logs", "-n", "10", "--json", env=env).stdout)) == 1
    assert run_cli("logs", "on", env=env).returncode == 0
    assert run_cli("summarize", str(article_file), "--refresh", env=env).returncode == 0
    assert len(json.loads(run_cli("logs", "-n", "10", "--json", env=env).stdout)) == 2


def test_a_log_that_cannot_be_written_does_not_fail_the_summary(make, server, article, tmp_path):
    (tmp_path / "logs.sqlite3").write_bytes(b"this is not a database" * 100)
    result = make(cache_path=tmp_path / "c.sqlite3").summarize(article)
    assert result.summary.headline


def test_auto_mode_probes_once_per_endpoint_and_remembers_it(make, server, article, tmp_path):
    def no_json_schema(request):
        if (request.get("response_format") or {}).get("type") == "json_schema":
            return Fault(400, message="'response_format' of type 'json_schema' is not supported")
        return default_responder(request)

    server.responder = no_json_schema
    try:
        first = make(mode="auto", cache_path=tmp_path / "c.sqlite3")
        result = first.summarize(article)
        assert result.meta.mode == "tools"
        kinds = ["tools" if r.get("tools") else (r.get("response_format") or {}).get("type") for r in server.requests]
        assert kinds == ["json_schema", "tools", "tools"]  # two probes, then the summary
        with sqlite3.connect(tmp_path / "c.sqlite3") as db:
            assert db.execute("SELECT endpoint, mode FROM endpoint_modes").fetchall() == [(server.url, "tools")]
        server.reset()
        server.responder = no_json_schema
        make(mode="auto", cache_path=tmp_path / "c.sqlite3").summarize(article, refresh=True)
        assert server.count == 1  # remembered: no probe
    finally:
        server.responder = default_responder


def test_auto_mode_for_openai_is_tools_without_a_probe(tmp_path):
    from summarizer import Summarizer

    summarizer = Summarizer(api_key="sk-x", mode="auto", cache_path=tmp_path / "c.sqlite3")
    assert summarizer.llm.known_mode == "tools"


def test_an_endpoint_that_rejects_every_mode_is_one_clear_error(make, server, article, tmp_path):
    from summarizer import LLMError

    server.responder = lambda request: Fault(400, message="unsupported parameter response_format and tools")
    try:
        with pytest.raises(LLMError, match="rejected every mode") as caught:
            make(mode="auto", cache_path=tmp_path / "c.sqlite3").summarize(article)
        assert caught.value.reason == "unsupported" and server.count == 4
    finally:
        server.responder = default_responder


def test_models_lists_what_the_endpoint_serves(server, tmp_path):
    done = run_cli("models", env={"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY})
    assert done.returncode == 0 and done.stdout.split() == ["fake-model"]
    nothing = run_cli("models", "--engine", "extractive")
    assert nothing.returncode == 0 and "no model" in nothing.stderr


def test_the_local_engine_without_its_extra_says_what_to_install(monkeypatch, tmp_path):
    article_file = Path(EXAMPLE)
    monkeypatch.setitem(__import__("sys").modules, "llama_cpp", None)  # as if not installed
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)
    from summarizer import ConfigError, Summarizer

    with pytest.raises(ConfigError, match=r"needs llama-cpp-python") as caught:
        Summarizer(engine="local", model_path=model, cache_path=tmp_path / "c.sqlite3").summarize(
            article_file.read_text()
        )
    assert "summarizer install-local" in (caught.value.hint or "")
    missing = run_cli("summarize", str(article_file), "--engine", "local", "--model-path", str(tmp_path / "no.gguf"))
    assert missing.returncode == 4 and "model file not found" in missing.stderr


# -- answers bounded by the schema --------------------------------------------------------------------------


def test_every_bundled_schema_bounds_its_strings_and_lists():
    for name in ("news", "brief"):
        schema = resolve(name).json_schema

        def walk(node, where, schema=schema):
            node = schema["$defs"][node["$ref"].split("/")[-1]] if "$ref" in node else node
            kinds = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
            if "string" in kinds and "enum" not in node and "pattern" not in node:
                assert "maxLength" in node, where
            if "array" in kinds:
                assert "maxItems" in node, where
                walk(node["items"], where + "[]")
            for key, child in node.get("properties", {}).items():
                walk(child, f"{where}.{key}")

        walk(schema, name)


def test_the_answer_limit_follows_the_schema_limits():
    small = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 30}}}
    large = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3000}}}
    listed = {
        "type": "object",
        "properties": {"a": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 30}}},
    }
    assert answer_tokens(small) < answer_tokens(large) and answer_tokens(listed) > 5 * answer_tokens(small) - 160
    assert answer_tokens(large) >= 1000  # 3,000 characters are at most ~1,000 tokens: room for all of them
    assert parse_fields("title, quote!")["properties"]["quote"]["maxLength"] == FIELD_MAX_LENGTH


def test_the_answer_limit_is_sent_and_capped_by_the_window(make, server, article):
    make(use_cache=False).summarize(article)
    news = answer_tokens(resolve("news").json_schema)
    assert server.requests[-1]["max_tokens"] == news
    make(use_cache=False, context_windows={"gpt-4o-mini": 8000}).summarize(article)
    assert server.requests[-1]["max_tokens"] == 2000  # a quarter of the window
    make(use_cache=False, max_tokens=123).summarize(article)
    assert server.requests[-1]["max_tokens"] == 123  # the setting wins


def test_clipping_keeps_text_within_the_limits_and_quotes_verbatim():
    schema = {
        "type": "object",
        "properties": {
            "q": {"type": "string", "maxLength": 20},
            "l": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
        },
    }
    clipped = clip_to_limits({"q": "the quick brown fox jumps over", "l": ["a", "b", "c"]}, schema)
    assert clipped == {"q": "the quick brown fox", "l": ["a", "b"]}
    assert "the quick brown fox jumps over".startswith(clipped["q"])


def test_a_local_batch_runs_one_at_a_time_unless_asked(tmp_path):
    from summarizer import Summarizer
    from summarizer.batching import BatchRunner

    assert BatchRunner(Summarizer(engine="local", cache_path=tmp_path / "c")).concurrency == 1
    assert BatchRunner(Summarizer(engine="local", concurrency=3, cache_path=tmp_path / "c")).concurrency == 3
    assert BatchRunner(Summarizer(engine="local", cache_path=tmp_path / "c"), concurrency=2).concurrency == 2
    assert BatchRunner(Summarizer(api_key="k", cache_path=tmp_path / "c")).concurrency == 8


def test_the_service_logs_exchanges_only_when_asked(tmp_path, monkeypatch):
    from summarizer.config import load_settings
    from summarizer.service.app import create_app

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "c.sqlite3"))
    quiet = create_app(load_settings(api_key="k"))
    monkeypatch.setenv("SUMMARIZER_LOG", "true")
    logged = create_app(load_settings(api_key="k"))
    assert [app.state.service.settings.log for app in (quiet, logged)] == [False, True]
