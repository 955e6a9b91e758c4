"""Saved options, as simonw/llm keeps templates: ``--save NAME`` stores the options of a command line under a
name, ``-t NAME`` applies them (options given on the command line win), ``summarizer templates`` lists, shows,
edits and removes them.

A template is a JSON object of option names and values (``{"schema": "brief", "style": "brief"}``) in
``templates/NAME.json`` beside the default config file (env ``SUMMARIZER_TEMPLATES_PATH`` names another
folder), written whole and readable by its owner only (0600), like the key store. It never holds a secret:
the CLI saves no key, token or cache location, and refuses a value that holds one.

This module only reads and writes the files; which options may be saved, and what their values mean, is the
CLI's (``summarizer.cli``), which declares the options.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError
from .jsonguard import JsonTooDeep, check

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HINT = "see `summarizer templates list`; save one with --save NAME"


def templates_dir() -> Path:
    """The folder of saved templates: ``templates`` beside the default config file (env
    ``SUMMARIZER_TEMPLATES_PATH``)."""
    explicit = os.environ.get("SUMMARIZER_TEMPLATES_PATH")
    if explicit:
        return Path(explicit).expanduser()
    from .resources import default_config_path

    return default_config_path().parent / "templates"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.endswith(".json"):
        raise InputError(f"not a template name: {name!r} (letters, digits, '.', '_' and '-', at most 64)")
    return name


def is_path(spec: str) -> bool:
    """``-t`` takes a name or a template file (``-t ./short.json``, as ``llm -t path/to/file.yaml``)."""
    return "/" in spec or os.sep in spec or spec.endswith(".json")


def path_of(spec: str) -> Path:
    """The file a name (or a path) stands for."""
    return Path(spec).expanduser() if is_path(spec) else templates_dir() / f"{check_name(spec)}.json"


def load(spec: str) -> dict[str, Any]:
    """The saved options of template ``spec`` (a name or a file), as stored. A missing or unreadable one is a
    ``ConfigError`` (exit 4) with one line."""
    path = path_of(spec)
    try:
        text = path.read_text(encoding="utf-8")
        check(text, what="it")  # nested brackets would make json.loads recurse out of the stack
        data = json.loads(text)
    except JsonTooDeep as exc:
        raise ConfigError(f"cannot read the template {path}: {exc.message}") from None
    except FileNotFoundError:
        if is_path(spec):
            raise ConfigError(f"no template file {spec}") from None
        raise ConfigError(f"no template named {spec!r}", hint=_HINT) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a JSON object of options"
        raise ConfigError(f"cannot read the template {path}: {reason}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"cannot read the template {path}: not a JSON object of options")
    return data


def save(name: str, options: dict[str, Any]) -> tuple[Path, bool]:
    """Store ``options`` as template ``name``: written to a temporary file created 0600 and renamed over the
    old one (never readable by others, never half written). Returns its path and whether one was replaced."""
    path = templates_dir() / f"{check_name(name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replaced = path.exists()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(options, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, 0o600)  # whatever the umask made of it
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path, replaced


def names() -> list[str]:
    """The saved templates' names, sorted."""
    folder = templates_dir()
    return sorted(p.stem for p in folder.glob("*.json") if _NAME.fullmatch(p.stem)) if folder.is_dir() else []


def remove(name: str) -> Path:
    path = templates_dir() / f"{check_name(name)}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        raise ConfigError(f"no template named {name!r}", hint=_HINT) from None
    return path
