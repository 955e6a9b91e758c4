"""The offline engine on real articles: grounded, deterministic, and better than a naive pick."""

from __future__ import annotations

import re
from collections import Counter

from summarizer import Summarizer
from summarizer.extractive import summarize
from summarizer.grounding import grounding_context
from summarizer.schemas import clip_to_limits, resolve
from summarizer.text import count_sentences


def _f1(candidate: str, reference: str) -> float:
    a = Counter(re.findall(r"\w+", candidate.lower()))
    b = Counter(re.findall(r"\w+", reference.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    p, r = common / sum(a.values()), common / sum(b.values())
    return 2 * p * r / (p + r)


def test_every_real_article_gives_a_valid_grounded_news_record(articles, multilingual):
    news = resolve("news")
    for item in articles + multilingual:
        record = clip_to_limits(summarize(item["text"]), news.json_schema)  # as as_result does
        news.model.model_validate(record, context=grounding_context(item["text"]))  # raises if ungrounded
        assert count_sentences(record["summary"]) <= 3
        assert 3 <= len(record["key_points"]) <= 7
        for quote in record["quotes"]:
            assert quote["text"] in item["text"]


def test_it_is_deterministic(articles):
    assert [summarize(a["text"]) for a in articles[:5]] == [summarize(a["text"]) for a in articles[:5]]


def test_it_beats_picking_the_last_sentences(articles):
    from summarizer.text import sentences

    ours = [_f1(summarize(a["text"])["summary"], a["reference"]) for a in articles]
    tail = [_f1(" ".join(sentences(a["text"])[-3:]), a["reference"]) for a in articles]
    assert sum(ours) > sum(tail) * 1.2


def test_entities_quotes_and_figures_on_a_known_article(article):
    record = summarize(article)
    names = {e["name"]: e for e in record["entities"]}
    assert names["Donald Sterling"]["type"] == "person" and names["V. Stiviano"]["type"] == "person"
    assert names["CNN"]["type"] == "organization" and names["Los Angeles"]["type"] == "location"
    assert {
        "speaker": "Pierce O'Donnell",
        "text": "This is a victory for the Sterling family in recovering "
        "the $2,630,000 that Donald lavished on a conniving mistress,",
    } in record["quotes"]
    assert "$2.6 million" in [f["value"] for f in record["figures"]]
    assert record["language"] == "en" and not record["headline"].startswith("(CNN)")


def test_language_is_detected_for_non_english(multilingual):
    codes = {summarize(item["text"])["language"] for item in multilingual}
    assert {"ur", "ar"} <= codes


def test_without_an_llm_the_summarizer_uses_it(article):
    result = Summarizer().summarize(article)
    assert result.meta.engine == "extractive" and result.meta.model is None
    assert result.summary.key_points[0].evidence in article


def test_a_quote_the_story_prints_twice_is_one_quote():
    """A pull quote repeats a quote of the body: the record says it once (a model's record with it twice is
    refused as a loop by the same rule, so the fake server's full-size answers, built from this record, must
    not have it either)."""
    from summarizer.quality import marker

    quote = '"We will rebuild the bridge before the winter comes," said Mayor Anna Berg.'
    text = (
        "The river flooded the old town on Monday. " + quote + " The council met on Tuesday to plan the work. "
        "Engineers said the repairs would cost 4 million euros. " + quote + " Residents were moved to a school."
    )
    quotes = summarize(text)["quotes"]
    said = [marker(str(item)) for item in quotes]
    assert quotes and len(said) == len(set(said))
