"""Engines as objects behind one registry, a call resolved once, one runner skeleton (issue 20): what each
engine says of itself, the choice made once from the settings, and the behaviour that rests on them."""

from __future__ import annotations

import asyncio
import json
import typing
from pathlib import Path

import pytest

from summarizer import Summarizer
from summarizer.config import load_settings
from summarizer.engines import FACTORIES, engine_for
from summarizer.engines.deferral import Deferred, deferring
from summarizer.engines.endpoint import EndpointEngine
from summarizer.engines.extractive import ExtractiveEngine
from summarizer.engines.local import LocalEngine
from summarizer.errors import CacheMiss, ConfigError, InputError
from summarizer.options import CallOptions
from summarizer.runners import runner_for
from summarizer.terms import Engine as EngineName
from summarizer.testing import default_responder, mock_transport

from .conftest import API_KEY

TEXT = (
    "The council met on Tuesday in the town hall. It voted for a new tram line across the river. "
    "Work starts in May and ends in two years, the mayor said. The line will cost 40 million euros."
)


def settings(**given):
    return load_settings(None, use_cache=False, log=False, **given)


def endpoint(tmp_path: Path, requests: list[dict] | None = None, **given) -> Summarizer:
    return Summarizer(
        base_url="http://fake.invalid/v1",
        api_key=API_KEY,
        cache_path=tmp_path / "cache.sqlite3",
        log=False,
        transport=mock_transport(default_responder, requests if requests is not None else []),
        **given,
    )


def test_every_engine_name_of_the_settings_has_one_factory():
    assert set(FACTORIES) == set(typing.get_args(EngineName)) - {"auto"}


def test_auto_is_the_endpoint_when_one_is_configured_else_the_extractive_engine_as_a_fallback():
    chosen = engine_for(settings(api_key=API_KEY))
    assert isinstance(chosen, EndpointEngine) and chosen.paid and chosen.batch_api and not chosen.fallback
    offline = engine_for(settings(api_key=None, base_url=None))
    assert isinstance(offline, ExtractiveEngine) and offline.fallback and not offline.uses_model and not offline.paid
    assert isinstance(engine_for(settings(engine="extractive", api_key=API_KEY)), ExtractiveEngine)
    assert not engine_for(settings(engine="extractive")).fallback  # asked for, not fallen back to


def test_llm_with_nothing_configured_is_a_config_error_unless_it_only_replays_the_cache():
    with pytest.raises(ConfigError, match="no LLM configured"):
        engine_for(settings(engine="llm", api_key=None, base_url=None))
    assert isinstance(engine_for(settings(engine="llm", api_key=None, base_url=None, offline=True)), EndpointEngine)
    replay = engine_for(settings(api_key=None, base_url=None, offline=True))  # auto + offline: the endpoint's cache
    assert isinstance(replay, EndpointEngine)


def test_the_hybrid_engine_is_the_model_engine_behind_it_going_the_hybrid_way():
    over_endpoint = engine_for(settings(engine="hybrid", api_key=API_KEY))
    assert isinstance(over_endpoint, EndpointEngine) and over_endpoint.hybrid
    over_local = engine_for(settings(engine="hybrid", api_key=None, base_url=None))
    assert isinstance(over_local, LocalEngine) and over_local.hybrid
    assert not engine_for(settings(engine="hybrid", api_key=API_KEY, hybrid=False)).hybrid
    assert not engine_for(settings(engine="llm", api_key=API_KEY)).hybrid
    assert engine_for(settings(engine="llm", api_key=API_KEY, hybrid=True)).hybrid


def test_the_local_engine_defaults_differ_by_attribute_not_by_name():
    local = engine_for(settings(engine="local"))
    assert isinstance(local, LocalEngine)  # made without starting a worker
    assert (local.evidence, local.field_groups, local.hybrid, local.paid) == ("numbers", True, True, False)
    assert local.concurrency(settings(engine="local")) == 1
    assert local.concurrency(settings(engine="local", concurrency=4)) == 4  # asked for: given
    endpoint_engine = engine_for(settings(api_key=API_KEY, concurrency=7))
    assert endpoint_engine.concurrency(settings(concurrency=7)) == 7 and endpoint_engine.evidence == "verbatim"


