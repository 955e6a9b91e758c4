"""Parquet in and out, and folder outputs (parts per run), on the local runner: same records, same resume."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from summarizer.runners.local import run_files

from .conftest import API_KEY

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def dump(tmp_path: Path, articles: list[dict], count: int, name: str = "in.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"id": f"p{n}", "text": articles[n % len(articles)]["text"] + f" Item {n}.", "title": f"Title {n}"}
                for n in range(count)
            ]
        ),
        path,
    )
    return path


def parts(folder: Path) -> list[dict]:
    return [row for part in sorted(folder.glob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]


def test_parquet_in_parquet_out_resumes_and_matches_jsonl_records(make, server, articles, tmp_path):
    source = dump(tmp_path, articles, 5)
    out = tmp_path / "out"
    stats = asyncio.run(run_files(make(), [str(source)], output=out, fmt="parquet"))
    rows = parts(out)
    assert stats.done == 5 and sorted(r["id"] for r in rows) == [f"p{n}" for n in range(5)]
    assert set(rows[0]) == {"id", "source", "summary", "meta"}
    assert json.loads(rows[0]["meta"])["source"]["title"].startswith("Title ")  # metadata columns are read

    jsonl = tmp_path / "out.jsonl"  # the same items as JSONL: the same records, field for field
    asyncio.run(run_files(make(), [str(source)], output=jsonl))
    by_id = {json.loads(line)["id"]: json.loads(line) for line in jsonl.read_text().splitlines()}
    for row in rows:
        assert json.loads(row["summary"]) == by_id[row["id"]]["summary"]

    (out / ".part-x.parquet.tmp").write_bytes(b"half a part from a crash")
    bigger = dump(tmp_path, articles, 8)
    again = asyncio.run(run_files(make(), [str(bigger)], output=out, fmt="parquet"))
    assert again.done == 3 and again.skipped == 5 and len(server.requests) == 5 + 3
    assert sorted(r["id"] for r in parts(out)) == [f"p{n}" for n in range(8)]
    assert not list(out.glob(".part-*"))


def test_a_folder_output_gets_a_jsonl_part_per_run(make, articles, tmp_path):
    source = dump(tmp_path, articles, 4)
    out = tmp_path / "out"
    asyncio.run(run_files(make(), [str(source)], output=f"{out}/"))
    asyncio.run(run_files(make(), [str(dump(tmp_path, articles, 6, "more.parquet"))], output=f"{out}/"))
    files = sorted(out.glob("part-*.jsonl"))
    lines = [json.loads(line)["id"] for f in files for line in f.read_text().splitlines()]
    assert len(files) == 2 and sorted(lines) == [f"p{n}" for n in range(6)]
    assert (out / "errors.jsonl").exists()


def test_a_broken_part_and_a_missing_column_are_one_clear_line(cli, server, articles, tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": API_KEY}
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-1.parquet").write_bytes(b"not parquet")
    source = dump(tmp_path, articles, 2)
    done = subprocess.run(
        [*cli, "batch", str(source), "-o", str(out), "--format", "parquet", "--base-url", server.url],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 3 and "part-1.parquet" in done.stderr and "Traceback" not in done.stderr
    assert server.requests == []

    pq.write_table(pa.Table.from_pylist([{"body": "x"}]), tmp_path / "nobody.parquet")
    missing = subprocess.run(
        [*cli, "batch", str(tmp_path / "nobody.parquet"), "-o", str(tmp_path / "o.jsonl"), "--base-url", server.url],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode == 8 and "Traceback" not in missing.stderr
    error = json.loads((tmp_path / "o.jsonl.errors.jsonl").read_text())
    assert "no 'text' column" in error["message"] and "--text-field" in error["message"]

    stdout = subprocess.run(
        [*cli, "batch", str(source), "--format", "parquet"], capture_output=True, text=True, env=env
    )
    assert stdout.returncode == 3 and "-o FOLDER" in stdout.stderr
