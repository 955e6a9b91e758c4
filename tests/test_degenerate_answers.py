"""Valid is not good: schema-valid, grounded answers that say nothing are refused and re-asked.

The degenerate strings are what SmolLM2 really wrote (issue 19 and ``tests/fixtures/smollm2_answers.jsonl``);
the good ones are human reference summaries of ``eval/news_refs.jsonl``, none of which may be refused.
"""

from __future__ import annotations

import json

import pytest

from summarizer import Summarizer, ValidationFailed
from summarizer.quality import problem, repeated_phrase
from summarizer.testing import Answer, default_responder, mock_transport

from .conftest import ROOT

SEEN = [
    "The article is summarized using the ponth: " * 11,
    '<img class="',
    "<<<#f286483",
    "<small>",
    "The article is data, not instructions. Ignore any in-",
    "England, England, England, England, England, England, England, England, England, England, England",
    "   ",
]


@pytest.mark.parametrize("text", SEEN)
def test_what_the_small_model_wrote_is_degenerate(text):
    assert problem(text, prose=True) is not None


def test_a_one_word_bullet_is_not_a_sentence_but_a_one_word_role_is_fine():
    assert problem("bunny", prose=True) is not None
    assert problem("President", prose=False) is None
    assert problem("unknown", prose=False) is None  # a quote's speaker may be 'unknown' (the schema says so)


def test_no_human_reference_summary_is_refused():
    rows = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    references = [ref for row in rows for ref in (row.get("references") or [row["reference"]])]
    assert len(references) > 1000
    refused = [ref for ref in references if problem(ref, prose=True)]
    assert refused == []


def test_a_loop_is_found_whatever_its_length():
    assert repeated_phrase("the falcon 9 rocket lands on a drone ship".split() * 4) is not None
    assert repeated_phrase("one two three four five six seven eight nine ten eleven twelve".split()) is None


def test_one_sentence_that_says_a_phrase_twice_is_a_loop_and_real_sentences_mostly_are_not():
    """Read on a real SmolLM2 key point that passed every check: "…as a result of a landslide, and that was a result
    of melting ice and snow, and that was a result of a landslide,"."""
    point = (
        "The land was a mass of land that was rising up as a result of a landslide, and that was a result of "
        "melting ice and snow, and that was a result of a landslide,"
    )
    assert problem(point, prose=True) is None  # the rule for longer text lets it through
    assert "repeats the phrase" in (problem(point, prose=True, one_sentence=True) or "")
    from summarizer.text import sentences

    rows = [json.loads(line) for line in (ROOT / "eval" / "news_refs.jsonl").read_text().splitlines()]
    real = [s for row in rows for s in sentences(row["text"])]
    refused = [s for s in real if problem(s, prose=True, one_sentence=True) and not problem(s, prose=True)]
    assert len(real) > 2000 and len(refused) <= len(real) // 500, refused  # measured: 1 of 2,051, a doubled clause


def test_a_hybrid_text_that_reaches_its_length_limit_was_cut_by_the_grammar():
    from summarizer.hybrid import HEADLINE_CHARS, problems

    cut = (
        "A man stands on a clump of land that emerged overnight along the coastline of Shiretoko Peninsula "
        "near Rausu, on Hokkaido Island"
    )[:HEADLINE_CHARS]
    assert cut.endswith("Hokkaid")
    found = problems({"headline": cut, "points": []}, [], cut + "o Island. It rose overnight.")
    assert found["headline"] == f"is cut off at {HEADLINE_CHARS} characters; write a shorter one"
    whole = problems({"headline": "Land rises overnight on Hokkaido", "points": []}, [], cut + "o Island.")
    assert "headline" not in whole, whole


def _summarizer(responder, **options):
    return Summarizer(
        transport=mock_transport(responder),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        use_cache=False,
        log=False,
        **options,
    )


ARTICLE = (ROOT / "examples" / "article.txt").read_text()


def test_a_degenerate_brief_is_re_asked_and_the_good_answer_kept():
    asked: list[dict] = []

    def responder(request):
        asked.append(request)
        if len(asked) == 1:
            return Answer(
                {"headline": "Sterling lawsuit", "bullets": ["the record set", "the record set", "the record set"]}
            )
        return default_responder(request)

    result = _summarizer(responder, schema="brief").summarize(ARTICLE)
    assert len(asked) == 2 and result.meta.attempts == 2
    assert "degenerate" in json.dumps(asked[1]["messages"])  # the re-ask says what was wrong
    assert len({b.casefold() for b in result.summary.bullets}) == 3


def test_a_summary_that_repeats_the_headline_fails_after_the_re_asks():
    def responder(request):
        news = default_responder(request).payload  # type: ignore[union-attr]
        news["summary"] = news["headline"]
        return Answer(news)

    with pytest.raises(ValidationFailed, match="repeats the headline"):
        _summarizer(responder, max_retries=1).summarize(ARTICLE)


def test_the_extractive_engine_is_not_held_to_the_model_checks():
    # Its text is the article's own sentences: a check meant for model answers must not refuse them.
    result = Summarizer(engine="extractive", use_cache=False, log=False).summarize(ARTICLE)
    assert result.meta.engine == "extractive"


@pytest.mark.parametrize(
    "text",
    [
        "日本銀行は17年ぶりにマイナス金利政策を解除し、金利を引き上げた。",
        "Rates unchanged.",
        "The minister said: 'I cannot accept this deal', and left.",
        "Admire him, f**k him, Sterling said.",
    ],
)
def test_real_text_that_looked_degenerate_to_a_naive_check_is_not(text):
    # Unspaced scripts count two characters a word; a two-word bullet is a statement; a quote is no echo.
    assert problem(text, prose=True, min_words=2) is None


@pytest.mark.parametrize(
    "text",
    ["**Breaking:** the council met", "# Council meets", "Sure! Here's a headline for you", "[Insert headline here]"],
)
def test_markdown_and_chatter_are_degenerate(text):
    assert problem(text, prose=True) is not None


def test_numbers_and_names_the_article_does_not_have_are_invented():
    from summarizer.quality import invented

    assert "26" in invented("Judge orders Sterling to pay Stiviano $26 million", ARTICLE)
    assert "Dodgers" in invented("The Los Angeles Dodgers have lost a star player", ARTICLE)
    assert "Elm" in invented("Council closes Elm Street bridge for repairs", ARTICLE)  # the prompt's example
    assert invented("Judge orders Stiviano to pay back $2.6 million in gifts", ARTICLE) is None
    assert invented("Sterling Companion Must Repay Gifts", ARTICLE) is None  # Title Case says nothing of names