def test_a_call_is_resolved_once_options_over_settings(tmp_path):
    summarizer = endpoint(tmp_path, model="gpt-4o-mini", temperature=0.3, style="standard", max_retries=4)
    call = summarizer.resolve(CallOptions(model="gpt-4o", language="de", style="brief"), schema="brief")
    assert (call.model, call.model_id, call.language, call.style, call.spec.name) == (
        "gpt-4o",
        "gpt-4o",
        "de",
        "brief",
        "brief",
    )
    assert call.temperature == 0.3 and call.max_retries == 4 and call.evidence == "verbatim" and not call.hybrid
    plain = summarizer.resolve()
    assert (plain.model, plain.style, plain.spec.name, plain.language) == ("gpt-4o-mini", "standard", "news", None)
    with pytest.raises(ConfigError):
        summarizer.resolve(language="german")


def test_the_hybrid_way_resolves_to_one_reask_unless_asked(tmp_path):
    summarizer = endpoint(tmp_path, engine="hybrid", max_retries=3)
    assert summarizer.resolve().hybrid and summarizer.resolve().max_retries == 1
    assert summarizer.resolve(max_retries=3).max_retries == 3
    assert not summarizer.resolve(schema="headline, summary").hybrid  # a schema the hybrid way cannot fill


def test_an_answer_asked_with_mode_auto_is_found_again_with_the_mode_it_was_asked_in(tmp_path):
    requests: list[dict] = []
    first = endpoint(tmp_path, requests, mode="auto").summarize(TEXT)
    asked = first.meta.mode
    assert asked in ("json_schema", "tools", "json", "md_json") and not first.meta.cached
    sent = len(requests)
    again = endpoint(tmp_path, requests, mode=asked).summarize(TEXT)  # what meta.mode reported
    assert again.meta.cached and len(requests) == sent
    auto = endpoint(tmp_path, requests, mode="auto").summarize(TEXT)
    assert auto.meta.cached and len(requests) == sent
    other = "tools" if asked != "tools" else "json_schema"
    assert not endpoint(tmp_path, requests, mode=other).summarize(TEXT).meta.cached  # another mode: asked anew


def test_offline_replays_an_endpoints_cache_with_no_key_or_endpoint_set(tmp_path, monkeypatch):
    endpoint(tmp_path).summarize(TEXT)  # made with an endpoint, cached
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_API_KEY", "SUMMARIZER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUMMARIZER_KEYS_PATH", str(tmp_path / "no-keys.json"))
    replay = Summarizer(cache_path=tmp_path / "cache.sqlite3", log=False, offline=True)
    result = replay.summarize(TEXT)
    assert result.meta.cached and result.meta.engine == "llm"
    with pytest.raises(CacheMiss):  # a miss is a miss, not a silent extractive answer
        replay.summarize(TEXT + " The vote was close.")


def test_a_deferral_belongs_to_its_run_not_to_the_shared_client(tmp_path):
    """The Batch API's deferral is set for one run's tasks: a call of the same Summarizer outside that run goes
    live at the same moment, and the deferred item ends as an outcome state, not an error."""
    requests: list[dict] = []
    summarizer = endpoint(tmp_path, requests, mode="tools", use_cache=False)

    async def keep(body: dict, ledger) -> None:
        raise Deferred(body)

    async def main() -> tuple[list, object]:
        async def deferred_run() -> list:
            token = deferring.set(keep)
            try:
                return [outcome async for outcome in summarizer.abatch([TEXT, TEXT + " Second."])]
            finally:
                deferring.reset(token)

        return list(await asyncio.gather(deferred_run(), summarizer.asummarize(TEXT + " Live.")))

    outcomes, live = asyncio.run(main())
    assert all(outcome.deferred is not None and outcome.error is None and not outcome.ok for outcome in outcomes)
    assert all(outcome.deferred["messages"] for outcome in outcomes)  # the request as it would be sent
    assert live.summary.headline and len(requests) == 1  # only the live call reached the endpoint


