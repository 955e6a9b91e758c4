"""Evidence by number: the model answers sentence numbers, the output holds the sentences, verbatim."""

from __future__ import annotations

from summarizer import Summarizer
from summarizer.pointing import fill, numbered, pointing_schema
from summarizer.schemas import resolve
from summarizer.testing import Answer, mock_transport, requested_schema

ARTICLE = (
    "The council approved the budget on Monday. \u201cIt is a fair deal,\u201d the mayor said. "
    "Taxes will rise by 2 percent. Opponents plan an appeal."
)


def test_verbatim_fields_become_bounded_sentence_numbers_and_mentions_stay_text():
    schema = resolve("news").json_schema
    pointed = pointing_schema(schema, 12)
    evidence = pointed["$defs"]["KeyPoint"]["properties"]["evidence"]
    quote = pointed["$defs"]["Quote"]["properties"]["text"]
    assert evidence["type"] == quote["type"] == "integer" and evidence["maximum"] == 12 and evidence["minimum"] == 1
    assert evidence["enum"] == list(range(1, 13))  # what a grammar can enforce (llama.cpp ignores maximum)
    assert pointed["$defs"]["Entity"]["properties"]["name"]["type"] == "string"  # a mention is still text
    assert schema["$defs"]["KeyPoint"]["properties"]["evidence"]["type"] == "string"  # the original is untouched


def test_numbers_are_filled_with_the_article_sentences():
    shown, sentences = numbered(ARTICLE)
    assert shown.splitlines()[1] == "[2] \u201cIt is a fair deal,\u201d the mayor said."
    schema = resolve("news").json_schema
    record = {"key_points": [{"point": "p", "evidence": 3}], "quotes": [{"speaker": "mayor", "text": 2}]}
    filled = fill(record, schema, sentences)
    assert filled["key_points"][0]["evidence"] == "Taxes will rise by 2 percent."
    assert filled["quotes"][0]["text"] == sentences[1]


def test_a_call_by_number_returns_verbatim_text_and_re_asks_a_number_out_of_range():
    answers = [
        Answer({"headline": "Budget approved", "evidence": 9}),
        Answer({"headline": "Budget approved", "evidence": 1}),
    ]
    requests: list[dict] = []

    def responder(request):
        return answers.pop(0)

    summarizer = Summarizer(
        transport=mock_transport(responder, requests),
        base_url="http://fake/v1",
        api_key="k",
        mode="tools",
        schema="headline, evidence!",
        evidence="numbers",
        use_cache=False,
        log=False,
    )
    result = summarizer.summarize(ARTICLE)
    assert result.summary.evidence == "The council approved the budget on Monday."
    assert result.meta.attempts == 2  # 9 is not a sentence number: asked again
    first = requests[0]
    assert requested_schema(first)["properties"]["evidence"]["type"] == "integer"
    user = first["messages"][1]["content"]
    assert "[1] The council approved the budget on Monday." in user and "sentence number" in user.lower()


def test_verbatim_is_the_default_for_endpoints_and_numbers_for_the_local_engine(tmp_path):
    assert Summarizer(api_key="k", use_cache=False).evidence() == "verbatim"
    assert Summarizer(engine="local", use_cache=False).evidence() == "numbers"
    assert Summarizer(engine="local", evidence="verbatim", use_cache=False).evidence() == "verbatim"
