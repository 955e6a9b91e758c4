"""Figures for the extractive engine: amounts, percentages, measures and counts written in digits.

"$2.6 million", "3.8 percent", "a 900-kilometre porous border", "14,000 miles", "30 people",
"۶ نفر". Not figures: years ("in 2010"), dates ("May 18"), times ("6:38 p.m."), ordinals
("14th"), ages ("Webb, 51,", "48-year-old"), and numbers that are part of a name ("S&P 500").
"""

from __future__ import annotations

import regex

from .dates import MONTHS

MAX_FIGURES = 10  # the news schema's maxItems

_NUM = r"\d(?:[\d,.\u066b]*\d)?"
_SCALE = r"(?:million|billion|trillion|thousand|bn|m|k|Millionen|Milliarden|millions?|milliards?)"
_UNIT = (r"(?:kilomet(?:re|er)s?|km|miles?|met(?:re|er)s?|feet|foot|ft|inch(?:es)?|yards?|acres?|hectares?"
         r"|tons?|tonnes?|kg|kilograms?|pounds?|lbs?|litres?|liters?|gallons?|barrels?|mph|km/h"
         r"|days?|weeks?|months?|years?|hours?|minutes?|seconds?|nights?|points?|votes?|degrees?)")
_FIGURE = regex.compile(
    rf"(?P<money>(?:US)?[$€£¥₹][ \t]?{_NUM}(?:[ \t]?{_SCALE}\b)?(?:-a-[\p{{L}}]+)?)"
    rf"|(?P<percent>{_NUM}[ \t]?(?:%|percent\b|per[ \t]cent\b|Prozent\b|pour[ \t]cent\b))"
    rf"|(?P<measure>{_NUM}-{_UNIT}(?:-(?:wide|long|high|deep|tall))?\b)(?!-old)"
    rf"|(?P<count>{_NUM}(?:[ \t]{_SCALE}\b)?(?:[ \t]+[\p{{L}}-]+){{0,2}})"
)
_BEFORE_OK = regex.compile(r"(?<![\p{L}\d.,:/#=-])")
_NAME_BEFORE = regex.compile(r"\p{Lu}[\p{L}&]*[ \t]+$")
_DATE_BEFORE = regex.compile(rf"{MONTHS}[ \t]*$")
_DATE_AFTER = regex.compile(rf"^[ \t]*{MONTHS}|^(?:st|nd|rd|th)\b")
_TIME_AFTER = regex.compile(r"^(?::\d|[ \t]?(?:a\.m\.|p\.m\.|am\b|pm\b|GMT|BST|UTC|Uhr\b|heures?\b))")
_YEAR = regex.compile(r"^(?:1[89]|20)\d{2}$")
_AGE = regex.compile(r"^\d{1,3}$")


def figures(sentences: list[str], stop: frozenset[str]) -> list[tuple[str, int]]:
    """(value, sentence index) of each figure, in text order, each value once."""
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, sentence in enumerate(sentences):
        for match in _FIGURE.finditer(sentence):
            value = _value(match, sentence, stop)
            if value is None or value in seen:
                continue
            seen.add(value)
            found.append((value, index))
            if len(found) == MAX_FIGURES:
                return found
    return found


def _value(match: regex.Match[str], sentence: str, stop: frozenset[str]) -> str | None:
    start = match.start()
    before = sentence[max(0, start - 30) : start]
    if not _BEFORE_OK.match(sentence, start) and not match.group("money"):
        return None
    if match.group("money") or match.group("percent") or match.group("measure"):
        return match.group().strip()
    number, *words = match.group("count").split()
    after = sentence[start + len(number) : start + len(number) + 40]  # bounded: a long sentence stays linear
    if _YEAR.match(number) or _DATE_BEFORE.search(before) or _DATE_AFTER.search(after):
        return None
    if _TIME_AFTER.match(after) or after.startswith("-year-old"):
        return None
    if _NAME_BEFORE.search(before) or (_AGE.match(number) and before.rstrip().endswith(",") and after.startswith(",")):
        return None  # "S&P 500", "Webb, 51,"
    if after[:1] in {"-", "/"} and not words:
        return None
    kept: list[str] = []
    for word in words:
        if word.casefold() in stop or not word[:1].isalpha():
            break
        kept.append(word)
    value = " ".join([number, *kept]).rstrip(".,;:")
    return value if kept or "," in number or "." in number or len(number) >= 2 else None
