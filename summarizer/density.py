"""Chain of Density (Adams et al., 2023, "From Sparse to Dense"): the answer model of one round and its checks.

Each round the model names 1-3 entities from the article that the summary lacks and
rewrites the summary at the same length with them added. The validator refuses a round
that drops an entity the summary already held, leaves out the ones it names, drifts in
length, exceeds the schema's sentence limit, or lowers the entity density (entities per
word) below the previous round's: a floor that only rises. Refused rounds are re-asked
with the reason, like any invalid answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from .grounding import Mentioned, ValidationContext
from .text import count_sentences, normalize, words

CONTEXT_KEY = "density"
LENGTH_TOLERANCE = (0.75, 1.3)  # a round's words, as a share of the first summary's


class DenseRound(BaseModel):
    """One Chain of Density step: the missing entities, and the summary rewritten to hold them."""

    missing_entities: list[Mentioned] = Field(
        min_length=1,
        max_length=3,
        description="1-3 informative entities from the article (as written there) that the current summary lacks.",
    )
    summary: str = Field(
        description="The summary rewritten at the same length, keeping every entity it had and adding the missing ones."
    )

    @model_validator(mode="after")
    def _denser(self, info: ValidationInfo) -> DenseRound:
        context = info.context if isinstance(info.context, dict) else {}
        rules = context.get(CONTEXT_KEY)
        if not rules:
            return self
        folded = normalize(self.summary).casefold()
        dropped = [name for name in rules["entities"] if normalize(name).casefold() not in folded]
        if dropped:
            raise ValueError(f"the summary dropped entities it must keep: {', '.join(dropped)}; keep every one")
        absent = [name for name in self.missing_entities if normalize(name).casefold() not in folded]
        if absent:
            raise ValueError(f"the summary does not contain the entities you added: {', '.join(absent)}")
        count = len(words(self.summary))
        low, high = (round(rules["words"] * share) for share in LENGTH_TOLERANCE)
        if not low <= count <= max(high, low + 1):
            raise ValueError(f"the summary has {count} words; keep it at about {rules['words']} ({low}-{high})")
        limit = rules.get("max_sentences")
        if limit and count_sentences(self.summary) > limit:
            raise ValueError(f"the summary has more than {limit} sentences")
        entities = list(dict.fromkeys([*rules["entities"], *self.missing_entities]))
        density = entity_density(entities, self.summary)
        if density + 1e-9 < rules["min_density"]:
            raise ValueError(
                f"entity density fell to {density:.3f} per word, below the previous round's "
                f"{rules['min_density']:.3f}; add entities without lengthening the summary"
            )
        return self


def entity_density(entities: list[str], summary: str) -> float:
    return len(entities) / max(1, len(words(summary)))


def initial_entities(record: dict[str, Any], summary: str) -> list[str]:
    """The schema's own entities that the first summary already names (for ``news``: ``entities[].name``)."""
    folded = normalize(summary).casefold()
    names = [item.get("name") for item in record.get("entities") or [] if isinstance(item, dict)]
    return list(
        dict.fromkeys(name for name in names if isinstance(name, str) and name and normalize(name).casefold() in folded)
    )


def density_context(
    base: dict[str, Any], entities: list[str], target_words: int, max_sentences: int | None, min_density: float
) -> dict[str, Any]:
    """The grounding context plus this round's rules (falsy, like every validation context here)."""
    return ValidationContext(
        {
            **base,
            CONTEXT_KEY: {
                "entities": list(entities),
                "words": target_words,
                "max_sentences": max_sentences,
                "min_density": min_density,
            },
        }
    )
