"""The SQLite cache: hits cost no request, offline replay, export/import, many writers."""

from __future__ import annotations

import io
import multiprocessing
import threading
from pathlib import Path

import pytest

from summarizer import CacheMiss
from summarizer.cache import Cache, make_key


def test_second_call_is_a_cache_hit_with_zero_requests(make, server, article):
    summarizer = make()
    first = summarizer.summarize(article)
    second = summarizer.summarize(article)
    assert len(server.requests) == 1
    assert (first.meta.cached, second.meta.cached) == (False, True)
    assert second.summary.model_dump() == first.summary.model_dump()
    assert make().summarize("  " + article.replace(" ", "  ") + "\n").meta.cached  # whitespace-normalised


def test_refresh_asks_again_and_no_cache_never_stores(make, server, article):
    make().summarize(article)
    assert not make().summarize(article, refresh=True).meta.cached
    assert len(server.requests) == 2
    uncached = make(use_cache=False)
    uncached.summarize(article)
    uncached.summarize(article)
    assert len(server.requests) == 4


def test_offline_miss_is_an_error_and_sends_nothing(make, server, article):
    with pytest.raises(CacheMiss):
        make().summarize(article, offline=True)
    assert server.requests == []
    make().summarize(article)
    assert make().summarize(article, offline=True).meta.cached


def test_model_schema_and_options_change_the_key(make, server, article):
    make().summarize(article)
    make(model="other-model").summarize(article)
    make(max_tokens=900).summarize(article)
    assert len(server.requests) == 3
    base = dict(model="m", schema_fingerprint="s", prompt_version="p")
    assert make_key("a  b", **base) == make_key("a b\n", **base)
    assert make_key("a b", **base) != make_key("a b", **{**base, "prompt_version": "p2"})


def test_export_import_replays_offline_elsewhere(make, server, article, tmp_path):
    make().summarize(article)
    exported = io.StringIO()
    assert Cache(tmp_path / "cache.sqlite3").export(exported) == 1
    line = exported.getvalue()
    assert line.count("\n") == 1 and '"summary"' in line

    fresh = tmp_path / "fresh.sqlite3"
    assert Cache(fresh).import_lines(io.StringIO(line)) == 1
    server.reset()
    replay = make(cache_path=fresh).summarize(article, offline=True)
    assert replay.meta.cached and server.requests == []


def test_stats_and_clear(make, article, tmp_path):
    make().summarize(article)
    cache = Cache(tmp_path / "cache.sqlite3")
    stats = cache.stats()
    assert stats["entries"] == 1 and stats["by_model"] == {"gpt-4o-mini": 1}
    assert cache.clear() == 1 and cache.stats()["entries"] == 0


def test_many_threads_share_one_cache(tmp_path):
    cache = Cache(tmp_path / "c.sqlite3")

    def write(n: int) -> None:
        for i in range(50):
            cache.put(f"{n}-{i}", {"i": i}, {"model": "m"})
            assert cache.get(f"{n}-{i}") == ({"i": i}, {"model": "m"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.stats()["entries"] == 200


def _write_from_process(path: str, n: int) -> None:
    cache = Cache(path)
    for i in range(100):
        cache.put(f"{n}-{i}", {"i": i}, {"model": "m"})


def test_several_processes_write_at_once(tmp_path: Path):
    path = str(tmp_path / "shared.sqlite3")
    Cache(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_from_process, args=(path, n)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert Cache(path).stats()["entries"] == 300
    assert Cache(path)._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
