"""What a new user tripped on (issue 23, "Broken"): each fixed, each pinned here."""

from __future__ import annotations

import json
import re
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
    assert "list[str]" in helped.stdout  # rich markup read [str] as a style tag and dropped it


def _bracketed(text: str | None) -> set[str]:
    return {token.strip("'\"`,.;:()") for token in re.findall(r"\S*\w\[[^\]\s]*\]\S*", text or "")}


def test_every_commands_help_keeps_every_bracketed_word():
    """`pip install 'summarizer[local]'`, `list[str]`: whatever a help text says in brackets, --help shows."""
    from typer.main import get_command
    from typer.testing import CliRunner

    def walk(command, path=()):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    checked = 0
    for path, command in walk(get_command(app)):
        wanted = _bracketed(command.help) | {t for p in command.params for t in _bracketed(getattr(p, "help", ""))}
        if not wanted:
            continue
        shown = " ".join(CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output.split())
        assert not [token for token in wanted if token not in shown], path
        checked += 1
    assert checked  # the shared --schema help has list[str]


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
            out.write(
                json.dumps(
                    {
                        "key": f"key-{number:05d}",
                        "created_at": 1.0 + number,
                        "summary": {"headline": "words " * 40},
                        "meta": {"model": "m"},
                    }
                )
                + "\n"
            )
    assert run(cli, "cache", "import", str(dump)).returncode == 0


def test_cache_export_into_head_ends_quietly(cli, tmp_path):
    _fill_cache(cli, tmp_path)  # ~900 kB of export: far more than a pipe holds
    code, errors, shown = _pipe_into_head(cli, ["cache", "export", "-"], ["-c", "200"])
    assert len(shown) == 200
    assert code in (0, 141) and errors == ""  # no "internal error", no "Exception ignored ... BrokenPipeError"


def test_logs_into_head_ends_quietly(cli, isolated_env):
    log = ExchangeLog(isolated_env / "logs.sqlite3")  # beside SUMMARIZER_CACHE, as the CLI finds it
    started = time.time() - 3600
    log.record(
        [
            Exchange(
                call_id=new_id(),
                engine="llm",
                model="m",
                mode="tools",
                endpoint="http://x",
                attempt=1,
                request={"messages": []},
                answer="an answer " * 20,
                started=started + n,
            )
            for n in range(2000)
        ]
    )
    log.close()
    code, errors, shown = _pipe_into_head(cli, ["logs", "-n", "2000"], ["-1"])
    assert shown.count(b"\n") == 1
    assert code in (0, 141) and errors == ""


def test_batch_results_into_head_end_quietly(cli, tmp_path):
    from .test_cli import EXAMPLE

    article = Path(EXAMPLE).read_text(encoding="utf-8")
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        "".join(json.dumps({"id": str(n), "text": f"{article} Item {n}."}) + "\n" for n in range(60)), encoding="utf-8"
    )
    code, errors, shown = _pipe_into_head(cli, ["batch", str(dump), "--no-progress"], ["-c", "100"])
    assert len(shown) == 100
    assert code in (0, 141) and "error" not in errors and "Broken pipe" not in errors, errors


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
    old = [
        Exchange(
            call_id="c",
            engine="llm",
            model="m",
            mode="tools",
            endpoint="e",
            attempt=1,
            request={},
            id=f"019a2472cdd{n}-5e1f00a{n}",
            answer=f"old answer {n}",
        )
        for n in range(3)
    ]
    new = [
        Exchange(
            call_id="c",
            engine="llm",
            model="m",
            mode="tools",
            endpoint="e",
            attempt=1,
            request={},
            answer=f"new answer {n}",
        )
        for n in range(3)
    ]
    log.record([*old, *new])
    log.close()
    for exchange in new:
        shown = run(cli, "logs", "show", exchange.id[:8])
        assert shown.returncode == 0 and exchange.answer in shown.stdout, shown.stderr
    shown = run(cli, "logs", "show", "5e1f00a1")  # an id from before: its random part is at the end
    assert shown.returncode == 0 and "old answer 1" in shown.stdout
    assert run(cli, "logs", "show", "019a2472").returncode == 3  # three old ids start so: ambiguous


# -- the service speaks HTTP, not command-line flags ---------------------------------------------------


