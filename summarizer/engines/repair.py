"""What is done to a server's answer before instructor parses it, and to a model before instructor wraps it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel

SHORTER = (
    "Your answer was cut off at the limit of {limit} tokens before the JSON was complete. Answer again "
    "with the same structure, much shorter: fewer items in every list and short strings."
)


@cache
def prepared(model: type[BaseModel]) -> type[BaseModel]:
    """The model wrapped for instructor once, not on every call.

    Given a plain model, instructor builds a new wrapper class per call, so its
    per-class JSON-schema cache never hits; given the wrapper, it reuses both.
    """
    import instructor

    return instructor.openai_schema(model)


def mark_cut(completion: Any, max_tokens: int | None) -> None:
    """Make a server's answer say what it is, before instructor parses it.

    - llama-cpp-python's server reports ``finish_reason: "tool_calls"`` for a tool call cut off by the
      token limit: instructor would parse the stump as broken JSON and re-ask for the same long answer.
      An answer that used every token allowed and does not parse was cut: it says ``length``.
    - llama.cpp's JSON grammar lets a raw newline into a string, which JSON forbids and pydantic refuses
      ("control character found while parsing a string"): such an answer is re-encoded, same content.
    """
    choices = getattr(completion, "choices", None)
    if not choices or choices[0].finish_reason == "length":
        return
    message = choices[0].message
    calls = getattr(message, "tool_calls", None) or []
    text = calls[0].function.arguments if calls else (message.content or "")
    try:
        json.loads(text)
        return
    except ValueError:
        pass
    try:
        repaired = json.dumps(json.loads(text, strict=False), ensure_ascii=False)
    except ValueError:
        usage = getattr(completion, "usage", None)
        if max_tokens and (getattr(usage, "completion_tokens", 0) or 0) >= max_tokens:
            choices[0].finish_reason = "length"
        return
    if calls:
        calls[0].function.arguments = repaired
    else:
        message.content = repaired
