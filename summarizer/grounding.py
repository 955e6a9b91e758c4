"""Validators that tie an answer to its article.

They read the article from pydantic's validation context (instructor's ``context=``),
so the same model checks an LLM answer, an extractive answer and a cache replay.
Without a context (a caller building the model by hand) they do not run.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from .quality import QUALITY_KEY
from .text import Source, count_sentences

CONTEXT_KEY = "grounding"


class ValidationContext(dict[str, Any]):
    """The validation context, falsy on purpose.

    instructor renders every message as a Jinja template whenever ``context`` is truthy.
    Our messages are rendered already and hold the article, which must never be parsed as
    a template (an article containing ``{{ ... }}`` would be altered, and compiling it per
    call costs about a millisecond). Falsy, it skips that step; pydantic still hands it to
    every validator. ``tests/test_llm_pipeline.py`` checks both halves of this.
    """

    def __bool__(self) -> bool:
        return False


def grounding_context(text: str, *, model_answer: bool = False) -> ValidationContext:
    """The validation context for ``text``: prepared once, shared by every validator. ``model_answer``: the
    record is a model's, so its composed text is also checked for degenerate output (``quality``)."""
    context = ValidationContext({CONTEXT_KEY: Source(text)})
    if model_answer:
        context[QUALITY_KEY] = True
    return context


def _source(info: ValidationInfo) -> Source | None:
    ctx = info.context
    found = ctx.get(CONTEXT_KEY) if isinstance(ctx, dict) else None
    return found if isinstance(found, Source) else None


def _short(value: str, limit: int = 120) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def check_verbatim(value: str, info: ValidationInfo) -> str:
    source = _source(info)
    if source is not None and not source.contains(value):
        raise ValueError(
            f"not found verbatim in the article: {_short(value)!r}. Copy the exact words "
            "from the article (whitespace, quote marks and dashes may differ), or drop this item"
        )
    return value


def check_mention(value: str, info: ValidationInfo) -> str:
    source = _source(info)
    if source is not None and not source.mentions(value):
        raise ValueError(f"{_short(value)!r} does not occur in the article; name it exactly as the article does")
    return value


def max_sentences(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        found = count_sentences(value)
        if found > limit:
            raise ValueError(f"has {found} sentences; write at most {limit}")
        return value

    return AfterValidator(check)


Verbatim = Annotated[str, AfterValidator(check_verbatim)]
"""A string that must occur in the article, after normalising whitespace, quotes and dashes."""

Mentioned = Annotated[str, AfterValidator(check_mention)]
"""A name that must occur in the article, ignoring case."""
