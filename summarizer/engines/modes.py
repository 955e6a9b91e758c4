"""``--mode auto``: which instructor mode an endpoint takes, found once by probing, and remembered."""

from __future__ import annotations

from collections.abc import Callable

from ..terms import Mode

PROBE_ORDER: tuple[Mode, ...] = ("json_schema", "tools", "json", "md_json")


def other_mode(mode: str) -> str:
    return {"json_schema": "tools", "tools": "json", "json": "md_json"}.get(mode, "json")


def is_openai(base_url: str | None) -> bool:
    return not base_url or "api.openai.com" in base_url


class ModeMemory:
    """Where ``--mode auto`` keeps what it learnt per endpoint (the cache database, else this process)."""

    def __init__(
        self, load: Callable[[str], str | None] | None = None, store: Callable[[str, str], None] | None = None
    ) -> None:
        self._known: dict[str, str] = {}
        self._load, self._store = load, store

    def get(self, endpoint: str) -> str | None:
        if endpoint not in self._known and self._load is not None:
            found = self._load(endpoint)
            if found:
                self._known[endpoint] = found
        return self._known.get(endpoint)

    def put(self, endpoint: str, mode: str) -> None:
        self._known[endpoint] = mode
        if self._store is not None:
            self._store(endpoint, mode)
