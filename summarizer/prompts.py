"""The prompt templates in ``prompts/`` and the messages built from them.

Templates are Jinja, rendered by instructor with the validation context. The article
goes in as the variable ``article``: text inside it is never parsed as a template.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from .resources import data_dir

PROMPT = "summarize-v1"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str

    @property
    def version(self) -> str:
        digest = hashlib.sha256(f"{self.system}\0{self.user}".encode()).hexdigest()[:10]
        return f"{self.name}+{digest}"

    def messages(self) -> list[dict[str, Any]]:
        """Fresh message dicts (instructor appends re-asks to the list it is given)."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@cache
def load(name: str = PROMPT) -> PromptTemplate:
    folder = data_dir("prompts") / name
    return PromptTemplate(
        name=name,
        system=(folder / "system.j2").read_text(encoding="utf-8"),
        user=(folder / "user.j2").read_text(encoding="utf-8"),
    )


def nonce(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
