"""The offline engine: a deterministic extractive summary that fills the ``news`` schema.

Sentences are ranked with LexRank (TF-IDF cosine graph, PageRank) personalised towards
the lead, as news puts the most important facts first. The structured fields come from
modules with one job each: ``entities`` (names and their types), ``attribution`` (quotes and
speakers), ``dates`` (dateline, timeline dates via dateparser), ``figures``. Every evidence and
quote is a verbatim slice of the article and passes the same grounding validators as an LLM
answer. Text is NFC-normalised first, so a decomposed letter (alef + madda) is one letter.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any, get_args

import regex
from pydantic import ValidationError

from .. import quality
from ..errors import ConfigError, InputError, ValidationFailed
from ..result import Meta, Result
from ..schemas import SchemaSpec, clip_to_limits, model_from_json_schema
from ..sources import Article
from ..terms import Method
from ..text import STOPWORDS, detect_language, sentence_spans, words
from ..wordlists import all_stopwords, with_english
from . import attribution, dates
from .entities import SPEECH_VERB_LIST, Entities, caseless, in_capitals
from .figures import figures as find_figures

_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
_AGENCY = r"\((?:CNN|AP|AFP|Reuters|dpa|BBC|Bloomberg)\)"
_LEAD_IN = re.compile(rf"^\s*(?:[A-Z][A-Za-z .,'-]{{0,40}}?\s*)?{_AGENCY}\s*(?:[-\u2013\u2014:]+\s*)?")
_SUBORDINATORS = {
    "after",
    "when",
    "while",
    "although",
    "as",
    "despite",
    "following",
    "before",
    "since",
    "if",
    "though",
    "because",
    "amid",
    "in",
    "on",
    "with",
}
_TERMINAL = (".", "!", "?", '"', "\u201d", "\u2019", "'", ")", "\u00bb", "\u06d4", "\u061f", "\u3002")
_MAX_UNITS = 400  # sentences (or clauses) ranked: the graph is quadratic in them
_BYLINE = regex.compile(r"^(?:By|Von|Par|Por)[ \t]+(?P<names>\p{Lu}[\p{L}.'’ -]+?)(?:[ \t]*[,|/].*)?$")
SENTENCES = 3  # the summary's sentences by default (--sentences; at most terms.MAX_SENTENCES)
METHODS: tuple[str, ...] = get_args(Method)  # --method: how sentences are ranked; the first is the default
_MIN_POINTS = 3  # the news schema's fewest key points


def summarize(
    text: str,
    *,
    title: str | None = None,
    date: str | None = None,
    points: int = 5,
    sentences: int = SENTENCES,
    method: str = "lexrank",
    distinct: bool = False,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """A ``news`` record for ``text``; every grounded field is a slice of ``text``. ``points``: key points
    wanted (the hybrid engine asks for more, as candidates for the model to choose from). ``sentences``:
    the summary's length; ``method``: how sentences are ranked (``METHODS``). ``distinct``: no key point is
    a summary sentence (the news record's rule; a short article's summary gives up sentences for it, and
    ``notes`` receives a line saying so)."""
    if method not in METHODS:
        raise ConfigError(f"unknown ranking method {method!r}: use one of {', '.join(METHODS)}")
    text = unicodedata.normalize("NFC", text)
    language = detect_language(text)
    language = language if language != "und" else "en"
    title_line, skip, bylines = front_matter(text, title)
    every = sentence_spans(text)
    spans = [(a, b) for a, b in every if a >= skip][:_MAX_UNITS] or every[:_MAX_UNITS]
    units = [text[a:b] for a, b in spans]
    if len(units) < 3:
        units = _clauses(units)
    ranked = _sentences_first(units, _RANKERS[method](units))
    if distinct and len(units) <= _MIN_POINTS and notes is not None:
        notes.append(
            f"the article has {len(units)} sentences, too few for a summary and {_MIN_POINTS} key points "
            "that are not in it: the key points repeat the summary"
        )
    distinct = distinct and len(units) > _MIN_POINTS
    # With distinct key points, the summary leaves the article three sentences for them.
    length = min(sentences, len(units) - _MIN_POINTS) if distinct else sentences
    if method == "lead":  # the story's first sentences, as they are: no skipping
        chosen = list(range(min(length, len(units))))
    else:
        chosen = sorted(_diverse(ranked, units, want=length, max_words=80 * length // SENTENCES))
    # The lead's whole sentences within the summary's length limit, not one cut off by it (the other methods keep
    # to about 27 words a sentence; past the limit the schema cuts their summary at a word, as it always did)
    limit = summary_chars(sentences)
    summary_idx = _fit(chosen, units, ranked, limit) if method == "lead" else chosen
    if len(summary_idx) < len(chosen) and notes is not None:
        notes.append(
            f"{len(chosen)} sentences run past the summary's {limit:,} characters: the summary has "
            f"{len(summary_idx)}, the best ranked"
        )
    summary = _summary_of(units, summary_idx)
    want = min(points, len(units))
    if distinct:
        # Not the summary's sentences, nor the same words elsewhere (a sentence the page repeats): should that
        # leave fewer than three, the summary gives back its lowest-ranked sentences.
        rest = [i for i in ranked if i not in summary_idx and not _repeats(units[i], summary)]
        while len(rest) < min(want, _MIN_POINTS) and len(summary_idx) > 1:
            summary_idx.remove(max(summary_idx, key=ranked.index))
            summary = _summary_of(units, summary_idx)
            rest = [i for i in ranked if i not in summary_idx and not _repeats(units[i], summary)]
            length = len(summary_idx)
        if length < min(sentences, len(units)) and notes is not None:
            notes.append(
                f"the article has {len(units)} sentences: the summary has {length} ({sentences} asked), "
                f"so that {_MIN_POINTS} key points are sentences not in it"
            )
        key_idx = _diverse(rest, units, want=min(want, len(rest)))
    else:
        # A summary sentence is a point only when its point is shorter ("…, the Foreign Office said." dropped),
        # or at the end, to make up the number wanted (the brief schema and the hybrid engine's candidates).
        in_summary = {i for i in summary_idx if _point(units[i]) in summary}
        rest = [i for i in ranked if i not in in_summary]
        key_idx = _diverse(rest, units, want=min(want, len(rest))) if len(rest) >= min(want, 3) else []
        key_idx += [i for i in _diverse(ranked, units, want=want) if i not in key_idx][: want - len(key_idx)]
    found = Entities(text, spans, language=language, skip=skip, bylines=bylines)
    entities = found.records()
    dateline = dates.dateline(text, skip=skip, date=date)
    body = text[skip:]
    return {
        "headline": _headline(title or title_line, units, ranked),
        "summary": summary,
        "key_points": [{"point": _point(units[i]), "evidence": _strip_lead_in(units[i])} for i in key_idx],
        "entities": entities,
        "quotes": quality.distinct(attribution.quotes(text, found)),
        "dateline": dateline,
        "timeline": quality.distinct(_timeline(units, dates.base_date(date))),
        "figures": quality.distinct(
            [
                {"value": f.value, "what": f.what}
                for f in find_figures(units, with_english(language), clean=_strip_lead_in)
            ]
        ),
        "topics": _topics(body, entities, language),
        "language": language,
    }


def front_matter(text: str, title: str | None) -> tuple[str | None, int, list[str]]:
    """(headline line, offset where the story starts, byline names) of a text that opens with a title,
    date or byline lines: short lines without a full stop. "Pakistan, Iran Reaffirm Commitment…" on its
    own line is the headline, whole; it is not a summary sentence, and its capitalised words are not names."""
    headline: str | None = None
    bylines: list[str] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if number >= 5 or (stripped and dates.dateline(stripped)["location"]):
            break
        words_in_line = stripped.split()
        if stripped and (len(words_in_line) > 20 or stripped.endswith(_TERMINAL)):
            break
        if stripped:
            byline = _BYLINE.match(stripped)
            if byline:
                bylines += [n.strip() for n in re.split(r"\s+and\s+|,", byline.group("names")) if n.strip()]
            elif (
                headline is None
                and len(words_in_line) >= 3
                and not (title and _same(stripped, title))
                and not _STAMP.search(stripped)  # "5 August 2015 Last updated at 06:36 BST" is a date line
            ):
                headline = stripped.lstrip("#").strip()  # a Markdown heading's marks are not the title
        offset += len(line) + 1
        if offset >= len(text):
            return None, 0, []  # one line with no full stop is the story, not its title
    return headline, offset, bylines


_STAMP = re.compile(r"(?i)\b(?:last updated|updated|published|posted)\b.*\d|\b\d{1,2}:\d{2}\b")


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _summary_of(units: list[str], chosen: list[int]) -> str:
    """The summary of the ``chosen`` sentences, in the article's order; the first without its lead-in."""
    return _join([_strip_lead_in(units[i]) if n == 0 else units[i] for n, i in enumerate(chosen)])


