"""The LLM workflow of one call, as plain functions over a ``Plan``: one request, or map-reduce over the
parts of a long article, then Chain of Density rounds.

``steps`` is a generator that yields the requests each step needs and receives their
validated answers (the idea of httpx's ``Auth.auth_flow``), so the sync path runs a step's
requests one after another and the async path concurrently, over the same code.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from . import hybrid, pointing, prompts, quality, tokens
from .calls import ResolvedCall
from .density import DenseRound, density_context, entity_density, initial_entities
from .errors import ValidationFailed
from .grounding import grounding_context
from .schemas import SchemaSpec
from .sources import Article
from .text import normalize, words

Request = tuple[type[BaseModel], list[dict[str, Any]], dict[str, Any]]  # answer model, messages, context
Workflow = Generator[list[Request], list[Any], BaseModel]


@dataclass
class Plan:
    """A call that needs the LLM: everything prepared, nothing sent yet."""

    article: Article
    call: ResolvedCall
    key: dict[str, Any] | None  # what, besides the call, its cache key depends on (``Summarizer.cache_key``)
    context: dict[str, Any]
    messages: list[dict[str, Any]]
    started: float
    source_language: str | None = None
    input_tokens: tokens.TokenCount | None = None
    parts: list[str] = field(default_factory=list)  # a long article's parts; empty when it fits
    budget: int = 0
    reduce_steps: int = 0
    rounds: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int | None = None  # the answer's limit (from the schema); the setting, if given, wins
    answer_model: type[BaseModel] | None = None  # evidence by number: what the model fills instead of the spec's
    sentences: list[str] = field(default_factory=list)  # evidence by number: the numbered sentences
    call_id: str = ""  # groups the call's exchanges in the log
    hybrid: hybrid.Draft | None = None  # the hybrid way: the model writes, the tool's record holds the rest
    degenerate: list[list[str]] = field(default_factory=list)  # hybrid: the degenerate fields of each answer
    warnings: list[str] = field(default_factory=list)  # said about the answer (e.g. a field the tool wrote)
    groups: list[type[BaseModel]] = field(default_factory=list)  # field groups, when one answer cannot fit

    @property
    def spec(self) -> SchemaSpec:
        return self.call.spec


def steps(plan: Plan, prompt: prompts.PromptTemplate, density_rounds: int) -> Workflow:
    """The requests a call needs, step by step; each ``yield`` gets the validated answers back."""
    model = plan.spec.model
    instance: BaseModel
    if plan.hybrid is not None:  # the model writes the prose; the tool's record holds the rest
        instance = yield from _hybrid(plan)
    elif plan.groups:  # a record larger than the model's answer budget: one bounded request per field group
        answers = yield [(group, plan.messages, plan.context) for group in plan.groups]
        record: dict[str, Any] = {}
        for answer in answers:
            record.update(answer.model_dump(mode="json"))
        if plan.answer_model is not None:
            record = pointing.fill(record, plan.spec.json_schema, plan.sentences)
        instance = model.model_validate(record, context=plan.context)
    elif plan.answer_model is not None:  # the model points at sentences; the tool writes them in
        [pointed] = yield [(plan.answer_model, plan.messages, plan.context)]
        record = pointing.fill(pointed.model_dump(mode="json"), plan.spec.json_schema, plan.sentences)
        instance = model.model_validate(record, context=plan.context)
    elif not plan.parts:
        [instance] = yield [(model, plan.messages, plan.context)]
    else:  # map: one partial record per part, each grounded in its own part (a slice of the article)
        total = len(plan.parts)
        metadata = plan.article.metadata()
        partials = yield [
            (
                model,
                prompts.with_instructions(
                    prompt.messages(
                        part, metadata, language=plan.call.language, style=plan.call.style, part=f"{n} of {total}"
                    ),
                    plan.call.instructions,
                ),
                grounding_context(part, model_answer=True),
            )
            for n, part in enumerate(plan.parts, 1)
        ]
        while len(partials) > 1:  # reduce, in as many rounds as the budget needs
            groups = _reduce_groups(plan, [p.model_dump(mode="json") for p in partials])
            plan.reduce_steps += len(groups)
            partials = yield [(model, _reduce_messages(plan, group), plan.context) for group in groups]
        instance = _deduplicated(partials[0], plan.context)
    if plan.call.style == "dense":
        instance = yield from _densify(plan, instance, density_rounds)
    return instance


def _hybrid(plan: Plan) -> Generator[list[Request], list[Any], BaseModel]:
    """The hybrid engine's loop: ask for the writing, re-ask with what is degenerate in it, then merge the
    best answer into the tool's record (a field still degenerate is the tool's own)."""
    assert plan.hybrid is not None
    messages = list(plan.messages)
    found: dict[str, str] = {}
    written: dict[str, Any] = {}
    for attempt in range(plan.call.max_retries + 1):
        [answer] = yield [(plan.hybrid.answer_model, messages, plan.context)]
        written = answer.model_dump(mode="json")
        found = hybrid.problems(
            written,
            plan.hybrid.candidates,
            plan.article.text,
            translated=bool(plan.call.language and plan.call.language != plan.source_language),
        )
        plan.degenerate.append(sorted(found))
        if not found or attempt == plan.call.max_retries:
            break
        messages = [
            *messages,
            {"role": "assistant", "content": json.dumps(written, ensure_ascii=False)},
            {"role": "user", "content": hybrid.reask(written, found)},
        ]
    record, plan.warnings = hybrid.merge(written, plan.hybrid, plan.spec, found)
    return plan.spec.model.model_validate(record, context=plan.context)


def _reduce_groups(plan: Plan, partials: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive partial records in groups whose JSON fits the budget (two at least, so it shrinks)."""
    groups: list[list[dict[str, Any]]] = [[]]
    used = 0
    for partial in partials:
        size = tokens.count(json.dumps(partial, ensure_ascii=False), plan.call.model).tokens
        if groups[-1] and len(groups[-1]) >= 2 and used + size > plan.budget:
            groups.append([])
            used = 0
        groups[-1].append(partial)
        used += size
    if len(groups) > 1 and len(groups[-1]) == 1:  # never leave one record alone: it would not shrink
        groups[-2].extend(groups.pop())
    return groups


