"""Turning a result into JSON, Markdown or plain text, for any schema."""

from __future__ import annotations

import json
import re
from typing import Any

from .result import Result
from .text import normalize

FORMATS = ("json", "markdown", "text")
# What a terminal acts on instead of showing: C0 controls (ESC starts OSC/CSI sequences; CR and backspace
# overwrite), DEL, C1 controls (U+009B is a one-character CSI), line and paragraph separators, and the
# bidirectional overrides and isolates that reorder what is shown.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_LINE_BREAK = re.compile(_CONTROL.pattern[:-1] + "\t\n]")
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def for_terminal(text: str, *, lines: bool = True) -> str:
    """``text`` safe to print on a terminal: every control character shown as a JSON-style escape (``\\u001b``,
    ``\\r``), so an article, an id or a model's answer cannot move the cursor, retitle the window or forge a
    line (and JSON stays JSON). Newlines and tabs are kept when ``lines`` (a multi-line view), escaped too when
    not (one line: an id, a message). For what goes to a terminal only: files keep the bytes."""
    pattern = _CONTROL if lines else _CONTROL_OR_LINE_BREAK
    return pattern.sub(lambda m: _SHORT_ESCAPES.get(m.group()) or f"\\u{ord(m.group()):04x}", text)


def render(result: Result[Any], fmt: str = "json", *, with_meta: bool = False, cost: float | None = None) -> str:
    """``result`` as JSON, Markdown or text; ``with_meta`` adds how it was made (JSON: ``{summary, meta}``;
    Markdown and text: a block of ``name: value`` lines after the summary, ``cost`` among them)."""
    data = result.summary.model_dump(mode="json")
    if fmt == "json":
        payload = result.to_dict() if with_meta else data
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    lines = _markdown(data) if fmt == "markdown" else _text(data)
    if with_meta:
        shown = meta_lines(result.meta, cost=cost)
        while lines and not lines[-1]:
            lines.pop()
        if fmt == "markdown":
            lines += ["", "---", "", *(f"- {line}" for line in shown)]
        else:
            lines += ["", "-" * 40, *shown]
    return "\n".join(lines).rstrip() + "\n"


def meta_lines(meta: Any, *, cost: float | None = None) -> list[str]:
    """Every part of a result's meta that says something, one ``name: value`` line each (what ``--meta``
    adds to Markdown and text): engine, model, mode, schema, style, languages, cache hit, attempts,
    requests, tokens, cost, time, the article's parts, its source and every warning."""
    usage = meta.usage
    if meta.cached:
        spent = "none now (a cached answer)"
    elif cost == 0:  # an engine whose answers cost nothing: offline rules, a model on this machine
        spent = f"none ({meta.engine} engine)"
    elif cost is None:
        spent = f"unknown for {meta.model or 'this model'} (no price: `prices` in the config file)"
    else:
        spent = f"est. ${cost:,.6f}"
    article = ""
    if meta.input_tokens is not None:
        article = f"; article {meta.input_tokens:,}{' (estimated)' if meta.tokens_estimated else ''}"
    languages = meta.source_language or "?"
    if meta.language:
        languages += f" -> {meta.language}"
    lines = [
        f"engine: {meta.engine}",
        f"model: {meta.model or '-'}",
        f"mode: {meta.mode or '-'}",
        f"schema: {meta.schema_name}",
        f"style: {meta.style}",
        f"language: {languages}",
        f"cached: {'yes' if meta.cached else 'no'}",
        f"attempts: {meta.attempts}; requests: {meta.requests}",
        f"tokens: {usage.prompt_tokens:,} in / {usage.completion_tokens:,} out{article}",
        f"cost: {spent}",
        f"latency: {meta.latency_s:.2f} s",
    ]
    if meta.prompt_version:
        lines.append(f"prompt: {meta.prompt_version}")
    if meta.chunks > 1 or meta.reduce_steps:
        lines.append(f"parts: {meta.chunks} (merged in {meta.reduce_steps} request(s))")
    if meta.rounds:
        lines.append(f"density rounds: {len(meta.rounds)}")
    if meta.degenerate_answers:
        lines.append(f"degenerate answers re-asked or patched: {meta.degenerate_answers}")
    lines += [f"source {key}: {_inline(value)}" for key, value in meta.source.items() if value not in (None, "", [])]
    lines += [f"warning: {warning}" for warning in meta.warnings]
    return lines


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _same_point(item: dict[str, Any]) -> bool:
    """A key point whose point is its evidence, word for word: shown once, not twice."""
    return {"point", "evidence"} <= item.keys() and normalize(str(item["point"])) == normalize(str(item["evidence"]))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        if _same_point(value):
            return str(value["point"])
        parts = [str(v) for v in value.values() if v not in (None, "", [])]
        return " \u2014 ".join(parts)
    if isinstance(value, list):
        return ", ".join(_inline(v) for v in value)
    return str(value)


def section(data: dict[str, Any], fmt: str, *, source: str | None = None) -> list[str]:
    """One article of a batch's Markdown or text document: its headline one level down in Markdown (the
    document holds many), and a ``Source:`` line at the end. A schema without a headline is headed by the
    source."""
    if "headline" not in data and source:
        head = [f"## {source}", ""] if fmt == "markdown" else [source, "=" * len(source), ""]
    else:
        head = []
    body = _markdown(data, level=2) if fmt == "markdown" else _text(data)
    foot = [f"*Source: {source}*" if fmt == "markdown" else f"Source: {source}", ""] if source else []
    return [*head, *body, *foot]


def _markdown(data: dict[str, Any], level: int = 1) -> list[str]:
    """The record as Markdown, its headline a heading of ``level`` and its lists one level below."""
    lines: list[str] = []
    mark, sub = "#" * level, "#" * (level + 1)
    if "headline" in data:
        lines += [f"{mark} {data['headline']}", ""]
    if isinstance(data.get("summary"), str):
        lines += [data["summary"], ""]
    for key, value in data.items():
        if key in ("headline", "summary") or value in (None, "", [], {}):
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{sub} {_title(key)}")
            for item in value:
                if _same_point(item):
                    lines.append(f"- {item['point']}")
                elif {"point", "evidence"} <= item.keys():
                    lines.append(f"- {item['point']}\n  > {item['evidence']}")
                elif {"speaker", "text"} <= item.keys():
                    lines.append(f"- \u201c{item['text']}\u201d \u2014 {item['speaker']}")
                else:
                    lines.append(f"- {_inline(item)}")
            lines.append("")
        elif isinstance(value, list):
            lines += [f"{sub} {_title(key)}", *(f"- {v}" for v in value), ""]
        elif isinstance(value, dict):
            shown = _inline(value)
            if shown:
                lines += [f"**{_title(key)}:** {shown}", ""]
        else:
            lines += [f"**{_title(key)}:** {value}", ""]
    return lines


def _text(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "headline" in data:
        headline = str(data["headline"])  # as written (upper-casing loses names' and acronyms' case), underlined
        lines += [headline, "=" * len(headline), ""]
    if isinstance(data.get("summary"), str):
        lines += [data["summary"], ""]
    for key, value in data.items():
        if key in ("headline", "summary") or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            lines.append(f"{_title(key)}:")
            lines += [f"  * {_inline(v)}" for v in value]
            lines.append("")
        else:
            shown = _inline(value)
            if shown:
                lines += [f"{_title(key)}: {shown}", ""]
    return lines