def _join(pieces: list[str]) -> str:
    """Summary sentences, each ending like one even if the article's line did not (a subhead, a title):
    a piece without a full stop gets one before a capital and at the end, not before "but…" (a clause)."""
    out: list[str] = []
    for n, piece in enumerate(pieces):
        following = pieces[n + 1].lstrip()[:1] if n + 1 < len(pieces) else ""
        if not piece.rstrip().endswith(_TERMINAL) and not following.islower():
            piece = piece.rstrip(" ,;:-") + "."
        out.append(piece)
    return " ".join(out)


def brief(record: dict[str, Any]) -> dict[str, Any]:
    """The ``brief`` schema from a ``news`` record."""
    return {"headline": record["headline"], "bullets": [kp["point"] for kp in record["key_points"][:3]]}


def _clauses(sentences: list[str]) -> list[str]:
    """A text of one or two sentences, cut at its commas; at most 400 pieces, like the sentences."""
    parts = [p.strip() for s in sentences for p in re.split(r"(?<=[,;:])\s+", s) if p.strip()][:_MAX_UNITS]
    return parts if len(parts) >= 3 else sentences


def _terms(sentence: str) -> list[str]:
    return [w for w in (t.lower() for t in words(sentence)) if len(w) > 2 and w not in _ALL_STOPWORDS]


