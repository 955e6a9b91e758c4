"""Direct quotations and who said them, for the extractive engine.

A quotation is typographic (“…”, «…», „…“) or straight ("…"); one that opens and does not close
before the paragraph ends runs to the paragraph's end, the newspaper convention for a quote
continued in the next paragraph. Its speaker comes from, in order:

1. the words right after it: '"…," Mayer said', '"…," said Brent Sherwood, vice president…';
2. the words before it in the same sentence: 'Ms Persson said: "…"', 'Pompeo said the release "…"';
3. a pronoun or description in either place ("he said", "the 56-year-old said", "they said",
   "it added"): the last person (or, for "it"/"they", organisation) named before the quote;
4. a quote paragraph with no attribution of its own continues the quote before it.

Names are resolved to the entity's full name ("Mayer" -> "Kevin Mayer"); a description that
names nobody ("the doctor said", "one user quipped") gives "unknown".
"""

from __future__ import annotations

import regex

from .entities import SPEECH_VERBS, Entities
from .wordlists import TITLES

MAX_QUOTES = 8  # the news schema's maxItems

_NAME = r"\p{Lu}[\p{L}\p{M}'’.-]*(?:[ \t]+(?:(?:of|the|de|al|van|von|bin)[ \t]+)?\p{Lu}[\p{L}\p{M}'’.-]*){0,6}"
_VERB = rf"(?:{SPEECH_VERBS})"
_AFTER_NAME_VERB = regex.compile(rf"^[\s,]*(?:(?:the|a|an)[ \t]+)?(?P<name>{_NAME})(?:,[^,\n]{{1,120}},)?[ \t]+{_VERB}\b")
_AFTER_VERB_NAME = regex.compile(rf"^[\s,]*{_VERB}[ \t]+(?:(?:the|a|an)[ \t]+)?(?P<name>{_NAME})")
_AFTER_PRONOUN = regex.compile(rf"^[\s,]*(?:(?P<pro>he|she|they|it|we)[ \t]+{_VERB}|{_VERB}[ \t]+(?P<pro2>he|she|they|it))\b"
                               r"|^[\s,]*(?:a-t-(?P<pro3>il|elle)|so[ \t]+(?:er|sie))\b", regex.IGNORECASE)
_AFTER_DESCRIPTION = regex.compile(rf"^[\s,]*(?P<desc>(?:the|a|an|one|another|some)[ \t]+[\p{{L}}0-9' -]{{1,40}}?)[ \t]+{_VERB}\b"
                                   rf"|^[\s,]*{_VERB}[ \t]+(?P<desc2>(?:the|a|an|one)[ \t]+[\p{{Ll}}0-9' -]{{1,40}})",
                                   regex.IGNORECASE)
_BEFORE = regex.compile(rf"(?:(?P<name>{_NAME})|(?P<pro>\b(?:he|she|they|it)\b)|(?P<desc>\b(?:the|a|an)[ \t]+[\p{{Ll}}0-9-]+(?:[ \t]+[\p{{Ll}}0-9-]+)?))"
                        rf"(?:,[^,\n]{{1,80}},)?[ \t]+(?:{_VERB})\b[^\"“”«»„\n]{{0,120}}$")
_CLAUSE_START = regex.compile(r"[.!?\n][\"”’)]*\s+(?=\S)")
_PERSON_WORDS = frozenset("man woman boy girl doctor mother father son daughter wife husband officer official "
                          "spokesman spokeswoman spokesperson user witness resident lawyer teacher student".split())


def quotes(text: str, entities: Entities) -> list[dict[str, str]]:
    """Up to eight quotations with their speakers, in the order of the text."""
    found: list[dict[str, str]] = []
    previous_speaker: str | None = None
    previous_end = -1
    for start, end, inner in quote_spans(text):
        inner = inner.strip()
        words = len(inner.split())
        if words < 4:
            continue
        speaker = _speaker(text, start, end, entities)
        if speaker is None and previous_speaker and _continues(text, previous_end, start):
            speaker = previous_speaker
        if speaker is None and words < 8:
            continue  # short phrases in quote marks are usually scare quotes, not speech
        previous_speaker, previous_end = speaker, end
        found.append({"speaker": speaker or "unknown", "text": inner})
        if len(found) == MAX_QUOTES:
            break
    return found


def _continues(text: str, previous_end: int, start: int) -> bool:
    """Only the previous quote's own attribution ('," said Brent Sherwood, vice president…') or a
    paragraph break lies between: the quote goes on."""
    between = text[previous_end:start].strip()
    if previous_end < 0 or len(between) > 200:
        return False
    return len(between) < 3 or bool(regex.search(rf"\b{_VERB}\b", between)) and between.count(".") <= 2


