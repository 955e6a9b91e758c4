"""The eval command: ROUGE against references, grounding and validity rates, tokens and cost, reports."""

from __future__ import annotations

import csv
import json

from summarizer.evaluate import grounded_strings, lead, read_records, score_lead
from summarizer.schemas import resolve
from summarizer.testing import Answer

from .conftest import FIXTURES
from .test_cli import llm_env, run

DATA = str(FIXTURES / "articles.jsonl")


def test_extractive_against_lead3_with_report_plot_and_markdown(cli, tmp_path):
    report, picture, page = tmp_path / "scores.csv", tmp_path / "scores.png", tmp_path / "eval.md"
    done = run(
        cli,
        "eval",
        DATA,
        "--engine",
        "extractive",
        "--lead",
        "3",
        "--report",
        str(report),
        "--plot",
        str(picture),
        "--markdown",
        str(page),
        env={"COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "lead-3" in done.stdout and "extractive" in done.stdout and "ROUGE-L" in done.stdout
    rows = list(csv.DictReader(report.open(newline="")))
    assert len(rows) == 2 * 16 and {r["system"] for r in rows} == {"lead-3", "extractive"}
    assert all(0 < float(r["rouge1"]) <= 1 for r in rows)
    assert picture.read_bytes().startswith(b"\x89PNG")
    text = page.read_text()
    assert "| extractive | 16 |" in text and "summarizer eval" in text and "| de |" in text


def test_llm_engine_reports_tokens_cost_grounding_and_validity(cli, server, tmp_path):
    server.push(Answer({"headline": 1}), Answer({"headline": 1}), Answer({"headline": 1}))  # one item never valid
    report = tmp_path / "scores.jsonl"
    done = run(
        cli,
        "eval",
        DATA,
        "--limit",
        "5",
        "--report",
        str(report),
        "--max-retries",
        "2",
        env={**llm_env(server), "COLUMNS": "200", "SUMMARIZER_CONCURRENCY": "1"},
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(rows) == 5 and sum(1 for r in rows if not r["valid"]) == 1
    valid = [r for r in rows if r["valid"]]
    assert all(r["grounded"] == r["grounded_total"] > 0 for r in valid)
    assert all(r["prompt_tokens"] > 0 and r["cost_usd"] > 0 for r in valid)
    assert "llm:gpt-4o-mini" in done.stdout and "0.8000" in done.stdout  # the validity rate
    before = server.count
    replay = run(cli, "eval", DATA, "--limit", "5", "--offline", env={**llm_env(server), "COLUMNS": "200"})
    assert replay.returncode == 0 and server.count == before  # replayed from the cache, no request


def test_helpers():
    records = read_records(DATA, lang="de", limit=2)
    assert len(records) == 2 and all(r["lang"] == "de" for r in records)
    assert lead("One here. Two there. Three now. Four later.", 3) == "One here. Two there. Three now."
    spec = resolve("news")
    record = {
        "key_points": [{"point": "p", "evidence": "E1"}],
        "quotes": [{"speaker": "s", "text": "Q1"}],
        "summary": "not grounded",
    }
    assert sorted(grounded_strings(spec.json_schema, record)) == ["E1", "Q1"]
    german = read_records(DATA, lang="de", limit=1)
    assert score_lead(german)[0].rouge1 > 0  # non-English text is scored with Unicode words


def test_bad_data_is_a_clear_error(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no reference"}\n')
    done = run(cli, "eval", str(bad), "--engine", "extractive")
    assert done.returncode == 3 and "needs a 'text' and a 'reference'" in done.stderr


def test_costs_are_rounded_and_cached_answers_cost_nothing(cli, server, tmp_path):
    import re

    env = {**llm_env(server), "COLUMNS": "200"}
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    done = run(cli, "eval", DATA, "--limit", "2", "--report", str(first), env=env)
    assert done.returncode == 0, done.stderr
    costs = [r["cost_usd"] for r in csv.DictReader(first.open(newline=""))]
    assert all(float(c) > 0 and len(c) <= 12 for c in costs), costs  # not 0.0006170999999999999
    assert re.search(r"\$0\.\d{6}(\s|$)", done.stdout), done.stdout  # cost/article in dollars, 6 places
    assert not re.search(r"\d{3,}\.\d{4}", done.stdout), done.stdout  # tokens/article is 1566.2, not 1566.2000
    asked = server.count
    replay = run(cli, "eval", DATA, "--limit", "2", "--report", str(again), env=env)
    assert replay.returncode == 0, replay.stderr
    assert server.count == asked  # every answer from the cache...
    assert all(float(r["cost_usd"]) == 0 for r in csv.DictReader(again.open(newline="")))  # ...costs nothing
    assert "$0 " in replay.stdout or replay.stdout.rstrip().endswith("$0"), replay.stdout
