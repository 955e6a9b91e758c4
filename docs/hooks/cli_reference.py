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
    return get_docs_for_click(obj=command, ctx=ctx, name="summarizer", indent=1, title="`summarizer`")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_markdown())
    return markdown
