"""Datelines and timeline dates for the extractive engine.

A dateline opens the story: "ISLAMABAD:", "Washington, DC, United States:", "VIENNA —",
"NEW YORK (Reuters) -", "Rome (CNN)". The place must be written in capitals or be a place the
gazetteer knows, so an opening like "Update: …" is not taken for one.

Timeline dates are resolved with ``dateparser`` into ISO dates ("2013-04-15", "2019-11",
"2010") when the text allows: absolute dates with a year always; relative ones ("on
Tuesday", "last week", "Nov. 18") only against a known publication or dateline date, since
the schema says never to guess.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import regex

from ..wordlists import places

_AGENCY = r"\((?:CNN|AP|AFP|Reuters|dpa|BBC|Bloomberg|APP|PTI|IANS|Xinhua|Anadolu|IRNA|UPI)\)"
_PART = r"\p{Lu}[\p{L}.'’-]*(?:[ \t]+\p{Lu}[\p{L}.'’-]*){0,3}"
_MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATELINE = regex.compile(
    rf"^[ \t]*(?P<loc>{_PART}(?:,[ \t]*{_PART}){{0,3}})"
    rf"(?:,[ \t]*(?P<date>{_MONTH_ABBR}[ \t]+\d{{1,2}}(?:,?[ \t]+\d{{4}})?)"
    rf"|[ \t]+\((?P<paren>{_MONTH_ABBR}[ \t]+\d{{1,2}}(?:,?[ \t]+\d{{4}})?)\))?"  # "WASHINGTON (Aug. 13) --"
    rf"[ \t]*(?:(?P<agency>{_AGENCY})[ \t]*(?:[-–—:]+[ \t]*)?|(?P<dash>[-–—]+)[ \t]+|(?P<colon>:)[ \t]+)"
)
# "Hamburg. Gabi Eutemüller und…": a German paper's dateline, a known place and a full stop.
_PLACE_STOP = regex.compile(r"^[ \t]*(?P<loc>\p{Lu}[\p{L}-]+(?:[ \t]+\p{Lu}[\p{L}-]+)?)\.[ \t]+(?=\p{Lu})")
# "DIE ZEIT: Herr Kühnert, …": an interview's speaker, not a place.
_ARTICLE = frozenset("die der das the le la les el".split())
MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
WHEN = regex.compile(
    rf"\b(?:{MONTHS}[ \t]+\d{{1,2}}(?:st|nd|rd|th)?(?:,?[ \t]+\d{{4}})?|\d{{1,2}}[ \t]+{MONTHS}(?:[ \t]+\d{{4}})?"
    rf"|{MONTHS}[ \t]+\d{{4}}|(?:last|this|next|on|early|late)[ \t]+(?:{_DAYS}|week|month|year|weekend)"
    rf"|{_DAYS}|(?:in|since|by|until)[ \t]+(?:19|20)\d{{2}}|yesterday|earlier[ \t]+this[ \t]+(?:week|month|year))\b"
)
_YEAR = regex.compile(r"\b(?:1[89]|20)\d{2}\b")
_LEADING = regex.compile(r"^(?:on|in|since|by|until|early|late)[ \t]+", regex.IGNORECASE)


def dateline(text: str, *, skip: int = 0, date: str | None = None) -> dict[str, str | None]:
    """The dateline's place and date, from the first lines of the story (after ``skip``, the title): the first
    three that are not blank, or six when they are short (a photo caption and its credit may come first)."""
    lines = [line for line in text[skip:].lstrip()[:1500].split("\n") if line.strip()]
    for line in lines[: 6 if sum(len(line) for line in lines[:3]) < 600 else 3]:
        match = _DATELINE.match(line)
        if match and _is_place(match):
            return {
                "location": match.group("loc").strip(" ,"),
                "date": match.group("date") or match.group("paren") or date,
            }
        stop = _PLACE_STOP.match(line)
        if stop and stop.group("loc").casefold() in places():
            return {"location": stop.group("loc"), "date": date}
    return {"location": None, "date": date}


def dateline_end(sentence: str) -> int:
    """Where the text after a dateline at the start of ``sentence`` begins (0 if it has none)."""
    match = _DATELINE.match(sentence)
    return match.end() if match and _is_place(match) else 0


def _is_place(match: regex.Match[str]) -> bool:
    first = match.group("loc").split(",")[0].strip()
    if match.group("agency"):
        return True
    if first.split()[0].casefold() in _ARTICLE and match.group("colon"):
        return False  # "DIE ZEIT: Herr Kühnert…", "THE INTERVIEWER:"
    capitals = first.replace(" ", "").replace(".", "").isupper() and len(first) > 2
    return capitals or first.casefold() in places()


def base_date(*candidates: str | None) -> dt.date | None:
    """The first candidate that is a full ISO date (the page's publication date), else None."""
    for value in candidates:
        if value:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def resolve(phrase: str, base: dt.date | None) -> str:
    """``phrase`` as an ISO date (day, month or year) where the text and ``base`` allow; else as written."""
    has_year = bool(_YEAR.search(phrase))
    if base is None and not has_year:
        return phrase
    cleaned = _LEADING.sub("", phrase.strip())
    if base is not None and cleaned.lower() == base.strftime("%A").lower():
        return base.isoformat()  # "on Tuesday" in a story dated Tuesday is that day, not a week before
    data = _parser(base).get_date_data(cleaned)
    if data is None or data.date_obj is None:
        return phrase
    day: dt.datetime = data.date_obj
    return {"day": day.strftime("%Y-%m-%d"), "month": day.strftime("%Y-%m"), "year": day.strftime("%Y")}.get(
        data.period or "", phrase
    )


@lru_cache(maxsize=64)  # one parser per publication date; a long batch has many
def _parser(base: dt.date | None) -> Any:
    from dateparser.date import DateDataParser

    settings: dict[str, Any] = {"PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": False}
    if base is not None:
        settings["RELATIVE_BASE"] = dt.datetime(base.year, base.month, base.day)
    return DateDataParser(languages=["en"], settings=settings)
