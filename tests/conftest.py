"""Shared fixtures: an isolated environment, the fake LLM server, real articles."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from summarizer import Summarizer
from summarizer.testing import FakeLLMServer, default_responder

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
API_KEY = "sk-test-DO-NOT-LEAK-0123456789abcdefXYZ"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def articles() -> list[dict[str, Any]]:
    return _read_jsonl(FIXTURES / "articles.jsonl")


@pytest.fixture(scope="session")
def multilingual() -> list[dict[str, Any]]:
    return _read_jsonl(FIXTURES / "multilingual.jsonl")


@pytest.fixture(scope="session")
def article(articles: list[dict[str, Any]]) -> str:
    return str(articles[0]["text"])


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real key, endpoint, config file or cache from the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("SUMMARIZER_", "OPENAI_")):
            monkeypatch.delenv(name)
    # The fake server answers in every mode: no probe for --mode auto (its tests set it), as before.
    monkeypatch.setenv("SUMMARIZER_MODE", "tools")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache.sqlite3"))
    monkeypatch.setenv("SUMMARIZER_RETRY_BACKOFF", "0.01")
    return tmp_path


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def server(_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    _server.reset()
    yield _server
    _server.responder = default_responder  # a test that swapped it in and failed must not leak it


@pytest.fixture
def make(server: FakeLLMServer) -> Iterator[Any]:
    """Build a Summarizer pointed at the fake server; closed after the test."""
    made: list[Summarizer] = []

    def build(**overrides: Any) -> Summarizer:
        options: dict[str, Any] = {"base_url": server.url, "api_key": API_KEY, "timeout": 5.0}
        options.update(overrides)
        summarizer = Summarizer(**options)
        made.append(summarizer)
        return summarizer

    yield build
    for summarizer in made:
        summarizer.close()


@pytest.fixture(scope="session")
def cli() -> list[str]:
    """The installed console script (what a user runs), next to this interpreter."""
    script = Path(sys.executable).parent / "summarizer"
    found = str(script) if script.exists() else shutil.which("summarizer")
    assert found, "the summarizer console script is not installed; run pip install -e '.[dev]'"
    return [found]


def required(tool: str) -> bool:
    """Whether a missing ``tool`` must fail rather than skip: CI sets SUMMARIZER_REQUIRE_SERVERS=1."""
    return os.environ.get("SUMMARIZER_REQUIRE_SERVERS") == "1"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_helper(args: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start a server the tests need, tied to this test process: Linux kills it when this process dies,
    however it dies (PR_SET_PDEATHSIG; a crashed or killed run leaves no ``redis-server`` behind), and it is
    killed at interpreter exit if nothing stopped it before. Call it from the main thread: the signal comes
    when the thread that started the helper ends."""
    process = subprocess.Popen(args, preexec_fn=_die_with(os.getpid()), **popen)
    atexit.register(_kill, process)
    return process


def _die_with(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` asking for SIGKILL when ``parent`` dies (Linux; elsewhere the atexit kill remains)."""
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    except (OSError, AttributeError):
        return lambda: None

    def ask() -> None:
        prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the test process died before the request: nobody left to serve
            os._exit(1)

    return ask


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


class RedisServer:
    """A real ``redis-server`` on a free loopback port, in its own folder, no persistence."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        import time

        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed (apt-get install redis-server)"
            if required("redis-server"):
                pytest.fail(message)
            pytest.skip(message)
        self.port = free_port()
        self.password = password
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ]
        if password:
            args += ["--requirepass", password]
        self.process = start_helper(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port, password=password)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        client.close()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A real Redis, emptied for each test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url
