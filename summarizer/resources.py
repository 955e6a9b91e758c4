"""Where the bundled ``prompts/`` and ``schemas/`` folders are.

In a wheel they are installed inside the package (``summarizer/prompts``), in a
checkout or editable install they sit at the project's top level, as the design
card asks. Callers ask here and never care which.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} is missing from this installation")


# Where the user's files live by default (platformdirs), known here, below every module that needs them:
# the settings, the key store and the schema folders.
def default_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("summarizer")) / "config.toml"


def default_state_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("summarizer")) / "service"


def default_cache_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("summarizer")) / "cache.sqlite3"
