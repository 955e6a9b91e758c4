"""Figures for the extractive engine: amounts, percentages, measures and counts written in digits.

"$2.6 million", "3.8 percent", "a 900-kilometre porous border", "14,000 miles", "30 people",
"۶ نفر". Not figures: years ("in 2010"), dates ("May 18"), times ("6:38 p.m."), ordinals
("14th"), ages ("Webb, 51,", "48-year-old"), and numbers that are part of a name ("S&P 500").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import regex

from ..wordlists import FOREIGN_MONTH_NAMES
from .dates import MONTHS

MAX_FIGURES = 10  # the news schema's maxItems

# "3 000", "2 209" (a space, no-break space or thin space between groups of three: French, German), or
# digits with commas and dots ("13,000", "1,2", "40.000", "2.6").
_NUM = r"(?:[1-9]\d{0,2}(?:[ \u00a0\u202f]\d{3})+(?![\d,.]\d)|\d(?:[\d,.\u066b]*\d)?)"
_SP = r"[ \t\u00a0\u202f]"
_SCALE = (
    r"(?:million|billion|trillion|thousand|bn|m|k|Millionen|Million|Milliarden|Milliarde|Mio\.|Mrd\."
    r"|millions?|milliards?|mil[ \t]millones|millones|millón|millardos?|billones|mil|lakh|crore)"
)
_UNIT = (
    r"(?:kilomet(?:re|er)s?|km|miles?|met(?:re|er)s?|feet|foot|ft|inch(?:es)?|yards?|acres?|hectares?"
    r"|tons?|tonnes?|kg|kilograms?|pounds?|lbs?|litres?|liters?|gallons?|barrels?|mph|km/h"
    r"|days?|weeks?|months?|years?|hours?|minutes?|seconds?|nights?|points?|votes?|degrees?)"
)
_FIGURE = regex.compile(  # the lookahead first: without it every position of a sentence tries every alternative
    rf"(?=[\d$€£¥₹U])(?:(?P<money>(?:US)?[$€£¥₹]{_SP}?{_NUM}(?:{_SP}?{_SCALE}(?!\p{{L}}))?(?:-a-[\p{{L}}]+)?)"
    rf"|(?P<percent>{_NUM}{_SP}?(?:%|percent\b|per[ \t]cent\b|Prozent\b|pour[ \t]cent\b|por[ \t]ciento\b))"
    rf"|(?P<measure>{_NUM}-{_UNIT}(?:-(?:wide|long|high|deep|tall))?\b)(?!-old)"
    rf"|(?P<count>(?P<number>{_NUM})(?P<scale>{_SP}{_SCALE}(?!\p{{L}}))?(?P<words>(?:[ \t]+[\p{{L}}-]+){{0,2}})))"
)
_BEFORE_OK = regex.compile(r"(?<![\p{L}\d.,:/#=-])")
_NAME_BEFORE = regex.compile(r"\p{Lu}[\p{L}&]*[ \t]+$")
_DATE_BEFORE = regex.compile(rf"{MONTHS}[ \t]*$")
# "5 mai", "3 de mayo", "5. Mai": a day and a month in German, French or Spanish is a date too.
_FOREIGN_MONTH = "|".join(sorted(FOREIGN_MONTH_NAMES))
_DATE_AFTER = regex.compile(
    rf"^[ \t]*{MONTHS}|^(?:st|nd|rd|th)\b|^\.?[ \t]+(?:de[ \t]+)?(?i:{_FOREIGN_MONTH})(?!\p{{L}})"
)
_TIME_AFTER = regex.compile(r"^(?::\d|[ \t]?(?:a\.m\.|p\.m\.|am\b|pm\b|GMT|BST|UTC|Uhr\b|heures?\b))")
_YEAR = regex.compile(r"^(?:1[89]|20)\d{2}$")
_AGE = regex.compile(r"^\d{1,3}$")
_UNIT_AFTER = regex.compile(rf"(?:{_UNIT}|{_SCALE}|km²|m²|cm|mm|mg|ml|GB|MB|TB|kW|MW|GW|kWh)(?![\p{{L}}\d])")
_DECADE_BEFORE = regex.compile(r"(?:años|années|Jahre)[ \t]+$")


class Figure(NamedTuple):
    value: str
    sentence: int  # the index of the sentence it is in
    what: str  # the clause of that sentence it is in: at most 200 characters, whole words


def figures(sentences: list[str], stop: frozenset[str], clean: Callable[[str], str] = str) -> list[Figure]:
    """Each figure once, in text order. A range ("$300,000 to $600,000") is one figure. ``what`` is the part of
    the sentence (after ``clean``, which may drop a lead-in) between the clause breaks nearest the figure and
    free of the sentence's other figures, so three prices in one sentence get three clauses, not one sentence
    three times."""
    found: list[Figure] = []
    seen: set[str] = set()
    for index, sentence in enumerate(sentences):
        spans: list[tuple[str, int, int, str]] = []  # value, start, end, kind
        wanted = MAX_FIGURES - len(found) + 1  # and one more, the next one's start: a sentence of 60,000 numbers
        for match in _FIGURE.finditer(sentence):
            value = _value(match, sentence, stop)
            if value is not None:
                start = match.start()
                end = start + len(value) if sentence.startswith(value, start) else match.end()
                spans.append((value, start, end, match.lastgroup or ""))
                wanted -= value not in seen
                if wanted <= 0:
                    break
        if not spans:
            continue
        spans = _ranges(spans, sentence)
        cleaned = clean(sentence)
        offset = len(sentence) - len(cleaned) if sentence.endswith(cleaned) else 0
        for n, (value, start, end, _) in enumerate(spans):
            if value in seen:
                continue
            seen.add(value)
            others = [(a - offset, b - offset) for m, (_, a, b, _) in enumerate(spans) if m != n and a >= offset]
            if start >= offset:
                what = clause(cleaned, start - offset, end - offset, others)
            else:  # a figure in the lead-in ("2 DEAD (Reuters) -"): the sentence as it is
                what = clause(sentence, start, end, [])
            found.append(Figure(value, index, what))
            if len(found) == MAX_FIGURES:
                return found
    return found


_RANGE_GAP = regex.compile(r"[ \t]*(?:-|\u2013|to|bis|à|a|al)[ \t]*|[ \t]+(?:and|und|et|y)[ \t]+")
_BETWEEN = regex.compile(r"(?:between|zwischen|entre)[ \t]+$", regex.IGNORECASE)


def _ranges(spans: list[tuple[str, int, int, str]], sentence: str) -> list[tuple[str, int, int, str]]:
    """ "$300,000 to $600,000", "20 to 30 people", "between 5% and 7%": one figure of two numbers."""
    out: list[tuple[str, int, int, str]] = []
    for span in spans:
        if out:
            value, start, end, kind = out[-1]
            gap = sentence[end : span[1]]
            bare = kind != "count" or value == sentence[start:end].split()[0]
            conjunction = gap.strip() in {"and", "und", "et", "y"}
            if (
                kind == span[3]
                and bare
                and _RANGE_GAP.fullmatch(gap)
                and (not conjunction or _BETWEEN.search(sentence[max(0, start - 12) : start]))
            ):
                out[-1] = (sentence[start : span[2]], start, span[2], kind)
                continue
        out.append(span)
    return out


# Clause breaks: after ", ; :" and a space, around dashes and brackets; weaker, before a coordinating word.
_BREAK = regex.compile(r"(?<=[,;:])[ \t]+|[ \t]+[\u2014\u2013-][ \t]+|[ \t]*[()][ \t]*")
_SUBORDINATE = regex.compile(r"[ \t]+(?=(?:but|while|whereas|während|aber|tandis|alors|mais|mientras|pero)[ \t])")
_COORDINATE = regex.compile(r"[ \t]+(?=(?:and|or|und|oder|et|ou|y|o)[ \t])")
_LIMIT = 200  # the news schema's maxLength of a figure's what


def clause(sentence: str, start: int, end: int, others: list[tuple[int, int]], limit: int = _LIMIT) -> str:
    """The words of ``sentence`` around ``sentence[start:end]``: from a clause break to a clause break, with no
    other figure of ``others`` inside if a break allows it, at most ``limit`` characters, never a word cut."""
    if len(sentence) <= limit and not others:
        return sentence.strip()
    low = max((b for a, b in others if b <= start), default=0)
    high = min((a for a, b in others if a >= end), default=len(sentence))
    reach = (max(0, end - limit), min(len(sentence), start + limit))  # breaks further away cannot bound it
    lefts, rights = [0], [len(sentence)]  # where the clause may begin and end, widest first
    for tier in (_BREAK, _SUBORDINATE, _COORDINATE) if others else (_BREAK,):  # a weaker break only if needed
        breaks = [(m.start(), m.end()) for m in tier.finditer(sentence, *reach)]
        if not lefts[-1] >= low:
            lefts = sorted({*lefts, *(b for a, b in breaks if low <= b <= start)})
        if not rights[-1] <= high:
            rights = sorted({*rights, *(a for a, b in breaks if end <= a <= high)}, reverse=True)
    needed = others or len(sentence) > limit
    strong = [(m.start(), m.end()) for m in _BREAK.finditer(sentence, *reach)] if needed else []
    if len(sentence) > limit:  # any break will do to keep it short
        lefts = sorted({*lefts, *(b for a, b in strong if b <= start)})
        rights = sorted({*rights, *(a for a, b in strong if a >= end)}, reverse=True)
    # Two figures in one clause (different things: "the 13 letters … $300,000"): both get that clause.
    lefts = [x for x in lefts if x >= low] or [max((b for a, b in strong if b <= start), default=0)]
    rights = [x for x in rights if x <= high] or [min((a for a, b in strong if a >= end), default=len(sentence))]
    i = j = 0
    while rights[j] - lefts[i] > limit and (i + 1 < len(lefts) or j + 1 < len(rights)):
        if j + 1 >= len(rights) or (i + 1 < len(lefts) and start - lefts[i] >= rights[j] - end):
            i += 1
        else:
            j += 1
    left, right = lefts[i], rights[j]
    if left > 0 and len(sentence) > limit and sentence[left : left + 1].islower():
        # Cut on the left anyway: start at a clause that starts like one ("Disney has made…", not "such as CBS…").
        left = next((x for x in lefts[i + 1 :] if sentence[x : x + 1].isupper()), left)
    if right - left > limit:  # one clause longer than the limit: whole words around the figure
        left = max(left, start - (limit - (end - start)) // 3)
        right = min(right, left + limit)
        if left > 0 and not sentence[left - 1].isspace():
            left = sentence.find(" ", left, start) + 1 or start
        if right < len(sentence) and not sentence[right].isspace():
            right = max(sentence.rfind(" ", end, right), end)
    return sentence[left:right].strip(" \t,;:(\u2014\u2013-")


def _value(match: regex.Match[str], sentence: str, stop: frozenset[str]) -> str | None:
    start = match.start()
    before = sentence[max(0, start - 30) : start]
    if not _BEFORE_OK.match(sentence, start) and not match.group("money"):
        return None
    if match.group("money") or match.group("percent") or match.group("measure"):
        return match.group().strip()
    number, scale = match.group("number"), match.group("scale") or ""
    words = match.group("words").split()
    after = sentence[start + len(number) : start + len(number) + 40]  # bounded: a long sentence stays linear
    if _YEAR.match(number) or _DATE_BEFORE.search(before) or _DATE_AFTER.search(after):
        return None
    if _TIME_AFTER.match(after) or after.startswith("-year-old"):
        return None
    if _NAME_BEFORE.search(before) or (_AGE.match(number) and before.rstrip().endswith(",") and after.startswith(",")):
        return None  # "S&P 500", "Webb, 51,"
    if after[:1] in {"-", "/"} and not words and not scale:
        return None
    if after[:1].isalpha() and not scale:  # "2km", "5kg"; not "the 60s", "5h45", "3D"
        unit = _UNIT_AFTER.match(after)
        return number + unit.group() if unit else None
    if _DECADE_BEFORE.search(before):
        return None  # "los años 90", "les années 80"
    kept: list[str] = []
    for word in words:
        if word.casefold() in stop or not word[:1].isalpha():
            break
        kept.append(word)
    value = " ".join([number + scale, *kept]).rstrip(".,;:")  # "10 million users", "3 000 soldats"
    return value if kept or scale or "," in number or "." in number or len(number) >= 2 else None
