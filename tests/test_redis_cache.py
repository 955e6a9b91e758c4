"""The Redis cache against a real redis-server: same behaviour as the SQLite cache, shared, outage-proof."""

from __future__ import annotations

import io
import json
import os
import subprocess

import pytest

from summarizer import CacheMiss, Summarizer
from summarizer.cache import Cache, open_cache
from summarizer.cache.redis_cache import RedisCache

from .conftest import API_KEY, RedisServer, free_port


def test_hits_are_shared_between_summarizers_and_cost_no_request(make, server, article, redis_url):
    first = make(cache_path=redis_url).summarize(article)
    second = make(cache_path=redis_url).summarize(article)  # another process would see the same
    assert len(server.requests) == 1
    assert (first.meta.cached, second.meta.cached) == (False, True)
    assert second.summary.model_dump() == first.summary.model_dump()
    assert make(cache_path=redis_url).summarize(article, offline=True).meta.cached
    with pytest.raises(CacheMiss):
        make(cache_path=redis_url).summarize(article + " A new last sentence.", offline=True)
    assert len(server.requests) == 1


def test_stats_clear_export_import_match_the_sqlite_cache(make, articles, redis_url, tmp_path):
    for record in articles[:3]:
        make(cache_path=redis_url).summarize(record["text"])
    cache = open_cache(redis_url)
    assert isinstance(cache, RedisCache)
    stats = cache.stats()
    assert stats["entries"] == 3 and stats["by_model"] == {"gpt-4o-mini": 3} and stats["newest"]
    exported = io.StringIO()
    assert cache.export(exported) == 3
    lines = exported.getvalue().splitlines()
    assert [json.loads(line)["key"] for line in lines] == sorted(json.loads(line)["key"] for line in lines)

    sqlite = Cache(tmp_path / "copy.sqlite3")  # the same lines move between the two backends
    assert sqlite.import_lines(lines) == 3
    again = io.StringIO()
    sqlite.export(again)
    assert again.getvalue() == exported.getvalue()

    assert cache.clear() == 3 and cache.stats()["entries"] == 0
    assert cache.import_lines(io.StringIO(exported.getvalue())) == 3
    assert make(cache_path=redis_url).summarize(articles[0]["text"], offline=True).meta.cached


def test_clear_leaves_other_keys_of_the_database_alone(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("someone-elses-key", "keep me")
    open_cache(redis_url).put("k", {"headline": "h"}, {"model": "m"})
    assert open_cache(redis_url).clear() == 1
    assert client.get("someone-elses-key") == b"keep me"


def test_an_outage_degrades_to_no_cache_with_a_warning_never_a_failed_item(make, server, articles, tmp_path):
    redis = RedisServer(tmp_path)
    summarizer = make(cache_path=redis.url)
    summarizer.summarize(articles[0]["text"])
    redis.stop()
    result = summarizer.summarize(articles[1]["text"])  # Redis is gone: answered, not failed
    assert not result.meta.cached
    assert any("cache" in warning and "without the cache" in warning for warning in result.meta.warnings)
    assert summarizer.cache_problem and "127.0.0.1" in summarizer.cache_problem
    assert len(server.requests) == 2


def test_a_cache_that_was_never_up_does_not_stop_a_batch(cli, server, articles, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"id": str(i), "text": r["text"]}) + "\n" for i, r in enumerate(articles[:3])),
        encoding="utf-8",
    )
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run(
        [*cli, "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--cache", url, "--base-url", server.url],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENAI_API_KEY": API_KEY},
    )
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3
    assert "warning" in done.stderr and "without the cache" in done.stderr
    assert "Traceback" not in done.stderr
    stats = subprocess.run([*cli, "cache", "stats", "--cache", url], capture_output=True, text=True)
    assert stats.returncode == 4 and stats.stderr.count("\n") <= 2 and "Traceback" not in stats.stderr


def test_the_password_in_the_url_is_never_shown(cli, tmp_path, make, article):
    password = "redis-pass-Secret-0123456789"
    redis = RedisServer(tmp_path, password=password)
    try:
        good, wrong = redis.url, redis.url.replace(password, password[:-3] + "xyz")
        make(cache_path=good).summarize(article)
        outputs = []
        for url in (good, wrong):
            for command in (["cache", "stats"], ["cache", "path"], ["settings"]):
                done = subprocess.run(
                    [*cli, *command, "--cache", url] if command != ["settings"] else [*cli, *command],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "SUMMARIZER_CACHE": url},
                )
                outputs.append(done.stdout + done.stderr)
        failing = make(cache_path=wrong).summarize(article + " More.")
        outputs += failing.meta.warnings
        for text in outputs:
            assert password[:8] not in text and password[-8:] not in text and "xyz@" not in text
        assert any("entries: 1" in text for text in outputs)
    finally:
        redis.stop()


def test_the_service_shares_answers_through_redis(server, article, redis_url, tmp_path):
    from fastapi.testclient import TestClient

    from summarizer.config import load_settings
    from summarizer.service.app import create_app

    def replica(name: str) -> TestClient:
        settings = load_settings(base_url=server.url, api_key=API_KEY, cache_path=redis_url, state_dir=tmp_path / name)
        return TestClient(create_app(settings))

    with replica("a") as a, replica("b") as b:
        first = a.post("/v1/summaries", json={"text": article})
        second = b.post("/v1/summaries", json={"text": article})
        assert first.status_code == second.status_code == 200
        assert second.json()["meta"]["cached"] and not first.json()["meta"]["cached"]
        assert b.get("/readyz").json()["checks"]["cache"] == "ok"
    assert len(server.requests) == 1
    Summarizer  # noqa: B018 (the library and the service read the same setting)
