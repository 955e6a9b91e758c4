"""Every shell example in README.md and the documentation site (docs/*.md), run as written.

The fenced shell blocks are extracted from the files themselves, so an example that is edited, added
or moved is tested as it now reads. They run one after another with bash, in one fresh temporary
folder laid out like a fresh clone (examples/, eval/, tests/fixtures/fields.jsonl) plus the small
inputs the examples name (article.txt, archive/, dump.jsonl, news.zip, crawl.warc.gz, ...), with
the installed `summarizer` first on PATH and the fake OpenAI-compatible endpoint
(`summarizer.testing.FakeLLMServer`) as OPENAI_BASE_URL, so the examples that need an LLM get
one. The examples that cannot run in a test are listed in SKIPPED, each with its reason; a SKIPPED
entry that no longer matches any example fails the test, so the list cannot go stale.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summarizer.testing import (
    Answer,
    FakeLLMServer,
    Reply,
    article_of,
    default_responder,
    grounded_news,
    requested_schema,
)

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}

# Examples that cannot run in a test: the start of the command as written, and why.
SKIPPED: dict[str, str] = {
    "python3 -m venv .venv": "a README set-up command: .ci/run runs both, in a fresh copy with a fresh venv",
    ".venv/bin/pip install -e '.[dev]' && .venv/bin/mkdocs serve": "serves until stopped; .ci/run builds the site with --strict",
    "export OPENAI_API_KEY=": "needs a real OpenAI key",
    "summarizer keys set openai": "asks for a key on a terminal, without echo (tests/test_missing_pieces.py covers keys)",
    "summarizer summarize https://example.com/story": "fetches a real URL",
    "curl -s URL | summarizer summarize": "URL stands for a real page to fetch",
    "summarizer --install-completion": "writes into the user's shell start-up files",
    "summarizer batch https://example.com/a": "fetches real URLs",
    "summarizer batch 'crawl/*.warc.gz' -o out/ --runner ray": "starts a Ray cluster (tests/test_ray_runner.py)",
    "summarizer batch archive/ -o out/ --runner ray --ray-address auto": "joins a running Ray cluster and a Redis server named cache",
    "summarizer install-local": "compiles llama.cpp for 7-11 minutes (.ci/run runs it as set-up command 2)",
    "summarizer doctor": "needs the local extra that install-local builds (tests/test_real_model.py runs it)",
    "summarizer summarize article.txt --engine local": "needs the local extra that install-local builds (tests/test_real_model.py)",
    "summarizer eval eval/news_refs.jsonl --engine local": "needs the local extra that install-local builds",
    "summarizer logs show 9f3c1a2b": "9f3c1a2b stands for the start of one of your exchange ids",
    "summarizer serve": "serves until stopped (tests/test_service.py runs it as a real process)",
    "curl -s localhost:8000/v1/": "needs `summarizer serve` running (tests/test_service.py covers every endpoint)",
    "curl -s 'localhost:8000/v1/": "needs `summarizer serve` running (tests/test_service.py covers every endpoint)",
    ".venv/bin/python bench/": "a benchmark: minutes of load, and figures rather than a pass or fail",
    "python bench/": "a benchmark (on the local model: minutes per article), figures rather than a pass or fail",
}

ARTICLE = (ROOT / "examples" / "article.txt").read_text(encoding="utf-8")
PAGE = (ROOT / "examples" / "page.html").read_text(encoding="utf-8")


def shell_examples() -> list[tuple[str, str]]:
    """(where, command) for every line of every shell block; a trailing backslash joins lines."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^```([a-z]*)\n(.*?)\n```", text, re.MULTILINE | re.DOTALL):
            if match.group(1) not in SHELL_FENCES:
                continue
            first = text.count("\n", 0, match.start(2)) + 1
            pending, start = "", 0
            for offset, line in enumerate(match.group(2).split("\n")):
                if not pending:
                    start = first + offset
                if line.rstrip().endswith("\\"):
                    pending += line.rstrip()[:-1] + " "
                    continue
                command = (pending + line).strip()
                pending = ""
                if command and command not in seen:  # the same example twice is run once
                    seen.add(command)
                    found.append((f"{path.relative_to(ROOT)}:{start}", command))
    return found


EXAMPLES = shell_examples()


def skip_reason(command: str) -> str | None:
    for start, reason in SKIPPED.items():
        if command.startswith(start):
            return reason
    return None


