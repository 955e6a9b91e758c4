"""A key store, as simonw/llm keeps one: ``keys.json`` in the config folder, readable by its owner only (0600).

``summarizer keys set openai`` stores the API key; settings read it when neither ``OPENAI_API_KEY`` (or
``SUMMARIZER_API_KEY``) nor the config file gives one. ``keys list`` shows names, never keys.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .errors import ConfigError, InputError
from .jsonguard import JsonTooDeep, check

DEFAULT_NAME = "openai"  # the key settings read as ``api_key``
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def keys_path() -> Path:
    """Where the keys are kept: ``keys.json`` beside the default config file (env ``SUMMARIZER_KEYS_PATH``)."""
    explicit = os.environ.get("SUMMARIZER_KEYS_PATH")
    if explicit:
        return Path(explicit)
    from .resources import default_config_path

    return default_config_path().parent / "keys.json"


def load_keys(path: Path | None = None) -> dict[str, str]:
    """Every stored key by name ({} when there is no store). ConfigError for a store that cannot be read."""
    path = path or keys_path()
    try:
        text = path.read_text(encoding="utf-8")
        check(text, what="it")  # nested brackets would make json.loads recurse out of the stack
        data = json.loads(text)
    except FileNotFoundError:
        return {}
    except JsonTooDeep as exc:
        raise ConfigError(
            f"cannot read the key store {path}: {exc.message}",
            hint="fix or delete it, then `summarizer keys set openai`",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a JSON object of names and keys"
        raise ConfigError(
            f"cannot read the key store {path}: {reason}", hint="fix or delete it, then `summarizer keys set openai`"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(
            f"cannot read the key store {path}: not a JSON object of names and keys",
            hint="fix or delete it, then `summarizer keys set openai`",
        )
    return {str(k): v for k, v in data.items()}


def get_key(name: str = DEFAULT_NAME, path: Path | None = None) -> str | None:
    value = load_keys(path).get(name)
    return value.strip() or None if value is not None else None


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(f"not a key name: {name!r} (letters, digits, '.', '_' and '-', at most 64)")
    return name


def set_key(name: str, value: str, path: Path | None = None) -> Path:
    """Store ``value`` under ``name``: the file is written whole, to a temporary file created 0600 and
    renamed over the store (never readable by others, never half written). Returns the store's path."""
    check_name(name)
    value = value.strip()
    if not value or any(ch.isspace() for ch in value):
        raise InputError("a key is one word with no spaces; nothing was stored")
    path = path or keys_path()
    keys = load_keys(path)
    keys[name] = value
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(keys, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, 0o600)  # whatever the umask made of it
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
