"""The OpenAI Batch API path against the fake's /v1/files and /v1/batches: same lines as the live path,
validated and grounded, failed/invalid/expired items asked again, re-runs resume the same batches."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from summarizer import Summarizer
from summarizer.runners.batch_api import BATCH_DISCOUNT, State, run_files
from summarizer.testing import ungrounded_first

from .conftest import API_KEY

MARK = "Orbital cabbages were mentioned."  # articles with this sentence first get an ungrounded quote


def inputs(tmp_path: Path, articles: list[dict[str, Any]], count: int, marked: set[int]) -> Path:
    source = tmp_path / "dump.jsonl"
    with source.open("w", encoding="utf-8") as fh:
        for number in range(count):
            text = articles[number % len(articles)]["text"] + f" This is item {number}."
            if number in marked:
                text += " " + MARK
            fh.write(json.dumps({"id": f"item-{number}", "text": text}) + "\n")
    return source


invalid_first = ungrounded_first(MARK)  # marked articles: a fabricated quote first, grounded on the re-ask


def ids_of(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def run(server: Any, source: Path, out: Path, **options: Any) -> Any:
    summarizer = Summarizer(base_url=server.url, api_key=API_KEY, cache_path=out.parent / "cache.sqlite3")
    try:
        return run_files(summarizer, [str(source)], output=out, poll_s=0.01, **options)
    finally:
        summarizer.close()


def test_lines_are_what_the_live_path_sends_and_pass_the_openai_types(server, articles, tmp_path):
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
    from pydantic import TypeAdapter

    source = inputs(tmp_path, articles, 6, marked=set())
    run(server, source, tmp_path / "out.jsonl")
    uploaded = [json.loads(line) for line in server.batch_api.uploads[0].splitlines()]
    assert [line["custom_id"] for line in uploaded] == [f"item-{n}" for n in range(6)]
    assert {(line["method"], line["url"]) for line in uploaded} == {("POST", "/v1/chat/completions")}
    checker = TypeAdapter(CompletionCreateParamsNonStreaming)
    for line in uploaded:
        checker.validate_python(line["body"])
    batch = next(iter(server.batch_api.batches.values()))
    assert (batch["endpoint"], batch["completion_window"]) == ("/v1/chat/completions", "24h")

    live = Summarizer(base_url=server.url, api_key=API_KEY, use_cache=False)
    server.reset()
    live.summarize(json.loads(source.read_text().splitlines()[0])["text"])
    assert server.requests[0] == uploaded[0]["body"]  # byte for byte the request the live path makes
    live.close()


def test_invalid_and_failed_answers_are_asked_again_live_and_every_id_lands_once(server, articles, tmp_path):
    server.responder = invalid_first
    server.batch_api.behaviour.failed = {"item-4", "item-9"}
    source = inputs(tmp_path, articles, 24, marked={1, 7, 13})
    out = tmp_path / "out.jsonl"
    stats = run(server, source, out)
    assert sorted(ids_of(out)) == sorted(f"item-{n}" for n in range(24))
    assert not (tmp_path / "out.jsonl.errors.jsonl").read_text()
    # one live re-ask per invalid answer (with the batch answer in its conversation), one ask per failed line
    assert len(server.requests) == 3 + 2
    reasks = [r for r in server.requests if any(m.get("role") == "tool" for m in r["messages"])]
    assert len(reasks) == 3
    assert stats.submitted == 24 and server.batch_api.lines == 24
    for line in out.read_text().splitlines():  # grounded: the fabricated quote never reaches the output
        assert "never written in the article" not in line


def test_a_rerun_polls_the_same_batches_and_never_resubmits(server, articles, tmp_path, monkeypatch):
    source = inputs(tmp_path, articles, 8, marked=set())
    out = tmp_path / "out.jsonl"
    server.batch_api.behaviour.polls = 10**6  # the provider takes its time; the user stops the driver

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("summarizer.runners.batch_api.time.sleep", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run(server, source, out)
    assert len(server.batch_api.batches) == 1 and not ids_of(out)
    assert State.load(Path(f"{out}.batch-api")).batches[0]["status"] == "in_progress"

    server.batch_api.behaviour.polls = 0  # done by the time the command is run again
    again = run(server, source, out)
    assert len(server.batch_api.uploads) == 1 and len(server.batch_api.batches) == 1
    assert server.requests == [] and again.done == 8 and sorted(ids_of(out)) == sorted(f"item-{n}" for n in range(8))
    lines = out.read_text()
    third = run(server, source, out)  # everything written: nothing polled, nothing sent
    assert third.skipped == 8 and out.read_text() == lines and len(server.batch_api.uploads) == 1


def test_a_driver_killed_between_create_and_save_finds_its_batch_again(server, articles, tmp_path, monkeypatch):
    source = inputs(tmp_path, articles, 5, marked=set())
    out = tmp_path / "out.jsonl"

    def killed(self: State) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(State, "save", killed)
        with pytest.raises(KeyboardInterrupt):
            run(server, source, out)
    assert len(server.batch_api.batches) == 1 and not ids_of(out)
    run(server, source, out)
    assert len(server.batch_api.batches) == 1 and len(server.batch_api.uploads) == 1
    assert sorted(ids_of(out)) == sorted(f"item-{n}" for n in range(5)) and server.requests == []


def test_reask_via_batch_api_sends_the_reasks_as_a_follow_up_batch(server, articles, tmp_path):
    server.responder = invalid_first
    source = inputs(tmp_path, articles, 10, marked={2, 5})
    out = tmp_path / "out.jsonl"
    stats = run(server, source, out, reask_via="batch-api")
    assert sorted(ids_of(out)) == sorted(f"item-{n}" for n in range(10))
    assert server.requests == []  # nothing live
    assert [len(upload.splitlines()) for upload in server.batch_api.uploads] == [10, 2]
    follow_up = [json.loads(line)["body"] for line in server.batch_api.uploads[1].splitlines()]
    assert all(any(m.get("role") == "tool" for m in body["messages"]) for body in follow_up)
    assert stats.submitted == 12 and stats.done == 10 and stats.skipped == 0  # later rounds' skips are not counted


@pytest.mark.parametrize(("ends", "answered"), [("expired", 5), ("cancelled", 5), ("failed", 0)])
def test_a_batch_that_ends_early_leaves_the_rest_to_the_live_path(server, articles, tmp_path, ends, answered):
    server.batch_api.behaviour.ends = ends
    source = inputs(tmp_path, articles, 10, marked=set())
    out = tmp_path / "out.jsonl"
    run(server, source, out)
    assert sorted(ids_of(out)) == sorted(f"item-{n}" for n in range(10))
    assert server.batch_api.lines == answered and len(server.requests) == 10 - answered


def test_requests_are_split_to_stay_under_the_per_batch_limits(server, articles, tmp_path):
    source = inputs(tmp_path, articles, 7, marked=set())
    run(server, source, tmp_path / "out.jsonl", max_requests=3)
    assert [len(upload.splitlines()) for upload in server.batch_api.uploads] == [3, 3, 1]
    (tmp_path / "fresh").mkdir()  # another cache: the first run's answers would make every item a hit
    run(server, source, tmp_path / "fresh" / "out.jsonl", max_bytes=1)  # a line over the byte limit goes alone
    # seven one-line files; the one that is byte for byte the first run's last file finds that batch again
    assert [len(upload.splitlines()) for upload in server.batch_api.uploads[3:]] == [1] * 6
    assert len(ids_of(tmp_path / "fresh" / "out.jsonl")) == 7 and server.requests == []


def test_cost_is_at_batch_prices(server, articles, tmp_path):
    source = inputs(tmp_path, articles, 6, marked=set())
    stats = run(server, source, tmp_path / "out.jsonl")
    from summarizer.pricing import cost

    live = cost("gpt-4o-mini", stats.prompt_tokens, stats.completion_tokens, {})
    assert live and stats.cost_usd == pytest.approx(BATCH_DISCOUNT * live)
    assert stats.batch_prompt_tokens == stats.prompt_tokens > 0


def test_the_cli_runs_it_and_says_so(cli, server, articles, tmp_path):
    source = inputs(tmp_path, articles, 4, marked=set())
    env = {**os.environ, "OPENAI_API_KEY": API_KEY}
    command = [
        *cli,
        "batch",
        str(source),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--via",
        "batch-api",
        "--base-url",
        server.url,
        "--poll-interval",
        "0.01",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert len(ids_of(tmp_path / "out.jsonl")) == 4 and "Traceback" not in done.stderr
    assert "batch" in done.stderr and "4 done" in done.stderr
    stdin = subprocess.run([*command[:2], "-", *command[3:]], input="", capture_output=True, text=True, env=env)
    assert stdin.returncode == 3 and "standard input" in stdin.stderr


def test_options_that_do_not_go_together_are_one_line(cli, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "A story. It has two sentences."}) + "\n")
    env = {**os.environ, "OPENAI_API_KEY": API_KEY}
    for extra, says in (
        (["--via", "batch-api", "--runner", "ray"], "leave out --runner ray"),
        (["--reask-via", "batch-api"], "goes with --via batch-api"),
        (["--poll-interval", "5"], "goes with --via batch-api"),
        (["--ray-address", "auto"], "go with --runner ray"),
    ):
        done = subprocess.run(
            [*cli, "batch", str(source), "-o", str(tmp_path / "o.jsonl"), *extra],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr  # a usage error
    to_stdout = subprocess.run(
        [*cli, "batch", str(source), "--via", "batch-api"], capture_output=True, text=True, env=env
    )
    assert to_stdout.returncode == 2 and "needs -o" in to_stdout.stderr
    offline = subprocess.run(
        [*cli, "batch", str(source), "-o", str(tmp_path / "x.jsonl"), "--via", "batch-api", "--engine", "extractive"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        offline.returncode == 4 and "not the extractive engine" in offline.stderr and "--engine llm" in offline.stderr
    )


def test_the_first_polls_come_soon_and_the_wait_grows_to_the_interval(server, articles, tmp_path, monkeypatch):
    import summarizer.runners.batch_api as batch_api

    waits: list[float] = []
    monkeypatch.setattr(batch_api.time, "sleep", waits.append)  # no real waiting; the waits are recorded
    server.batch_api.behaviour.polls = 7
    summarizer = Summarizer(base_url=server.url, api_key=API_KEY, cache_path=tmp_path / "cache.sqlite3")
    try:
        run_files(
            summarizer, [str(inputs(tmp_path, articles, 2, marked=set()))], output=tmp_path / "out.jsonl", poll_s=10.0
        )
    finally:
        summarizer.close()
    assert len(ids_of(tmp_path / "out.jsonl")) == 2
    assert waits[:6] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]  # not 30 s before the first look