def _write_inputs(work: Path) -> None:
    """A fresh clone's files the examples use, and the inputs they name."""
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copytree(ROOT / "eval", work / "eval")
    (work / "tests" / "fixtures").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "fields.jsonl", work / "tests" / "fixtures" / "fields.jsonl")
    (work / "docs").mkdir()
    paragraphs = [p for p in ARTICLE.split("\n\n") if p.strip()]
    second = "\n\n".join(paragraphs[: max(3, len(paragraphs) // 2)])
    (work / "article.txt").write_text(ARTICLE, encoding="utf-8")
    (work / "story.txt").write_text(ARTICLE, encoding="utf-8")
    (work / "page.html").write_text(PAGE, encoding="utf-8")
    (work / "archive" / "2024").mkdir(parents=True)
    (work / "archive" / "one.txt").write_text(ARTICLE, encoding="utf-8")
    (work / "archive" / "2024" / "page.html").write_text(PAGE, encoding="utf-8")
    (work / "archive" / "2024" / "two.md").write_text(second, encoding="utf-8")
    records = [
        {"url": "https://example.com/one", "title": "One", "text": ARTICLE, "body": ARTICLE},
        {"url": "https://example.com/two", "title": "Two", "text": second, "body": second},
    ]
    (work / "dump.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with open(work / "articles.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text"])
        writer.writeheader()
        writer.writerow({"id": "a1", "title": "One", "text": ARTICLE})
        writer.writerow({"id": "a2", "title": "Two", "text": second})
    with zipfile.ZipFile(work / "news.zip", "w") as archive:
        archive.writestr("news/one.txt", ARTICLE)
    with tarfile.open(work / "corpus.tar.gz", "w:gz") as archive:
        data = second.encode("utf-8")
        info = tarfile.TarInfo("corpus/two.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    _write_warc(work / "crawl.warc.gz")
    references = [
        {"id": str(i), "text": text, "reference": text.split("\n\n")[0]} for i, text in enumerate([ARTICLE, second])
    ]
    (work / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in references), encoding="utf-8")


def _write_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "https://example.com/page", "response", payload=io.BytesIO(PAGE.encode("utf-8")), http_headers=headers
        )
        writer.write_record(record)
    with gzip.open(path) as check:  # a readable gzip stream
        check.read(1)


def responder(request: dict[str, Any]) -> Reply:
    """The fake's usual answers, and for a schema of your own (a field list) a grounded one: a sentence of the
    article for each text field, names from the article for a list, 1 for a number."""
    properties = requested_schema(request).get("properties", {})
    if any(name in properties for name in ("key_points", "bullets", "missing_entities", "points")):
        return default_responder(request)
    news = grounded_news(article_of(request))
    sentence = news["key_points"][0]["evidence"]
    names = [entity["name"] for entity in news.get("entities", [])][:3]
    answer: dict[str, Any] = {}
    for name, spec in properties.items():
        kind = spec.get("type")
        answer[name] = (
            news[name]
            if name in ("headline", "summary")
            else sentence
            if kind == "string"
            else names
            if kind == "array"
            else True
            if kind == "boolean"
            else 1
        )
    return Answer(answer)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder) as server:
        yield server


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLMServer) -> tuple[Path, dict[str, str]]:
    """One folder for every example, in order: later ones (logs, cache export) see what earlier ones did."""
    work = tmp_path_factory.mktemp("docs-examples")
    _write_inputs(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARIZER_", "OPENAI_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(work / "home"),
            "XDG_CONFIG_HOME": str(work / "home" / ".config"),
            "XDG_CACHE_HOME": str(work / "home" / ".cache"),
            "XDG_DATA_HOME": str(work / "home" / ".local" / "share"),
            "OPENAI_BASE_URL": fake.url,
            # The fake endpoint answers in every mode: no probe for --mode auto.
            "SUMMARIZER_MODE": "tools",
            "SUMMARIZER_RETRY_BACKOFF": "0.01",
            # The fake Batch API finishes in a few polls; the example's own polling, only faster.
            "SUMMARIZER_BATCH_POLL_S": "0.2",
            "NO_COLOR": "1",
        }
    )
    return work, env


def test_skips_name_real_examples() -> None:
    commands = [command for _, command in EXAMPLES]
    stale = [start for start in SKIPPED if not any(c.startswith(start) for c in commands)]
    assert not stale, f"SKIPPED entries that match no example any more: {stale}"
    assert len(EXAMPLES) >= 40  # README and the site's pages were read


@pytest.mark.parametrize(("where", "command"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_example_runs_as_written(where: str, command: str, workspace: tuple[Path, dict[str, Any]]) -> None:
    reason = skip_reason(command)
    if reason:
        pytest.skip(f"{where}: {reason}")
    work, env = workspace
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        f"{where}: `{command}` exited {done.returncode}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
    )
