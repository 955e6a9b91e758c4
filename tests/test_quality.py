"""Token counting, long articles (map-reduce), output language, styles and Chain of Density."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from pydantic import ValidationError

from summarizer import chunking, tokens
from summarizer.density import DenseRound, density_context
from summarizer.errors import ConfigError
from summarizer.grounding import grounding_context
from summarizer.testing import Answer, article_of, default_responder, grounded_news
from summarizer.text import normalize

from .test_batch import run_batch, write_jsonl

# -- tokens -------------------------------------------------------------------------------------------


def test_openai_models_count_exactly_and_others_are_estimated_and_flagged(article):
    import bpe_openai

    exact = tokens.count(article, "gpt-4o-mini")
    assert exact.exact and exact.encoding == "o200k_base"
    assert exact.tokens == len(bpe_openai.get_encoding("o200k_base").encode(article))
    assert tokens.count(article, "gpt-4-0613").encoding == "cl100k_base"
    guess = tokens.count(article, "llama3.1:8b")
    assert not guess.exact and 0.8 * exact.tokens <= guess.tokens <= 1.35 * exact.tokens


def test_estimates_follow_the_script(multilingual):
    import bpe_openai

    encoding = bpe_openai.get_encoding("o200k_base")
    for item in multilingual:
        real = len(encoding.encode(item["text"]))
        assert 0.8 * real <= tokens.estimate(item["text"]) <= 1.5 * real, item["lang"]


def test_context_windows_by_name_family_and_override():
    assert tokens.context_window("gpt-4o-mini") == 128_000
    assert tokens.context_window("gpt-4o-mini-2024-07-18") == 128_000
    assert tokens.context_window("llama3.1:8b") == 131_072
    assert tokens.context_window("my-local-model") == tokens.DEFAULT_CONTEXT
    assert tokens.context_window("my-local-model", {"my-local-model": 32_000}) == 32_000


def test_meta_reports_input_tokens(make, server, article):
    result = make(use_cache=False).summarize(article)
    assert result.meta.input_tokens == tokens.count(article, "gpt-4o-mini").tokens
    assert result.meta.tokens_estimated is False and result.meta.chunks == 1
    local = make(use_cache=False, model="llama3.1").summarize(article)
    assert local.meta.tokens_estimated is True


# -- long articles ------------------------------------------------------------------------------------


def long_article(articles: list[dict[str, Any]], words: int) -> str:
    paragraphs: list[str] = []
    count = 0
    edition = 0
    while count < words:
        edition += 1
        for item in articles:
            if item["lang"] != "en":
                continue
            text = f"Edition {edition}. {item['text'].strip()}"
            paragraphs.append(text)
            count += len(text.split())
            if count >= words:
                break
    return "\n\n".join(paragraphs)


def test_split_makes_overlapping_slices_within_the_budget(articles):
    text = long_article(articles, 6000)
    count = lambda part: tokens.count(part, "gpt-4o-mini").tokens  # noqa: E731
    parts = chunking.split(text, 1500, count, overlap_tokens=100)
    assert len(parts) >= 5
    assert all(part in text and count(part) <= 1500 for part in parts)
    for before, after in itertools.pairwise(parts):
        assert text.index(after) < text.index(before) + len(before)  # they overlap
    assert text.index(parts[-1]) + len(parts[-1]) == len(text.rstrip())  # nothing at the end is left out
    assert text.startswith(parts[0])


def test_a_50000_word_article_is_mapped_then_reduced_and_stays_grounded(make, server, articles):
    text = long_article(articles, 50_000)
    assert len(text.split()) >= 50_000
    result = make(use_cache=False, chunk_tokens=8000, max_input_chars=1_000_000).summarize(text)
    meta = result.meta
    assert meta.chunks >= 8 and meta.reduce_steps == 1
    assert server.count == meta.requests == meta.chunks + meta.reduce_steps
    assert all(normalize(point.evidence) in normalize(text) for point in result.summary.key_points)
    parts_asked = [article_of(r) for r in server.requests[: meta.chunks]]
    assert all(part and part in text for part in parts_asked)
    assert "<<<PARTS" in server.requests[-1]["messages"][-1]["content"]


def test_a_tight_budget_merges_in_several_rounds_async_too(make, server, articles):
    text = long_article(articles, 12_000)
    summarizer = make(use_cache=False, chunk_tokens=1200, max_input_chars=1_000_000)
    result = asyncio.run(summarizer.asummarize(text))
    meta = result.meta
    assert meta.reduce_steps >= 2  # the partial records did not fit one merge
    assert server.count == meta.requests == meta.chunks + meta.reduce_steps
    assert all(normalize(q.text) in normalize(text) for q in result.summary.quotes)


def test_long_articles_in_a_batch(make, server, articles, tmp_path):
    rows = [{"id": "long", "text": long_article(articles, 8_000)}, {"id": "short", "text": articles[0]["text"]}]
    out = tmp_path / "out.jsonl"
    stats = run_batch(
        make(chunk_tokens=2000, max_input_chars=1_000_000), [str(write_jsonl(tmp_path / "in.jsonl", rows))], output=out
    )
    lines = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert stats.done == 2 and lines["long"]["meta"]["chunks"] > 1 and lines["short"]["meta"]["chunks"] == 1
    assert stats.requests == server.count


# -- language -------------------------------------------------------------------------------------------


def test_output_language_is_asked_for_and_quotes_stay_in_the_source_language(make, server, multilingual):
    urdu = next(item for item in multilingual if item["lang"] == "ur")
    result = make(use_cache=False).summarize(urdu["text"], language="EN")
    prompt = server.requests[-1]["messages"][-1]["content"]
    assert 'ISO 639-1 code "en"' in prompt and "do not translate them" in prompt
    assert result.meta.language == "en" and result.meta.source_language == "ur"
    assert all(point.evidence in urdu["text"] for point in result.summary.key_points)  # verbatim, in Urdu


@pytest.mark.parametrize("lang", ["ar", "fr", "fa", "ur"])
def test_source_language_is_detected(make, server, multilingual, lang):
    item = next(item for item in multilingual if item["lang"] == lang)
    assert make(use_cache=False).summarize(item["text"]).meta.source_language == lang


def test_language_is_part_of_the_cache_key_and_must_be_a_code(make, server, article):
    summarizer = make()
    summarizer.summarize(article, language="de")
    assert summarizer.summarize(article, language="de").meta.cached
    assert not summarizer.summarize(article, language="fr").meta.cached
    with pytest.raises(ConfigError, match="ISO 639-1"):
        summarizer.summarize(article, language="german")


def test_the_extractive_engine_says_it_cannot_translate(article):
    from summarizer import Summarizer

    result = Summarizer(engine="extractive").summarize(article, language="de")
    assert result.meta.source_language == "en" and any("cannot write in 'de'" in w for w in result.meta.warnings)


# -- styles and Chain of Density -----------------------------------------------------------------------------


def test_brief_style_reaches_the_prompt(make, server, article):
    make(use_cache=False).summarize(article, style="brief")
    assert "Keep it brief" in server.requests[-1]["messages"][-1]["content"]
    with pytest.raises(ConfigError, match=r"style.*brief.*standard.*dense"):
        make().summarize(article, style="florid")


def test_dense_style_runs_rounds_that_keep_every_entity_and_grow_denser(make, server, article):
    result = make(use_cache=False, density_rounds=3).summarize(article, style="dense")
    rounds = result.meta.rounds
    assert [r["round"] for r in rounds] == [0, 1, 2, 3] and server.count == 4 == result.meta.requests
    for before, after in itertools.pairwise(rounds):
        assert set(before["entities"]) <= set(after["entities"]) and after["added"]
        assert after["density"] >= before["density"]
        assert all(normalize(e).casefold() in normalize(after["summary"]).casefold() for e in after["entities"])
        assert 0.75 * rounds[0]["words"] <= after["words"] <= 1.3 * rounds[0]["words"]
    assert result.summary.summary == rounds[-1]["summary"] and result.meta.style == "dense"


def test_a_round_that_drops_an_entity_is_re_asked(make, server, article):
    first = make(use_cache=False, density_rounds=1)
    server.push(
        Answer(grounded_news(article)),
        Answer({"missing_entities": ["Stiviano"], "summary": "A short summary that forgot everything."}),
    )
    result = first.summarize(article, style="dense")
    assert result.meta.attempts == 3  # the record, the refused round, the accepted round
    refused = server.requests[2]["messages"][-1]["content"]
    assert "dropped entities" in refused or "does not contain" in refused or "words" in refused


def test_dense_round_validator_rules(article):
    context = density_context(grounding_context(article), ["Sterling"], 20, 3, 0.05)
    ok = "Donald Sterling lost an NBA team and V. Stiviano must repay gifts worth more than $2.6 million to his wife Shelly soon."
    DenseRound.model_validate({"missing_entities": ["Stiviano"], "summary": ok}, context=context)
    cases = [
        ({"missing_entities": ["Stiviano"], "summary": ok.replace("Sterling", "he")}, "dropped entities"),
        ({"missing_entities": ["Ferrari"], "summary": ok}, "does not contain"),
        ({"missing_entities": ["Atlantis"], "summary": ok + " Atlantis."}, "does not occur in the article"),
        ({"missing_entities": ["Stiviano"], "summary": ok + " " + ok}, "words"),
    ]
    for payload, message in cases:
        with pytest.raises(ValidationError, match=message):
            DenseRound.model_validate(payload, context=context)
    sparse = density_context(grounding_context(article), ["Sterling"], 20, 3, 0.5)  # the floor: 0.5 entities a word
    with pytest.raises(ValidationError, match="entity density"):
        DenseRound.model_validate({"missing_entities": ["Stiviano"], "summary": ok}, context=sparse)


def test_dense_needs_a_summary_field(make, article):
    with pytest.raises(ConfigError, match="summary"):
        make().summarize(article, schema="brief", style="dense")


def test_a_merge_that_keeps_duplicates_is_deduplicated(make, server, articles):
    from summarizer.testing import merged_news

    text = long_article(articles, 3_000)
    summarizer = make(use_cache=False, chunk_tokens=2500, max_input_chars=1_000_000)

    def sloppy(request: dict[str, Any]) -> Any:
        content = request["messages"][-1]["content"]
        if "<<<PARTS" not in content:
            return default_responder(request)
        parts = json.loads(content.split(">>>\n", 1)[1].rsplit("\n<<<END PARTS", 1)[0])
        merged = merged_news(parts)
        merged["key_points"] = merged["key_points"][:3] + merged["key_points"][:3]  # the same three, twice
        return Answer(merged)

    server.responder = sloppy
    try:
        result = summarizer.summarize(text)
    finally:
        server.responder = default_responder
    evidence = [p.evidence for p in result.summary.key_points]
    # The same item twice is a degenerate answer (summarizer.quality): the merge is re-asked, saying so.
    assert result.meta.chunks > 1 and len(evidence) == len(set(evidence)) >= 3
    assert any("the same item appears twice" in json.dumps(r["messages"]) for r in server.requests)


def test_dense_style_on_a_long_article(make, server, articles):
    text = long_article(articles, 4_000)
    result = make(use_cache=False, chunk_tokens=2500, density_rounds=2).summarize(text, style="dense")
    meta = result.meta
    assert meta.chunks > 1 and len(meta.rounds) == 3
    assert server.count == meta.requests == meta.chunks + meta.reduce_steps + 2
    densify_prompt = server.requests[-1]["messages"][-1]["content"]
    assert len(densify_prompt) < len(text)  # the density rounds see the opening part, not the whole article
