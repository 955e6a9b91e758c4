"""Reading an article from a file, a URL, stdin or bytes, into plain text plus metadata.

HTML goes through trafilatura (main text, title, author, date, site). Everything
that makes an input unusable (missing, empty, binary, too large, unfetchable) is an
InputError with one readable line.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, InputTooLarge
from .urllists import is_url_list

MAX_CHARS = 1_000_000  # ~170,000 words: long articles are split, but a runaway input is refused
MAX_HTML_BYTES = 2_000_000  # extraction costs ~2 s of CPU a megabyte: refuse a page before paying that

_HTML_SNIFF = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|article)\b", re.IGNORECASE | re.DOTALL
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://|^(data|mailto|javascript|about):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAGIC = {
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a zip archive",
    b"\x1f\x8b": "gzip data",
    b"\x7fELF": "a program",
    b"SQLite format": "an SQLite database",
}


@dataclass
class Article:
    """Article text and what is known about where it came from."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    url: str | None = None
    path: str | None = None
    warnings: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, str]:
        """Known metadata worth showing the model (never the local path)."""
        fields = {"title": self.title, "author": self.author, "date": self.date, "site": self.site, "url": self.url}
        return {k: v for k, v in fields.items() if v}

    def source_info(self) -> dict[str, Any]:
        info = self.metadata()
        if self.path:
            info["path"] = self.path
        return info

    def to_dict(self) -> dict[str, Any]:
        """Every field, as JSON-ready values (``from_dict`` turns it back): an article crossing a process."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> Article:
        """The article ``to_dict`` gave (unknown keys are an error: a field is never dropped on the way)."""
        return cls(**fields)


def load(
    spec: str,
    *,
    max_bytes: int = 20_000_000,
    max_chars: int = MAX_CHARS,
    timeout: float = 20.0,
    max_html_bytes: int = MAX_HTML_BYTES,
) -> Article:
    """Load ``spec``: a path, an http(s) URL, or ``-`` for stdin."""
    if spec == "-":
        data = _read_limited(sys.stdin.buffer, max_bytes, "standard input")
        return from_bytes(data, name="<stdin>", max_chars=max_chars, max_html_bytes=max_html_bytes)
    if spec.startswith(("http://", "https://")):
        return fetch(spec, max_bytes=max_bytes, max_chars=max_chars, timeout=timeout, max_html_bytes=max_html_bytes)
    path = Path(spec)
    scheme = _SCHEME.match(spec)
    if scheme and not path.exists():
        raise InputError(
            f"unsupported URL scheme {(scheme.group(1) or scheme.group(2)).lower()!r}: give an "
            "http(s) URL, a file path, or - for standard input"
        )
    if not path.exists():
        raise InputError(f"no such file: {spec}")
    if path.is_dir():
        raise InputError(f"{spec} is a folder; give one article file (folders are for `batch`)")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputTooLarge(f"{spec} is {size:,} bytes, over the {max_bytes:,}-byte limit")
        data = path.read_bytes()
    except PermissionError:
        raise InputError(f"permission denied reading {spec}") from None
    except OSError as exc:
        raise InputError(f"cannot read {spec}: {exc.strerror}") from None
    is_html = path.suffix.lower() in (".html", ".htm", ".xhtml")
    is_markdown = path.suffix.lower() in (".md", ".markdown")
    article = from_bytes(
        data,
        name=spec,
        html=False if is_markdown else is_html or None,
        max_chars=max_chars,
        max_html_bytes=max_html_bytes,
        markdown=is_markdown,
    )
    article.path = str(path)
    return article


def from_bytes(
    data: bytes,
    *,
    name: str,
    html: bool | None = None,
    charset: str | None = None,
    url: str | None = None,
    max_chars: int = MAX_CHARS,
    max_html_bytes: int = MAX_HTML_BYTES,
    markdown: bool = False,
) -> Article:
    """Decode and, for HTML, extract; Markdown (``markdown=True``) becomes its plain text. ``html=None`` sniffs the
    content."""
    if not data.strip():
        raise InputError(f"{name} is empty")
    _refuse_binary(data, name)
    if html is None:
        html = bool(_HTML_SNIFF.match(data[:4096]))
    if html:
        check_html_size(len(data), name=name, max_html_bytes=max_html_bytes)
    warnings: list[str] = []
    text = _decode(data, name, charset, html, warnings)
    if html:
        article = from_html(text, url=url, name=name)
    elif markdown and not is_url_list(text):  # a .md of links is a list to fetch, not Markdown prose
        plain, title = markdown_text(text)
        article = Article(text=plain.strip(), title=title, url=url)
    else:
        article = Article(text=text.strip(), url=url)
    article.warnings.extend(warnings)
    check_text(article.text, name=name, max_chars=max_chars)
    return article


def markdown_text(source: str) -> tuple[str, str | None]:
    """The plain text of a Markdown article and its first heading: headings, paragraphs and list items a line each,
    a link's words without its address, no emphasis marks, images or raw HTML. Quotes and evidence are then checked
    against what a reader reads ("**Read more:** [Why…](https://…)" was a timeline entry, markup and all)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(source)
    lines: list[str] = []
    title: str | None = None
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        words = []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" " if child.type == "softbreak" else "\n")
        line = "".join(words).strip()
        if not line or (_emphasised_only(token) and not line.startswith("By ")):
            continue  # "*The council chamber on Tuesday.*": a caption or a note in italics, not the story
        if title is None and index and tokens[index - 1].type == "heading_open":
            title = line
        lines.append(line)
    return "\n".join(lines), title


