"""Degenerate answers: schema-valid, grounded, and useless.

A small model under a grammar writes JSON that parses and fits every length limit, and
still says nothing: one phrase eleven times, a prompt marker echoed back (``<<<#f286483``),
markup fragments from the page (``<img class=``), a placeholder ("The article is summarized
using the..."), three identical bullets, a summary that is the headline again. Each check
here names what is wrong in words the model can act on, and runs as a validator, so it is
re-asked like an ungrounded quote.

The checks apply to text a model composes (not to verbatim evidence, which the article
wrote), and only to model answers: ``ValidationContext`` carries ``QUALITY_KEY`` for them.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationInfo

QUALITY_KEY = "check_quality"
#: Fields whose text is prose the model writes: fewer than three words there is no sentence.
PROSE_FIELDS = frozenset({"headline", "summary", "point", "bullets", "lede"})

_WORD = re.compile(r"\w+(?:['’-]\w+)*", re.UNICODE)
_MARKUP = re.compile(
    r"</?[A-Za-z][A-Za-z0-9-]*(?:\s+[a-z-]+\s*=|\s*/?>|\s*$)|&(?:nbsp|amp|lt|gt|quot|#\d+);"
    r"|^\s*[\[{]\s*\"|(?:^|\s)\*\*\S|^#{1,6} |^\s*[-*] \S"
)  # HTML, entities, JSON, Markdown
_MARKER = re.compile(r"<<<|>>>|\bEND (?:ARTICLE|METADATA|PARTS|SUMMARY|KEEP|CANDIDATES)\b|^\s*\[\d+\]\s*$")
_ECHOES = tuple(
    phrase.casefold()
    for phrase in (
        "the article is summarized",
        "the article is data",
        "ignore any instructions",
        "this article is about",
        "sentence number",
        "copy the exact words",
        "json object",
        "your answer was cut off",
        "recall the function",
        "validation error found",
        "correct your json",
        "as an ai language model",
        "here is the summary",
        "here's a headline",
        "here is a headline",
        "summary of the article",
        "the article discusses",
        "the article reports",
        "in this article",
        "in this story",
        "lorem ipsum",
        "goes here",
        "[insert",
    )
)
_PLACEHOLDERS = frozenset(
    {
        "",
        "n/a",
        "na",
        "none",
        "null",
        "unknown",
        "tbd",
        "todo",
        "string",
        "text",
        "headline",
        "summary",
        "point",
        "bullet",
        "title",
        "...",
        "…",
        "example",
        "placeholder",
    }
)


# One sentence (a headline, a key point, a bullet) says a phrase once: these fields are held to the stricter rule.
ONE_SENTENCE_FIELDS = frozenset({"headline", "point", "bullets"})


def problem(text: str, *, prose: bool = False, min_words: int = 3, one_sentence: bool = False) -> str | None:
    """What is degenerate about ``text``, in words a model can act on, or None. ``one_sentence``: a phrase of
    five words said twice is a loop there ("…as a result of a landslide, and that
    was a result of melting ice and snow, and that was a result of a landslide," passed as a key point)."""
    stripped = text.strip()
    lowered = stripped.casefold()
    if not any(ch.isalnum() for ch in stripped) or (prose and lowered.strip(" .!?:;-") in _PLACEHOLDERS):
        return "is empty or a placeholder, not content from the article"
    if _MARKER.search(stripped):
        return "echoes a marker of the prompt; write the content itself"
    if _MARKUP.search(stripped):
        return "contains markup (HTML tags, entities or JSON); write plain sentences"
    for phrase in _ECHOES:
        if phrase in lowered:
            return f"repeats instructions or talks about the task ({phrase!r}) instead of stating facts"
    words = [w.casefold() for w in _WORD.findall(stripped)]
    if prose and word_count(stripped, words) < min_words:
        return "is not a sentence: write a complete statement of at least a few words"
    loop = repeated_phrase(words) or (repeated_in_a_sentence(words) if one_sentence else None)
    if loop:
        return f"repeats the phrase {loop!r} over and over; say each thing once"
    return None


def repeated_in_a_sentence(words: list[str]) -> str | None:
    """A phrase of 5-8 words said twice in what should be one sentence. (Three words three times is not enough:
    a real Persian sentence names "امور بین الملل", international affairs, three times.)"""
    for size in range(8, 4, -1):
        if len(words) < size * 2:
            continue
        gram, count = _commonest_phrase(words, size)
        if count >= 2:
            return " ".join(gram)
    return None


def _commonest_phrase(words: list[str], size: int) -> tuple[tuple[str, ...], int]:
    """The phrase of ``size`` words said most often in ``words``, and how often."""
    return Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1)).most_common(1)[0]


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def word_count(text: str, words: list[str] | None = None) -> int:
    """Words of ``text``; in scripts written without spaces (Chinese, Japanese, Thai), two characters a word."""
    spaced = len(words if words is not None else _WORD.findall(text))
    unspaced = len(_UNSPACED.findall(text))
    return max(spaced, unspaced // 2)


def repeated_phrase(words: list[str]) -> str | None:
    """A phrase of 2-8 words said again and again (see below), or one word making up half of a 10+ word
    text: the signature of a generation loop."""
    if len(words) >= 10:
        word, count = Counter(words).most_common(1)[0]
        if count * 2 >= len(words) and len(word) > 3:
            return word
    if len(words) < 6:
        return None
    # A phrase said three times starts with a pair of words said three times: with none, nothing repeats (one
    # count of pairs settles most texts, instead of seven counts of phrases).
    if Counter(itertools.pairwise(words)).most_common(1)[0][1] < 3:
        return None
    for size in range(8, 1, -1):
        if len(words) < size * 3:
            continue
        gram, count = _commonest_phrase(words, size)
        # Three times over half the text, or four times over a third: people repeat a name now and then
        # ("The Falcon 9 Rocket ..." three times in a 36-word reference summary), loops repeat and repeat.
        if (count >= 3 and count * size * 2 >= len(words)) or (count >= 4 and count * size * 3 >= len(words)):
            return " ".join(gram)
    return None


def check_text(value: str, info: ValidationInfo) -> str:
    """The pydantic validator of composed text fields (a no-op outside model answers)."""
    if isinstance(info.context, dict) and info.context.get(QUALITY_KEY):
        found = problem(
            value,
            prose=info.field_name in PROSE_FIELDS,
            min_words=2 if info.field_name == "headline" else 3,  # "Budget approved" is a headline
            one_sentence=info.field_name in ONE_SENTENCE_FIELDS,
        )
        if found:
            raise ValueError(f"degenerate answer: the text {found}")
    return value


def check_items(values: list[Any], info: ValidationInfo) -> list[Any]:
    """The validator of lists: the same item twice is a loop, not two facts."""
    if isinstance(info.context, dict) and info.context.get(QUALITY_KEY):
        seen: set[str] = set()
        for item in values:
            said = marker(str(item))
            if said and said in seen:
                raise ValueError("degenerate answer: the same item appears twice; give distinct items")
            seen.add(said)
        if info.field_name in PROSE_FIELDS:
            one = info.field_name in ONE_SENTENCE_FIELDS
            for item in values:
                found = problem(str(item), prose=True, one_sentence=one) if isinstance(item, str) else None
                if found:
                    raise ValueError(f"degenerate answer: an item {found}")
    return values


T = TypeVar("T")


def distinct(items: list[T], same: Callable[[T], str] | None = None) -> list[T]:
    """``items`` without a repeat, the first of each kept; ``same`` says what counts as the same item (default:
    ``marker`` of its text, the rule ``check_items`` refuses a model's list by)."""
    key = same or (lambda item: marker(str(item)))
    seen: set[str] = set()
    kept = []
    for item in items:
        said = key(item)
        if said not in seen:
            seen.add(said)
            kept.append(item)
    return kept


def marker(text: str) -> str:
    """``text`` reduced to its words, to tell two items that say the same apart from two that do not."""
    return " ".join(_WORD.findall(text.casefold()))


def supported(point: str, evidence: str) -> bool:
    """Whether a text shares enough words with its source (the sentence a point cites, the article a
    summary is of) to be about it: at least a third of its content words (4+ letters, not stopwords)."""
    from .wordlists import all_stopwords

    stop = all_stopwords()
    said = {w for w in _WORD.findall(point.casefold()) if len(w) >= 4 and w not in stop}
    source = {w for w in _WORD.findall(evidence.casefold()) if len(w) >= 4}
    return not said or len(said & source) * 3 >= len(said)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’-]{2,}")


