"""What "verbatim" means, and the schema registry."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from summarizer import ConfigError
from summarizer.grounding import grounding_context
from summarizer.schemas import available, model_from_json_schema, resolve
from summarizer.text import Source, count_sentences, detect_language, normalize

ARTICLE = "The minister said: \u201cWe will not back down \u2014 ever.\u201d\nPrices rose\u00a0by 3%. Dr. Smith\u2019s team agreed."


def test_normalisation_ignores_quotes_dashes_and_whitespace_but_not_words():
    source = Source(ARTICLE)
    assert source.contains('"We will not back down - ever."')
    assert source.contains("Prices rose by  3%.")
    assert source.contains("Dr. Smith's team")
    assert not source.contains("We will never back down")
    assert not source.contains("prices rose by 3%")  # verbatim is case-sensitive
    assert source.mentions("DR. SMITH")  # mentions are not
    assert normalize("a\u2013b \u2018c\u2019") == "a-b 'c'"


def test_sentence_counting_respects_abbreviations_and_initials():
    assert count_sentences("Dr. Smith met Mr. V. Jones in the U.S. capital. They talked.") == 2
    assert count_sentences("One. Two! Three? Four.") == 4


def test_language_detection():
    assert detect_language("The government said on Monday that the plan would be delayed.") == "en"
    assert detect_language("Die Regierung sagte am Montag, dass der Plan nicht verschoben wird.") == "de"
    assert detect_language("Le gouvernement a dit lundi que le plan serait retardé pour les élections.") == "fr"


def test_news_schema_has_the_agreed_field_names():
    news = resolve("news")
    assert list(news.model.model_fields) == [
        "headline",
        "summary",
        "key_points",
        "entities",
        "quotes",
        "dateline",
        "timeline",
        "figures",
        "topics",
        "language",
    ]
    schema = news.model.model_json_schema()
    defs = schema["$defs"]
    assert set(defs["Entity"]["properties"]) == {"name", "type", "role"}
    assert defs["Entity"]["properties"]["type"]["enum"] == ["person", "organization", "location", "event", "other"]
    assert schema["properties"]["key_points"]["minItems"] == 3 and schema["properties"]["key_points"]["maxItems"] == 7
    assert {"news", "brief"} <= set(available())


def test_validators_run_only_with_a_context():
    news = resolve("news").model
    record = {
        "headline": "h",
        "summary": "s.",
        "language": "en",
        "topics": [],
        "timeline": [],
        "figures": [],
        "key_points": [{"point": "p", "evidence": "not in the text"}] * 3,
        "entities": [],
        "quotes": [],
        "dateline": {"location": None, "date": None},
    }
    news.model_validate(record)  # no article: nothing to check against
    with pytest.raises(ValidationError, match="not found verbatim"):
        news.model_validate(record, context=grounding_context(ARTICLE))


def test_json_schema_files_with_grounded_fields(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(
        json.dumps(
            {
                "title": "Claims",
                "type": "object",
                "properties": {
                    "claims": {"type": "array", "items": {"type": "string", "x-grounded": True}},
                    "score": {"type": "integer", "minimum": 0, "maximum": 10},
                },
                "required": ["claims"],
            }
        )
    )
    model = resolve(str(path)).model
    assert model.model_validate({"claims": ["Prices rose by 3%."]}, context=grounding_context(ARTICLE)).score is None
    with pytest.raises(ValidationError):
        model.model_validate({"claims": ["Prices fell."]}, context=grounding_context(ARTICLE))
    with pytest.raises(ValidationError):
        model.model_validate({"claims": [], "score": 11})


@pytest.mark.parametrize(
    "schema,message",
    [
        ({"type": "object", "properties": {"x": {"oneOf": [{"type": "string"}]}}}, "oneOf"),
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}, "unresolvable"),
        ({"type": "array"}, "type"),
        ({"type": "object", "properties": {"x": {"type": ["string", "integer"]}}}, "union"),
    ],
)
def test_unsupported_json_schema_is_a_clear_config_error(schema, message):
    with pytest.raises(ConfigError, match=message):
        model_from_json_schema(schema)


def test_unknown_schema_name():
    with pytest.raises(ConfigError, match="unknown schema 'nope'"):
        resolve("nope")