def _lexrank(sentences: list[str], threshold: float = 0.08, damping: float = 0.5) -> list[int]:
    """Sentence indexes, best first: LexRank centrality with a strong lead prior (damping 0.5 and a
    1/(1+position) prior beat 0.85 and 1/sqrt(1+position) by ~0.03 ROUGE-1 on both halves of
    the evaluation set (German and French included, before eval/ left MLSUM out); see docs/eval.md)."""
    n = len(sentences)
    bags = [Counter(_terms(s)) for s in sentences]
    df = Counter(t for bag in bags for t in bag)
    idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
    vectors = [{t: c * idf[t] for t, c in bag.items()} for bag in bags]
    norms = [math.sqrt(sum(v * v for v in vec.values())) or 1.0 for vec in vectors]
    edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i in range(n):
        vi = vectors[i]
        for j in range(i + 1, n):
            vj = vectors[j]
            small, large = (vi, vj) if len(vi) < len(vj) else (vj, vi)
            dot = sum(w * large.get(t, 0.0) for t, w in small.items())
            sim = dot / (norms[i] * norms[j])
            if sim > threshold:
                edges[i].append((j, sim))
                edges[j].append((i, sim))
    lead = [1.0 / (1 + i) for i in range(n)]  # news puts the news first
    total = sum(lead)
    prior = [x / total for x in lead]
    out_weight = [sum(w for _, w in e) for e in edges]
    score = prior[:]
    for _ in range(40):
        # A sentence like no other hands its score to all, by the prior: summed once, not once per pair.
        dangling = damping * sum(score[i] for i in range(n) if not out_weight[i])
        new = [(1 - damping) * p + dangling * p for p in prior]
        for i in range(n):
            if out_weight[i]:
                share = damping * score[i] / out_weight[i]
                for j, w in edges[i]:
                    new[j] += share * w
        score = new
    quality = [_shape(s) for s in sentences]
    return sorted(range(n), key=lambda i: (-score[i] * quality[i], i))


