"""Evidence by number: the model points at the article's sentences, the tool quotes them.

Small models rarely copy a sentence exactly, so a verbatim field (``"x-grounded": true``: evidence,
quotation text) is often re-asked and often fails. With ``evidence = "numbers"`` the prompt shows the
article with its sentences numbered, ``[1] ... [2] ...``, and the model-facing schema asks for a
sentence number where the user's schema asks for verbatim text; the tool then writes that sentence,
sliced from the article, into the field. The answer is grounded by construction and shorter to write.
The user-facing schema and output do not change. Mentions (``"x-grounded": "mention"``, entity names)
stay text and are still checked.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .schemas import along_schema
from .text import sentences as split_sentences

ENUM_UP_TO = 300  # sentences listed as an enum (a grammar can enforce it); beyond, only minimum/maximum

INSTRUCTION = (
    "The article is shown with its sentences numbered in brackets, [1], [2], ... A field described "
    "as a sentence number takes the number of the article sentence that states it (a quotation: the "
    "sentence that contains it); write only the number."
)


def verbatim_fields(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` has a verbatim text field to point at."""
    return '"x-grounded": true' in json.dumps(schema)


def pointing_schema(schema: dict[str, Any], count: int) -> dict[str, Any]:
    """``schema`` with each verbatim string field turned into a sentence number from 1 to ``count``."""
    document = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("x-grounded") is True and node.get("type") == "string":
                what = node.get("description", "")
                node.clear()
                node.update(
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": count,
                        "description": f"Sentence number of the article ({what})".replace(" ()", ""),
                    }
                )
                if count <= ENUM_UP_TO:  # llama.cpp's grammar ignores "maximum": it wrote 1000000000000000
                    node["enum"] = list(range(1, count + 1))
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document)
    return document


def fill(answer: Any, schema: dict[str, Any], article_sentences: list[str]) -> Any:
    """``answer`` (the model-facing record) with each sentence number replaced by that sentence's text."""

    def sentence(value: Any, node: dict[str, Any]) -> Any:
        if node.get("x-grounded") is True and isinstance(value, int) and 1 <= value <= len(article_sentences):
            return article_sentences[value - 1]
        return value

    return along_schema(answer, schema, sentence)


def numbered(text: str) -> tuple[str, list[str]]:
    """The article with numbered sentences, and the sentences (verbatim slices of ``text``)."""
    found = [s.strip() for s in split_sentences(text) if s.strip()]
    return "\n".join(f"[{n}] {sentence}" for n, sentence in enumerate(found, 1)), found
