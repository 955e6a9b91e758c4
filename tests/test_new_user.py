"""What a new user tripped on (issue 23, "Broken"): each fixed, each pinned here."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from summarizer.cli import app
from summarizer.exchanges import Exchange, ExchangeLog, new_id

from .test_cli import run


def _typers(group=app):
    yield group
    for sub in group.registered_groups:
        yield from _typers(sub.typer_instance)


# -- --help keeps square brackets --------------------------------------------------------------------

def test_help_shows_square_brackets_as_written(cli):
    helped = run(cli, "summarize", "--help")
    assert helped.returncode == 0
    assert "summarizer[local]" in helped.stdout  # rich markup read [local] as a style tag and dropped it
    assert "list[str]" in helped.stdout


def test_every_typer_renders_help_without_rich_markup():
    """A sub-app added later must not bring markup back for its commands."""
    assert all(typer_app.rich_markup_mode is None for typer_app in _typers())


# -- a closed pipe is a normal end ---------------------------------------------------------------------

def _pipe_into_head(cli: list[str], args: list[str], head: list[str]) -> tuple[int, str, bytes]:
    """``summarizer ARGS | head HEAD``: a real pipeline; the exit code and stderr of summarizer, head's output."""
    producer = subprocess.Popen([*cli, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    consumer = subprocess.Popen(["head", *head], stdin=producer.stdout, stdout=subprocess.PIPE)
    producer.stdout.close()  # only head holds the read end now: when it exits, the pipe is closed
    shown, _ = consumer.communicate()
    errors = producer.stderr.read().decode()
    producer.stderr.close()
    return producer.wait(), errors, shown


def _fill_cache(cli: list[str], tmp_path: Path, entries: int = 3000) -> None:
    dump = tmp_path / "entries.jsonl"
    with dump.open("w", encoding="utf-8") as out:
        for number in range(entries):
            out.write(json.dumps({"key": f"key-{number:05d}", "created_at": 1.0 + number,
                                  "summary": {"headline": "words " * 40}, "meta": {"model": "m"}}) + "\n")
    assert run(cli, "cache", "import", str(dump)).returncode == 0


def test_cache_export_into_head_ends_quietly(cli, tmp_path):
    _fill_cache(cli, tmp_path)  # ~900 kB of export: far more than a pipe holds
    code, errors, shown = _pipe_into_head(cli, ["cache", "export", "-"], ["-c", "200"])
    assert len(shown) == 200
    assert code in (0, 141) and errors == ""  # no "internal error", no "Exception ignored ... BrokenPipeError"


def test_logs_into_head_ends_quietly(cli, isolated_env):
    log = ExchangeLog(isolated_env / "logs.sqlite3")  # beside SUMMARIZER_CACHE, as the CLI finds it
    started = time.time() - 3600
    log.record([Exchange(call_id=new_id(), engine="llm", model="m", mode="tools", endpoint="http://x",
                         attempt=1, request={"messages": []}, answer="an answer " * 20, started=started + n)
                for n in range(2000)])
    log.close()
    code, errors, shown = _pipe_into_head(cli, ["logs", "-n", "2000"], ["-1"])
    assert shown.count(b"\n") == 1
    assert code in (0, 141) and errors == ""


# -- logs list --status ------------------------------------------------------------------------------

def test_an_unknown_log_status_is_a_usage_error_naming_the_valid_ones(cli):
    done = run(cli, "logs", "list", "--status", "bogus")
    assert done.returncode == 2
    assert all(status in done.stderr for status in ("ok", "invalid", "truncated", "error"))
    assert "no exchanges logged yet" not in done.stderr


# -- exchange ids differ early ------------------------------------------------------------------------

def test_exchange_ids_made_together_differ_in_their_first_characters():
    ids = [new_id() for _ in range(200)]
    assert len({exchange_id[:6] for exchange_id in ids}) == len(ids)


def test_logs_show_finds_an_exchange_by_eight_characters_and_old_ids_by_their_end(cli, isolated_env):
    log = ExchangeLog(isolated_env / "logs.sqlite3")
    old = [Exchange(call_id="c", engine="llm", model="m", mode="tools", endpoint="e", attempt=1, request={},
                    id=f"019a2472cdd{n}-5e1f00a{n}", answer=f"old answer {n}") for n in range(3)]
    new = [Exchange(call_id="c", engine="llm", model="m", mode="tools", endpoint="e", attempt=1, request={},
                    answer=f"new answer {n}") for n in range(3)]
    log.record([*old, *new])
    log.close()
    for exchange in new:
        shown = run(cli, "logs", "show", exchange.id[:8])
        assert shown.returncode == 0 and exchange.answer in shown.stdout, shown.stderr
    shown = run(cli, "logs", "show", "5e1f00a1")  # an id from before: its random part is at the end
    assert shown.returncode == 0 and "old answer 1" in shown.stdout
    assert run(cli, "logs", "show", "019a2472").returncode == 3  # three old ids start so: ambiguous
