"""Splitting an article that does not fit the model into overlapping parts.

Parts are contiguous slices of the original text, cut at sentence ends (preferring
paragraph ends once a part is well filled), and each part repeats the last sentences of
the previous one, so nothing said across a cut is lost. Because a part is a slice, a
quote copied verbatim from it is verbatim in the article too.
"""

from __future__ import annotations

from collections.abc import Callable

from .text import sentence_spans

_PARAGRAPH_FILL = 0.7  # cut at a paragraph end once a part is this full


def split(text: str, max_tokens: int, count: Callable[[str], int], overlap_tokens: int = 0) -> list[str]:
    """Parts of ``text`` of at most ``max_tokens`` each (a single sentence longer than that is cut by words)."""
    if max_tokens <= 0:
        raise ValueError("max_tokens must be positive")
    spans = _pieces(text, max_tokens, count)
    if not spans:
        return [text] if text.strip() else []
    sizes = [count(text[start:end]) for start, end in spans]
    parts: list[str] = []
    first = 0
    while first < len(spans):
        last, used = first, sizes[first]
        while last + 1 < len(spans) and used + sizes[last + 1] <= max_tokens:
            at_paragraph = "\n\n" in text[spans[last][1] : spans[last + 1][0]]
            if at_paragraph and used >= _PARAGRAPH_FILL * max_tokens:
                break
            last += 1
            used += sizes[last]
        parts.append(text[spans[first][0] : spans[last][1]])
        if last + 1 >= len(spans):
            break
        # Next part: back up over the last sentences of this one, up to the overlap budget.
        start, carried = last + 1, 0
        while start - 1 > first and carried + sizes[start - 1] <= overlap_tokens:
            start -= 1
            carried += sizes[start]
        first = start
    return parts


def _pieces(text: str, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence over the limit cut at word boundaries into spans that fit."""
    pieces: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if count(text[start:end]) <= max_tokens:
            pieces.append((start, end))
            continue
        cursor = start
        while cursor < end:
            cut = min(end, cursor + max_tokens * 3)  # characters; shrink until it fits
            while cursor < cut < end and not text[cut].isspace():  # no space since cursor: cut mid-word below
                cut -= 1
            if cut <= cursor:
                cut = min(end, cursor + max_tokens * 3)
            while count(text[cursor:cut]) > max_tokens and cut - cursor > 1:
                cut = cursor + (cut - cursor) * 3 // 4
            pieces.append((cursor, cut))
            cursor = cut
            while cursor < end and text[cursor].isspace():
                cursor += 1
    return pieces
