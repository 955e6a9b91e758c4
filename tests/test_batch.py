"""Batch runs: every input format, concurrency, pacing, failures, ordering and resume.

All against the fake OpenAI-compatible server on 127.0.0.1; requests are counted there.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import random
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from summarizer import Summarizer
from summarizer.archives import content_id, count_items
from summarizer.errors import LLMError
from summarizer.runners.local import run_files
from summarizer.runners.sinks import repair
from summarizer.testing import FakeLLMServer, Fault, Stall, article_of, default_responder, fault_storm
from summarizer.throttle import Throttle

PARAGRAPH = (
    "The city council voted on Tuesday to expand the tram network by twelve kilometres. "
    "Mayor Anna Berg said the plan would cut commuting times for forty thousand residents. "
    "Opponents argued that the cost, estimated at 300 million euros, was too high. "
    "Construction is expected to start next spring and to last three years."
)


def story(n: int) -> str:
    return f"{PARAGRAPH} This is report number {n} from the Riverside district."


def html_page(n: int) -> str:
    return (
        f"<html><head><title>Tram story {n}</title></head><body><article><h1>Tram story {n}</h1>"
        f"<p>{PARAGRAPH}</p><p>This is report number {n} from the Riverside district.</p></article>"
        "</body></html>"
    )


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_batch(summarizer: Summarizer, inputs: Any, **options: Any) -> Any:
    async def go() -> Any:
        try:
            return await run_files(summarizer, inputs, **options)
        finally:
            await summarizer.aclose()

    return asyncio.run(go())


# -- sources ------------------------------------------------------------------------------------


def test_folder_is_walked_recursively_for_article_files_only(make, server, tmp_path):
    root = tmp_path / "archive"
    (root / "2024" / "may").mkdir(parents=True)
    (root / "a.txt").write_text(story(1))
    (root / "2024" / "b.md").write_text(story(2))
    (root / "2024" / "may" / "c.html").write_text(html_page(3))
    (root / "2024" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not an article")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "d.txt").write_text(story(4))
    out = tmp_path / "out.jsonl"
    stats = run_batch(make(), [str(root)], output=out)
    rows = {row["id"]: row for row in read_jsonl(out)}
    assert set(rows) == {str(root / "a.txt"), str(root / "2024" / "b.md"), str(root / "2024" / "may" / "c.html")}
    assert stats.done == 3 and stats.failed == 0 and server.count == 3
    assert rows[str(root / "2024" / "may" / "c.html")]["meta"]["source"]["title"] == "Tram story 3"
    assert "<p>" not in article_of(server.requests[-1]) + article_of(server.requests[0])
    assert count_items([str(root)]) == 3


def test_glob_pattern_and_jsonl_fields_and_content_hash_ids(make, server, tmp_path):
    write_jsonl(tmp_path / "one.jsonl", [{"body": story(1), "url": "https://news.example/1"}, {"body": story(2)}])
    write_jsonl(tmp_path / "two.jsonl", [{"body": story(3), "url": "https://news.example/3"}])
    out = tmp_path / "out.jsonl"
    stats = run_batch(make(), [str(tmp_path / "*.jsonl")], output=out, text_field="body", id_field="url")
    ids = {row["id"] for row in read_jsonl(out)}
    assert ids == {"https://news.example/1", "https://news.example/3", content_id(story(2))}
    assert stats.total == 3 and stats.done == 3


def test_json_array_and_csv_with_chosen_columns(make, server, tmp_path):
    (tmp_path / "dump.json").write_text(json.dumps([{"id": "j1", "text": story(1)}, {"id": "j2", "text": story(2)}]))
    with open(tmp_path / "dump.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "content", "title"])
        writer.writerow(["c1", story(3).replace(". ", ".\n"), "Multi-line cell"])
        writer.writerow(["c2", story(4), "Second"])
    out = tmp_path / "out.jsonl"
    run_batch(make(), [str(tmp_path / "dump.json")], output=out)
    run_batch(make(), [str(tmp_path / "dump.csv")], output=out, text_field="content", id_field="key")
    rows = {row["id"]: row for row in read_jsonl(out)}
    assert set(rows) == {"j1", "j2", "c1", "c2"}
    assert rows["c1"]["meta"]["source"]["title"] == "Multi-line cell"
    assert (
        count_items([str(tmp_path / "dump.json")]) + count_items([str(tmp_path / "dump.csv")], text_field="content")
        == 4
    )


def test_zip_members_with_bad_ones_going_to_the_errors_file(make, server, tmp_path):
    archive = tmp_path / "news.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("politics/a.txt", story(1))
        zf.writestr("politics/b.html", html_page(2))
        zf.writestr("empty.txt", "   \n")
        zf.writestr("binary.txt", b"\x00\x01\x02" * 100)
        zf.writestr("nav.html", "<html><head><script>var x = 1;</script></head><body></body></html>")
        zf.writestr("logo.png", b"\x89PNG...")
    out, errors = tmp_path / "out.jsonl", tmp_path / "failed.jsonl"
    stats = run_batch(make(), [str(archive)], output=out, errors=errors)
    assert {row["id"] for row in read_jsonl(out)} == {"news.zip:politics/a.txt", "news.zip:politics/b.html"}
    failed = {row["id"]: row for row in read_jsonl(errors)}
    assert set(failed) == {"news.zip:empty.txt", "news.zip:binary.txt", "news.zip:nav.html"}
    assert all(
        row["error"] == "input" and row["message"] and row["source"].startswith(str(archive)) for row in failed.values()
    )
    assert "empty" in failed["news.zip:empty.txt"]["message"]
    assert "binary" in failed["news.zip:binary.txt"]["message"]
    assert stats.done == 2 and stats.failed == 3 and server.count == 2


@pytest.mark.parametrize(
    "suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")]
)
def test_tar_archives_are_streamed(make, server, tmp_path, suffix, mode):
    archive = tmp_path / f"corpus{suffix}"
    with tarfile.open(archive, mode) as tf:
        for name, data in (("x/one.txt", story(1)), ("x/two.html", html_page(2)), ("x/notes.bin", "skip me")):
            payload = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    out = tmp_path / "out.jsonl"
    run_batch(make(), [str(archive)], output=out)
    assert {row["id"] for row in read_jsonl(out)} == {f"{archive.name}:x/one.txt", f"{archive.name}:x/two.html"}


def make_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        records = [
            ("https://news.example/a", "200 OK", "text/html; charset=utf-8", html_page(1).encode()),
            ("https://news.example/logo.png", "200 OK", "image/png", b"\x89PNG\r\n"),
            ("https://news.example/gone", "404 Not Found", "text/html", b"<html><body>gone</body></html>"),
            (
                "https://news.example/b",
                "200 OK",
                "text/html; charset=iso-8859-1",
                html_page(2).replace("district", "d\xe9partement").encode("latin-1"),
            ),
        ]
        for uri, status, content_type, body in records:
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers)
            )


def test_warc_html_responses_with_target_uri_ids(make, server, tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    make_warc(warc)
    out = tmp_path / "out.jsonl"
    stats = run_batch(make(), [str(warc)], output=out)
    rows = {row["id"]: row for row in read_jsonl(out)}
    assert set(rows) == {"https://news.example/a", "https://news.example/b"}
    assert rows["https://news.example/b"]["meta"]["source"]["url"] == "https://news.example/b"
    assert any("département" in article_of(request) for request in server.requests)  # the charset was honoured
    assert stats.failed == 0 and count_items([str(warc)]) == 2


def test_truncated_archive_keeps_what_was_read_and_reports_the_rest(make, server, tmp_path):
    archive = tmp_path / "cut.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for n in range(20):
            payload = (story(n) + " " + "padding " * 2000).encode()
            info = tarfile.TarInfo(f"s{n}.txt")
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) * 2 // 3])
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    stats = run_batch(make(), [str(archive)], output=out, errors=errors)
    failed = [row["id"] for row in read_jsonl(errors)]
    assert stats.done >= 5 and failed[-1] == "cut.tar.gz:<unreadable>"
    assert (
        set(failed[:-1]) <= {f"cut.tar.gz:s{n}.txt" for n in range(20)} and len(failed) <= 2
    )  # the member cut in half
    assert stats.done + len(failed[:-1]) < 20


# -- library API --------------------------------------------------------------------------------


def test_abatch_yields_outcomes_and_a_second_run_is_served_by_the_cache(make, server):
    texts = [story(n) for n in range(12)]
    summarizer = make(concurrency=4)

    async def collect() -> list[Any]:
        try:
            return [outcome async for outcome in summarizer.abatch(texts)]
        finally:
            await summarizer.aclose()

    first = asyncio.run(collect())
    assert sorted(o.index for o in first) == list(range(12)) and all(o.ok for o in first)
    assert server.count == 12
    second = list(summarizer.batch(texts, ordered=True))  # the sync flavour, in input order
    assert [o.index for o in second] == list(range(12))
    assert all(o.result.meta.cached for o in second) and server.count == 12
    assert [o.id for o in second] == [content_id(t) for t in texts]


def test_ordered_output_follows_input_order_despite_uneven_latency(tmp_path):
    rng = random.Random(7)

    def slow(request: dict[str, Any]) -> Any:
        return Stall(rng.uniform(0, 0.05), then=default_responder(request))

    with FakeLLMServer(slow) as server:
        rows = [{"id": f"n{n}", "text": story(n)} for n in range(24)]
        out = tmp_path / "out.jsonl"
        run_batch(
            Summarizer(base_url=server.url, api_key="k", concurrency=6),
            [str(write_jsonl(tmp_path / "in.jsonl", rows))],
            output=out,
            ordered=True,
        )
    assert [row["id"] for row in read_jsonl(out)] == [f"n{n}" for n in range(24)]


def test_duplicate_ids_are_done_once(make, server, tmp_path):
    rows = [{"id": "same", "text": story(1)}, {"id": "same", "text": story(2)}, {"id": "other", "text": story(3)}]
    out = tmp_path / "out.jsonl"
    stats = run_batch(make(), [str(write_jsonl(tmp_path / "in.jsonl", rows))], output=out)
    assert [row["id"] for row in read_jsonl(out)].count("same") == 1
    assert stats.duplicates == 1 and server.count == 2


def test_bad_records_are_reported_not_lost(make, server, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "ok", "text": story(1)})
        + "\n{not json\n"
        + json.dumps({"id": "nt"})
        + "\n"
        + json.dumps(["a list"])
        + "\n"
        + json.dumps({"id": "num", "text": 12})
        + "\n"
    )
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    stats = run_batch(make(), [str(path)], output=out, errors=errors)
    assert [row["id"] for row in read_jsonl(out)] == ["ok"]
    failed = {row["id"]: row["message"] for row in read_jsonl(errors)}
    assert set(failed) == {f"{path}:2", "nt", f"{path}:4", "num"}
    assert "not valid JSON" in failed[f"{path}:2"] and "has no 'text' field" in failed["nt"]
    assert "not a JSON object" in failed[f"{path}:4"] and "non-text" in failed["num"]
    assert stats.failed == len(failed)


# -- failures, pacing -----------------------------------------------------------------------------


def test_fatal_endpoint_errors_stop_the_batch_instead_of_failing_every_item(make, server, tmp_path):
    server.responder = lambda request: Fault(401, message="invalid api key")
    try:
        rows = [{"id": f"n{n}", "text": story(n)} for n in range(40)]
        with pytest.raises(LLMError, match="refused the API key"):
            run_batch(
                make(concurrency=2), [str(write_jsonl(tmp_path / "in.jsonl", rows))], output=tmp_path / "out.jsonl"
            )
        assert server.count < 10
    finally:
        server.responder = default_responder


def test_a_mode_the_server_rejects_stops_the_batch_with_the_mode_to_use(make, server, tmp_path):
    server.responder = lambda request: Fault(400, message="'response_format' of type 'json_schema' is not supported")
    try:
        rows = [{"id": f"n{n}", "text": story(n)} for n in range(40)]
        with pytest.raises(LLMError, match="use --mode auto"):
            run_batch(
                make(concurrency=2, mode="json_schema"),
                [str(write_jsonl(tmp_path / "in.jsonl", rows))],
                output=tmp_path / "out.jsonl",
            )
        assert server.count < 10  # one try per item in flight, never a retry loop
    finally:
        server.responder = default_responder


def test_requests_are_paced_to_the_rpm_limit_retries_included(make, server, tmp_path):
    server.push(Fault(500), Fault(500))  # the retries count against the limit too
    rows = [{"id": f"n{n}", "text": story(n)} for n in range(20)]
    run_batch(
        make(rpm=600, concurrency=8), [str(write_jsonl(tmp_path / "in.jsonl", rows))], output=tmp_path / "out.jsonl"
    )
    times = server.times
    assert len(times) == 22
    gap = 60 / 600
    # Requests start evenly spaced at the client. On the way (a busy machine, a GC pause) one may
    # arrive late and bunch up with the next ones, so allow two extra in any one-second window:
    # without pacing all 22 would arrive within a few milliseconds.
    for i in range(len(times)):
        in_one_second = sum(1 for t in times[i:] if t - times[i] < 1.0)
        assert in_one_second <= 600 / 60 + 2, (i, in_one_second)
    assert times[-1] - times[0] >= (len(times) - 3) * gap


def test_a_429_pauses_every_worker_for_retry_after_and_slows_the_pace(make, server, tmp_path):
    server.push(Fault(429, headers={"Retry-After": "0.5"}), Stall(0.2), Stall(0.2), Stall(0.2))
    rows = [{"id": f"n{n}", "text": story(n)} for n in range(8)]
    summarizer = make(concurrency=4)
    stats = run_batch(summarizer, [str(write_jsonl(tmp_path / "in.jsonl", rows))], output=tmp_path / "out.jsonl")
    assert stats.done == 8 and stats.rate_limited == 1
    first_429 = server.times[0]
    later = server.times[4:]  # everything sent after the first four
    assert len(later) == 5 and min(later) >= first_429 + 0.45
    assert summarizer.llm.throttle.interval > 0  # still going slower than before the 429


def test_throttle_schedule_for_tokens_per_minute():
    throttle = Throttle(tpm=6000)  # 100 tokens a second
    delays = [throttle.reserve(100) for _ in range(4)]
    assert delays[0] == pytest.approx(0, abs=0.01)
    assert [round(b - a, 2) for a, b in itertools.pairwise(delays)] == [1.0, 1.0, 1.0]
    both = Throttle(rpm=120, tpm=60000)  # 0.5 s apart, 1000 tokens a second
    assert [round(both.reserve(2000), 1) for _ in range(3)] == [0.0, 2.0, 4.0]  # tokens bind, not requests


def test_fault_storm_every_item_ends_in_exactly_one_file(cli, tmp_path):
    from .test_cli import run

    stormy = fault_storm(1234, stall=0.6, retry_after=0)  # stalls over the 0.3 s timeout

    rows = [{"id": f"n{n}", "text": story(n)} for n in range(300)]
    rows += [{"id": f"empty{n}", "text": " "} for n in range(3)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    with FakeLLMServer(stormy) as server:
        done = run(
            cli,
            "batch",
            str(source),
            "-o",
            str(out),
            "--errors",
            str(errors),
            "-c",
            "16",
            "--timeout",
            "0.3",
            "--max-retries",
            "1",
            "--stats-json",
            str(tmp_path / "stats.json"),
            env={"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "SUMMARIZER_TRANSPORT_ATTEMPTS": "3"},
        )
        sent = server.count
    written = [row["id"] for row in read_jsonl(out)]
    failed = [row["id"] for row in read_jsonl(errors)]
    assert len(written) == len(set(written)) and len(failed) == len(set(failed))
    assert not set(written) & set(failed)
    assert set(written) | set(failed) == {row["id"] for row in rows}
    assert {f"empty{n}" for n in range(3)} <= set(failed)
    assert done.returncode == 8, done.stderr
    assert f"{len(written):,} done" in done.stderr and f"{len(failed):,} failed" in done.stderr
    kinds = Counter(row["error"] for row in read_jsonl(errors))
    assert set(kinds) <= {"input", "llm", "timeout", "validation"}
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["requests"] == sent  # failed items' requests are accounted too
    assert stats["done"] == len(written) and stats["failed"] == len(failed) and stats["total"] == len(rows)


# -- output and resume -----------------------------------------------------------------------------


def test_repair_cuts_only_a_partial_last_line(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "summ')
    assert repair(path) == len(b'{"id": "c", "summ')
    assert path.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    assert repair(path) == 0
    path.write_bytes(b'{"id": "only", "no newline')
    repair(path)
    assert path.read_bytes() == b""


def test_resume_repairs_the_output_and_skips_done_ids_without_requests(make, server, tmp_path):
    rows = [{"id": f"n{n}", "text": story(n)} for n in range(10)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    run_batch(make(), [str(source)], output=out, ordered=True)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:6]) + lines[6][:40])  # a crash mid-line after six items
    server.reset()
    stats = run_batch(make(use_cache=False), [str(source)], output=out)
    assert stats.skipped == 6 and stats.done == 4 and server.count == 4
    assert sorted(row["id"] for row in read_jsonl(out)) == sorted(r["id"] for r in rows)


def test_csv_output_flattens_the_schema_and_resumes(make, server, tmp_path):
    rows = [{"id": f"n{n}", "text": story(n)} for n in range(5)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.csv"
    run_batch(make(), [str(source)], output=out, fmt="csv")
    table = list(csv.DictReader(out.open(newline="")))
    assert [r["id"] for r in sorted(table, key=lambda r: r["id"])] == [f"n{n}" for n in range(5)]
    assert {"headline", "key_points", "dateline.location", "engine", "cached"} <= set(table[0])
    assert " | " in table[0]["key_points"]
    assert len(out.read_text().splitlines()) == 6  # header + one physical line per row
    stats = run_batch(make(), [str(source)], output=out, fmt="csv")
    assert stats.skipped == 5 and stats.done == 0


def test_kill_9_mid_batch_then_resume_loses_nothing_and_repeats_no_finished_request(cli, tmp_path):
    import os
    import signal
    import subprocess
    import time

    rows = [{"id": f"n{n}", "text": story(n)} for n in range(150)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    with FakeLLMServer(latency=0.05) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k"}
        command = [*cli, "batch", str(source), "-o", str(out), "-c", "4"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
        data = out.read_bytes()
        complete = data[: data.rfind(b"\n") + 1].decode()
        done_before = {json.loads(line)["id"] for line in complete.splitlines()}
        texts_before = {row["text"] for row in rows if row["id"] in done_before}
        first_run = server.count
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        second_requests = [article_of(r) for r in server.requests[first_run:]]
    final = [row["id"] for row in read_jsonl(out)]
    assert sorted(final) == sorted(r["id"] for r in rows)  # every item, each exactly once
    assert not texts_before & set(second_requests)  # nothing finished was asked again
    assert len(second_requests) == len(set(second_requests))
    assert len(second_requests) <= len(rows) - len(done_before)
    assert f"{len(done_before)} skipped" in done.stderr.replace(",", "")


# -- the command ------------------------------------------------------------------------------------


def test_stdin_jsonl_to_stdout_and_csv_to_a_file(cli, server, tmp_path):
    from .test_cli import llm_env, run

    lines = "".join(json.dumps({"id": f"s{n}", "text": story(n)}) + "\n" for n in range(3))
    done = run(cli, "batch", "-", env=llm_env(server), stdin=lines.encode())
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(line)["id"] for line in done.stdout.splitlines()) == ["s0", "s1", "s2"]
    assert "3 done (0 from cache)" in done.stderr
    out = tmp_path / "out.csv"
    done = run(cli, "batch", "-", "-o", str(out), "--format", "csv", env=llm_env(server), stdin=lines.encode())
    assert done.returncode == 0 and "3 done (3 from cache)" in done.stderr
    assert sorted(row["id"] for row in csv.DictReader(out.open(newline=""))) == ["s0", "s1", "s2"]
    done = run(
        cli, "batch", "-", "-o", str(out), "--format", "csv", "--no-resume", env=llm_env(server), stdin=lines.encode()
    )
    assert done.returncode == 0 and len(list(csv.DictReader(out.open(newline="")))) == 3


def test_offline_extractive_batch_and_clear_errors_for_bad_invocations(cli, tmp_path):
    from .test_cli import run

    source = write_jsonl(tmp_path / "in.jsonl", [{"id": f"e{n}", "text": story(n)} for n in range(4)])
    out = tmp_path / "out.jsonl"
    done = run(cli, "batch", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "offline extractive engine" in done.stderr and "no cost" in done.stderr
    assert {row["meta"]["engine"] for row in read_jsonl(out)} == {"extractive"}
    missing = run(cli, "batch", str(tmp_path / "nope.jsonl"), "-o", str(out))
    assert missing.returncode == 3 and missing.stderr.strip().endswith(
        f"no such file or folder: {tmp_path / 'nope.jsonl'}"
    )
    nothing = run(cli, "batch", str(tmp_path / "*.nothing"))
    assert nothing.returncode == 3 and "no file matches" in nothing.stderr
    bad = run(cli, "batch", str(source), "--concurrency", "0")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_progress_bar_is_drawn_on_a_terminal_only(cli, server, tmp_path):
    import os
    import pty
    import subprocess

    from .test_cli import llm_env

    source = write_jsonl(tmp_path / "in.jsonl", [{"id": f"p{n}", "text": story(n)} for n in range(5)])
    controller, terminal = pty.openpty()
    env = {**os.environ, **llm_env(server), "COLUMNS": "120", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [*cli, "batch", str(source), "-o", str(tmp_path / "out.jsonl")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
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
    process.wait(timeout=60)
    os.close(controller)
    text = screen.decode(errors="replace")
    assert process.returncode == 0
    assert "summarizing" in text and "5/5" in text and "cached 0" in text
    quiet = subprocess.run(
        [*cli, "batch", str(source), "-o", str(tmp_path / "out2.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "summarizing" not in quiet.stderr and "5 done" in quiet.stderr


def test_one_summarizer_serves_successive_event_loops(make, server):
    summarizer = make()
    first = asyncio.run(summarizer.asummarize(story(1)))
    second = asyncio.run(summarizer.asummarize(story(2)))  # a new loop: a new HTTP client, not a dead one
    assert not first.meta.cached and not second.meta.cached and server.count == 2


def test_an_unreachable_endpoint_stops_the_batch_with_exit_5(cli, tmp_path):
    import socket

    from .test_cli import run

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": f"u{n}", "text": story(n)} for n in range(200)])
    out = tmp_path / "out.jsonl"
    done = run(
        cli,
        "batch",
        str(source),
        "-o",
        str(out),
        "-c",
        "2",
        env={
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "OPENAI_API_KEY": "k",
            "SUMMARIZER_TRANSPORT_ATTEMPTS": "2",
        },
    )
    assert done.returncode == 5, done.stderr
    assert "cannot reach the LLM endpoint" in done.stderr and "run the same command again" in done.stderr
    assert len(read_jsonl(Path(f"{out}.errors.jsonl"))) < 20  # stopped early, not 200 failures