def _finished(client, job_id: str) -> dict:
    while True:
        job = client.get(f"/v1/batches/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.05)


def _lines(client, job_id: str, name: str) -> list[dict]:
    return [json.loads(line) for line in client.get(f"/v1/batches/{job_id}/{name}").text.splitlines()]


def test_an_offline_miss_is_a_documented_status_worded_for_http_callers(server, tmp_path):
    from .test_batch import story
    from .test_service import assert_problem, build

    with build(server, tmp_path) as client:
        missed = assert_problem(client.post("/v1/summaries", json={"text": story(1), "offline": True}), 404)
        assert missed["type"].endswith(":not-cached")
        assert '"offline": true' in missed["detail"] and "--offline" not in missed["detail"]
        documented = client.get("/openapi.json").json()["paths"]["/v1/summaries"]["post"]["responses"]
        assert "404" in documented and "offline" in documented["404"]["description"]
        job = client.post("/v1/batches", json={"items": [story(2)], "offline": True}).json()
        assert _finished(client, job["id"])["counts"]["failed"] == 1
        [error] = _lines(client, job["id"], "errors")
        assert error["error"] == "cache-miss" and "--offline" not in error["message"]
    assert server.count == 0


def test_a_jsonl_upload_names_its_text_and_id_fields(server, tmp_path):
    from .test_batch import story
    from .test_service import assert_problem, build

    lines = "".join(json.dumps({"key": f"k{n}", "body": story(n)}) + "\n" for n in range(3)).encode()
    upload = {"file": ("dump.jsonl", lines, "application/x-ndjson")}
    with build(server, tmp_path) as client:
        unnamed = client.post("/v1/batches", files=upload).json()
        assert _finished(client, unnamed["id"])["counts"]["failed"] == 3
        message = _lines(client, unnamed["id"], "errors")[0]["message"]
        assert "'text'" in message and "text_field" in message and "--text-field" not in message

        by_form = client.post("/v1/batches", files=upload, data={"text_field": "body", "id_field": "key"})
        assert by_form.status_code == 202, by_form.text
        assert by_form.json()["options"] == {"text_field": "body", "id_field": "key"}
        by_query = client.post("/v1/batches?text_field=body&id_field=key", files=upload, data={"style": "brief"})
        assert by_query.status_code == 202, by_query.text
        for job in (by_form.json(), by_query.json()):
            assert _finished(client, job["id"])["counts"]["done"] == 3
            assert sorted(r["id"] for r in _lines(client, job["id"], "results")) == ["k0", "k1", "k2"]

        assert_problem(client.post("/v1/batches?text_field=body", files=upload, data={"text_field": "text"}), 422)
        assert_problem(client.post("/v1/batches?text_field=body", json={"items": [story(1)]}), 422)
        assert "text_field" in json.dumps(client.get("/openapi.json").json()["paths"]["/v1/batches"]["post"])


# -- a crashed test run leaves no server behind --------------------------------------------------------

_CRASHED_RUN = """
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the helper, orphaned, becomes this process's child
run = subprocess.Popen([sys.executable, "-c", "import sys\\n"
                        "from tests.conftest import start_helper\\n"
                        "print(start_helper(['sleep', '30']).pid, flush=True)\\n"
                        "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
helper = int(run.stdout.readline())
os.kill(run.pid, signal.SIGKILL)  # the test run crashes: no fixture teardown, no atexit
run.wait()
_, status = os.waitpid(helper, 0)  # killed with it, or (without the fix) only when its sleep ends
print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exited")
"""


def test_a_helper_server_dies_with_a_crashed_test_run():
    import sys

    from .conftest import ROOT

    done = subprocess.run([sys.executable, "-c", _CRASHED_RUN], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "9"  # SIGKILL, the moment the test process died


# -- friction: piped stdin, the format from -o's extension, the text headline as written ----------------


def test_a_piped_article_needs_no_dash(cli):
    from .test_cli import EXAMPLE

    piped = run(cli, "summarize", stdin=Path(EXAMPLE).read_bytes())
    assert piped.returncode == 0 and json.loads(piped.stdout)["headline"], piped.stderr


def test_without_a_source_at_a_terminal_the_argument_is_missing(cli):
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run([*cli, "summarize"], stdin=follower, capture_output=True, text=True)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2 and "Missing argument 'SOURCE'" in done.stderr, done.stderr


def test_the_output_files_extension_picks_the_format(cli, tmp_path):
    from .test_cli import EXAMPLE

    for name, given, looks in (
        ("out.md", [], "# "),
        ("out.txt", [], None),
        ("out.json", [], "{"),
        ("other.txt", ["--format", "json"], "{"),
    ):
        target = tmp_path / name
        assert run(cli, "summarize", EXAMPLE, "-o", str(target), *given).returncode == 0
        written = target.read_text(encoding="utf-8")
        if looks is None:  # text: the headline as written, then a rule under it
            headline, rule = written.split("\n")[:2]
            assert rule == "=" * len(headline) and not headline.isupper()
        else:
            assert written.startswith(looks), (name, written[:80])


def test_text_format_keeps_the_headlines_case(cli):
    from .test_cli import EXAMPLE

    summary = json.loads(run(cli, "summarize", EXAMPLE).stdout)
    text = run(cli, "summarize", EXAMPLE, "--format", "text").stdout
    assert text.split("\n")[0] == summary["headline"] and not summary["headline"].isupper()