def test_runner_for_picks_one_runner_for_the_cli_and_the_service(tmp_path):
    assert runner_for(settings()).name == "local" and runner_for(settings()).fetches_urls
    assert runner_for(settings(runner="ray")).name == "ray"
    assert runner_for(settings(api_key=API_KEY), "batch-api").name == "batch-api"
    with pytest.raises(InputError, match="--via batch-api"):
        runner_for(settings(runner="ray"), "batch-api")


def test_the_local_runner_prices_by_the_engine_and_resolves_the_call_once(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": str(n), "text": f"{TEXT} Item {n}."}) + "\n" for n in range(3)))
    out = tmp_path / "out.jsonl"
    summarizer = endpoint(tmp_path, mode="tools", prices={"gpt-4o-mini": (1.0, 2.0)})
    stats = runner_for(summarizer.settings).run(summarizer, [str(source)], output=str(out))
    assert stats.done == 3 and stats.cost_usd and stats.cost_usd > 0
    offline = Summarizer(engine="extractive", use_cache=False, log=False)
    stats = runner_for(offline.settings).run(offline, [str(source)], output=str(tmp_path / "x.jsonl"))
    assert stats.done == 3 and stats.cost_usd == 0.0


def test_the_cli_replays_an_exported_cache_on_a_machine_with_no_key(cli, server, tmp_path):
    """The README's cache replay: answers made with an endpoint, exported, imported elsewhere, replayed with
    --offline where no key is set (before, the auto engine fell back to the extractive engine and said nothing
    of the cache; --offline --engine llm wanted a dummy key)."""
    import os
    import subprocess

    from .test_cli import EXAMPLE

    made = {**os.environ, "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY}
    made["SUMMARIZER_CACHE"] = str(tmp_path / "made.sqlite3")
    first = subprocess.run([*cli, "summarize", EXAMPLE], env=made, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    export = tmp_path / "answers.jsonl"
    assert subprocess.run([*cli, "cache", "export", str(export)], env=made, timeout=120).returncode == 0
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    bare |= {"SUMMARIZER_CACHE": str(tmp_path / "elsewhere.sqlite3"), "SUMMARIZER_KEYS_PATH": str(tmp_path / "k")}
    imported = subprocess.run([*cli, "cache", "import", str(export)], env=bare, capture_output=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    for extra in ([], ["--engine", "llm"]):
        replay = subprocess.run(
            [*cli, "summarize", EXAMPLE, "--offline", "--meta", *extra], env=bare, capture_output=True, text=True
        )
        assert replay.returncode == 0, replay.stderr
        assert json.loads(replay.stdout)["meta"]["cached"] is True
    missing = tmp_path / "other.txt"
    missing.write_text(Path(EXAMPLE).read_text() + "\nA sentence the cached article did not have.\n")
    miss = subprocess.run([*cli, "summarize", str(missing), "--offline"], env=bare, capture_output=True, text=True)
    assert miss.returncode == 7 and "no cached answer" in miss.stderr and "Traceback" not in miss.stderr


def test_offline_with_the_cache_off_is_a_usage_error(cli, tmp_path):
    import subprocess

    from .test_cli import EXAMPLE

    done = subprocess.run(
        [*cli, "summarize", EXAMPLE, "--offline", "--no-cache"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "--no-cache" in done.stderr and "Traceback" not in done.stderr


def test_a_choice_not_on_the_list_is_said_in_plain_words(cli):
    import subprocess

    from .test_cli import EXAMPLE

    for flag, value in (("--engine", "foo"), ("--method", "bar")):
        done = subprocess.run([*cli, "summarize", EXAMPLE, flag, value], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and f"'{value}' is not one of" in done.stderr
        assert "Value error" not in done.stderr and "Traceback" not in done.stderr
