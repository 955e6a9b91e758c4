"""What a new user brings from llm and other tools (issue 23, the rest): saved option templates, -q, the whole
meta in text, help that lists what a command takes, settings shown whole."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import EXAMPLE, llm_env, one_error_line, run

NOTICE = "no LLM configured"

# -- -q / --quiet ----------------------------------------------------------------------------------------


def test_quiet_silences_the_offline_notice_before_or_after_the_command(cli):
    loud = run(cli, "summarize", EXAMPLE)
    assert loud.returncode == 0 and NOTICE in loud.stderr
    for args in (("summarize", EXAMPLE, "-q"), ("-q", "summarize", EXAMPLE), ("summarize", "--quiet", EXAMPLE)):
        done = run(cli, *args)
        assert done.returncode == 0 and done.stderr == "" and json.loads(done.stdout)["headline"], args


def test_quiet_never_silences_an_error(cli):
    done = run(cli, "summarize", "missing.txt", "-q")
    assert done.returncode == 3
    assert "missing.txt" in one_error_line(done)


def test_quiet_batch_prints_no_closing_report_but_still_names_failures(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(Path(EXAMPLE).read_text())
    (folder / "b.txt").write_bytes(b"")  # empty: an input error for this item
    out = tmp_path / "out.jsonl"
    done = run(cli, "batch", str(folder), "-o", str(out), "-q")
    assert done.returncode == 8
    assert NOTICE not in done.stderr and "batch finished" not in done.stderr
    assert "failed items are in" in done.stderr  # a failure is not an informational line
    assert len(out.read_text().splitlines()) == 1


def test_quiet_for_the_commands_that_only_say_what_they_did(cli, tmp_path):
    dump = tmp_path / "dump.jsonl"
    assert run(cli, "cache", "export", str(dump)).stderr.startswith("summarizer: exported")
    for args in (("cache", "export", str(dump), "-q"), ("cache", "import", str(dump), "-q"), ("logs", "off", "-q")):
        done = run(cli, *args)
        assert done.returncode == 0 and done.stderr == "", args
    assert run(cli, "-q", "logs", "on").stderr == ""


# -- --meta in text and Markdown -------------------------------------------------------------------------


def test_meta_in_text_shows_the_whole_meta(cli, server):
    done = run(cli, "summarize", EXAMPLE, "--meta", "-f", "text", "--mode", "tools", env=llm_env(server))
    assert done.returncode == 0, done.stderr
    meta = done.stdout.split("-" * 40 + "\n", 1)[1]
    for line in (
        "engine: llm",
        "model: gpt-4o-mini",
        "mode: tools",
        "schema: news",
        "cached: no",
        "attempts: 1; requests: 1",
        "cost: est. $",
        f"source path: {EXAMPLE}",
    ):
        assert line in meta, (line, meta)
    assert "tokens: " in meta and " in / " in meta
    again = run(cli, "summarize", EXAMPLE, "--meta", "-f", "markdown", "--mode", "tools", env=llm_env(server))
    assert "- cached: yes" in again.stdout and "- cost: none now (a cached answer)" in again.stdout


def test_meta_in_text_lists_every_warning_and_an_unpriced_model(cli, server, tmp_path):
    article = tmp_path / "a.txt"
    article.write_bytes(Path(EXAMPLE).read_text().replace("said", "caf\xe9 said").encode("latin-1"))
    done = run(cli, "summarize", str(article), "--meta", "-f", "text", "-m", "my-local-model", env=llm_env(server))
    assert done.returncode == 0, done.stderr
    assert "cost: unknown for my-local-model" in done.stdout
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning: ")]
    assert warnings and all(f"summarizer: {w}" in done.stderr for w in warnings)


def test_meta_offline_engine_in_text(cli):
    done = run(cli, "summarize", EXAMPLE, "--meta", "-f", "text", "-q")
    assert "engine: extractive" in done.stdout and "cost: none (offline extractive engine)" in done.stdout


# -- settings shows values whole -------------------------------------------------------------------------


def test_settings_shows_long_paths_whole_when_piped(cli, tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "cache.sqlite3"
    done = run(cli, "settings", env={"SUMMARIZER_CACHE": str(deep)})
    assert done.returncode == 0
    assert "…" not in done.stdout
    assert any(line.split()[:2] == ["cache_path", str(deep)] for line in done.stdout.splitlines())  # one line
    assert all(line == line.rstrip() for line in done.stdout.splitlines())