def _reduce_messages(plan: Plan, group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text = json.dumps(group, ensure_ascii=False, indent=1)
    block = prompts.metadata_json(plan.article.metadata())
    messages = prompts.load("reduce-v1").render(
        parts=text, count=len(group), nonce=prompts.nonce(text, block), metadata_json=block, language=plan.call.language
    )
    return prompts.with_instructions(messages, plan.call.instructions)


def _densify(plan: Plan, instance: BaseModel, rounds: int) -> Generator[list[Request], list[Any], BaseModel]:
    """Chain of Density over the ``summary`` field: each round keeps every entity and adds 1-3 at the
    same length; the rounds are recorded in ``meta.rounds``."""
    record = instance.model_dump(mode="json")
    summary = str(record["summary"])
    entities = initial_entities(record, summary)
    target = max(1, len(words(summary)))
    max_sentences = plan.spec.json_schema.get("properties", {}).get("summary", {}).get("x-max-sentences")
    density = entity_density(entities, summary)
    plan.rounds.append(
        {
            "round": 0,
            "summary": summary,
            "entities": list(entities),
            "added": [],
            "words": target,
            "density": round(density, 4),
        }
    )
    template = prompts.load("densify-v1")
    shown = plan.parts[0] if plan.parts else plan.article.text  # a long article: its opening part fits
    for number in range(1, rounds + 1):
        messages = template.render(
            article=shown,
            nonce=prompts.nonce(shown),
            entities_json=json.dumps(entities, ensure_ascii=False),
            summary=summary,
            entities=entities,
            words=target,
            max_sentences=max_sentences or 5,
            language=plan.call.language,
        )
        messages = prompts.with_instructions(messages, plan.call.instructions)
        context = density_context(plan.context, entities, target, max_sentences, density)
        [step] = yield [(DenseRound, messages, context)]
        added = [name for name in step.missing_entities if name not in entities]
        entities = entities + added
        summary = step.summary
        density = entity_density(entities, summary)
        plan.rounds.append(
            {
                "round": number,
                "summary": summary,
                "entities": list(entities),
                "added": added,
                "words": len(words(summary)),
                "density": round(density, 4),
            }
        )
    record["summary"] = summary
    try:
        final: BaseModel = plan.spec.model.model_validate(record, context=plan.context)
        return final
    except ValidationError as exc:
        raise ValidationFailed(
            f"the densest summary does not fit the schema: {exc.errors()[0]['msg']}", attempts=len(plan.rounds)
        ) from None


def _deduplicated(instance: BaseModel, context: dict[str, Any]) -> BaseModel:
    """The merged record with repeated list items (the same point or quote from two overlapping parts)
    removed, in case the merge step kept both; unchanged if that would break the schema (minItems)."""
    record = instance.model_dump(mode="json")
    changed = False
    for name, value in record.items():
        if isinstance(value, list):
            kept = quality.distinct(value, same=_same_item)
            changed = changed or len(kept) != len(value)
            record[name] = kept
    if not changed:
        return instance
    try:
        return type(instance).model_validate(record, context=context)
    except ValidationError:
        return instance


def _same_item(item: Any) -> str:
    """Two parts' copies of one item: the same JSON once normalised (quotes, dashes, spaces, case)."""
    return normalize(json.dumps(item, sort_keys=True, ensure_ascii=False)).casefold()


def advance(workflow: Workflow, answers: list[Any] | None) -> tuple[list[Request], Any]:
    """Hand a workflow its answers: (the next step's requests, None), or ([], the final instance)."""
    try:
        return (next(workflow) if answers is None else workflow.send(answers)), None
    except StopIteration as done:
        return [], done.value
