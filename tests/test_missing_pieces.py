"""Issue 23's "Missing" list: URL lists in batch, keys, completion, --instructions, cache clear's question,
the jobs list, batch Markdown/text output.

Pages are served by a small web server on 127.0.0.1 (the command line fetches any address; the service's
SSRF policy refuses loopback unless a test allows it); the LLM, where one is needed, is the fake server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from summarizer import Summarizer
from summarizer.archives import kind_of
from summarizer.runners.local import run_files

from .test_batch import html_page, read_jsonl, story, write_jsonl


def run(
    cli: list[str], *args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*cli, *args], input=stdin, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


class Site:
    """Article pages on 127.0.0.1: /a/N is story N as HTML, /missing is a 404, /slow/N answers after a pause.
    Records every request's path, start time and how many were in flight at once."""

    def __init__(self, pause: float = 0.0) -> None:
        site = self
        self.pause = pause
        self.hits: list[str] = []
        self.starts: list[float] = []
        self.inflight = 0
        self.most_inflight = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    site.hits.append(self.path)
                    site.starts.append(time.monotonic())
                    site.inflight += 1
                    site.most_inflight = max(site.most_inflight, site.inflight)
                try:
                    if site.pause:
                        time.sleep(site.pause)
                    if self.path.startswith("/a/"):
                        body = html_page(int(self.path.rsplit("/", 1)[1])).encode()
                        self.send_response(200)
                        self.send_header("content-type", "text/html; charset=utf-8")
                    else:
                        body = b"not here"
                        self.send_response(404)
                        self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with site.lock:
                        site.inflight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    pages = Site()
    yield pages
    pages.close()


def offline_batch(inputs: list[str], output: Path, **settings: Any) -> Any:
    summarizer = Summarizer(engine="extractive", **settings)

    async def go() -> Any:
        try:
            return await run_files(summarizer, inputs, output=output)
        finally:
            await summarizer.aclose()

    return asyncio.run(go())


# -- 1. URL lists in batch ------------------------------------------------------------------------------