def _textrank(sentences: list[str], damping: float = 0.85) -> list[int]:
    """Sentence indexes, best first: TextRank (Mihalcea and Tarau 2004), PageRank over a graph whose edges
    are the words two sentences share, over the sum of the logs of their lengths; no lead prior."""
    n = len(sentences)
    bags = [set(_terms(s)) for s in sentences]
    logs = [math.log(max(len(s.split()), 1)) for s in sentences]
    edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            shared = len(bags[i] & bags[j])
            if shared and logs[i] + logs[j] > 0:
                weight = shared / (logs[i] + logs[j])
                edges[i].append((j, weight))
                edges[j].append((i, weight))
    out_weight = [sum(w for _, w in e) for e in edges]
    score = [1.0 / n] * n
    for _ in range(40):
        dangling = damping * sum(score[i] for i in range(n) if not out_weight[i]) / n
        new = [(1 - damping) / n + dangling] * n
        for i in range(n):
            if out_weight[i]:
                share = damping * score[i] / out_weight[i]
                for j, w in edges[i]:
                    new[j] += share * w
        score = new
    quality = [_shape(s) for s in sentences]
    return sorted(range(n), key=lambda i: (-round(score[i] * quality[i], 12), i))


def _luhn(sentences: list[str], max_gap: int = 4) -> list[int]:
    """Sentence indexes, best first: Luhn (1958). Significant words are the content words the article uses
    more than once; a sentence scores its best cluster of them (at most ``max_gap`` other words between
    two): significant words squared over the cluster's length; one significant word alone is no cluster (as
    in sumy). Sentences without one keep the story's order."""
    tokens = [[w.lower() for w in words(s)] for s in sentences]
    counts = Counter(t for s in sentences for t in _terms(s))
    significant = {t for t, c in counts.items() if c > 1}
    score: list[float] = []
    for sentence_tokens in tokens:
        best = 0.0
        start = last = -1
        hits = 0
        for position, token in enumerate(sentence_tokens):
            if token not in significant:
                continue
            if start < 0 or position - last - 1 > max_gap:
                if hits > 1:
                    best = max(best, hits * hits / (last - start + 1))
                start, hits = position, 0
            hits += 1
            last = position
        if hits > 1:
            best = max(best, hits * hits / (last - start + 1))
        score.append(best)
    quality = [_shape(s) for s in sentences]
    return sorted(range(len(sentences)), key=lambda i: (-score[i] * quality[i], i))


def _lead(sentences: list[str]) -> list[int]:
    """The story's order: the first sentence first (the lead-N baseline)."""
    return list(range(len(sentences)))


_RANKERS: dict[str, Callable[[list[str]], list[int]]] = {
    "lexrank": _lexrank,
    "textrank": _textrank,
    "luhn": _luhn,
    "lead": _lead,
}


def summary_chars(sentences: int) -> int:
    """The longest summary of ``sentences`` sentences, in characters: the news schema's 1,000 for its 3, and
    as much again per sentence past them."""
    return 1000 * max(sentences, SENTENCES) // SENTENCES


def _fit(chosen: list[int], sentences: list[str], ranked: list[int], limit: int) -> list[int]:
    """``chosen`` without its lowest-ranked sentences while its summary runs past ``limit`` characters (one
    is kept, to be cut at a word by the schema's limit)."""
    while len(chosen) > 1 and len(_summary_of(sentences, chosen)) > limit:
        chosen = [i for i in chosen if i != max(chosen, key=ranked.index)]
    return chosen


def _shape(sentence: str) -> float:
    """Down-weight fragments, questions and run-ons that make poor summary sentences."""
    count = len(sentence.split())
    factor = 1.0
    if count < 6:
        factor *= 0.3
    elif count > 60:
        factor *= 0.6
    if sentence.rstrip().endswith("?"):
        factor *= 0.5
    return factor


