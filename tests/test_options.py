"""CallOptions: one typed value for per-call options, built by the library, the CLI and the service alike.

``temperature`` is the worked example of adding an option: a field in ``options.py``, a flag
in ``cli.py``, and the code that uses it (``llm.py`` sends it, ``core.py`` keys the cache by it).
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from summarizer.errors import ConfigError
from summarizer.options import CallOptions

from .test_cli import llm_env, run
from .test_service import build

TEXT = "The council met on Tuesday. It voted for a new tram line. Work starts in May."


def test_options_are_frozen_validated_and_merge_by_name():
    options = CallOptions.build(schema="brief", language="DE", temperature=0.2)
    assert options.schema_name == "brief" and options.language == "de"
    assert options.stored() == {"schema": "brief", "language": "de", "temperature": 0.2}
    assert options.with_(style="dense", model=None).style == "dense" and options.style is None
    with pytest.raises(ConfigError, match="temperature"):
        CallOptions.build(temperature=5)
    with pytest.raises(ConfigError, match="ISO 639-1"):
        CallOptions.build(language="english")
    with pytest.raises(Exception):  # noqa: B017 (pydantic's frozen-instance error)
        options.style = "brief"  # type: ignore[misc]


def test_temperature_per_call_from_the_library_is_sent_and_keys_the_cache(make, server):
    summarizer = make()
    summarizer.summarize(TEXT, temperature=0.3)
    assert server.requests[-1]["temperature"] == 0.3
    assert summarizer.summarize(TEXT, temperature=0.3).meta.cached
    assert not summarizer.summarize(TEXT, CallOptions(temperature=0.9)).meta.cached
    assert server.requests[-1]["temperature"] == 0.9 and server.count == 2


def test_temperature_from_the_cli(cli, server, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(TEXT)
    done = run(cli, "summarize", str(article), "--temperature", "0.4", env=llm_env(server))
    assert done.returncode == 0, done.stderr
    assert server.requests[-1]["temperature"] == 0.4
    done = run(cli, "summarize", str(article), "--temperature", "7", env=llm_env(server))
    assert done.returncode == 2 and "--temperature" in done.stderr


def test_temperature_in_the_service_for_a_summary_and_a_batch_job(server, tmp_path):
    from .test_service import wait_for

    with build(server, tmp_path) as client:
        response = client.post("/v1/summaries", json={"text": TEXT, "temperature": 0.5})
        assert response.status_code == 200 and server.requests[-1]["temperature"] == 0.5
        assert client.post("/v1/summaries", json={"text": TEXT, "temperature": 3}).status_code == 422
        job = client.post("/v1/batches", json={"items": [TEXT + " Again."], "temperature": 0.6}).json()
        assert job["options"] == {"temperature": 0.6}
        wait_for(client, job["id"])
        assert server.requests[-1]["temperature"] == 0.6
        upload = {"file": ("in.jsonl", json.dumps({"text": TEXT + " Once more."}) + "\n")}
        job = client.post("/v1/batches", files=upload, data={"temperature": "0.7"}).json()
        wait_for(client, job["id"])
        assert job["options"] == {"temperature": 0.7} and server.requests[-1]["temperature"] == 0.7


def test_a_batch_with_its_own_model_is_priced_with_that_model(make, server, tmp_path):
    import asyncio

    from summarizer.pricing import cost
    from summarizer.runners.local import run_files

    summarizer = make(model="gpt-4o-mini")
    stats = asyncio.run(
        run_files(summarizer, items=[TEXT], output=tmp_path / "out.jsonl", options=CallOptions(model="gpt-4o"))
    )
    assert server.requests[-1]["model"] == "gpt-4o"
    expected = cost("gpt-4o", stats.prompt_tokens, stats.completion_tokens)
    assert stats.cost_usd == expected and expected != cost("gpt-4o-mini", stats.prompt_tokens, stats.completion_tokens)


@pytest.mark.parametrize("field", ["sentences", "max_retries", "temperature"])
def test_json_true_is_no_number_for_a_numeric_option(field):
    """Was: "sentences": true in a request body was read as 1 sentence."""
    with pytest.raises(ValidationError, match=field):
        CallOptions.model_validate({field: True})
    assert getattr(CallOptions.model_validate({field: 1}), field) == 1
