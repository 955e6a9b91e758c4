"""Schemathesis against the running service's /openapi.json: generated requests for every operation,
responses checked against the documented schemas, status codes and content types; no 5xx.

Bounded: a fixed number of examples per operation, no deadline. URL fetching answers
"cannot resolve" for every host, so no generated URL ever leaves the machine.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.specs.openapi.checks import positive_data_acceptance

from summarizer.testing import FakeLLMServer

from .conftest import API_KEY, free_port

EXAMPLES = 25


# The service runs in its own process: in one process with hypothesis, CPython 3.11.7's AST constructor, whose
# recursion count is shared by threads, raised a spurious "SystemError: AST constructor recursion depth mismatch"
# in hypothesis (gh-106905) and failed a CI run.
_SERVE = """
import sys

import uvicorn

from summarizer.config import load_settings
from summarizer.errors import InputError
from summarizer.service.app import create_app


def no_dns(host, port):
    raise InputError(f"cannot resolve {host} (the contract test resolves nothing)")


llm_url, root, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = load_settings(
    base_url=llm_url,
    timeout=5.0,
    state_dir=f"{root}/state",
    cache_path=f"{root}/cache.sqlite3",
    max_body_bytes=200_000,
    retry_backoff=0.01,
)
uvicorn.run(create_app(config, resolver=no_dns), host="127.0.0.1", port=port, log_level="critical", access_log=False)
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("contract")
    with FakeLLMServer() as llm:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVE, llm.url, str(root), str(port)],
            env={**os.environ, "OPENAI_API_KEY": API_KEY},
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while server.poll() is None:
                try:
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert server.poll() is None, f"the service did not start: {server.stderr.read() if server.stderr else ''}"
            yield url
        finally:
            server.terminate()
            server.wait(timeout=60)


def contract_check(operation: Any, mode: schemathesis.GenerationMode, calls: dict[str, int]) -> Any:
    label = f"{operation.label} ({mode.value})"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: schemathesis.Case) -> None:
        # An article can be schema-valid and still no article ("", "0", a page without text):
        # the service answers 400 for those by design, so "valid data must be accepted" is off.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])
        calls[label] = calls.get(label, 0) + 1

    return check


def test_every_operation_keeps_its_contract(service: str) -> None:
    # schemathesis.pytest.from_fixture reads a private pytest attribute that pytest 9.2 dropped, so the
    # operations are driven here with hypothesis directly; the checks are schemathesis' own.
    api = schemathesis.openapi.from_url(f"{service}/openapi.json")
    failures: dict[str, str] = {}
    calls: dict[str, int] = {}
    operations = 0
    for found, mode in itertools.product(api.get_all_operations(), schemathesis.GenerationMode):
        operation = found.ok()
        operations += 1
        try:
            contract_check(operation, mode, calls)()
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE  # nothing is invalid for a free string path
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert operations >= 18
    assert sum(calls.values()) >= operations * 4, calls  # every operation was really exercised