def _diverse(ranked: list[int], sentences: list[str], want: int, max_words: int | None = None) -> list[int]:
    """Greedy MMR-style pick: skip sentences that mostly repeat one already chosen, either way round (a page's
    standfirst said again, longer, in its first paragraph: "Sweden has struggled with a surge in violence…" and
    "Sweden has struggled to contain a surge in violence…, with bombings and shootings recorded weekly")."""
    chosen: list[int] = []
    seen: list[set[str]] = []
    used_words = 0
    for i in ranked:
        terms = set(_terms(sentences[i]))
        if any(terms and other and len(terms & other) / min(len(terms), len(other)) > 0.6 for other in seen):
            continue
        length = len(sentences[i].split())
        if max_words and chosen and used_words + length > max_words:
            continue
        chosen.append(i)
        seen.append(terms)
        used_words += length
        if len(chosen) == want:
            break
    for i in ranked:  # schemas need a minimum: fill with the best of the rest
        if len(chosen) >= want:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen


def _strip_lead_in(sentence: str) -> str:
    """The sentence without "(CNN) --", "ISLAMABAD:" or "NEW YORK (Reuters) -" in front."""
    stripped = _LEAD_IN.sub("", sentence, count=1)
    if stripped == sentence:
        stripped = sentence[dates.dateline_end(sentence) :]
    return stripped if len(stripped.split()) >= 3 else sentence


# ", the Foreign Office said." / ", he told reporters." / ", according to the ministry.": the attribution a
# key point drops. The whole clause after the last comma goes, so nothing like ", the." is left behind.
_ATTRIBUTION = regex.compile(
    r",[ \t]+(?:[^,\"\u201c\u201d]{1,80}?[ \t]+)?(?:said|says|added|told[^,.]{0,40}|according to"
    r"[^,.]{1,60})(?:[ \t]+(?:on|in|at)[ \t]+[^,.]{1,40})?\.?$"
)
_CONNECTIVE = re.compile(r"^(?:But|And|However|Meanwhile|Still|Yet|So|Also),?\s+")


def _repeats(sentence: str, summary: str) -> bool:
    """Whether a key point from ``sentence`` would say again what ``summary`` says word for word."""
    return _strip_lead_in(sentence) in summary or _point(sentence) in summary


def _point(sentence: str) -> str:
    """The key point in brief: the sentence without its lead-in, connective or trailing attribution."""
    point = _CONNECTIVE.sub("", _strip_lead_in(sentence))
    if not point.lstrip().startswith(('"', "\u201c")):
        point = _ATTRIBUTION.sub(".", point)
    point = point.strip()
    return (point[:1].upper() + point[1:]) if len(point.split()) >= 3 else sentence


# A sentence ends in a full stop, question or exclamation mark (closing quotes and brackets may follow). A subhead
# or a link caption on its own line has none; in the CNN/Daily Mail text a related-story link is a title with a
# full stop set off by a space ("Why migrants are dying trying to reach Italy ."), while the story's own highlight
# bullets end the same way and are sentences.
_ENDS_A_SENTENCE = regex.compile(r"[.!?\u2026\u06d4\u061f\u3002][\"'\u201d\u2019\u00bb)\]]*\s*$")
_LINK_CAPTION = regex.compile(
    r"^\W*(?:Why|How|What|Watch|Video|Videos|Read|Click|See|Photos|Pictures|Gallery|Related|Listen)\b[^?]*\s[.]\s*$"
)
# A photo caption set off the same way: "Steve Bruce (pictured) is confident … avoid relegation .", "No clue: Local
# residents on Hokkaido island say … just appeared ."
_PHOTO_CAPTION = regex.compile(
    r"(?i:\((?:pictured|left|right|centre|center|above|below|top|bottom|inset|second left|second right)\))"
    r"[^\n]*\s[.]\s*$|^\W*\p{Lu}[\p{L}’' -]{1,30}:[ \t][^\n]*\s[.]\s*$"
)
# A promotion of something else: "Watch 'Hiroshima: A Newsround Special' - Thursday…", "You can find out more…".
_PROMO = regex.compile(
    r"^\W*(?:Watch|Listen|Subscribe|Sign up|Follow (?:us|@)|Click|Read more|Find out more|You can find out more|"
    r"See more|Download)\b"
)


