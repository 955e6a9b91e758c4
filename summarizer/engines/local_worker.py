"""The child side of the local engine: llama.cpp in a process of its own, answering over a pipe.

llama.cpp is native code: built for the wrong CPU (a native build on a CPU with AMX tiles, an
AVX-512 wheel on a CPU without it) it dies with SIGSEGV or SIGILL, and in-process it would take
the CLI, the batch or the service down with it, with no word. Here it can only take this process
down; ``local.LocalModel`` in the parent sees the pipe close, reads the signal, and says what
happened and how to fix it.

Protocol: one JSON object a line. The parent writes ``{"op": ...}`` requests on stdin; the worker
answers each with ``{"ok": value}`` or ``{"error": message, "kind": name}`` on the file descriptor
that was stdout when it started. Before a completion starts it writes ``{"started": true}`` (the
parent's tests use it to kill a worker mid-answer). Anything native code prints to stdout goes to
stderr instead, so it cannot corrupt the protocol.

Run as ``python -m summarizer.engines.local_worker MODEL.gguf N_CTX MAX_CTX N_THREADS`` (N_CTX 0: the trained
context length, at most MAX_CTX; N_THREADS 0: llama.cpp's default).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any, BinaryIO


def _silence_llama(llama_cpp: Any) -> Any:
    """llama.cpp writes diagnostics to stderr even with verbose=False; the parent shows stderr only when
    the worker fails, but keeps it short."""

    def callback(level: int, text: bytes, user_data: Any) -> None:
        if level in (3, 4):  # GGML_LOG_LEVEL_WARN and _ERROR (1 is DEBUG, 2 INFO, 5 a continued line)
            sys.stderr.write(text.decode("utf-8", "replace"))

    kept = llama_cpp.llama_log_callback(callback)
    llama_cpp.llama_log_set(kept, ctypes.c_void_p(0))
    return kept


class Worker:
    """One GGUF model: the vocabulary at once (metadata, tokenizer), the weights on the first completion."""

    def __init__(self, path: str, n_ctx: int, max_ctx: int, n_threads: int | None) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self._callback = _silence_llama(llama_cpp)
        self.path = path
        self.n_threads = n_threads
        self.vocab = self._load(vocab_only=True)
        self.n_ctx = n_ctx or min(self.meta()["trained_context"], max_ctx)
        self._model: Any = None

    def _load(self, **options: Any) -> Any:
        try:
            return self._llama_cpp.Llama(model_path=self.path, verbose=False, **options)
        except ValueError as exc:
            raise LoadError(f"cannot load {self.path} as a GGUF model: {exc}") from None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load(n_ctx=self.n_ctx, n_threads=self.n_threads)
        return self._model

    def meta(self) -> dict[str, Any]:
        trained = 4096
        for key, value in self.vocab.metadata.items():
            if key.endswith(".context_length"):
                trained = int(value)
        return {"trained_context": trained, "system_info": self._llama_cpp.llama_print_system_info().decode()}

    def count(self, text: str) -> int:
        return len(self.vocab.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False))

    def warm(self) -> bool:
        _ = self.model
        return True

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.model.create_chat_completion(**request)
        return answer

    def complete(self, prompt: str, max_tokens: int) -> str:
        """A raw completion, for the self-test (``summarizer doctor``)."""
        answer = self.model.create_completion(prompt, max_tokens=max_tokens, temperature=0.0)
        return str(answer["choices"][0]["text"])


class LoadError(Exception):
    pass


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode("ascii") + b"\n")
    out.flush()


def _end_with_parent(parent: int) -> None:
    """Exit when the process that started this one is gone (killed, or ended without closing the pipe):
    SIGTERM and SIGKILL run none of its exit handlers, and a large model would compute on for minutes.
    Polled, because the kernel's parent-death signal follows the thread that started a process, and the
    parent starts workers from whichever thread asks first."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    path, n_ctx, max_ctx, n_threads = argv[0], int(argv[1]), int(argv[2]), (int(argv[3]) or None)
    _end_with_parent(os.getppid())
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # native prints to stdout land on stderr, never in the protocol
    try:
        worker = Worker(path, n_ctx, max_ctx, n_threads)
    except Exception as exc:  # the parent turns this into a ConfigError
        _send(out, {"error": str(exc), "kind": type(exc).__name__})
        return 0
    _send(out, {"ok": "ready"})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        op = request.get("op")
        try:
            if op == "create":
                _send(out, {"started": True})
                result: Any = worker.create(request["request"])
            elif op == "count":
                result = worker.count(request["text"])
            elif op == "meta":
                result = worker.meta()
            elif op == "warm":
                result = worker.warm()
            elif op == "complete":
                _send(out, {"started": True})
                result = worker.complete(request["prompt"], int(request.get("max_tokens", 1)))
            else:
                raise ValueError(f"unknown operation {op!r}")
        except Exception as exc:  # llama.cpp's refusals are ValueErrors ("exceed context window")
            _send(out, {"error": str(exc), "kind": type(exc).__name__})
            continue
        _send(out, {"ok": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
