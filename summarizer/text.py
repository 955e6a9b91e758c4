"""Plain-text helpers shared by grounding, the extractive engine and the validators:
the normalisation that decides what "verbatim" means, sentence spans, language."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cached_property

# Typographic variants a model (or an editor) swaps freely; they must not make a quote "fabricated".
_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
    }
)
_TYPOGRAPHIC = re.compile("[" + "".join(chr(c) for c in _TRANSLATE) + "]")  # str.translate is slow on long text


def normalize(text: str) -> str:
    """Canonical form for verbatim matching: NFKC, straight quotes and dashes, one space."""
    if text.isascii():  # the common case, ten times faster: NFKC is the identity, one mapped character
        if "`" in text:
            text = text.replace("`", "'")
    else:
        if not unicodedata.is_normalized("NFKC", text):  # a quick check; most text is already NFKC
            text = unicodedata.normalize("NFKC", text)
        text = _TYPOGRAPHIC.sub(_replace, text)
    return " ".join(text.split())  # str.split and re's \s agree on what whitespace is


def _replace(match: re.Match[str]) -> str:
    return str(match.group().translate(_TRANSLATE))


class Source:
    """An article prepared once for many "does this string occur in it?" questions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.normalized = normalize(text)

    @cached_property
    def folded(self) -> str:
        return self.normalized.casefold()

    def contains(self, fragment: str) -> bool:
        needle = normalize(fragment)
        return bool(needle) and needle in self.normalized

    def mentions(self, name: str) -> bool:
        needle = normalize(name).casefold()
        return bool(needle) and needle in self.folded


_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "sr",
    "jr",
    "gen",
    "gov",
    "sen",
    "rep",
    "col",
    "lt",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "maj",
    "rev",
    "hon",
    "pres",
    "inc",
    "corp",
    "ltd",
    "co",
    "vs",
    "etc",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mt",
    "ft",
    "u.s",
    "u.k",
    "u.n",
    "e.g",
    "i.e",
    "a.m",
    "p.m",
    "approx",
    "dept",
    "est",
    "fig",
    "nr",
    "bzw",
    "z.b",
}
# A candidate boundary: terminator, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"([.!?\u3002\u06d4\u061f\uff01\uff1f]+)([\"'\u201d\u2019)\]]*)(\s+)")
_LINE = re.compile(r"[^\n]+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``; newlines always end a sentence.

    Offsets index the original string, so a sentence sliced out of it is verbatim.
    """
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start = line.start()
        body = line.group()
        cursor = 0
        for m in _BOUNDARY.finditer(body):
            end = m.end(2)
            # Only the last word matters: a bounded slice keeps a long line of "Dr. Gov." linear, not quadratic.
            before = body[max(cursor, m.start(1) - 64) : m.start(1)]
            last_word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
            last_word = last_word.lstrip("(\"'\u201c")
            nxt = body[m.end() : m.end() + 1]
            if m.group(1) == "." and (
                last_word in _ABBREVIATIONS
                or (len(last_word) == 1 and last_word.isalpha())  # initials: "V. Stiviano"
                or (nxt and nxt.islower())
            ):
                continue
            _add(spans, start + cursor, start + end, text)
            cursor = m.end()
        _add(spans, start + cursor, start + len(body), text)
    return spans


def _add(spans: list[tuple[int, int]], start: int, end: int, text: str) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append((start, end))


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def count_sentences(text: str) -> int:
    return len(sentence_spans(text))


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of ``text``, NFC-normalised first: a decomposed alef + madda is one letter, not a break."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _WORD.findall(text)


# A few hundred of the commonest words per language is enough to tell them apart.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an and or but of to in on at for with by from as is are was were be been being it its "
        "this that these those he she they we you i his her their our your has have had do does did "
        "not no will would can could should may might said says after before over under than then "
        "there here who whom which what when where why how all any some more most other into about "
        "also just only up out new one two so if s".split()
    ),
    "de": frozenset(
        "der die das und oder aber den dem des ein eine einer eines einem einen ist sind war waren "
        "wird werden wurde nicht mit von zu im in auf für an bei aus nach vor über unter sich auch "
        "als wie noch nur es er sie wir ihr ich hat haben dass so am zum zur vom bis um".split()
    ),
    "fr": frozenset(
        "le la les un une des du de et ou mais est sont était ont a pour dans sur par avec ne pas "
        "plus que qui ce cette ces il elle ils elles nous vous je au aux se sa son ses leur été "
        "être comme après avant entre sans selon l d qu c n s".split()
    ),
    "es": frozenset(
        "el la los las un una unos unas y o pero de del en por para con sin que es son fue era "
        "está están ha han se su sus al lo como más pero este esta estos según entre sobre".split()
    ),
    "it": frozenset(
        "il lo la i gli le un una uno e o ma di del della dei delle in per con su da che è sono "
        "era ha hanno si non al alla come più anche questo questa secondo tra".split()
    ),
    "pt": frozenset(
        "o a os as um uma e ou mas de do da dos das em no na nos nas por para com que é são foi "
        "era tem se não ao como mais este esta segundo entre sobre".split()
    ),
    "nl": frozenset(
        "de het een en of maar van in op te voor met door aan bij uit is zijn was waren wordt niet "
        "dat die dit deze er hij zij we ook als naar om".split()
    ),
}

_SCRIPT_LANGS = [
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0900-\u097f]"), "hi"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
]


_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def detect_language(text: str) -> str:
    """ISO 639-1 code by script, then by stopword counts for Latin-script languages.

    Called on every article (``meta.source_language``): counted with regular expressions and C-level
    loops, and plain ASCII text skips the script checks (about a millisecond saved per article)."""
    sample = text[:5000]
    if not sample.isascii():
        letters = sum(map(str.isalpha, sample))
        if not letters:
            return "und"
        if len(_ARABIC_SCRIPT.findall(sample)) > letters / 3:
            if any(ch in sample for ch in "\u06d2\u0679\u0688\u0691\u06ba"):  # ے ٹ ڈ ڑ ں
                return "ur"
            if any(ch in sample for ch in "\u067e\u0686\u0698\u06af\u06a9\u06cc"):  # پ چ ژ گ ک ی
                return "fa"
            return "ar"
        if len(_CYRILLIC.findall(sample)) > letters / 3:
            return "uk" if any(ch in sample for ch in "іїєґ") else "ru"
        for pattern, code in _SCRIPT_LANGS:
            if len(pattern.findall(sample)) > letters / 5:
                return code
    counts = Counter(words(sample[:2000].lower()))  # 300-odd words tell the stopwords apart
    scores = {lang: sum(counts[w] for w in stop) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] else "und"
