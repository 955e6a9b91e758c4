"""Schemas without code: a JSON Schema file, a field list, module:Class, and the user's schema folders."""

from __future__ import annotations

import json
import os

import pytest

from summarizer.errors import ConfigError
from summarizer.schemas import parse_fields, resolve
from summarizer.testing import Answer

from .conftest import ROOT
from .test_cli import llm_env, run


def test_field_list_becomes_a_json_schema_with_grounding_marks():
    document = parse_fields("headline, summary: two sentences, people list[str], score int, quote!, place~")
    props = document["properties"]
    assert list(props) == ["headline", "summary", "people", "score", "quote", "place"] == document["required"]
    assert props["summary"] == {"type": "string", "maxLength": 600, "description": "two sentences"}
    assert props["people"] == {"type": "array", "maxItems": 12, "items": {"type": "string", "maxLength": 600}}
    assert props["score"] == {"type": "integer"}
    assert props["quote"]["x-grounded"] is True and props["place"]["x-grounded"] == "mention"
    multi = parse_fields("title\nsummary: one sentence, plain words\nevidence! list[str]")
    assert multi["properties"]["summary"]["description"] == "one sentence, plain words"
    assert multi["properties"]["evidence"]["items"]["x-grounded"] is True


@pytest.mark.parametrize(
    "text,message",
    [
        ("score integer", "unknown type"),
        ("n! int", "only text fields"),
        ("a, a", "given twice"),
        ("9lives", "cannot read"),
        (" , ", "empty"),
    ],
)
def test_field_list_errors_are_clear(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_fields(text)


def test_a_grounded_field_list_field_is_checked_and_re_asked(make, server, article):
    schema = "headline, quote!: a sentence copied from the article, score int"
    server.push(
        Answer(
            {"headline": "Sterling companion must repay gifts", "quote": "A sentence that is not there.", "score": 3}
        ),
        Answer(
            {
                "headline": "Sterling companion must repay gifts",
                "quote": "But now it's his former female companion who has lost big.",
                "score": 3,
            }
        ),
    )
    result = make(use_cache=False).summarize(article, schema=schema)
    assert result.summary.quote.startswith("But now") and result.meta.attempts == 2
    assert "not found verbatim" in json.dumps(server.requests[1]["messages"])


def test_a_model_by_import_path(make, server, article):
    spec = resolve("tests.custom_models:Claims")
    assert spec.name == "Claims" and set(spec.model.model_fields) == {"claims", "support"}
    server.push(Answer({"claims": ["Stiviano must pay"], "support": "Sterling's wife sued her."}))
    with pytest.raises(ConfigError, match="cannot import"):
        resolve("no_such_module_here:Thing")
    with pytest.raises(ConfigError, match="not a pydantic model"):
        resolve("json:dumps")
    result = make(use_cache=False).summarize(article, schema="tests.custom_models:Claims")
    assert result.summary.support in article


def test_user_schema_folder_appears_in_the_list_and_works(cli, server, tmp_path, article):
    folder = tmp_path / "my-schemas"
    folder.mkdir()
    (folder / "claims.json").write_text(
        json.dumps(
            {
                "title": "Claims",
                "description": "Claims with their evidence.",
                "type": "object",
                "properties": {"claim": {"type": "string"}, "evidence": {"type": "string", "x-grounded": True}},
                "required": ["claim", "evidence"],
            }
        )
    )
    config = tmp_path / "config.toml"
    config.write_text(f'schema_dirs = ["{folder}"]\n')
    listed = run(cli, "schemas", "list", "--config", str(config), env={"COLUMNS": "1000"})
    assert listed.returncode == 0 and "claims" in listed.stdout and str(folder) in listed.stdout
    server.push(Answer({"claim": "A judge ruled.", "evidence": "Sterling's wife sued her."}))
    source = tmp_path / "a.txt"
    source.write_text(article)
    done = run(
        cli, "summarize", str(source), "--schema", "claims", "--config", str(config), "--meta", env=llm_env(server)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["evidence"] == "Sterling's wife sued her."
    shown = run(cli, "schemas", "show", "claims", "--config", str(config))
    assert json.loads(shown.stdout)["properties"]["evidence"]["x-grounded"] is True


def test_cli_field_list_and_import_path(cli, server, tmp_path, article):
    source = tmp_path / "a.txt"
    source.write_text(article)
    server.push(Answer({"title": "Sterling", "people": ["Donald Sterling"]}))
    done = run(cli, "summarize", str(source), "--schema", "title, people~ list[str]", env=llm_env(server))
    assert done.returncode == 0 and json.loads(done.stdout)["people"] == ["Donald Sterling"]
    server.push(Answer({"claims": ["x"], "support": "Sterling's wife sued her."}))
    done = run(
        cli,
        "summarize",
        str(source),
        "--schema",
        "tests.custom_models:Claims",
        env={**llm_env(server), "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    assert done.returncode == 0, done.stderr
    bad = run(cli, "summarize", str(source), "--schema", "score integer", env=llm_env(server))
    assert bad.returncode == 4 and "unknown type 'integer'" in bad.stderr
