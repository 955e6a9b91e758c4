"""Named entities for the extractive engine: who and what an article names, and as what.

Names are runs of capitalised words on one line ("Secretary of State Mike Pompeo"), cut at a
possessive ("Jeff Bezos's Blue Origin" is two names), after a title ("Interior Minister |
Wolfgang Peschorn") and before sentence-initial common words ("Getting | Disney"). Each name
is then typed by ``name_kinds`` from evidence around its mentions.

Rules need capital letters: for scripts without case (Arabic, Persian, Urdu, Hebrew, CJK…)
``caseless`` says so and the engine warns instead of returning an empty list silently.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

import regex

from ..text import STOPWORDS
from ..wordlists import (
    CALENDAR,
    KNOWN_ORGS,
    NOT_NAMES,
    ORG_WORDS,
    PLACE_WORDS,
    TITLES,
    first_names,
    places,
    sex_of,
    with_english,
)
from .name_kinds import (
    CONNECTORS,
    Name,
    apposition_role,
    demonym,
    first_named,
    is_title,
    kind_of,
    person_evidence,
    place_prefixed,
    role_before,
    windows,
)

MAX_ENTITIES = 15  # the news schema's maxItems
_LONGEST_RUN = 12

_TOKEN = r"(?:(?:\p{Lu}\.){2,}|\p{Lu}\.(?=[ \t]+\p{Lu})|\p{Lu}[\p{L}\p{M}\p{N}'’&.\-\u00ad]*[\p{L}\p{M}\p{N}]|\p{Lu})"
_CONNECT = r"(?:of|the|de|du|des|del|della|di|da|van|von|der|den|al|el|bin|ibn|la|le|y|for|am|on)"
_NAME_RUN = regex.compile(rf"(?<![\p{{L}}\p{{N}}=_/@#&])(?:{_TOKEN})(?:[ \t]+(?:{_CONNECT}[ \t]+){{0,2}}{_TOKEN})*")
_CAMEL = regex.compile(r"(?<=\p{Ll}{2})(?=\p{Lu}\p{Ll})")
_POSSESSIVE = regex.compile(r"['’]s?$")
_INITIAL = regex.compile(r"\p{Lu}\.")
# "Graham told The Associated Press he was worried", "Smith said that she…": the pronoun of the one who speaks.
_SAID_SELF = regex.compile(
    r"[ \t]+(?:[\p{Ll}]+[ \t]+)?(?:said|says|told|tells|added|explained|wrote|insisted|argued)"
    r"(?:[ \t]+(?:the|\p{Lu}[\p{L}.’'-]*)){0,4}[ \t]+(?:that[ \t]+)?(?P<pronoun>he|she)\b"
)
_ELIDED = regex.compile(r"^[LDJMNSTCQ]u?['’]\p{Ll}")
_FRENCH_PAST = (
    "déclaré expliqué ajouté affirmé indiqué souligné précisé estimé assuré réagi dit confié averti "
    "annoncé écrit insisté lancé martelé rapporté dénoncé rappelé commenté observé prévenu reconnu "
    "répondu répété appelé demandé exhorté conclu ironisé regretté déploré détaillé mentionné"
).split()
_FRENCH_PRESENT = (
    "déclare explique ajoute affirme souligne précise indique assure confie poursuit raconte estime "
    "lance note rapporte annonce dénonce insiste rappelle réagit martèle commente observe prévient avertit "
    "tranche conclut reconnaît ironise regrette déplore détaille nuance mentionne écrit"
).split()
# Speech verbs, every form spelled out ("a-t-il ajouté", "explique-t-elle"): one flat alternation.
SPEECH_VERB_LIST = (
    (
        "said says told tells added adds explained warned wrote writes tweeted stated states saying announced argued "
        "insisted claimed reported "
        "noted quipped asked replied recalled continued countered testified declared commented admitted conceded revealed "
        "confirmed joked stressed acknowledged insists admits explains warns claims telling suggest suggested "
        "declares emphasises emphasizes emphasised emphasized urged urges cautioned remarked reiterated lamented "
        "asserted contended mused vowed responded retorted elaborated clarified argues shared replies "
        "sagte sagt sagten erklärte erklärt erklärten betonte betont betonten schrieb schreibt meinte meint warnte "
        "kritisierte ergänzte erläuterte bekräftigte versicherte antwortete berichtete forderte "
        "berichtet ergänzt erläutert fordert kritisiert warnt antwortet bekräftigt versichert bestätigt bestätigte "
        "beschreibt beschrieb "
        # French: "a déclaré Laurent Fabius", "a-t-il ajouté", "explique-t-elle", "dit-il", "estiment ces formations"
        "résume estiment affirment déclarent expliquent soulignent ajoutent précisent indiquent dit "
        # Spanish: "dijo Pedro Sánchez", "afirmó", "dice este hombre", "expone"
        "dijo afirmó afirma declaró explicó explica aseguró asegura añadió señaló señala indicó agregó sostuvo advirtió "
        "manifestó comentó subrayó apuntó precisó insistió expresó relató contó dijeron afirmaron explicaron aseguraron "
        "dice indica añade expone critica lanza apunta destaca sostiene advierte comenta subraya insiste recuerda "
        "reconoce agrega relata matiza reconoció recordó destacó lamentó denunció criticó admitió matizó remarcó "
        "concluyó espetó zanjó confesó rememoró abundó recalca recalcó sentenció bromeó ironizó replicó respondió "
        "contestó aseveró puntualizó"
    ).split()
    + ["se queja", "se lamenta", "se quejó", "se lamentó"]
    + [verb for verb in _FRENCH_PRESENT if verb not in {"lance", "note", "regrette"}]  # English words too
    + ["fait valoir", "a fait valoir", "a-t-il fait valoir", "a-t-elle fait valoir"]
    + [f"{aux} {verb}" for aux in ("a", "avait", "ont", "avaient") for verb in _FRENCH_PAST]
    + [f"a-t-{who} {verb}" for who in ("il", "elle") for verb in _FRENCH_PAST]
    + [f"{verb}{t}-{who}" for verb in [*_FRENCH_PRESENT, "dit"] for t in ("-t", "") for who in ("il", "elle")]
)
SPEECH_VERBS = "|".join(regex.escape(v) for v in sorted(SPEECH_VERB_LIST, key=len, reverse=True)) + (
    # "avait alors souligné l’AMA", "a encore déclaré": an adverb between the auxiliary and the participle
    r"|(?:a|avait|ont|avaient)[ \t]+(?:alors|encore|aussi|également|ensuite|déjà|pourtant|toutefois|enfin)[ \t]+"
    rf"(?:{'|'.join(_FRENCH_PAST)})"
)
_LOWER_WORD = regex.compile(r"(?<![\p{L}'’])\p{Ll}[\p{L}'’-]*")
_WORD = regex.compile(r"\p{L}+")
_SPACES = regex.compile(r"([ \t]+)")
_LOWER_SUFFIX = regex.compile(r"-\p{Ll}+$")
_CONTRACTION = regex.compile(r"['’](?:re|ll|ve|d|m)$|n['’]t$")
_SUBJECT_BEFORE = regex.compile(
    r"(?:^|[.,;:!?(\"“”\n—–-]|\b(?:and|but|then|when|as|while|after|because|that))[ \t]*"
    r"(?:[Tt]he[ \t]+)?(?:\p{Lu}[\p{L}.’'-]*[ \t]+)*"
    # "…, tomato farmer Lana Boatwright said": a role in lower case before the name (not "accusing Big Machine")
    r"(?:(?:[\p{Ll}-]+[ \t]+)?[\p{Ll}-]*(?:er|or|ist|ian|man|woman|person|chief|official|officer)[ \t]+)?$"
)
# "…," said Tom Forte, who follows Amazon': the speaker named after the verb is a subject too (not the object of
# reported speech: "said Jobs' departure…"), when a comma or a full stop follows the name.
_ATTRIBUTED_BEFORE = regex.compile(r"\b(?:said|says|added|explained)[ \t]+(?:\p{Lu}[\p{L}.’'-]*[ \t]+)*$")
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty hundred thousand "
    "million first second third last next every each both".split()
)
_NOT_ENTITIES = frozenset("earth moon sun mars jupiter saturn venus mercury neptune uranus pluto god".split())
_SOFT_HYPHEN = "\u00ad"  # "Vladi­mir Putin": kept while the text is searched, dropped from the name given out
# Words a caption puts before a name: "Credit Ashraf Shazly", "Photo: …", "Foto: Getty Images".
_CAPTION_WORDS = frozenset("Credit Credits Photo Photograph Picture Image Foto Bild Quelle Follow".split())


def agrees(name: str, sex: str) -> bool:
    """Whether a pronoun of ``sex`` ("m", "f" or "" for unknown) may stand for the person ``name``."""
    other = sex_of(name.split()[0]) if sex and " " in name else ""
    return not other or other == sex


_INITIAL_END = regex.compile(r"(?<![\p{L}\p{N}])(?:\p{Lu}\.)+[ \t]*$")


def _rejoined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences split after an initial are one: "President George H.W. | Bush held back…"."""
    joined: list[tuple[int, int]] = []
    for a, b in spans:
        if (
            joined
            and _INITIAL_END.search(text, max(0, joined[-1][1] - 12), joined[-1][1])
            and text[a : a + 1].isupper()
        ):
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def _without_trailing_titles(tokens: list[str]) -> list[str]:
    """A run without the title or day that follows its name ("Vector Space Systems CEO Jim Cantrell" reaches here
    as "Vector Space Systems CEO"; "CBS Monday"); none at all when every word is a title ("Attorney General").
    Kept: a run with "of" ("Office of the Attorney General") and a person's name ("John Major")."""
    keep = len(tokens)
    while keep and (tokens[keep - 1].lower().rstrip(".") in TITLES or tokens[keep - 1].lower() in CALENDAR):
        keep -= 1
    if keep == len(tokens) or len(tokens) == 1:
        return tokens
    if not keep:
        return []
    head = tokens[:keep]
    if any(t.lower() in CONNECTORS for t in head) or first_named(" ".join(tokens)):
        return tokens
    return head


