"""What a new user brings from llm and other tools (issue 23, the rest): saved option templates, -q, the whole
meta in text, help that lists what a command takes, settings shown whole."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from .conftest import API_KEY
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
    assert "engine: extractive" in done.stdout and "cost: none (extractive engine)" in done.stdout


# -- settings shows values whole -------------------------------------------------------------------------


def test_settings_shows_long_paths_whole_when_piped(cli, tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "cache.sqlite3"
    done = run(cli, "settings", env={"SUMMARIZER_CACHE": str(deep)})
    assert done.returncode == 0
    assert "…" not in done.stdout
    assert any(line.split()[:2] == ["cache_path", str(deep)] for line in done.stdout.splitlines())  # one line
    assert all(line == line.rstrip() for line in done.stdout.splitlines())


# -- templates: --save NAME, -t NAME, summarizer templates ------------------------------------------------


def _template_dir(tmp_path: Path) -> Path:
    return tmp_path / "config" / "summarizer" / "templates"  # XDG_CONFIG_HOME is tmp_path/config (conftest)


def test_save_alone_stores_the_options_privately_and_t_applies_them(cli, tmp_path):
    saved = run(
        cli, "summarize", "--schema", "brief", "--style", "brief", "--instructions", "focus on money", "--save", "short"
    )
    assert saved.returncode == 0 and saved.stdout == ""  # --save without an article only saves, as llm --save does
    assert "saved template 'short'" in saved.stderr
    path = _template_dir(tmp_path) / "short.json"
    assert json.loads(path.read_text()) == {"schema": "brief", "style": "brief", "instructions": "focus on money"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    applied = run(cli, "summarize", EXAMPLE, "-t", "short")
    assert applied.returncode == 0
    assert set(json.loads(applied.stdout)) == {"headline", "bullets"}  # the brief schema
    assert "'brief' needs an LLM" in applied.stderr and "--instructions needs an LLM" in applied.stderr


def test_options_on_the_command_line_win_over_the_template(cli, server, tmp_path):
    run(cli, "summarize", "--schema", "brief", "--style", "brief", "-m", "saved-model", "--save", "short")
    done = run(cli, "summarize", EXAMPLE, "-t", "short", "--style", "standard", "--meta", env=llm_env(server))
    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)["meta"]
    assert meta["schema"] == "brief" and meta["style"] == "standard" and meta["model"] == "saved-model"
    assert server.requests[-1]["model"] == "saved-model"
    other = run(cli, "summarize", EXAMPLE, "-t", "short", "-m", "given-model", "--meta", env=llm_env(server))
    assert json.loads(other.stdout)["meta"]["model"] == "given-model"


def test_save_with_an_article_saves_and_summarizes_and_batch_takes_t(cli, tmp_path):
    done = run(cli, "summarize", EXAMPLE, "--schema", "brief", "--save", "b", "-q")
    assert done.returncode == 0 and set(json.loads(done.stdout)) == {"headline", "bullets"}
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(Path(EXAMPLE).read_text())
    out = tmp_path / "out.jsonl"
    assert run(cli, "batch", str(folder), "-o", str(out), "-t", "b", "-q").returncode == 0
    assert set(json.loads(out.read_text())["summary"]) == {"headline", "bullets"}
    merged = run(
        cli, "batch", str(folder), "-o", str(tmp_path / "o2.jsonl"), "-t", "b", "--language", "de", "--save", "bd"
    )
    assert merged.returncode == 0
    assert json.loads((_template_dir(tmp_path) / "bd.json").read_text()) == {"schema": "brief", "language": "de"}


def test_a_missing_template_is_one_line_and_exit_4(cli):
    done = run(cli, "summarize", EXAMPLE, "-t", "nope")
    assert done.returncode == 4 and done.stdout == ""
    assert "no template named 'nope'" in one_error_line(done) and "templates list" in done.stderr
    assert run(cli, "templates", "show", "nope").returncode == 4
    assert run(cli, "templates", "remove", "nope").returncode == 4
    assert run(cli, "batch", EXAMPLE, "-t", "./nowhere.json").returncode == 4


def test_a_template_never_stores_secrets_cache_or_run_flags(cli, tmp_path):
    env = {"OPENAI_API_KEY": API_KEY}
    leak = run(cli, "summarize", "--instructions", f"use {API_KEY}", "--save", "x", env=env)
    assert leak.returncode == 4 and API_KEY not in leak.stderr and "never stores" in one_error_line(leak)
    for url in ("http://user:pw@localhost:9/v1", "http://localhost:9/v1?api_key=abc"):
        done = run(cli, "summarize", "--base-url", url, "--save", "x")
        assert done.returncode == 4 and "credential" in one_error_line(done)
    assert not (_template_dir(tmp_path) / "x.json").exists()
    kept = run(
        cli, "summarize", "--style", "brief", "--cache", str(tmp_path / "c.db"), "--no-log", "--refresh", "--save", "y"
    )
    assert kept.returncode == 0
    assert json.loads((_template_dir(tmp_path) / "y.json").read_text()) == {"style": "brief"}
    nothing = run(cli, "summarize", "--no-cache", "--save", "z")
    assert nothing.returncode == 2 and "nothing to save" in one_error_line(nothing)


def test_invalid_options_or_names_save_nothing(cli, tmp_path):
    for args, code in (
        (("--language", "english"), 4),
        (("--schema", "no-such-schema"), 4),
        (("--temperature", "9"), 2),
    ):
        done = run(cli, "summarize", *args, "--save", "bad")
        assert done.returncode == code, (args, done.stderr)
        one_error_line(done)
    assert run(cli, "summarize", "--style", "brief", "--save", "../evil").returncode == 3
    assert run(cli, "summarize", "--style", "brief", "--save", "").returncode == 3
    assert run(cli, "summarize", EXAMPLE, "-t", "").returncode == 3
    assert not _template_dir(tmp_path).exists() or not list(_template_dir(tmp_path).iterdir())


def test_templates_list_show_path_edit_remove(cli, tmp_path):
    empty = run(cli, "templates")
    assert empty.returncode == 0 and empty.stdout == "" and "no templates saved yet" in empty.stderr
    run(cli, "summarize", "--schema", "brief", "--instructions", "who paid?", "--no-hybrid", "--save", "short")
    run(cli, "summarize", "-m", "llama3.2", "--base-url", "http://localhost:11434/v1", "--save", "ollama")
    listed = run(cli, "templates", "list")
    assert listed.stdout.splitlines() == [
        "ollama: --model llama3.2 --base-url http://localhost:11434/v1",
        "short: --schema brief --instructions 'who paid?' --no-hybrid",
    ]
    assert run(cli, "templates").stdout == listed.stdout
    assert json.loads(run(cli, "templates", "show", "short").stdout)["hybrid"] is False
    assert run(cli, "templates", "path").stdout.strip() == str(_template_dir(tmp_path))
    edited = run(cli, "templates", "edit", "short", env={"EDITOR": "sed -i s/brief/news/"})
    assert edited.returncode == 0 and json.loads(run(cli, "templates", "show", "short").stdout)["schema"] == "news"
    bad = run(cli, "templates", "edit", "short", env={"EDITOR": "sed -i s/schema/shema/"})
    assert bad.returncode == 4 and "not saved" in one_error_line(bad)
    assert json.loads(run(cli, "templates", "show", "short").stdout)["schema"] == "news"
    removed = run(cli, "templates", "remove", "short")
    assert removed.returncode == 0 and run(cli, "templates").stdout.startswith("ollama:")
    assert len(run(cli, "templates").stdout.splitlines()) == 1


def test_a_template_file_by_path_and_a_broken_one(cli, tmp_path):
    file = tmp_path / "mine.json"
    file.write_text('{"schema": "brief"}')
    done = run(cli, "summarize", EXAMPLE, "-t", str(file), "-q")
    assert done.returncode == 0 and set(json.loads(done.stdout)) == {"headline", "bullets"}
    file.write_text('{"style": "loud"}')
    bad = run(cli, "summarize", EXAMPLE, "-t", str(file))
    assert bad.returncode == 4 and "--style 'loud'" in one_error_line(bad)
    file.write_text("[1, 2]")
    assert run(cli, "summarize", EXAMPLE, "-t", str(file)).returncode == 4


# -- help: what a command takes, grouped, no placeholders for flags -------------------------------------------


def _help(*path: str) -> str:
    from typer.testing import CliRunner

    from summarizer.cli import app

    done = CliRunner().invoke(app, [*path, "--help"], terminal_width=80)
    assert done.exit_code == 0
    return done.output


def test_models_help_lists_only_the_options_models_uses():
    shown = _help("models")
    for flag in ("--engine", "--base-url", "--timeout", "--model-path", "--config", "--quiet"):
        assert flag in shown
    for flag in ("--schema", "--style", "--instructions", "--offline", "--max-chars", "--template", "--language"):
        assert flag not in shown, flag


def test_batch_help_groups_its_options_in_sections():
    shown = _help("batch")
    headings = [line for line in shown.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    assert headings == [
        "Arguments:",
        "Options:",
        "Summary:",
        "Model:",
        "Pace:",
        "Where it runs:",
        "Cache, logs and limits:",
    ]
    assert len(shown.splitlines()) < 150
    sections = shown.split("\nPace:\n")[1].split("\nWhere it runs:\n")
    options = shown.split("\nOptions:\n")[1].split("\nSummary:\n")[0]
    assert "--rpm" in sections[0] and "--via" in sections[1] and "--rpm" not in options and "--output" in options
    summarize = _help("summarize")
    assert "Summary:" in summarize and "--template" in summarize.split("Summary:")[1].split("Model:")[0]


def test_no_help_shows_a_placeholder_for_a_flag():
    """--meta, --no-cache, --hybrid/--no-hybrid take no value: their help shows none (no <bool>, no BOOLEAN)."""
    from typer.main import get_command

    from summarizer.cli import app

    def walk(command, path=()):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    flags = 0
    for path, command in walk(get_command(app)):
        shown = _help(*path)
        assert "<bool>" not in shown and "BOOLEAN" not in shown, path
        for param in command.params:
            if getattr(param, "is_flag", False):
                line = next(line for line in shown.splitlines() if param.opts[-1] in line)
                assert "<" not in line.split(param.opts[-1])[1].split("  ")[0], (path, line)
                flags += 1
    assert flags > 20


def test_files_named_in_a_template_are_kept_as_absolute_paths(cli, server, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.json").write_text(
        json.dumps({"type": "object", "properties": {"headline": {"type": "string"}}, "required": ["headline"]})
    )
    (work / "focus.txt").write_text("focus on the money\n")
    saved = run(cli, "summarize", "--schema", "mine.json", "--instructions", "@focus.txt", "--save", "f", cwd=work)
    assert saved.returncode == 0, saved.stderr
    stored = json.loads((_template_dir(tmp_path) / "f.json").read_text())
    assert stored == {"schema": str(work / "mine.json"), "instructions": "focus on the money"}
    done = run(cli, "summarize", EXAMPLE, "-t", "f", "--meta", cwd=tmp_path, env=llm_env(server))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["meta"]["schema"] == "mine"
    assert "focus on the money" in server.requests[-1]["messages"][-1]["content"]
