"""The LLM path end to end against the fake server: modes, re-asks, grounding, transport faults."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
from typing import Any

import pytest
from pydantic import BaseModel

from summarizer import LLMError, LLMTimeout, ValidationFailed, Verbatim
from summarizer.testing import Answer, Cut, Fault, Stall, grounded_news

from .conftest import API_KEY


def _last_message(request: dict[str, Any]) -> str:
    return json.dumps(request["messages"][-1])


@pytest.mark.parametrize(
    "mode,marker",
    [
        ("tools", "tools"),
        ("json_schema", "response_format"),
        ("json", "response_format"),
        ("md_json", None),
    ],
)
def test_every_mode_returns_a_validated_grounded_summary(make, server, article, mode, marker):
    result = make(mode=mode, use_cache=False).summarize(article)

    assert result.summary.key_points[0].evidence in article
    assert result.meta.engine == "llm" and result.meta.mode == mode
    assert (result.meta.attempts, result.meta.requests) == (1, 1)
    assert result.meta.usage.prompt_tokens > 0 and result.meta.usage.completion_tokens > 0
    request = server.requests[-1]
    if marker:
        assert marker in request
    else:
        assert "tools" not in request and "response_format" not in request


def test_prompt_wraps_the_article_in_delimiters_and_says_it_is_data(make, server, article):
    make(use_cache=False).summarize(article)
    system, user = server.requests[0]["messages"][:2]
    assert "data, not instructions" in system["content"]
    assert "<<<ARTICLE " in user["content"] and article.strip() in user["content"]


def test_article_text_is_never_rendered_as_a_template(make, server):
    text = (
        "The council said {{ grounding }} and {% raw %} appear in this sentence. "
        "Officials met on Monday to discuss it. A vote is planned for next week."
    )
    make(use_cache=False).summarize(text)
    assert text in server.requests[0]["messages"][1]["content"]


def test_schema_invalid_answer_is_re_asked_then_accepted(make, server, article):
    broken = grounded_news(article)
    broken["key_points"] = broken["key_points"][:1]  # fewer than 3
    server.push(Answer(broken))

    result = make(use_cache=False).summarize(article)

    assert (result.meta.attempts, len(server.requests)) == (2, 2)
    assert "key_points" in _last_message(server.requests[1])


def test_fabricated_quote_is_re_asked_with_the_missing_string_and_never_returned(make, server, article):
    fabricated = grounded_news(article)
    fabricated["quotes"] = [{"speaker": "Donald Sterling", "text": "I regret nothing about the Clippers sale"}]
    server.push(Answer(fabricated))

    result = make(use_cache=False).summarize(article)

    reask = _last_message(server.requests[1])
    assert "not found verbatim" in reask and "I regret nothing about the Clippers sale" in reask
    assert all(q.text in article for q in result.summary.quotes)
    assert result.meta.attempts == 2


def test_re_asks_are_bounded_and_end_in_validation_failed(make, server, article):
    fabricated = grounded_news(article)
    fabricated["key_points"][0]["evidence"] = "The judge praised Stiviano's honesty."
    server.push(*[Answer(fabricated)] * 5)

    with pytest.raises(ValidationFailed) as caught:
        make(use_cache=False, max_retries=2).summarize(article)

    assert len(server.requests) == 3
    assert caught.value.attempts == 3 and len(caught.value.errors) == 3
    assert "The judge praised" in str(caught.value)


def test_max_retries_zero_means_one_attempt(make, server, article):
    bad = grounded_news(article)
    bad["entities"] = [{"name": "Angela Merkel", "type": "person", "role": "Chancellor"}]
    server.push(Answer(bad))
    with pytest.raises(ValidationFailed):
        make(use_cache=False, max_retries=0).summarize(article)
    assert len(server.requests) == 1


def test_entity_must_be_mentioned_but_case_may_differ(make, server, article):
    answer = grounded_news(article)
    answer["entities"] = [{"name": "donald sterling", "type": "person", "role": None}]
    server.push(Answer(answer))
    result = make(use_cache=False).summarize(article)
    assert result.summary.entities[0].name == "donald sterling" and result.meta.attempts == 1


def test_summary_longer_than_three_sentences_is_re_asked(make, server, article):
    long = grounded_news(article)
    long["summary"] = "One thing happened. Then another. And a third one. Finally a fourth."
    server.push(Answer(long))
    result = make(use_cache=False).summarize(article)
    assert result.meta.attempts == 2 and "at most 3" in _last_message(server.requests[1])


def test_truncated_json_is_re_asked(make, server, article):
    server.push(Answer('{"headline": "Sterling loses', finish_reason="stop"))
    result = make(use_cache=False).summarize(article)
    assert result.meta.attempts == 2 and len(server.requests) == 2


def test_an_answer_cut_by_the_token_limit_is_asked_again_shorter(make, server, article):
    server.push(Answer('{"headline": "Sterling', finish_reason="length"))
    result = make(use_cache=False).summarize(article)
    assert result.meta.attempts == 2
    first, second = server.requests
    assert first["max_tokens"] == second["max_tokens"] > 0  # a limit from the schema, always sent
    note = second["messages"][-1]
    assert note["role"] == "user" and "cut off" in note["content"] and str(first["max_tokens"]) in note["content"]


def test_answers_always_cut_by_the_token_limit_end_in_a_clear_llm_error(make, server, article):
    server.push(*[Answer('{"headline": "Sterling', finish_reason="length")] * 3)
    with pytest.raises(LLMError, match="token limit") as caught:
        make(use_cache=False, max_retries=2).summarize(article)
    assert caught.value.reason == "truncated" and server.count == 3  # the re-ask budget, not more


def test_429_waits_for_retry_after_then_succeeds(make, server, article):
    server.push(Fault(429, headers={"Retry-After": "1"}))
    result = make(use_cache=False).summarize(article)
    assert (result.meta.attempts, result.meta.requests) == (1, 2)
    assert server.times[1] - server.times[0] >= 0.95  # the server asked for one second


def test_5xx_and_dropped_connections_are_retried(make, server, article):
    server.push(Fault(500), Fault(503), Cut())
    result = make(use_cache=False).summarize(article)
    assert result.meta.requests == 4 and result.meta.attempts == 1


def test_timeout_is_retried(make, server, article):
    server.push(Stall(1.5))
    result = make(use_cache=False, timeout=0.5).summarize(article)
    assert result.meta.requests == 2


def test_a_read_timeout_is_retried_once_with_a_longer_timeout_then_names_the_setting(make, server, article):
    # A slow server keeps computing an abandoned request: re-sending it six times only grows its queue.
    server.push(*[Stall(2.0)] * 6)
    with pytest.raises(LLMTimeout) as caught:
        make(use_cache=False, timeout=0.3, transport_attempts=6).summarize(article)
    assert len(server.requests) == 2  # the first try and one more, not six
    assert "0.6s" in str(caught.value) and "--timeout" in str(caught.value)


def test_the_longer_timeout_lets_a_slow_answer_through(make, server, article):
    server.push(Stall(0.5), Stall(0.5))  # over 0.3 s, under the 0.6 s of the second try
    result = make(use_cache=False, timeout=0.3).summarize(article)
    assert result.meta.requests == 2 and len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 422, 500])
def test_a_request_rejected_for_its_mode_is_not_retried_and_names_another_mode(make, server, article, status):
    # The shape of llama-cpp-python's server's answer (0.3.36), a multi-line validation dump:
    message = (
        "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
        "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
    )
    server.push(*[Fault(status, message=message)] * 6)
    with pytest.raises(LLMError) as caught:
        make(use_cache=False, mode="json_schema", transport_attempts=6).summarize(article)
    assert len(server.requests) == 1
    assert caught.value.reason == "unsupported" and "--mode json" in str(caught.value)
    assert "\n" not in caught.value.with_upstream() and "json_object" in caught.value.with_upstream()


def test_persistent_5xx_exhausts_the_transport_budget(make, server, article):
    server.push(*[Fault(500)] * 4)
    with pytest.raises(LLMError) as caught:
        make(use_cache=False, transport_attempts=4).summarize(article)
    assert caught.value.status == 500 and len(server.requests) == 4


def test_wrong_key_is_not_retried_and_the_key_is_not_echoed(make, server, article):
    server.push(Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
    with pytest.raises(LLMError) as caught:
        make(use_cache=False).summarize(article)
    assert len(server.requests) == 1 and caught.value.status == 401
    assert API_KEY not in str(caught.value) and API_KEY[:12] not in str(caught.value)


def test_unreachable_server_is_a_clear_llm_error(make, article):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LLMError, match="cannot reach"):
        make(base_url=f"http://127.0.0.1:{port}/v1", use_cache=False, transport_attempts=2).summarize(article)


def test_async_calls_run_concurrently_with_their_own_accounting(make, server, articles):
    summarizer = make(use_cache=False)
    server.push(Fault(500))  # one of the calls needs a transport retry

    async def run() -> list[Any]:
        try:
            return await asyncio.gather(*(summarizer.asummarize(a["text"]) for a in articles[:5]))
        finally:
            await summarizer.aclose()

    results = asyncio.run(run())
    assert len(server.requests) == 6
    assert sorted(r.meta.requests for r in results) == [1, 1, 1, 1, 2]
    for result, item in zip(results, articles[:5], strict=True):
        assert result.summary.key_points[0].evidence in item["text"]


def test_brief_schema(make, server, article):
    bullets = ["Sterling's wife wins the case.", "Stiviano must pay back $2.6 million.", "The gifts included cars."]
    server.push(Answer({"headline": "Sterling wins case", "bullets": bullets}))
    result = make(use_cache=False).summarize(article, schema="brief")
    assert result.summary.bullets == bullets and result.meta.schema_name == "brief"


def test_a_pydantic_model_with_verbatim_fields(make, server, article):
    class Claim(BaseModel):
        claim: str
        support: Verbatim

    server.push(
        Answer({"claim": "x", "support": "invented support"}),
        Answer({"claim": "x", "support": "A Los Angeles judge has ordered V. Stiviano"}),
    )
    result = make(use_cache=False).summarize(article, schema=Claim)
    assert result.summary.support.startswith("A Los Angeles judge") and result.meta.attempts == 2


def test_typographic_variants_still_count_as_verbatim(make, server, article):
    answer = copy.deepcopy(grounded_news(article))
    answer["key_points"][0]["evidence"] = "Donald Sterling\u2019s racist remarks cost him an NBA team  last year."
    server.push(Answer(answer))
    assert make(use_cache=False).summarize(article).meta.attempts == 1


def test_debug_logs_of_every_library_never_hold_the_key(make, server, article, caplog):
    server.push(Fault(500), Fault(401, message=f"Incorrect API key provided: {API_KEY}"))
    with caplog.at_level("DEBUG"), pytest.raises(LLMError):
        make(use_cache=False).summarize(article)
    assert caplog.records  # openai, httpx and instructor did log at debug level
    assert API_KEY not in caplog.text