def caseless(text: str) -> str | None:
    """The script of ``text`` when most of its letters have no case (so capitals cannot mark names)."""
    letters = [ch for ch in text[:4000] if ch.isalpha()]
    if not letters:
        return None
    uncased = [ch for ch in letters if not (ch.isupper() or ch.islower())]
    if len(uncased) * 2 < len(letters):
        return None  # Latin, Cyrillic, Greek, Armenian… have capitals
    scripts = Counter(unicodedata.name(ch, "UNKNOWN").split()[0] for ch in uncased)
    return scripts.most_common(1)[0][0].title()


def in_capitals(text: str) -> bool:
    """Whether ``text`` is written in capitals ("POLICE SAY A MAN WAS ARRESTED…"): capitals cannot mark names there,
    and every run of words would be one ("FIRE BRIGADE SAID")."""
    cased = [ch for ch in text[:4000] if ch.isupper() or ch.islower()]
    return len(cased) >= 40 and sum(ch.isupper() for ch in cased) * 5 >= len(cased) * 4


class Entities:
    """The entities of one article, and the lookups quotes need (surname -> full name, types)."""

    def __init__(
        self,
        text: str,
        spans: list[tuple[int, int]],
        *,
        language: str = "en",
        skip: int = 0,
        bylines: list[str] | None = None,
    ) -> None:
        self.text = text
        self.language = language
        self.names: dict[str, Name] = {}
        self._sexes: dict[str, str] = {}
        # Function words only: "Big Machine" keeps "Big", which the long stopword lists would drop.
        self._stop = (STOPWORDS.get(language, STOPWORDS["en"]) | STOPWORDS["en"] | _NUMBER_WORDS | CALENDAR) - {"new"}
        self._openers = with_english(language)
        self._lowered = frozenset(_LOWER_WORD.findall(text))
        self._words = Counter(_WORD.findall(text))
        spans = _rejoined(text, spans) if not in_capitals(text) else []
        starts = {a for a, _ in spans}
        for a, b in spans:
            if b > skip:
                self._collect(max(a, skip), b, a in starts)
        for byline in bylines or []:
            self._add(byline, text.find(byline), at_start=False, evidence=2)
        self._merge_short_forms()
        self._merge_case_variants()
        for name in self.names.values():
            name.common = any(w.lower() in self._lowered for w in name.text.split()[1:])
            around = windows(text, name.text)
            name.kind = kind_of(name, around, language)
            if name.kind == "person" and name.role is None:
                name.role = role_before(around, self._stop) or apposition_role(
                    [*around, *(w for alias in name.aliases for w in windows(text, alias))]
                )
        self._merge_after_typing()

    # -- finding names ------------------------------------------------------------------------------

    def _collect(self, start: int, end: int, sentence_start: bool) -> None:
        sentence = self.text[start:end]
        for match in _NAME_RUN.finditer(sentence):
            if match.group().count(" ") >= _LONGEST_RUN:
                continue  # a run of 12+ capitalised words is a title-case line or junk, not a name
            at_start = (
                match.start() == 0
                or (  # at the start, or after an opening quote or bracket only
                    match.start() <= 3 and sentence[: match.start()].strip() in ('"', "“", "(", "'", "‘", "«", "„")
                )
            )
            dotted = sentence[match.end() : match.end() + 1] == "."
            pieces = self._pieces(match.group(), start + match.start())
            for number, (offset, piece) in enumerate(pieces):
                self._add_candidate(
                    piece,
                    offset,
                    at_start=at_start and offset == start + match.start(),
                    dotted=dotted and number == len(pieces) - 1,
                )

    def _pieces(self, run: str, offset: int) -> list[tuple[int, str]]:
        """Split a run at possessives ("Bezos's | Blue Origin", but not "Magistrate's Court") and glued
        words ("NoemKristi")."""
        tokens: list[tuple[int, str]] = []
        cursor = offset
        for chunk in _SPACES.split(run):
            if chunk.strip():
                for part in self._unglue(chunk):
                    tokens.append((cursor, part))
                    cursor += len(part)
            else:
                cursor += len(chunk)
        pieces: list[tuple[int, str]] = []
        current: list[str] = []
        current_at = offset
        for index, (at, part) in enumerate(tokens):
            if not current:
                current_at = at
            following = tokens[index + 1][1].lower() if index + 1 < len(tokens) else ""
            glued = index + 1 < len(tokens) and tokens[index + 1][0] == at + len(part)
            possessive = _POSSESSIVE.search(part) if len(part) > 2 else None
            if possessive and (following in ORG_WORDS or following in PLACE_WORDS):
                possessive = None  # "Westminster Magistrate's Court", "People's Republic"
            current.append(part[: possessive.start()] if possessive else part)
            if possessive or glued:
                pieces.append((current_at, " ".join(current)))
                current = []
        if current:
            pieces.append((current_at, " ".join(current)))
        return pieces

    def _unglue(self, token: str) -> list[str]:
        parts = _CAMEL.split(token)
        if len(parts) == 1:
            return parts
        known = all(self._words[p] for p in parts)  # "NoemKristi": both "Noem" and "Kristi" stand alone elsewhere
        return parts if known else [token]

    def _add_candidate(self, piece: str, offset: int, *, at_start: bool, dotted: bool = False) -> None:
        tokens = piece.split()
        if "y" in tokens[2:-2]:  # "Izaskun Lesaka y Joseba Iturbe": two names ("Ortega y Gasset" is one)
            cut = tokens.index("y", 2)
            self._add_candidate(" ".join(tokens[:cut]), offset, at_start=at_start)
            right = " ".join(tokens[cut + 1 :])
            self._add_candidate(right, self.text.find(right, offset), at_start=False, dotted=dotted)
            return
        for i, token in enumerate(tokens[1:], 1):  # "NASA on Monday", "Twitter on Monday"
            if token.lower() in CALENDAR and tokens[i - 1].lower() in CONNECTORS:
                tokens = tokens[: i - 1]
                break
        while tokens and tokens[-1].lower() in CONNECTORS:
            tokens.pop()
        if dotted and len(tokens) > 1 and tokens[-1].lower() in TITLES:
            tokens.pop()  # "South Dakota Gov. Kristi Noem" reaches here as "South Dakota Gov"
        tokens = _without_trailing_titles(tokens)  # "Vector Space Systems CEO", "CBS Monday", "Associate Supt"
        if not tokens:
            return
        of = tokens.index("of") if "of" in tokens[2:-1] else 0
        if (
            of
            and first_named(" ".join(tokens[:of]))
            and (
                self._names_a_body(tokens[of + 1 :])
                or (len(tokens) == of + 2 and not any(is_title(t) for t in tokens[:of]))  # not "Mary Queen of Scots"
            )
        ):
            # "Alexandra Olgin of South Carolina Public Radio", "Jamie Werner of Ngātiwai": a person and her
            # organisation or place, not one name
            body = " ".join(tokens[of + 1 :])
            self._add_candidate(body, self.text.find(body, offset), at_start=False, dotted=dotted)
            tokens = tokens[:of]
        while tokens and (
            tokens[0] in CONNECTORS
            or tokens[0] in {"The", "Of"}
            or tokens[0] in _CAPTION_WORDS
            or (self._common_opener(tokens[0], at_start) and " ".join(tokens[:2]).casefold() not in places())
            or (len(tokens) > 1 and self._descriptor(tokens[0], " ".join(tokens[1:])))
        ):
            offset = self.text.find(tokens[1], offset) if len(tokens) > 1 else offset
            tokens.pop(0)
            at_start = False
        if not tokens:
            return
        titled = [i for i, t in enumerate(tokens[:-1]) if is_title(t)]
        if not titled and len(tokens) > 2 and self._named_within(tokens, offset, at_start):
            return
        if titled:  # "Interior Minister Wolfgang Peschorn": the name follows the last title
            cut = titled[-1] + 1
            tail = tokens[cut:]
            after_of = bool(tail) and tail[0].lower() in CONNECTORS
            if any(t.lower() in CONNECTORS for t in tail):  # "Director of Public Prosecution Eva-Marie Persson"
                last_connector = max(i for i, t in enumerate(tail) if t.lower() in CONNECTORS)
                tail = tail[last_connector + 1 :]
                named = [i for i in range(len(tail) - 1) if first_named(" ".join(tail[i:]))]
                if after_of and named:  # "Secretary of State Hillary Rodham Clinton"
                    tail = tail[named[0] :]
                elif after_of and len(tail) <= 2:  # "Commissioner for Human Rights", "Secretary of State"
                    tail = []
                elif after_of:
                    tail = tail[-2:]
                elif len(tail) == 1 and self._is_org_or_place(tail[0]):  # "Associated General Contractors of Alabama"
                    self._add(tail[0], self.text.find(tail[0], offset), at_start=False)
                    return
            if any(t.lower().rstrip(".") in ORG_WORDS for t in tail):  # "Founder of Ceres Robotics Inc"
                self._add(" ".join(tail), self.text.find(tail[0], offset), at_start=False)
                return
            if 1 <= len(tail) <= 4:
                role = " ".join(tokens[: len(tokens) - len(tail)])
                head = [t for t in tokens[: titled[0]] if t.lower() not in CONNECTORS]
                if (
                    head
                    and (len(head) > 1 or self._is_org_or_place(head[0]))
                    and not self._descriptor(head[0], " ".join(head[1:]))
                ):
                    self._add(" ".join(head), offset, at_start=at_start)
                self._add(" ".join(tail), self.text.find(tail[0], offset), at_start=False, evidence=2, role=role)
                return
        if (
            tokens[0].lower().rstrip(".") in TITLES
            and len(tokens) > 1
            and tokens[1].lower() not in CONNECTORS  # "CEO of Vail Resorts", "Geschäftsführerin des Großmarktes"
            and not any(t.lower().rstrip(".") in ORG_WORDS for t in tokens[1:])
        ):  # not "Justice Department"
            self._add(" ".join(tokens[1:]), offset, at_start=False, evidence=2, role=tokens[0])
            return
        self._add(" ".join(tokens), offset, at_start=at_start)

    def _named_within(self, tokens: list[str], offset: int, at_start: bool) -> bool:
        """ "Yankee Hall of Famer Reggie Jackson": a run whose last words are a first name and a surname is that
        person, after a description (kept when it is an organisation or place: "Reuters Jane Doe")."""
        starts = [
            i
            for i in range(1, len(tokens) - 1)
            if tokens[i - 1].lower() not in CONNECTORS
            and tokens[i - 1].casefold() not in first_names()  # "José Luis Rodríguez Zapatero" is one name
            and not (i == 1 and _INITIAL.fullmatch(tokens[0]))  # "C. Eugene Steuerle" (not "Group C. Harry Kane")
            and first_named(" ".join(tokens[i:]))
        ]
        if not starts or first_named(" ".join(tokens[:2])):
            return False
        tail = tokens[starts[0] :]
        if any(t.lower().rstrip(".") in ORG_WORDS or t.lower() in PLACE_WORDS for t in tail):
            return False
        head = " ".join(tokens[: starts[0]])
        if self._is_org_or_place(head):
            self._add(head, offset, at_start=at_start)
        self._add(" ".join(tail), self.text.find(tail[0], offset), at_start=False, evidence=1)
        return True

    def _descriptor(self, token: str, following: str = "") -> bool:
        """A leading "Australian", "Australian-born", "Long-dated": a description, not part of the name
        (but "European Union", "American University" are names)."""
        if any(w.lower().rstrip(".") in ORG_WORDS for w in following.split()):
            return False
        return bool(_LOWER_SUFFIX.search(token)) or demonym(token)

    def _common_opener(self, token: str, at_start: bool) -> bool:
        """A capitalised common word: "The", "Although", "Getting" (at a sentence start), "Eight"."""
        lower = token.lower()
        if lower.rstrip(".") in TITLES:
            return False  # "Attorney General William Barr": the title split handles it
        if lower in self._stop and (not token.isupper() or lower != "us"):
            return True
        if _ELIDED.match(token):
            return True  # "L’utilisation des IMSI-catchers": an elided article and a noun, not a name
        return at_start and (
            lower in self._lowered
            or lower in self._openers
            or (lower.endswith("ing") and len(lower) > 5)
            or (lower.endswith("ly") and len(lower) > 5 and lower not in first_names())  # "Additionally"
        )

    def _names_a_body(self, tokens: list[str]) -> bool:
        """Whether the words after a name's "of" are an organisation or a place ("South Carolina Public Radio",
        "Brown University", "the U.N."), not the rest of the name ("Mary Queen of Scots" keeps hers)."""
        lower = [t.lower().rstrip(".") for t in tokens]
        placed = any(" ".join(tokens[:n]).casefold() in places() for n in (1, 2, 3))  # "South Carolina Public Radio"
        return any(w in ORG_WORDS for w in lower) or placed or (len(tokens) == 1 and self._is_org_or_place(tokens[0]))

    def _is_org_or_place(self, token: str) -> bool:
        lower = token.lower().replace(".", "")
        return token.isupper() or lower in KNOWN_ORGS or token.casefold() in places()

    def _add(self, text: str, offset: int, *, at_start: bool, evidence: int = 0, role: str | None = None) -> None:
        text = text.strip(" -–—'’\"")
        if len(text) < 2 or text.lower() in NOT_NAMES or text.lower() in self._stop:
            return
        if text.lower().rstrip(".") in TITLES or text.casefold() in _NOT_ENTITIES or _CONTRACTION.search(text):
            return
        if demonym(text):
            return
        if self.language == "de" and " " not in text and evidence < 2 and not self._strong_single(text):
            return  # German capitalises every noun: "Datenbank" is not a name (unless a title names it: "Herr Kühnert")
        name = self.names.get(text)
        if name is None:
            name = self.names[text] = Name(text, first=max(0, offset))
        name.count += 1
        name.mid_sentence |= not at_start
        name.person_evidence += evidence
        if role and not name.role:
            name.role = role

    def _strong_single(self, word: str) -> bool:
        lower = word.casefold()
        return (
            word.isupper()
            or lower in KNOWN_ORGS
            or lower in places()
            or any(lower.endswith(w) for w in ("gericht", "ministerium", "partei", "polizei"))
        )

    def _merge_short_forms(self) -> None:
        """ "Sterling" -> "Donald Sterling", "Persson" -> "Eva-Marie Persson": one entity, summed mentions."""
        multi = [
            n
            for n in self.names.values()
            if " " in n.text and (not self._is_org_or_place(n.text.split()[-1]) or first_named(n.text))
        ]
        people = {n.text.split()[-1] for n in multi if first_named(n.text)}  # "Jackson" of "Reggie Jackson"
        for short in [
            n
            for n in self.names.values()
            if " " not in n.text and (not self._is_org_or_place(n.text) or (n.text in people and not n.text.isupper()))
        ]:
            # "Trump" is Donald Trump's surname before it is Trump Tower's first word; a first word only when no
            # name ends with it ("Xi" of "Xi Jinping"); neither when it is both a surname and a titled person's
            # first word ("Kim": Andrew Kim or "leader Kim Jong Un"?)
            ending = [n for n in multi if short.text == n.text.split()[-1]]
            opening = [n for n in multi if short.text == n.text.split()[0]]
            if ending and any(n.person_evidence + person_evidence(n, windows(self.text, n.text)) for n in opening):
                continue
            longer = ending or opening
            if len({n.text.split()[-1] for n in longer}) == 1 and longer:
                target = max(longer, key=lambda n: n.count)
                target.count += short.count
                target.mid_sentence |= short.mid_sentence
                sure = len({n.text for n in longer}) == 1  # "Meadows": Mark or Debbie? The count decides, not the role
                if sure and not place_prefixed(target.text):  # "Clippers" says nothing of "Los Angeles Clippers"
                    target.person_evidence += short.person_evidence + (target.text.split()[-1] == short.text)
                if sure:
                    target.role = target.role or short.role
                target.aliases.add(short.text)
                del self.names[short.text]

    def _merge_case_variants(self) -> None:
        """ "ISLAMABAD" (the dateline) and "Islamabad": one entity, named as the story writes it."""
        by_fold: dict[str, list[Name]] = {}
        for name in self.names.values():
            by_fold.setdefault(name.text.casefold(), []).append(name)
        for names in by_fold.values():
            if len(names) > 1:
                keep = max(names, key=lambda n: (not n.text.isupper(), n.count))
                for other in names:
                    if other is not keep:
                        keep.count += other.count
                        keep.mid_sentence |= other.mid_sentence
                        keep.first = min(keep.first, other.first)
                        del self.names[other.text]

    def _merge_after_typing(self) -> None:
        """ "Holland America" -> "Holland America Line" (an organisation's shorter name); "the Richards"
        (the family of Martin Richard) is not an entity of its own."""
        surnames = {n.text.split()[-1] for n in self.names.values() if n.kind == "person" and " " in n.text}
        for name in list(self.names.values()):
            if name.text.endswith("s") and name.text[:-1] in surnames:
                del self.names[name.text]
                continue
            longer = [
                n
                for n in self.names.values()
                if n.kind == "organization" and n is not name and n.text.startswith(name.text + " ")
            ]
            if len(longer) == 1 and " " in name.text and name.kind != "location":
                longer[0].count += name.count
                longer[0].aliases.add(name.text)
                del self.names[name.text]

    # -- typing -------------------------------------------------------------------------------------

    # -- results ------------------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """The schema's entity list: persons, organisations, places first, most mentioned first; a person counts
        two mentions more (the list holds 15: an article naming 38 names should list its people before the
        places it passes through)."""
        kept = [
            n
            for n in self.names.values()
            if (n.mid_sentence or " " in n.text or n.kind != "other")
            and not (self.language == "de" and n.kind == "other")
        ]  # German capitalises its nouns: no "Datenbank"
        kept.sort(
            key=lambda n: (n.kind in {"other", "event"}, -(n.count + 2 * (n.kind == "person") + bool(n.role)), n.first)
        )
        return [
            {"name": n.text.replace(_SOFT_HYPHEN, ""), "type": n.kind, "role": n.role if n.kind == "person" else None}
            for n in kept[:MAX_ENTITIES]
        ]

    def person_named(self, mention: str) -> str | None:
        """The full name of the person ``mention`` refers to ("Mayer" -> "Kevin Mayer"), if any."""
        mention = mention.strip()
        for name in self.names.values():
            if name.kind == "person" and (
                mention == name.text
                or mention in name.aliases
                or name.text.endswith(" " + mention)
                or (
                    mention[:1].isupper() and name.text.casefold().endswith(" " + mention.casefold())
                )  # "Von der Leyen"
            ):
                return name.text.replace(_SOFT_HYPHEN, "")
        return None

    def named(self, mention: str) -> Name | None:
        mention = mention.strip()
        return self.names.get(mention) or next(
            (n for n in self.names.values() if mention in n.aliases or n.text.endswith(" " + mention)), None
        )

    def _as_subject(self, at: int, form: str) -> bool:
        before = self.text[max(0, at - 40) : at]
        if _SUBJECT_BEFORE.search(before):
            return True
        return bool(_ATTRIBUTED_BEFORE.search(before)) and self.text[at + len(form) : at + len(form) + 1] in (",", ".")

    def sex(self, name: Name) -> str:
        """ "m", "f" or "" (either) for the pronouns that may stand for ``name``: the first name's census count,
        or what the article says ("X said he…") where the census has no sex; where the two disagree, either
        ("Lindsey Graham told the AP he…": "Lindsey" is a woman's name to the census; "Detective John Ward said she
        had been stabbed": she is someone else)."""
        if name.text not in self._sexes:
            he = she = 0
            for form in (name.text, *name.aliases):
                for match in regex.finditer(rf"(?<![\p{{L}}]){regex.escape(form)}(?![\p{{L}}])", self.text):
                    if not self._as_subject(match.start(), form):
                        continue  # "…against Dershowitz, saying she…": she is not Dershowitz
                    self_said = _SAID_SELF.match(self.text, match.end(), match.end() + 100)
                    if self_said:
                        he += self_said.group("pronoun").lower() == "he"
                        she += self_said.group("pronoun").lower() == "she"
            census = sex_of(name.text.split()[0]) if " " in name.text or name.text.casefold() in first_names() else ""
            said = "m" if he > she else "f" if she > he else ""
            self._sexes[name.text] = census if not said or said == census else said if not census else ""
        return self._sexes[name.text]

    def subject_before(self, offset: int, kinds: tuple[str, ...], sex: str = "") -> tuple[Name | None, int]:
        """The entity of one of ``kinds`` named last before ``offset`` where a subject stands: at a clause's
        start, not as an object ("accusing Big Machine of…" is no antecedent for "she"); with ``sex`` ("m" for
        "he", "f" for "she"), not a person whose first name is the other sex's ("she" is not John Smith)."""
        best: tuple[int, Name] | None = None
        for name in self.names.values():
            if name.kind not in kinds or (sex and self.sex(name) not in ("", sex)):
                continue
            for form in (name.text, *name.aliases):
                at = self.text.rfind(form, 0, offset)
                while at >= 0 and not self._as_subject(at, form):
                    at = self.text.rfind(form, 0, at)
                if at >= 0 and (best is None or at > best[0]):
                    best = (at, name)
        return (best[1], best[0]) if best else (None, -1)