def test_batch_fetches_url_arguments_and_a_rerun_skips_them_by_url(cli, site, tmp_path):
    urls = [site.url("/a/1"), site.url("/a/2")]
    out = tmp_path / "out.jsonl"
    done = run(cli, "batch", *urls, "-o", str(out))
    assert done.returncode == 0, done.stderr
    rows = read_jsonl(out)
    assert sorted(row["id"] for row in rows) == sorted(urls)
    assert all(row["source"] in urls and row["summary"]["headline"] for row in rows)
    assert sorted(site.hits) == ["/a/1", "/a/2"]
    again = run(cli, "batch", *urls, site.url("/a/3"), "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert "2 skipped" in again.stderr
    assert sorted(site.hits) == ["/a/1", "/a/2", "/a/3"]  # the done ones were not fetched again
    assert len(read_jsonl(out)) == 3


def test_a_url_list_file_and_jsonl_records_with_only_a_url(cli, site, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# morning reads\n{site.url('/a/1')}\n\n{site.url('/missing')}\n  {site.url('/a/2')}  \n", encoding="utf-8"
    )
    assert kind_of(str(listing)) == "urls"
    records = write_jsonl(
        tmp_path / "more.jsonl",
        [
            {"url": site.url("/a/3")},
            {"id": "four", "url": site.url("/a/4"), "title": "Given"},
            {"id": "five", "text": story(5)},
        ],
    )
    out = tmp_path / "out.jsonl"
    done = run(cli, "batch", str(listing), str(records), "-o", str(out))
    assert done.returncode == 8, done.stderr  # one page is missing: an item error, not the batch's
    ids = {row["id"] for row in read_jsonl(out)}
    assert ids == {site.url("/a/1"), site.url("/a/2"), site.url("/a/3"), "four", "five"}
    errors = read_jsonl(Path(f"{out}.errors.jsonl"))
    assert [(e["id"], e["error"]) for e in errors] == [(site.url("/missing"), "input")]
    assert "HTTP 404" in errors[0]["message"]


def test_a_txt_file_that_is_prose_stays_an_article_and_a_urls_file_is_a_list(tmp_path):
    prose = tmp_path / "story.txt"
    prose.write_text(f"{story(1)}\nSee https://example.com/more for details.\n", encoding="utf-8")
    listing = tmp_path / "reading.urls"
    listing.write_text("https://example.com/a\nnot a url\n", encoding="utf-8")
    assert kind_of(str(prose)) == "article"
    assert kind_of(str(listing)) == "urls"
    assert kind_of("https://example.com/a") == "url"


def test_a_line_of_a_url_list_that_is_no_url_is_an_item_error(site, tmp_path):
    listing = tmp_path / "reading.urls"
    listing.write_text(f"{site.url('/a/1')}\nftp://example.com/file\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    stats = offline_batch([str(listing)], out)
    assert stats.done == 1 and stats.failed == 1
    error = read_jsonl(Path(f"{out}.errors.jsonl"))[0]
    assert error["id"] == f"{listing}:2" and "not an http(s) URL" in error["message"]


def test_a_list_of_urls_inside_a_folder_is_refused_as_an_article(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "story.txt").write_text(story(1), encoding="utf-8")
    (folder / "links.md").write_text("https://example.com/a\nhttps://example.com/b\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    stats = offline_batch([str(folder)], out)
    assert stats.done == 1 and stats.failed == 1
    error = read_jsonl(Path(f"{out}.errors.jsonl"))[0]
    assert error["id"].endswith("links.md") and "a list of URLs, not an article" in error["message"]


@pytest.mark.parametrize("per_host", [1, 2])
def test_fetches_are_polite_per_host(tmp_path, per_host):
    slow = Site(pause=0.05)
    try:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{slow.url(f'/a/{n}')}\n" for n in range(6)), encoding="utf-8")
        stats = offline_batch(
            [str(urls)], tmp_path / "out.jsonl", concurrency=8, fetch_per_host=per_host, fetch_delay_s=0.02
        )
        assert stats.done == 6
        assert slow.most_inflight <= per_host
        # Starts are spaced by the delay: measured where they arrive, one gap can shrink (the one before it
        # was late to connect on a loaded machine), the span from first to last cannot.
        assert slow.starts[-1] - slow.starts[0] >= 5 * 0.02 * 0.6  # a late first connect eats into it
    finally:
        slow.close()


def test_the_service_fetches_url_records_within_its_ssrf_policy(server, site, tmp_path):
    from .test_service import build, wait_for

    lines = "".join(json.dumps(row) + "\n" for row in [{"url": site.url("/a/1")}, {"id": "t", "text": story(2)}])
    with build(server, tmp_path) as client:
        job = client.post("/v1/batches", files={"file": ("dump.jsonl", lines.encode(), "application/x-ndjson")})
        assert job.status_code == 202, job.text
        finished = wait_for(client, job.json()["id"])
        assert finished["counts"]["done"] == 1 and finished["counts"]["failed"] == 1
        errors = [json.loads(line) for line in client.get(f"/v1/batches/{finished['id']}/errors").text.splitlines()]
        assert errors[0]["id"] == site.url("/a/1") and "refusing to fetch" in errors[0]["message"]
    assert site.hits == []  # loopback: never reached
    with build(server, tmp_path / "allowed", fetch_allow_networks=["127.0.0.0/8"]) as client:
        job = client.post("/v1/batches", files={"file": ("dump.jsonl", lines.encode(), "application/x-ndjson")})
        finished = wait_for(client, job.json()["id"])
        assert finished["counts"]["done"] == 2, finished
        listed = client.post("/v1/batches", json={"items": [{"url": site.url("/a/2")}, story(3)]})
        assert listed.status_code == 202, listed.text
        assert wait_for(client, listed.json()["id"])["counts"]["done"] == 2
        results = client.get(f"/v1/batches/{listed.json()['id']}/results").text.splitlines()
        assert site.url("/a/2") in {json.loads(line)["id"] for line in results}
    assert site.hits == ["/a/1", "/a/2"]


def test_summarize_refuses_a_text_file_that_only_lists_urls(cli, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.com/a\nhttps://example.com/b\n", encoding="utf-8")
    done = run(cli, "summarize", str(listing))
    assert done.returncode == 3
    assert "is a list of 2 URL(s), not an article" in done.stderr
    assert f"summarizer batch {listing} -o summaries.jsonl" in done.stderr
    piped = run(cli, "summarize", stdin="https://example.com/a\n")
    assert piped.returncode == 3 and "summarizer batch" in piped.stderr


def test_url_inputs_with_the_ray_runner_are_refused_before_starting(cli, tmp_path):
    done = run(cli, "batch", "https://example.com/a", "--runner", "ray", "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode == 3 and "fetched by the local runner" in done.stderr


# -- 2. keys ---------------------------------------------------------------------------------------------


def test_keys_set_list_path_and_settings_read_the_stored_key(cli, tmp_path, monkeypatch):
    from summarizer.config import load_settings
    from summarizer.keys import keys_path

    secret = "sk-stored-0123456789abcdef-DO-NOT-PRINT"
    where = run(cli, "keys", "path")
    assert where.returncode == 0 and where.stdout.strip() == str(keys_path())
    assert keys_path() == tmp_path / "config" / "summarizer" / "keys.json"
    stored = run(cli, "keys", "set", "openai", stdin=secret + "\n")
    assert stored.returncode == 0, stored.stderr
    assert secret not in stored.stdout + stored.stderr
    assert (keys_path().stat().st_mode & 0o777) == 0o600
    assert run(cli, "keys", "set", "other", "--value", "another-key-1234").returncode == 0
    listed = run(cli, "keys", "list")
    assert listed.stdout.splitlines() == ["openai", "other"]
    assert secret not in listed.stdout + listed.stderr and "another-key" not in listed.stdout
    assert json.loads(keys_path().read_text())["openai"] == secret

    settings = load_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == secret
    assert settings.llm_configured
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-wins")
    assert load_settings().api_key.get_secret_value() == "sk-from-the-environment-wins"


def test_keys_refuse_bad_names_blank_keys_and_a_broken_store(cli, tmp_path):
    from summarizer.keys import keys_path

    assert run(cli, "keys", "set", "no spaces", "--value", "k-123").returncode == 3
    blank = run(cli, "keys", "set", "openai", stdin="\n")
    assert blank.returncode == 3 and "nothing was stored" in blank.stderr
    assert not keys_path().exists()
    keys_path().parent.mkdir(parents=True)
    keys_path().write_text("[1, 2]")
    broken = run(cli, "keys", "list")
    assert broken.returncode != 0 and "cannot read the key store" in broken.stderr


# -- 3. shell completion ---------------------------------------------------------------------------------


NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}  # --show/--install-completion take SHELL


def complete(cli: list[str], words: str) -> list[str]:
    done = run(
        cli,
        env={
            "_SUMMARIZER_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        },
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_completes_commands_subcommands_and_options(cli):
    assert complete(cli, "summarizer ke") == ["keys"]
    assert complete(cli, "summarizer keys ") == ["set", "list", "path"]
    assert "--format" in complete(cli, "summarizer batch --for")
    # Typer finds the shell from the process tree (shellingham) unless told not to: under a test runner
    # that tree is whatever started it, so the shell is named, as a user of --show-completion SHELL does.
    shown = run(cli, "--show-completion", "bash", env=NAMED_SHELL)
    assert shown.returncode == 0 and "_SUMMARIZER_COMPLETE=complete_bash" in shown.stdout
    assert "--install-completion" in run(cli, "--help").stdout


def test_install_completion_writes_the_script_for_the_shell(cli, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    done = run(cli, "--install-completion", "bash", env={"HOME": str(home), "SHELL": "/bin/bash", **NAMED_SHELL})
    assert done.returncode == 0, done.stderr
    script = home / ".bash_completions" / "summarizer.sh"
    assert "_SUMMARIZER_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (home / ".bashrc").read_text()


# -- 4. --instructions -----------------------------------------------------------------------------------

FOCUS = "Focus on what the tram costs; leave the construction dates out."


def user_message(request: dict[str, Any]) -> str:
    return str([m for m in request["messages"] if m["role"] == "user"][-1]["content"])


def assert_after_the_article(content: str, instructions: str) -> None:
    from summarizer.prompts import INSTRUCTIONS_HEADER

    close = content.rindex("ARTICLE")  # the closing marker names the block
    assert content.index(INSTRUCTIONS_HEADER) > close and content.rstrip().endswith(instructions)


def test_instructions_follow_the_article_markers_and_are_part_of_the_cache_key(make, server):
    summarizer = make()
    summarizer.summarize(story(1), instructions=FOCUS)
    assert len(server.requests) == 1
    assert_after_the_article(user_message(server.requests[0]), FOCUS)
    summarizer.summarize(story(1), instructions=FOCUS)
    assert len(server.requests) == 1  # the same instructions: the cached answer
    summarizer.summarize(story(1), instructions="Write for children.")
    summarizer.summarize(story(1))
    assert len(server.requests) == 3  # other instructions, or none, are other questions
    assert "Additional instructions" not in user_message(server.requests[2])


def test_instructions_reach_every_step_of_a_long_article_and_the_hybrid_writing(make, server):
    long = " ".join(story(n) for n in range(60))
    make(chunk_tokens=400).summarize(long, instructions=FOCUS)
    assert len(server.requests) > 2  # parts, then the merge
    for request in server.requests:  # the parts' requests hold an ARTICLE block, the merge's a PARTS block
        assert user_message(request).rstrip().endswith(FOCUS)
        assert user_message(request).rindex("<<<END ") < user_message(request).index("Additional instructions")
    server.reset()
    make(engine="hybrid").summarize(story(2), instructions=FOCUS)
    assert server.requests and all(user_message(r).rstrip().endswith(FOCUS) for r in server.requests)


def test_instructions_from_the_command_line_for_summarize_and_batch(cli, server, tmp_path):
    from .test_cli import llm_env

    article = tmp_path / "a.txt"
    article.write_text(story(3), encoding="utf-8")
    done = run(cli, "summarize", str(article), "--instructions", FOCUS, env=llm_env(server))
    assert done.returncode == 0, done.stderr
    assert_after_the_article(user_message(server.requests[-1]), FOCUS)
    (tmp_path / "focus.txt").write_text("Only the money.\n", encoding="utf-8")
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": story(4)}])
    done = run(
        cli,
        "batch",
        str(source),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--instructions",
        f"@{tmp_path / 'focus.txt'}",
        env=llm_env(server),
    )
    assert done.returncode == 0, done.stderr
    assert_after_the_article(user_message(server.requests[-1]), "Only the money.")
    missing = run(cli, "summarize", str(article), "--instructions", "@nope.txt", env=llm_env(server))
    assert missing.returncode == 3 and "cannot read the instructions file nope.txt" in missing.stderr
    offline = run(cli, "summarize", str(article), "--instructions", FOCUS, "--meta")
    assert offline.returncode == 0
    assert any("instructions" in w for w in json.loads(offline.stdout)["meta"]["warnings"])


def test_the_service_takes_instructions_in_summary_and_batch_requests(server, tmp_path):
    from .test_service import build, wait_for

    with build(server, tmp_path) as client:
        answered = client.post("/v1/summaries", json={"text": story(5), "instructions": FOCUS})
        assert answered.status_code == 200, answered.text
        assert_after_the_article(user_message(server.requests[-1]), FOCUS)
        too_long = client.post("/v1/summaries", json={"text": story(5), "instructions": "x" * 4001})
        assert too_long.status_code == 422
        job = client.post("/v1/batches", json={"items": [story(6)], "instructions": "Only the money."})
        assert job.status_code == 202, job.text
        assert wait_for(client, job.json()["id"])["options"] == {"instructions": "Only the money."}
        assert_after_the_article(user_message(server.requests[-1]), "Only the money.")
        spec = client.get("/openapi.json").json()["components"]["schemas"]["SummaryRequest"]
        assert "instructions" in spec["properties"]


# -- 5. cache clear asks ---------------------------------------------------------------------------------


def filled_cache(cli: list[str], tmp_path: Path) -> Path:
    from summarizer.cache import open_cache

    path = tmp_path / "asked.sqlite3"
    store = open_cache(path)
    store.put("k1", {"headline": "x"}, {"model": "m"})
    store.put("k2", {"headline": "y"}, {"model": "m"})
    store.close()
    return path


def entries(cli: list[str], path: Path) -> int:
    done = run(cli, "cache", "stats", "--json", "--cache", str(path))
    return int(json.loads(done.stdout)["entries"])


def on_a_terminal(cli: list[str], args: list[str], answer: str) -> subprocess.CompletedProcess[str]:
    """Run with a pseudo-terminal as stdin, answering ``answer`` to the question."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [*cli, *args], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        os.close(follower)
        os.write(leader, answer.encode())
        out, err = process.communicate()
    finally:
        os.close(leader)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_cache_clear_asks_first_and_a_no_keeps_everything(cli, tmp_path):
    path = filled_cache(cli, tmp_path)
    kept = on_a_terminal(cli, ["cache", "clear", "--cache", str(path)], "n\n")
    assert kept.returncode == 0, kept.stderr
    assert f"Delete 2 cached answer(s) in {path}? [y/N]" in kept.stderr and "nothing deleted" in kept.stderr
    assert entries(cli, path) == 2
    cleared = on_a_terminal(cli, ["cache", "clear", "--cache", str(path)], "y\n")
    assert cleared.returncode == 0 and "removed 2 cached answer(s)" in cleared.stderr
    assert entries(cli, path) == 0


def test_cache_clear_without_a_terminal_needs_yes(cli, tmp_path):
    path = filled_cache(cli, tmp_path)
    refused = run(cli, "cache", "clear", "--cache", str(path), stdin="y\n")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert entries(cli, path) == 2
    done = run(cli, "cache", "clear", "--cache", str(path), "--yes")
    assert done.returncode == 0 and "removed 2 cached answer(s)" in done.stderr
    assert entries(cli, path) == 0


# -- 6. GET /v1/batches ------------------------------------------------------------------------------------


def test_the_service_lists_its_batch_jobs_newest_first_behind_the_same_auth(server, tmp_path):
    from .test_service import TOKEN, build

    auth = {"authorization": f"Bearer {TOKEN}"}
    with build(server, tmp_path, api_token=TOKEN) as client:
        assert client.get("/v1/batches").status_code == 401
        assert client.get("/v1/batches", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/v1/batches", headers=auth).json() == {"jobs": []}
        first = client.post("/v1/batches", json={"items": [story(1), story(2)]}, headers=auth).json()["id"]
        wait_for_with(client, first, auth)
        second = client.post("/v1/batches", json={"items": [story(3)], "style": "brief"}, headers=auth).json()["id"]
        wait_for_with(client, second, auth)
        listed = client.get("/v1/batches", headers=auth).json()["jobs"]
        assert [job["id"] for job in listed] == [second, first]
        newest = listed[0]
        assert newest["status"] == "done" and newest["counts"] == {"total": 1, "done": 1, "cached": 0, "failed": 0}
        assert newest["created_at"] >= listed[1]["created_at"] and newest["options"] == {"style": "brief"}
        assert [j["id"] for j in client.get("/v1/batches?limit=1", headers=auth).json()["jobs"]] == [second]
        assert client.get("/v1/batches?status=queued", headers=auth).json() == {"jobs": []}
        assert len(client.get("/v1/batches?status=done", headers=auth).json()["jobs"]) == 2
        assert client.get("/v1/batches?status=bogus", headers=auth).status_code == 422
        assert client.get("/v1/batches?limit=0", headers=auth).status_code == 422
        client.delete(f"/v1/batches/{first}", headers=auth)
        assert [j["id"] for j in client.get("/v1/batches", headers=auth).json()["jobs"]] == [second]
        operation = client.get("/openapi.json").json()["paths"]["/v1/batches"]["get"]
        assert {"401", "422", "200"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} == {"status", "limit"}


def wait_for_with(client: Any, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """``test_service.wait_for`` for a service with a token."""
    while True:
        job = client.get(f"/v1/batches/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.05)


# -- 7. batch output as Markdown or text -------------------------------------------------------------------


def archive_of(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir(exist_ok=True)
    for n in range(count):
        (folder / f"a{n}.txt").write_text(story(n), encoding="utf-8")
    return folder


def test_batch_markdown_has_one_section_per_article_and_resumes(cli, tmp_path):
    folder = archive_of(tmp_path, 3)
    digest = tmp_path / "digest.md"
    done = run(cli, "batch", str(folder), "-o", str(digest), "--ordered")  # the format from the name
    assert done.returncode == 0, done.stderr
    text = digest.read_text(encoding="utf-8")
    assert text.count("<!-- summarizer id: ") == 3 and text.count("\n## ") + text.startswith("## ") == 3
    for n in range(3):
        assert f"*Source: {folder / f'a{n}.txt'}*" in text and f"report number {n} " in text
    assert "### Key points" in text and not text.startswith("# ")
    assert text.index("a0.txt") < text.index("a1.txt") < text.index("a2.txt")

    with digest.open("a", encoding="utf-8") as fh:  # a crash in the middle of a section
        fh.write("## A headline whose section never ended\n\nHalf a summ")
    (folder / "a3.txt").write_text(story(3), encoding="utf-8")
    again = run(cli, "batch", str(folder), "-o", str(digest))
    assert again.returncode == 0 and "3 skipped" in again.stderr
    text = digest.read_text(encoding="utf-8")
    assert "never ended" not in text and text.count("<!-- summarizer id: ") == 4 and "report number 3 " in text


def test_batch_text_output_to_stdout_and_to_a_txt_file(cli, tmp_path):
    folder = archive_of(tmp_path, 2)
    shown = run(cli, "batch", str(folder), "--format", "text", "--ordered")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("\n(id: ") == 2 and "Key points:\n  * " in shown.stdout
    assert f"Source: {folder / 'a0.txt'}" in shown.stdout and "=====" in shown.stdout
    out = tmp_path / "digest.txt"
    assert run(cli, "batch", str(folder), "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8").count("\n(id: ") == 2
    assert not out.read_text(encoding="utf-8").lstrip().startswith("{")  # not JSONL


def test_markdown_output_never_overwrites_a_file_that_is_not_one(cli, tmp_path):
    folder = archive_of(tmp_path, 1)
    notes = tmp_path / "notes.md"
    notes.write_text("# My notes\n\nKeep these.\n", encoding="utf-8")
    refused = run(cli, "batch", str(folder), "-o", str(notes))
    assert refused.returncode == 3 and "not a summarizer markdown output" in refused.stderr
    assert notes.read_text(encoding="utf-8") == "# My notes\n\nKeep these.\n"
    folder_out = run(cli, "batch", str(folder), "-o", str(tmp_path / "out") + "/", "--format", "markdown")
    assert folder_out.returncode == 3 and "markdown output is one file" in folder_out.stderr


def test_a_section_trailer_keeps_any_id_readable_and_inside_its_comment(tmp_path):
    from summarizer.runners.sinks import DocumentSink

    odd = "story --> <b>\nsecond line"
    path = tmp_path / "odd.md"
    sink = DocumentSink(path, True, "markdown")
    sink.write_record({"id": odd, "source": "odd", "summary": {"headline": "H", "summary": "S."}, "meta": {}})
    sink.close()
    trailer = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("<!--")]
    assert len(trailer) == 1 and trailer[0].count("-->") == 1 and trailer[0].endswith("-->")
    reopened = DocumentSink(path, True, "markdown")
    reopened.close()
    assert odd in reopened.done_ids
