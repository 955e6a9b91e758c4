"""SmolLM2's real answers (recorded by ``tests/fixtures/record_answers.py``), replayed through the validators.

Deterministic and fast: no model runs. Each recorded answer must get the verdict it got when it was
recorded: valid, or invalid for the same first reason. A change to the validators, the schemas or the
answer handling that flips a verdict shows up here, on real model output rather than on answers the fake
writes for itself. Re-record after a deliberate change (the command is in the fixture script's docstring).
"""

from __future__ import annotations

import json

import pytest

from summarizer import LLMError, Summarizer, ValidationFailed
from summarizer.testing import Cassette, mock_transport

from .conftest import FIXTURES, ROOT

CASSETTE = FIXTURES / "smollm2_answers.jsonl"


@pytest.fixture(scope="module")
def cassette() -> Cassette:
    return Cassette(CASSETTE)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    return {row["id"]: row["text"] for row in rows}


def test_the_cassette_holds_real_answers_for_about_twenty_articles_per_schema(cassette):
    by_schema: dict[str, int] = {}
    for row in cassette.rows:
        by_schema[row["schema"]] = by_schema.get(row["schema"], 0) + 1
        assert row["model"].startswith("SmolLM2-135M-Instruct") and row["answer"]
    assert by_schema and all(count >= 15 for count in by_schema.values())
    verdicts = {row["verdict"] == "ok" for row in cassette.rows}
    assert verdicts == {True, False}  # some pass, some do not: a real small model


def test_every_recorded_answer_gets_the_verdict_it_was_recorded_with(cassette, texts, tmp_path):
    requests: list[dict] = []
    for row in cassette.rows:
        summarizer = Summarizer(
            transport=mock_transport(cassette.responder, requests),
            base_url="http://fake/v1",
            api_key="k",
            mode="tools",
            schema=row["schema"],
            max_retries=0,
            use_cache=False,
            log=False,
        )
        article = texts[row["article_id"]]
        try:
            result = summarizer.summarize(article)
            verdict = "ok"
        except ValidationFailed as failed:
            verdict = failed.errors[-1][0]["msg"]
            result = None
        except LLMError as error:  # a recorded answer the token limit cut
            verdict = str(error.reason)
            result = None
        assert verdict == row["verdict"], (row["article_id"], row["schema"])
        if result is not None and hasattr(result.summary, "quote"):
            from summarizer.text import normalize

            assert normalize(result.summary.quote) in normalize(article)  # grounded, or it would have failed
    assert len(requests) == len(cassette.rows)  # one answer each, every one found by its key


def test_an_unrecorded_request_is_an_error_not_an_invented_answer(cassette):
    summarizer = Summarizer(
        transport=mock_transport(cassette.responder),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        schema="brief",
        max_retries=0,
        use_cache=False,
        log=False,
    )
    with pytest.raises(LLMError):
        summarizer.summarize("A text nobody recorded. It has three sentences. This is the third one.")