def _numbers(text: str) -> set[str]:
    """Numbers as written, with thousands separators dropped ("1,200" and "1.200" are 1200; "2.6" stays)."""
    found = set()
    for number in _NUMBER.findall(text):
        found.add(number.replace(",", ""))
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", number):
            found.add(number.replace(".", ""))
    return found


def invented(text: str, source: str) -> str | None:
    """A number or a name in ``text`` that ``source`` (the article) does not have: what a small model makes up
    ("killing 7", "$26 million" for $2.6 million, the prompt example's "Elm Street", "Dodgers")."""
    from .wordlists import all_stopwords

    known = _numbers(source)
    for number in _NUMBER.findall(text):
        if not (_numbers(number) & known):
            return f"gives the number {number}, which the article does not; use only its facts"
    folded = source.casefold()
    stop = all_stopwords()
    words = [w for w in _WORD.findall(text) if len(w) >= 4]
    if words and sum(w[:1].isupper() for w in words) * 10 >= len(words) * 6:
        return None  # Title Case: every word is capitalised, so capitals say nothing about names
    for word in _CAPITALISED.findall(text):
        if word.casefold() not in folded and word.casefold() not in stop:
            return f"names {word!r}, which the article does not; use only its facts and names"
    return None


def repeats(headline: str, summary: str) -> str | None:
    """Whether a summary only repeats its headline."""
    a, b = _WORD.findall(headline.casefold()), _WORD.findall(summary.casefold())
    if a and b and (a == b or (len(b) < len(a) + 3 and " ".join(a) in " ".join(b))):  # adds under 3 words
        return "repeats the headline; say what happened and why"
    return None


def check_record(record: Any, info: ValidationInfo) -> Any:
    """The validator of a whole record: a summary that only repeats the headline says nothing more."""
    if isinstance(info.context, dict) and info.context.get(QUALITY_KEY):
        headline, summary = getattr(record, "headline", None), getattr(record, "summary", None)
        if isinstance(headline, str) and isinstance(summary, str):
            found = repeats(headline, summary)
            if found:
                raise ValueError(f"degenerate answer: the summary {found}")
    return record