def _emphasised_only(inline: Any) -> bool:
    """Whether a Markdown paragraph is all in italics or bold (its first and last parts open and close it)."""
    children = [
        c
        for c in inline.children or []
        if c.type not in ("image", "softbreak", "hardbreak") and not (c.type == "text" and not c.content.strip())
    ]
    return (
        len(children) >= 3
        and children[0].type in ("em_open", "strong_open")
        and children[-1].type
        in (
            "em_close",
            "strong_close",
        )
        and sum(c.type in ("em_open", "strong_open") for c in children) == 1
    )


def looks_like_html(text: str) -> bool:
    return bool(_HTML_SNIFF.match(text[:4096].encode("utf-8", "replace")))


def from_text(text: str, *, max_chars: int = MAX_CHARS, name: str = "text") -> Article:
    check_text(text, name=name, max_chars=max_chars)
    return Article(text=text.strip())


# Markup a reader never sees inline: hidden elements and hover cards (The Hill's "rollover-people"
# glued "Kristi NoemKristi Lynn NoemSouth Dakota governor doubles down…" into the lead). Only the
# innermost card is cut, never a link: the elements around it hold the name as the reader sees it.
_CARD = (
    "contains(@class, 'rollover') or contains(@class, 'tooltip') or contains(@class, 'popover')"
    " or contains(@class, 'hovercard')"
)
_UNSEEN = (
    "//*[@hidden or @aria-hidden='true' or contains(translate(@style, ' ', ''), 'display:none')]"
    f" | //*[not(self::a)][{_CARD}][not(.//*[not(self::a)][{_CARD}])]"
)


def from_html(html: str, *, url: str | None = None, name: str = "HTML") -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, prune_xpath=_UNSEEN
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise InputError(f"no article text found in {name}")
    return Article(
        text=text.strip(),
        title=doc.title or None,  # type: ignore[union-attr]
        author=doc.author or None,  # type: ignore[union-attr]
        date=doc.date or None,  # type: ignore[union-attr]
        site=doc.sitename or doc.hostname or None,  # type: ignore[union-attr]
        url=url or doc.url or None,  # type: ignore[union-attr]
    )


def check_html_size(size: int, *, name: str, max_html_bytes: int) -> None:
    """Refuse a page too big to extract before paying for it (extraction costs ~2 s of CPU a megabyte)."""
    if size > max_html_bytes:
        raise InputTooLarge(
            f"{name} is {size:,} bytes of HTML, over the {max_html_bytes:,}-byte limit for extraction",
            hint="raise it with SUMMARIZER_MAX_HTML_BYTES",
        )


MIN_LETTERS = 10  # below this there is no article, and a model asked anyway can only invent or echo


def check_text(text: str, *, name: str, max_chars: int) -> None:
    if not text or not text.strip():
        raise InputError(f"{name} has no text")
    if len(text) > max_chars:
        raise InputTooLarge(
            f"{name} has {len(text):,} characters, over the {max_chars:,}-character limit",
            hint="raise it with --max-chars or SUMMARIZER_MAX_INPUT_CHARS",
        )
    lone = _SURROGATE.search(text)
    if lone:  # from a JSON escape ("\ud800") with no pair: no UTF-8 for it, so no request could carry it
        raise InputError(
            f"{name} is not valid Unicode: a lone surrogate (U+{ord(lone.group()):04X}) at character {lone.start():,}",
            hint="send UTF-8 text; a JSON \\uD8xx escape needs its \\uDCxx pair",
        )
    sample = text[:8192]
    if _CONTROL.search(sample) and len(_CONTROL.findall(sample)) > len(sample) * 0.05:  # counted only if any
        raise InputError(f"{name} looks binary, not text")
    letters = itertools.islice(filter(str.isalnum, sample[:2000]), MIN_LETTERS)  # stops at the tenth letter
    if sum(1 for _ in letters) < MIN_LETTERS:  # zero-width characters, punctuation, a word
        raise InputError(f"{name} has fewer than {MIN_LETTERS} letters: nothing to summarize")


def fetch(
    url: str,
    *,
    max_bytes: int,
    max_chars: int,
    timeout: float,
    policy: Any = None,
    resolver: Any = None,
    max_html_bytes: int = MAX_HTML_BYTES,
) -> Article:
    """Download and extract ``url``; ``policy`` (a ``netguard.UrlPolicy``) limits where it may go."""
    from .netguard import ALLOW_ALL, system_resolver
    from .netguard import fetch as guarded_fetch

    data, final_url, headers = guarded_fetch(
        url, policy=policy or ALLOW_ALL, max_bytes=max_bytes, timeout=timeout, resolver=resolver or system_resolver
    )
    content_type = headers.get("content-type", "")
    charset_match = re.search(r"charset=([\w.:-]+)", content_type, re.IGNORECASE)
    is_html = "html" in content_type.lower() or None
    return from_bytes(
        data,
        name=url,
        html=is_html,
        url=final_url,
        max_html_bytes=max_html_bytes,
        charset=charset_match.group(1) if charset_match else None,
        max_chars=max_chars,
    )


def _read_limited(stream: Any, max_bytes: int, name: str) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputTooLarge(f"{name} is over the {max_bytes:,}-byte limit")
    return bytes(data)


def _refuse_binary(data: bytes, name: str) -> None:
    head = data[:8192]
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"{name} is {kind}, not an article; give text, Markdown or HTML")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} looks binary (it contains NUL bytes), not text")


def _decode(data: bytes, name: str, charset: str | None, html: bool, warnings: list[str]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = charset
    if not declared and html:
        match = _META_CHARSET.search(data[:8192])
        declared = match.group(1).decode("ascii") if match else None
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    warnings.append(f"{name} is not valid UTF-8 and declares no usable charset; undecodable bytes were replaced")
    return data.decode("utf-8", errors="replace")
