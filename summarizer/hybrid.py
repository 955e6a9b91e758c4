"""The hybrid engine: the tool finds, the model writes.

The extractive engine already finds what a small model gets wrong: entities with types and
roles, quotes with speakers, the dateline, figures, timeline dates, and the sentences that
matter most. The hybrid engine sends the model the article's lead and those sentences,
numbered, and asks only for what a language model is for: the headline, the summary, and
key points in its own words, each pointing at the numbered sentence it comes from. The tool
then fills the user's schema: every structured and verbatim field comes from the extractive
record, grounded by construction; the model's text passes the same grounding and
degenerate-answer validators as any answer. The answer is a few hundred tokens whatever the
schema, so it fits a small model's budget and costs a fraction of a full record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from . import extractive, prompts, quality
from .errors import InputError
from .schemas import SchemaSpec, clip_to_limits, model_from_json_schema
from .sources import Article

PROMPT = "hybrid-v1"
extractive_point = extractive._point  # the tool's wording of a key point, where the model's is unusable
CANDIDATES = 8  # sentences offered to the model to choose its points from
SHOWN_CHARS = 2_000  # the article's lead shown with them: the candidates carry the rest


def supports(spec: SchemaSpec) -> bool:
    """Whether the extractive engine can fill ``spec`` (the hybrid engine builds on its record)."""
    return spec.name in ("news", "brief")


@dataclass
class Draft:
    """The extractive record and the numbered sentences the model chooses from."""

    record: dict[str, Any]
    candidates: list[str]
    answer_model: type[BaseModel]
    messages: list[dict[str, Any]]


def draft(article: Article, spec: SchemaSpec, *, language: str | None = None, style: str = "standard") -> Draft:
    """The tool's part of a hybrid call: everything but the writing."""
    record = extractive.summarize(article.text, title=article.title, date=article.date, points=CANDIDATES)
    candidates = [point["evidence"] for point in record["key_points"]]
    if len(candidates) < 3:
        raise InputError("the article is too short to summarize: it has fewer than 3 sentences")
    wanted = 3  # the tool adds more key points from its own (news); three are what a small model writes well
    schema = writing_schema(len(candidates), wanted, summary=spec.name == "news")
    shown = article.text if len(article.text) <= SHOWN_CHARS else article.text[:SHOWN_CHARS].rsplit(" ", 1)[0] + " …"
    numbered = "\n".join(f"[{n}] {sentence}" for n, sentence in enumerate(candidates, 1))
    block = prompts.metadata_json(article.metadata())
    messages = prompts.load(PROMPT).render(
        article=shown,
        candidates=numbered,
        metadata_json=block,
        nonce=prompts.nonce(shown, numbered, block),
        language=language,
        style=style,
        summary=spec.name == "news",
        points=f"exactly {wanted}",
    )
    return Draft(record, candidates, model_from_json_schema(schema, f"{spec.model.__name__}Writing"), messages)


# The writing's length limits. A grammar-constrained model (llama.cpp) is stopped at them mid-word ("…near Rausu,
# on Hokkaid"): a text that reaches its limit was cut, not finished.
HEADLINE_CHARS, SUMMARY_CHARS, POINT_CHARS = 120, 400, 160


def _cut_off(text: str, limit: int) -> str | None:
    return f"is cut off at {limit} characters; write a shorter one" if len(text) >= limit else None


def writing_schema(count: int, wanted: int, *, summary: bool) -> dict[str, Any]:
    """What the model fills: a headline, (a summary,) and points that name their sentence by number."""
    properties: dict[str, Any] = {
        "headline": {
            "type": "string",
            "minLength": 10,
            "maxLength": HEADLINE_CHARS,
            "description": "A neutral, factual headline of at most 15 words.",
        },
    }
    if summary:
        properties["summary"] = {
            "type": "string",
            "minLength": 40,
            "maxLength": SUMMARY_CHARS,
            "x-max-sentences": 3,
            "description": "What happened and why it matters, in 2 or 3 sentences.",
        }
    properties["points"] = {
        "type": "array",
        "minItems": wanted,
        "maxItems": wanted,
        "description": "The most important numbered sentences, most important first.",
        "items": {
            "type": "object",
            "properties": {
                "sentence": {
                    "type": "integer",
                    "enum": list(range(1, count + 1)),
                    "description": "The number of the sentence.",
                },
                "point": {
                    "type": "string",
                    "minLength": 10,
                    "maxLength": POINT_CHARS,
                    "description": "The fact it states, in one short sentence of your own words.",
                },
            },
            "required": ["sentence", "point"],
        },
    }
    return {"title": "Writing", "type": "object", "properties": properties, "required": list(properties)}


