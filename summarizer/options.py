"""Per-call options: one frozen, typed value that every layer builds and passes whole.

The CLI builds it from flags, the service's request models *are* it (plus the article),
a batch job stores it in its row, and the library takes it (or its fields as keywords).
``Summarizer`` hands it down unchanged; the cache key and the price read it. Adding an
option means: a field here, a flag in the CLI, and the code that uses it.

The vocabulary it uses (``Style``, ``Mode``, the language and model patterns) is in
``terms``, below everything else, so that each is written once.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from .errors import ConfigError
from .terms import LANGUAGE_PATTERN, MAX_SENTENCES, MODEL_PATTERN, Method, Style

LanguageCode = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, to_lower=True)]
ModelName = Annotated[str, StringConstraints(pattern=MODEL_PATTERN)]


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


# JSON's true is no number ("sentences": true was read as 1 sentence); a form's "0.7" still is.
Count = Annotated[int, BeforeValidator(_not_a_bool)]
Number = Annotated[float, BeforeValidator(_not_a_bool)]
MAX_INSTRUCTIONS = 4000  # characters of --instructions: a paragraph or two, not a second article


class CallOptions(BaseModel):
    """What one call may change; ``None`` means "the setting's value"."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_name: str | None = Field(
        default=None,
        alias="schema",
        description="A schema from GET /v1/schemas (or, from the CLI and library, a JSON Schema file, module:Class "
        "or a field list).",
    )
    model: ModelName | None = Field(default=None, description="Model name for this call.")
    language: LanguageCode | None = Field(
        default=None, description="ISO 639-1 code of the summary; quotes and evidence stay verbatim."
    )
    style: Style | None = Field(default=None, description="brief, standard, or dense (Chain of Density rounds).")
    max_retries: Count | None = Field(default=None, ge=0, le=10, description="Re-asks after an invalid answer.")
    temperature: Number | None = Field(default=None, ge=0, le=2, description="Sampling temperature for this call.")
    instructions: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_INSTRUCTIONS,
        description="Extra instructions for the model (focus, tone, what to leave out), added to the prompt after "
        "the article; they cannot change the schema or the verbatim rules. Part of the cache key.",
    )
    sentences: Count | None = Field(
        default=None,
        ge=1,
        le=MAX_SENTENCES,
        description="Extractive engine: sentences in the summary (default 3). The model engines do not take it and "
        "say so in meta.warnings.",
    )
    method: Method | None = Field(
        default=None,
        description="Extractive engine: how sentences are ranked: lexrank (default), textrank, luhn or lead (the "
        "first sentences). The model engines do not take it and say so in meta.warnings.",
    )
    refresh: bool = Field(default=False, description="Ignore a cached answer and store the new one.")
    offline: bool = Field(default=False, description="Answer from the cache only; a miss is an error.")

    def stored(self) -> dict[str, Any]:
        """The options that differ from the defaults, by their public names (a job row, a log line)."""
        return self.model_dump(by_alias=True, exclude_defaults=True)

    def with_(self, **changes: Any) -> CallOptions:
        """A copy with ``changes`` by field name (``schema`` too; ``None`` values are ignored), validated."""
        if "schema" in changes:
            changes["schema_name"] = changes.pop("schema")
        given = {k: v for k, v in changes.items() if v is not None}
        return self if not given else type(self).model_validate({**self.model_dump(exclude_defaults=True), **given})

    @classmethod
    def build(cls, options: CallOptions | None = None, **fields: Any) -> CallOptions:
        """``options`` (or the defaults) with the keyword ``fields`` that are not None on top; an invalid
        value is a ``ConfigError`` with one readable line."""
        try:
            return (options or _DEFAULT).with_(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "options"
            if where == "language":
                raise ConfigError(
                    f"language must be a two-letter ISO 639-1 code such as en, de or ur, not {fields.get('language')!r}"
                ) from None
            raise ConfigError(f"invalid option {where}: {first['msg']}") from None


_DEFAULT = CallOptions()
