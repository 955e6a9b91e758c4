"""MkDocs hook: the CLI reference page, generated from the Typer app at build time (offline).

``docs/cli-reference.md`` holds the marker ``<!-- cli-reference -->``; it is replaced by the
Markdown that ``typer.cli.get_docs_for_click`` writes for ``summarizer.cli:app``, so every
command, argument and option in the reference is the one the installed CLI has.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"


def cli_markdown() -> str:
    import typer
    import typer.main
    from typer.cli import get_docs_for_click

    from summarizer.cli import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="summarizer")
    return fence_examples(get_docs_for_click(obj=command, ctx=ctx, name="summarizer", indent=1,
                                             title="`summarizer`"))


def fence_examples(markdown: str) -> str:
    """A help text's indented block after a line ending in ':' (``Examples:`` kept verbatim by click's ``\\b``)
    becomes a code block, as the terminal shows it, instead of one run-on paragraph."""
    lines = markdown.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        start = i + 1 if i < len(lines) and not lines[i].strip() else i  # one blank line may come first
        if (line.rstrip().endswith(":") and not line.startswith(("*", "#")) and start < len(lines)
                and lines[start].startswith("  ") and lines[start].strip()):
            block = []
            i = start
            while i < len(lines) and (lines[i].startswith("  ") or (
                    not lines[i].strip() and i + 1 < len(lines) and lines[i + 1].startswith("  "))):
                if lines[i].strip():  # blank lines between the examples are dropped
                    block.append(lines[i][2:])
                i += 1
            out += ["", "```", *block, "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_markdown())
    return markdown