def problems(
    written: dict[str, Any], candidates: list[str], article: str = "", *, translated: bool = False
) -> dict[str, str]:
    """What is degenerate or made up in the model's writing, by field (``points.N`` for a point): the
    re-ask's words. ``translated``: the writing is in another language than the article, so it cannot be
    compared with it word for word (only the degenerate checks apply)."""
    found: dict[str, str] = {}
    headline, summary = written.get("headline", ""), written.get("summary")
    source = " ".join(candidates) + " " + article

    def made_up(text: str) -> str | None:
        if translated:
            return None
        if not quality.supported(text, source):
            return "is not about this article"
        return quality.invented(text, source)

    issue = (
        quality.problem(headline, prose=True, min_words=2, one_sentence=True)
        or _cut_off(headline, HEADLINE_CHARS)
        or made_up(headline)
    )
    if issue:
        found["headline"] = issue
    if summary is not None:
        issue = (
            quality.problem(summary, prose=True)
            or _cut_off(summary, SUMMARY_CHARS)
            or quality.repeats(headline, summary)
            or made_up(summary)
        )
        if issue:
            found["summary"] = issue
    seen: set[str] = set()
    chosen: set[int] = set()
    for n, point in enumerate(written.get("points", [])):
        marker = quality.marker(point["point"])
        cited = candidates[point["sentence"] - 1]
        issue = (
            quality.problem(point["point"], prose=True, min_words=2, one_sentence=True)
            or _cut_off(point["point"], POINT_CHARS)
            or ("says the same as another point" if marker in seen else None)
            or (
                f"cites sentence {point['sentence']}, which another point cites"
                if point["sentence"] in chosen
                else None
            )
            or (
                None
                if translated or quality.supported(point["point"], cited)
                else f"does not state what sentence {point['sentence']} says"
            )
            or (None if translated else quality.invented(point["point"], cited + " " + article))
        )
        seen.add(marker)
        chosen.add(point["sentence"])
        if issue:
            found[f"points.{n}"] = issue
    return found


def reask(written: dict[str, Any], found: dict[str, str]) -> str:
    """The message that asks the model to fix its degenerate fields."""
    lines = [f"- {field}: the text {issue}" for field, issue in found.items()]
    return (
        "Your answer has these problems:\n"
        + "\n".join(lines)
        + "\nAnswer again with the same structure, every text a plain, distinct statement of fact from the "
        "article."
    )


def merge(
    written: dict[str, Any], draft: Draft, spec: SchemaSpec, found: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The user's record: the model's text over the tool's record, evidence by the sentence chosen. A field
    still degenerate after the re-asks (``found``) is the tool's own text instead, and a warning says which
    (a user must be able to tell a record the model wrote from one the tool had to write)."""
    warnings: list[str] = []
    points, used = [], set()
    for n, point in enumerate(written["points"]):
        if f"points.{n}" in found or point["sentence"] in used:
            continue
        used.add(point["sentence"])
        points.append({"point": point["point"], "evidence": draft.candidates[point["sentence"] - 1]})
    replaced = len(written["points"]) - len(points)
    for candidate in draft.candidates:
        if len(points) >= len(written["points"]):
            break
        if candidate not in {p["evidence"] for p in points}:
            points.append({"point": extractive_point(candidate), "evidence": candidate})
    if replaced:
        first = next((issue for field, issue in found.items() if field.startswith("points.")), "")
        warnings.append(
            f"hybrid: {replaced} of the model's {len(points)} points were unusable (one "
            f"{_first_clause(first)}); the tool's points replace them"
        )
    headline = written["headline"]
    if "headline" in found:
        headline = draft.record["headline"]
        warnings.append(f"hybrid: the model's headline {_first_clause(found['headline'])}; the tool's is used")
    if spec.name == "brief":
        record: dict[str, Any] = {"headline": headline, "bullets": [p["point"] for p in points]}
    else:
        summary = written["summary"]
        if "summary" in found:
            summary = draft.record["summary"]
            warnings.append(f"hybrid: the model's summary {_first_clause(found['summary'])}; the tool's is used")
        record = {**draft.record, "headline": headline, "summary": summary, "key_points": points}
    return clip_to_limits(record, spec.json_schema), warnings


def _first_clause(issue: str) -> str:
    """An issue as said to the model, cut before the instruction to it ("...; use only its facts")."""
    return issue.split(";")[0]