def _is_sentence(unit: str) -> bool:
    return (
        bool(_ENDS_A_SENTENCE.search(unit))
        and not _LINK_CAPTION.match(unit)
        and not _PHOTO_CAPTION.search(unit)
        and not _PROMO.match(unit)
    )


def _sentences_first(units: list[str], ranked: list[int]) -> list[int]:
    """``ranked`` with the units that are not sentences (captions, subheads, link teasers) moved to the end, so
    that they are chosen only when nothing else is left."""
    whole = {i for i in ranked if _is_sentence(units[i])}
    return [i for i in ranked if i in whole] + [i for i in ranked if i not in whole] if whole else ranked


def _headline(title: str | None, sentences: list[str], ranked: list[int]) -> str:
    """The page's title or the story's title line, whole; else the lead's main clause, up to 15 words.
    Only a leading subordinate clause ("After years of debate, …") is dropped: "Pakistan, Iran Reaffirm…"
    keeps its first word. A longer lead is cut where a clause ends ("…migrants from Africa and Middle East"
    before "hoping to make it to Europe"); with none in reach it is whole up to 20 words, else cut at 15 with
    "…", never inside a name or after a hanging word."""
    if title and title.strip():
        return " ".join(title.split())
    lead = next((s for s in sentences[:3] if len(s.split()) >= 5 and _is_sentence(s)), None)
    if lead is None and not ranked:
        return ""  # no sentence at all (",,,,"): the callers refuse such text before, the record says nothing
    first = _strip_lead_in(lead or sentences[ranked[0]])
    clauses = re.split(r"(?<=[,;:])\s", first, maxsplit=1)
    if len(clauses) == 2 and clauses[0].split()[0].lower() in _SUBORDINATORS and len(clauses[1].split()) >= 5:
        first = clauses[1]
    tokens = first.rstrip(".!? ").split()
    if len(tokens) > _HEADLINE_WORDS:
        cut = _clause_end(tokens)
        if cut is None and len(tokens) <= _WHOLE_WORDS:
            cut = len(tokens)  # a whole sentence of up to 20 words reads better than 15 and "…"
        if cut is None:  # at a word, not inside a name ("…in the Barclays Premier…") nor after a hanging one
            cut = next((i for i in range(_HEADLINE_WORDS, 5, -1) if _word_ends_a_phrase(tokens, i)), 15)
            tokens = [*tokens[:cut], "\u2026"]
        else:
            tokens = tokens[:cut]
    head = " ".join(tokens).rstrip(",;:").replace(" \u2026", "\u2026")
    return head[:1].upper() + head[1:]


_HEADLINE_WORDS = 15
_WHOLE_WORDS = 20
# Words that open a clause after the main one ("…migrants from Africa and Middle East hoping to…").
_CLAUSE_OPENERS = frozenset(
    "who whom whose which where while after before because although though since amid despite following "
    "according including hoping saying claiming citing leaving prompting sparking forcing warning urging carrying "
    "killing injuring sending bringing".split()
)
# A headline does not end in one of these ("…the food delivery market by").
_DANGLING = frozenset(
    "a an the and or but nor of to in on at by for from with as than that this these those his her its their "
    "our my your is are was were be been has have had will would can could may might must should not no".split()
)


def _word_ends_a_phrase(tokens: list[str], i: int) -> bool:
    """Whether a headline may stop before ``tokens[i]``: not after a hanging word, not between two capitalised
    words of one name ("Barclays Premier | League", "London's Olympic | Stadium")."""
    if tokens[i - 1].lower() in _DANGLING:
        return False
    return not (tokens[i][:1].isupper() and tokens[i - 1][:1].isupper())


def _clause_end(tokens: list[str]) -> int | None:
    """Where to cut a long lead for a headline (a token index of at most ``_HEADLINE_WORDS``, at least 6): the
    last comma, semicolon, colon or dash within reach, else the last word that opens a clause; never after a
    word that leaves the headline hanging. None: no clause ends within reach."""
    reach = range(min(_HEADLINE_WORDS, len(tokens) - 1), 5, -1)
    fits = [i for i in reach if tokens[i - 1].lower().strip(",;:") not in _DANGLING]
    for i in fits:
        if tokens[i - 1][-1:] in ",;:" or tokens[i] in ("-", "--", "\u2014", "\u2013") or tokens[i][:1] == "(":
            return i
    return next((i for i in fits if tokens[i].lower() in _CLAUSE_OPENERS), None)


