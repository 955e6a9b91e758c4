"""A depth and size budget for JSON, checked on the raw bytes before anything is built from them.

Parsers pay for a document's shape, not its size: ``json.loads`` recurses once per level (a
line nested 5,000 deep is a ``RecursionError``), and ijson keeps every open level's full path,
so memory grows with the square of the depth (a 200 KB body of brackets took 22 GB). Every
JSON document that comes from outside (a request body, a line or record of a batch input, a
user schema file) goes through ``check`` first: it refuses documents over the size limit or
nested more than ``MAX_DEPTH`` levels, in time and memory linear in the size and without
building anything.

The scan counts brackets outside strings. It only has to agree with a parser on documents the
parser would accept: on broken JSON it may count more levels than a parser would reach, never
fewer, so whatever passes cannot make a parser go deeper than the budget.
"""

from __future__ import annotations

from itertools import accumulate, repeat
from operator import sub

from .errors import InputError, InputTooLarge

MAX_DEPTH = 64  # nesting levels; a news record needs 3 or 4, a JSON Schema file a dozen
_KEEP = b'"[]{}'
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # an opening bracket adds 1 level, a closing one -1
_CHUNK = 1 << 16  # the level count runs this many brackets at a time: other threads get the GIL in between


class JsonTooDeep(InputError):
    """A JSON document nested deeper than the budget."""

    problem = "json-too-deep"


def depth(data: bytes | str, limit: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` outside strings; stops counting past ``limit`` (then > ``limit``)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    # Escapes first, left to right as a parser reads them: an escaped backslash, then an escaped quote,
    # can neither open nor close a string. What is left of the document is quotes and brackets, and
    # the quotes alternate: opening, closing. Adjacent pairs (strings without brackets) go at once.
    marks = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _DROP).replace(b'""', b"")
    del raw
    level = deepest = 0
    inside = False  # within a string at the start of the chunk
    for start in range(0, len(marks), _CHUNK):
        parts = marks[start : start + _CHUNK].split(b'"')
        outside = b"".join(parts[1::2] if inside else parts[0::2]).translate(_STEPS)
        if len(parts) % 2 == 0:  # an odd number of quotes: the next chunk starts on the other side
            inside = not inside
        if outside:
            deepest = max(deepest, max(accumulate(map(sub, outside, repeat(1)), initial=level)))
            level += sum(outside) - len(outside)
        if limit is not None and deepest > limit:
            break
    return deepest


def check(
    data: bytes | str, *, what: str = "the JSON", max_depth: int = MAX_DEPTH, max_bytes: int | None = None
) -> None:
    """Refuse ``data`` before it is parsed: ``InputTooLarge`` over ``max_bytes``, ``JsonTooDeep`` when nested
    more than ``max_depth`` levels. ``what`` names the document in the message (one line)."""
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if max_bytes is not None and size > max_bytes:
        raise InputTooLarge(f"{what} is {size:,} bytes, over the {max_bytes:,}-byte limit")
    if depth(data, max_depth) > max_depth:
        raise JsonTooDeep(f"{what} is nested more than {max_depth} levels deep")
