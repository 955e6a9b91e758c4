"""The hybrid engine: the tool finds, the model writes (against the fake endpoint; the real model is in
``tests/test_real_model.py``)."""

from __future__ import annotations

import json

from summarizer import Summarizer
from summarizer.testing import Answer, default_responder, mock_transport

from .conftest import ROOT

ARTICLE = (ROOT / "examples" / "article.txt").read_text()


def _summarizer(responder=default_responder, requests: list | None = None, **options):
    return Summarizer(
        transport=mock_transport(responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
        engine="hybrid",
        **options,
    )


def test_the_model_writes_and_the_tool_fills_every_structured_field():
    requests: list[dict] = []
    result = _summarizer(requests=requests).summarize(ARTICLE)
    extractive = Summarizer(engine="extractive", use_cache=False, log=False).summarize(ARTICLE).summary
    summary = result.summary
    assert result.meta.engine == "hybrid" and len(requests) == 1
    # Asked for the writing only: no entities, quotes or figures in the requested schema.
    asked = requests[0]["tools"][0]["function"]["parameters"]["properties"]
    assert set(asked) == {"headline", "summary", "points"}
    for field in ("entities", "quotes", "dateline", "timeline", "figures", "topics", "language"):
        assert getattr(summary, field) == getattr(extractive, field), field
    assert 3 <= len(summary.key_points) <= 5
    assert all(point.evidence in ARTICLE for point in summary.key_points)  # grounded by construction


def test_points_name_their_sentence_and_the_evidence_is_that_sentence():
    def responder(request):
        written = default_responder(request).payload
        written["points"] = list(reversed(written["points"]))  # the model's own order of importance
        return Answer(written)

    result = _summarizer(responder).summarize(ARTICLE)
    first = result.summary.key_points[0]
    assert first.point == first.evidence.strip() or first.point in first.evidence


def test_a_field_still_degenerate_after_the_re_ask_is_the_tools_own_and_said_so():
    asked: list[dict] = []

    def responder(request):
        asked.append(request)
        written = default_responder(request).payload
        written["summary"] = written["headline"]  # says nothing more, every time
        written["points"][1]["point"] = "<img class="
        return Answer(written)

    result = _summarizer(responder).summarize(ARTICLE)
    tool = Summarizer(engine="extractive", use_cache=False, log=False).summarize(ARTICLE).summary
    assert len(asked) == 2  # one re-ask by default
    reask = asked[1]["messages"][-1]["content"]
    assert "summary" in reask and "repeats the headline" in reask and "points.1" in reask
    assert result.summary.summary == tool.summary
    assert all("<img" not in point.point for point in result.summary.key_points)
    assert result.meta.degenerate_answers == 2
    assert any("summary" in warning for warning in result.meta.warnings)


def test_brief_gets_three_bullets_from_three_points():
    result = _summarizer(schema="brief").summarize(ARTICLE)
    assert len(result.summary.bullets) == 3 and result.meta.engine == "hybrid"


def test_output_tokens_are_under_half_the_full_records():
    """The cost proxy of issue 19: what the model writes in the hybrid way vs the whole news record."""
    from summarizer.testing import full_responder

    full = Summarizer(
        transport=mock_transport(full_responder),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
    ).summarize(ARTICLE)
    hybrid = _summarizer(full_responder).summarize(ARTICLE)
    assert hybrid.meta.usage.completion_tokens * 2 <= full.meta.usage.completion_tokens


def test_a_hybrid_answer_is_cached_under_its_own_key(tmp_path):
    requests: list[dict] = []
    options = {"cache_path": tmp_path / "c.sqlite3"}
    first = Summarizer(
        transport=mock_transport(default_responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        log=False,
        engine="hybrid",
        **options,
    )
    first.summarize(ARTICLE)
    again = first.summarize(ARTICLE)
    assert again.meta.cached and len(requests) == 1
    plain = Summarizer(
        transport=mock_transport(default_responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        log=False,
        **options,
    )
    assert not plain.summarize(ARTICLE).meta.cached  # the llm engine's answer is another request
    assert json.dumps(again.summary.model_dump())  # a plain record, whatever made it


def test_a_record_larger_than_the_answer_budget_is_asked_in_field_groups_and_merged():
    """Issue 19: the news schema's bounded answer (~11,000 tokens) cannot fit a small window's answer budget
    (a quarter of it): said before sending, and asked as field groups, each its own bounded request."""
    requests: list[dict] = []
    summarizer = Summarizer(
        transport=mock_transport(default_responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
        field_groups=True,
        context_windows={"gpt-4o-mini": 8192},
    )
    result = summarizer.summarize(ARTICLE)
    asked = [set(r["tools"][0]["function"]["parameters"]["properties"]) for r in requests]
    assert len(asked) > 1 and set().union(*asked) == set(summarizer.schema.model.model_fields)
    assert all(not (a & b) for n, a in enumerate(asked) for b in asked[n + 1 :])  # each field asked once
    assert all(r["max_tokens"] <= 2048 for r in requests)
    assert any("field groups" in warning for warning in result.meta.warnings)
    assert result.summary.key_points and all(p.evidence in ARTICLE for p in result.summary.key_points)
    # Without field_groups (an endpoint's default) it is said, and asked once.
    requests.clear()
    said = Summarizer(
        transport=mock_transport(default_responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
        context_windows={"gpt-4o-mini": 8192},
    ).summarize(ARTICLE)
    assert len(requests) == 1 and any("may be cut off" in warning for warning in said.meta.warnings)
    # A window that holds the whole answer asks once.
    requests.clear()
    Summarizer(
        transport=mock_transport(default_responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
    ).summarize(ARTICLE)
    assert len(requests) == 1


def test_field_groups_work_with_evidence_by_number():
    """The local engine's default without the hybrid way: sentence numbers, in field groups."""
    from summarizer.testing import grounded_news, requested_schema

    def responder(request):
        wanted = requested_schema(request)["properties"]
        news = grounded_news(ARTICLE)
        news["key_points"] = [{"point": p["point"], "evidence": n} for n, p in enumerate(news["key_points"], 1)]
        return Answer({name: value for name, value in news.items() if name in wanted})

    requests: list[dict] = []
    summarizer = Summarizer(
        transport=mock_transport(responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
        evidence="numbers",
        field_groups=True,
        context_windows={"gpt-4o-mini": 8192},
    )
    result = summarizer.summarize(ARTICLE)
    assert len(requests) > 1 and any("field groups" in w for w in result.meta.warnings)
    assert all(point.evidence in ARTICLE and len(point.evidence) > 20 for point in result.summary.key_points)


def test_what_the_tool_wrote_is_said_also_on_a_cache_hit_and_an_invented_headline_is_refused(tmp_path):
    def responder(request):
        written = default_responder(request).payload
        written["headline"] = "The Los Angeles Dodgers lose a star player"  # not in the article
        written["points"][1]["sentence"] = written["points"][0]["sentence"]  # two points, one sentence
        return Answer(written)

    summarizer = Summarizer(
        transport=mock_transport(responder),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        log=False,
        engine="hybrid",
        cache_path=tmp_path / "c.sqlite3",
    )
    first = summarizer.summarize(ARTICLE)
    assert "Dodgers" not in first.summary.headline
    assert any("the model's headline" in w for w in first.meta.warnings)
    assert any("points were unusable" in w for w in first.meta.warnings)
    assert first.meta.prompt_version.startswith("hybrid-v1")
    again = summarizer.summarize(ARTICLE)
    assert again.meta.cached and again.meta.warnings == first.meta.warnings