def _timeline(sentences: list[str], base: Any) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    for sentence in sentences:
        if not _is_sentence(sentence):
            continue  # "Read more: Why the council delayed the vote last month" is no event
        m = dates.WHEN.search(sentence)
        if m:
            events.append({"when": dates.resolve(m.group().strip(), base), "what": _clip(_strip_lead_in(sentence))})
        if len(events) == 6:
            break
    return events


_LOWER_WORD = regex.compile(r"(?<![\p{L}'’-])\p{Ll}[\p{Ll}\p{M}-]{3,}(?![\p{L}'’])")
# A noun is what follows an article, a possessive or a preposition at least once: "the border", "of trade".
# Each language its own determiners: French "a" is "has" ("a déclaré"), not an article.
_DETERMINERS = {
    "en": "the|a|an|this|these|those|that|his|her|its|their|our|of|in|on|for|with|about|over",
    "fr": "le|la|les|un|une|des|du|de|l['’]|ce|cette|ces|son|sa|ses|leur|leurs|au|aux|sur|pour|avec",
    "es": "el|la|los|las|un|una|unos|unas|del|de|al|su|sus|este|esta|estos|estas|por|para|con|sobre",
}
_AFTER_DETERMINER = {
    lang: regex.compile(rf"\b(?:{words})[ \t]+(\p{{Ll}}[\p{{Ll}}\p{{M}}-]{{3,}})\b", regex.IGNORECASE)
    for lang, words in _DETERMINERS.items()
}
_OTHER_DETERMINERS = regex.compile(
    r"\b(?:the|an|this|these|those|his|her|its|their|our|of|in|on|for|with|about|over"
    r"|le|la|les|un|une|des|du|de|l['’])[ \t]+(\p{Ll}[\p{Ll}\p{M}-]{3,})\b",
    regex.IGNORECASE,
)
# Speech verbs are never topics ("déclaré", "ajouté", "dijo"), in any of the languages the verb list knows.
_VERB_WORDS = frozenset(w.casefold() for verb in SPEECH_VERB_LIST for w in regex.findall(r"\p{L}{4,}", verb))
_NOUN_DE = regex.compile(r"(?<=\p{Ll}[,;]?[ \t]+)\p{Lu}\p{Ll}{3,}(?![\p{L}'’-])")
_UNCASED_WORD = regex.compile(r"[\p{L}\p{M}]{4,}")  # shorter words in Arabic script are nearly all particles


@cache
def _topic_stopwords() -> frozenset[str]:
    """Every stopword list there is: the stop-words package's, in every language, and this project's own."""
    return _ALL_STOPWORDS | all_stopwords()


def _topics(body: str, entities: list[dict[str, Any]], language: str) -> list[str]:
    """Up to five words the story keeps coming back to: no stopword of any language the article could be
    in, no part of a name. German topics are the nouns (capitalised mid-sentence, not names); in scripts
    without case, any non-stopword word."""
    stop = _topic_stopwords()
    names = {w.casefold() for e in entities for w in e["name"].split()}
    if language == "de":
        found = _NOUN_DE.findall(body)
    elif caseless(body):
        found = _UNCASED_WORD.findall(body)
    else:
        nouns = {w.casefold() for w in _AFTER_DETERMINER.get(language, _OTHER_DETERMINERS).findall(body)}
        found = [w for w in _LOWER_WORD.findall(body) if w.casefold() in nouns]
    counts = Counter(w.casefold() for w in found)
    for word in list(counts):
        if word.endswith("s") and word[:-1] in counts:  # "service" and "services": one topic
            counts[word[:-1]] += counts.pop(word)
    ranked = [
        w
        for w, c in counts.most_common()
        if w not in stop and w not in names and w not in _VERB_WORDS and not w.endswith("'s")
    ]
    frequent = [w for w in ranked if counts[w] >= 2]
    return (frequent or ranked)[:5]