def _speaker(text: str, start: int, end: int, entities: Entities) -> str | None:
    after = text[end : end + 160].split("\n", 1)[0]
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    clause = _CLAUSE_START.split(before)[-1] if before.strip() else ""
    for match in (_AFTER_VERB_NAME.match(after), _AFTER_NAME_VERB.match(after)):
        if match:
            who = _resolve(match.group("name"), entities, start)
            if who:
                return who
    pronoun = _AFTER_PRONOUN.match(after)
    if pronoun:
        return _antecedent(pronoun.group("pro") or pronoun.group("pro2") or pronoun.group("pro3"), entities, start)
    described = _AFTER_DESCRIPTION.match(after)
    if described:
        return _described(described.group("desc") or described.group("desc2"), entities, start)
    hit = _BEFORE.search(clause)
    if hit:
        if hit.group("name"):
            return _resolve(hit.group("name"), entities, start) or (
                _antecedent("he", entities, start) if hit.group("name").split()[0].lower() == "the" else None)
        if hit.group("pro"):
            return _antecedent(hit.group("pro"), entities, start)
        return _described(hit.group("desc"), entities, start)
    return None


def _resolve(phrase: str, entities: Entities, at: int) -> str | None:
    """The entity a capitalised phrase names: its longest tail that is a known name ("U.S. Attorney Nealy
    Cox" -> "Nealy Cox"), or an organisation ("Tottenham", "Big Machine")."""
    tokens = phrase.split()
    for i in range(len(tokens)):
        tail = " ".join(tokens[i:]).strip(",.")
        person = entities.person_named(tail)
        if person:
            return person
        named = entities.named(tail)
        if named is not None and named.kind in {"organization", "person"}:
            return named.text
    names = [t for t in tokens if t.lower().rstrip(".") not in TITLES]
    if 2 <= len(names) <= 3 and names == tokens[-len(names):] and tokens[0].lower() not in {"the", "a", "an"}:
        return " ".join(names).strip(",.")  # a person the entity list left out
    return None


def _antecedent(pronoun: str, entities: Entities, at: int) -> str | None:
    kinds: tuple[str, ...] = ("organization",) if pronoun.lower() == "it" else (
        ("person", "organization") if pronoun.lower() == "they" else ("person",))
    named = entities.mentions_before(at, kinds)
    return named.text if named else None


def _described(description: str, entities: Entities, at: int) -> str | None:
    """ "the 56-year-old" -> the last person named; "the company", "the statement" -> the last organisation;
    "the doctor", "one user" -> nobody named (None: the caller writes "unknown")."""
    words = description.lower().split()
    if any(w.endswith("-year-old") for w in words):
        return _antecedent("he", entities, at)
    if words and words[-1] in {"company", "club", "group", "statement", "ministry", "agency", "government",
                               "organisation", "organization", "label", "firm", "team", "department"}:
        return _antecedent("it", entities, at)
    if words and words[-1] in _PERSON_WORDS:
        return None
    return None


def quote_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of each quotation, typographic or straight, in text order."""
    spans: list[tuple[int, int, str]] = []
    for line in regex.finditer(r"[^\n]+", text):
        spans += _in_line(line.group(), line.start())
    return spans


_PAIRS = {'"': '"', "“": "”", "«": "»", "„": "“"}
_OPEN = regex.compile(r"(?:(?<=^)|(?<=[\s(\[—–-]))([\"“«„])(?=\S)")


def _in_line(line: str, offset: int) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    position = 0
    while True:
        opening = _OPEN.search(line, position)
        if opening is None:
            return found
        mark = opening.group(1)
        close = _closing(line, opening.end(), mark)
        if close is None:  # open to the paragraph's end: the quote continues in the next paragraph
            inner, end = line[opening.end() :], len(line)
        else:
            inner, end = line[opening.end() : close], close + 1
        if 12 <= len(inner) <= 800:
            found.append((offset + opening.start(), offset + end, inner))
        position = end


def _closing(line: str, start: int, mark: str) -> int | None:
    wanted = _PAIRS[mark]
    if mark == '"':
        match = regex.compile(r'(?<=\S)"(?=[\s.,;:!?)\]—–-]|$)').search(line, start)
        return match.start() if match else None
    candidates = [line.find(c, start) for c in ({wanted, "”"} if mark == "„" else {wanted})]
    found = [c for c in candidates if c >= 0]
    return min(found) if found else None