def _clip(sentence: str, limit: int = 240) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


# -- the engine as a Summarizer answer -------------------------------------------------------------


def as_result(
    article: Article,
    spec: SchemaSpec,
    context: dict[str, Any],
    started: float,
    language: str | None = None,
    source_language: str | None = None,
    *,
    sentences: int = SENTENCES,
    method: str = "lexrank",
) -> Result[Any]:
    """The engine's record for ``article`` as a validated ``Result`` of the news or brief schema: a summary of
    ``sentences`` sentences (news), sentences ranked by ``method``."""
    if spec.name not in ("news", "brief"):
        raise ConfigError(
            f"the extractive engine fills the news and brief schemas, not {spec.name!r}",
            hint="configure an LLM (OPENAI_API_KEY or OPENAI_BASE_URL) for other schemas",
        )
    notes: list[str] = []
    news = spec.name == "news"
    record = summarize(
        article.text,
        title=article.title,
        date=article.date,
        sentences=sentences if news else SENTENCES,
        method=method,
        distinct=news,  # brief has no summary: its bullets are the best points, whatever a summary would hold
        notes=notes,
    )
    if len(record["key_points"]) < 3:
        raise InputError("the article is too short to summarize: it has fewer than 3 sentences")
    if news:
        spec = _with_sentences(spec, sentences)
    else:
        record = brief(record)
        if sentences != SENTENCES:
            notes.append(f"the brief schema has no summary: --sentences {sentences} applies to the news schema's")
    record = clip_to_limits(record, spec.json_schema)
    try:
        instance = spec.model.model_validate(record, context=context)
    except ValidationError as exc:  # a bug in the engine: never hand out an ungrounded answer
        raise ValidationFailed(
            f"extractive summary failed validation: {exc.errors()[0]['msg']}",
            errors=[[{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]],
            attempts=1,
        ) from None
    warnings = [*article.warnings, *notes]
    script = caseless(article.text)
    if script and spec.name == "news":
        warnings.append(
            f"the extractive engine finds names by their capital letters, which {script} script "
            "does not have: entities are left empty and quote speakers unknown (an LLM can fill them)"
        )
    elif in_capitals(article.text) and spec.name == "news":
        warnings.append(
            "the article is written in capitals, so the extractive engine cannot tell names by their capital "
            "letters: entities are left empty and quote speakers unknown (an LLM can fill them)"
        )
    if language and language != record.get("language"):
        warnings.append(
            f"the extractive engine cannot write in {language!r}: the summary is in the article's own language"
        )
    meta = Meta(
        engine="extractive",
        schema=spec.name,
        attempts=1,
        latency_s=round(time.perf_counter() - started, 6),
        source=article.source_info(),
        warnings=warnings,
        source_language=source_language,
        language=language,
    )
    return Result(instance, meta)


_SPECS: dict[tuple[str, int], SchemaSpec] = {}


def _with_sentences(spec: SchemaSpec, sentences: int) -> SchemaSpec:
    """``spec`` (news) with room for a summary of ``sentences`` sentences: past its ``x-max-sentences`` (3), the
    limit is raised to them and ``maxLength`` by a third per sentence, for this call (the name stays news)."""
    node = spec.json_schema.get("properties", {}).get("summary", {})
    if sentences <= int(node.get("x-max-sentences", sentences)):
        return spec
    key = (spec.fingerprint, sentences)
    if key not in _SPECS:
        document = copy.deepcopy(spec.json_schema)
        summary = document["properties"]["summary"]
        summary["x-max-sentences"] = sentences
        summary["maxLength"] = max(int(summary.get("maxLength", 0)), summary_chars(sentences))
        summary["description"] = f"What happened and why it matters, in at most {sentences} sentences."
        model = model_from_json_schema(document, spec.model.__name__)
        _SPECS[key] = dataclasses.replace(spec, model=model, json_schema=document)
    return _SPECS[key]
