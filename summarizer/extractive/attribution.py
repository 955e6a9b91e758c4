"""Direct quotations and who said them, for the extractive engine.

A quotation is typographic (“…”, «…», „…“) or straight ("…"), or a line of dialogue after a dash (— …);
one that opens and does not close before the paragraph ends runs to the paragraph's end, the newspaper
convention for a quote continued in the next paragraph. An article with no double quotes may use single
ones ('…', ‘…’: British style), read then with care for apostrophes. Its speaker comes from, in order:

1. the words right after it, up to the first speech verb: '"…," Mayer said', '"…," Commerzbank
   analyst Carsten Fritsch said', '"…," said Brent Sherwood, vice president…';
2. else the subject of the last speech verb before it in the same sentence: 'Ms Persson said: "…"',
   'Pompeo said the release "…"', or of a clause ending in a colon ('Ms Major has the final say: "…"');
3. a pronoun or description found there ("he said", "the 56-year-old said", "they wrote", "it
   added", "the statement said") stands for whoever was named as a subject since the previous
   quote, else that quote's speaker, else the last such name before: a person for "he"/"she", an
   organisation for "it", a pair of people or a family ("Bill and Denise Richard", "the Richards")
   or an organisation for "they";
4. a quote with no attribution of its own, right after another, continues it; one left open at its
   paragraph's end takes the speaker of the next paragraph's quote when that one is attributed (a long
   quote split across paragraphs, attributed in the middle one).

'"…," according to a police spokeswoman' is an attribution too. Names are resolved to the entity's
full name ("Mayer" -> "Kevin Mayer"); a definite description resolves to the person named before
with that role ("the spokeswoman" -> "Jane Doe, a spokeswoman for…"), and one that names nobody
("the doctor said", "a police spokeswoman", "un proche de…") is the speaker as written; "unknown"
is left for a quote attributed to nobody at all.
"""

from __future__ import annotations

import regex

from ..wordlists import TITLES
from .entities import SPEECH_VERBS, Entities, agrees
from .name_kinds import is_title

MAX_QUOTES = 8  # the news schema's maxItems

_VERB = rf"(?:{SPEECH_VERBS})"
_NAME_RUN = regex.compile(
    r"\p{Lu}[\p{L}\p{M}'’.-]*"
    r"(?:[ \t]+(?:(?:of|the|de|al|van|von|bin|and)[ \t]+)?(?:(?<=[Vv][oa]n[ \t]+)(?:der|den)[ \t]+)?"  # von der Leyen
    r"\p{Lu}[\p{L}\p{M}'’.-]*)*"
)
# The words between a quote's end and the first speech verb: '," Commerzbank analyst Carsten Fritsch said'.
# One sentence only: a full stop followed by a capital ends it ("Gov. Inslee said", "U.S. attorney" do not;
# the verbs alone are matched without case, since under IGNORECASE \p{Lu} would match any letter).
_ABBREVIATED = r"(?<!\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Maj|Capt|Sgt|St|Prof|Rev|Jr|Sr|U\.S|U\.K|D\.C|\p{Lu}))"
_IN_SENTENCE = rf"(?:(?!{_ABBREVIATED}\.[ \t]+\p{{Lu}})[^\"“”«»„\n!?])"
_AFTER = regex.compile(rf"^(?P<subject>{_IN_SENTENCE}{{0,260}}?)(?<![\p{{L}}-])(?P<verb>(?i:{_VERB}))(?![\p{{L}}])")
# Before a quote: the last speech verb of its sentence, and the sentence's words before it (the subject):
# 'Ms Persson said: "', 'Pompeo said the release "'. Found from the verbs backwards, in linear time.
_SPEECH = regex.compile(rf"(?<![\p{{L}}-])(?i:{_VERB})(?![\p{{L}}])")
_SENTENCE_BREAK = regex.compile(rf"{_ABBREVIATED}\.[ \t]+(?=\p{{Lu}})|[\"“”«»„\n!?]|(?<=[.!?,])['’](?=[ \t])")
# The speaker after the verb: '," said Brent Sherwood, vice president…', '», a ajouté Laurent Fabius. Il…' (a full
# stop ends it unless an abbreviation's: "said Gov. Inslee").
_ABBREVIATION = r"(?<=\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Maj|Capt|Sgt|St|Prof|Rev|Jr|Sr|U\.S|U\.K|D\.C|\p{Lu}))"
_VERB_THEN = regex.compile(rf"^[ \t]*(?P<who>(?:[^,.;:\"“”«»\n—–]|\.(?=\S)|{_ABBREVIATION}\.(?=[ \t]+\p{{Lu}}))+)")
_INVERTED = regex.compile(r"(?:-t)?-(il|elle|ils|elles)\b")  # "a-t-il déclaré", "explique-t-elle", "dit-il"
_PRONOUNS = {
    "he": "person",
    "she": "person",
    "they": "group",
    "it": "organization",
    "we": "group",
    "il": "person",
    "elle": "person",
    "er": "person",
    "sie": "person",
    "ils": "group",
    "elles": "group",
    "él": "person",
    "ella": "person",
}
_SEX = {"he": "m", "il": "m", "er": "m", "él": "m", "she": "f", "elle": "f", "ella": "f"}
_PERSON_WORDS = frozenset(
    "man woman boy girl doctor mother father son daughter wife husband officer officers "
    "official officials spokesman spokeswoman spokesperson user users witness witnesses "
    "resident residents lawyer teacher student source sources analyst analysts".split()
)
_GROUP_NOUNS = frozenset(
    "company club group statement ministry agency government label firm team department "
    "military army police authority authorities organisation organization party".split()
)
# 'According to X, "…"', 'Según Hurtado, “…”', 'Selon le ministre, « … »'
_ACCORDING = regex.compile(r"(?i:according[ \t]+to|según|selon)[ \t]+(?P<who>[^,.;:\"“”«»\n]{1,80}),?[ \t]*$")
# '"…," according to a police spokeswoman.': the attribution after the quote, without a speech verb.
_ACCORDING_AFTER = regex.compile(r"^[ \t,]*(?i:according[ \t]+to)[ \t]+(?P<who>[^,.;:\"“”«»\n]{1,80})")
# '“…“, so Oberstaatsanwalt Baumert.', '«…», laut X': German attributions without a verb.
_SO_AFTER = regex.compile(r"^[ \t]*,[ \t]+(?:so|laut)[ \t]+(?P<who>(?:\p{Lu}|der[ \t]|die[ \t])[^,.;:\"“”„«»\n]{1,80})")
_EPITHET = frozenset("le la l' l’ der die el".split())
# After a speech verb, what ends an attribution rather than opening reported speech: '…?" Trump said.', '… said in a
# statement', '…," she said on Monday'.
_VERB_ENDS = regex.compile(
    r"[ \t]*(?:[.;!?]|$|,(?![ \t]*[\"“«„])|(?:in|on|at|after|during|late|earlier|yesterday|today)\b)"
)  # not '… added, "…"' nor '… said: "…"', which introduce the next quote
_CLAUSE_WORDS = frozenset("while because as when after before since although though if even but and so".split())
_THIS = frozenset("this that este esta ese esa ce cet cette dieser diese dieses questo questa".split())
# Words that make a phrase a description rather than a name: "the spokeswoman", "a police officer", "un proche".
_DETERMINERS = frozenset(
    "the a an one another some his her their its our un une le la les l' l’ el los las uno una der die das ein eine "
    "einer".split()
)
_INTRODUCED = regex.compile(r"(?:^|[.!?][ \t]+)(?P<subject>\p{Lu}[^.!?\"“”«»\n]{0,240}?)[ \t]*:[ \t]*$")
_SUBORDINATE = frozenset("as while when after before because though although since so but and".split())
_ANY_VERB = regex.compile(rf"\b{_VERB}\b")
_COMMA = regex.compile(r",[ \t]+(?=[\p{Ll}\p{Lu}])")
_PAIR = regex.compile(r"\p{Lu}\p{Ll}+[ \t]+and[ \t]+\p{Lu}\p{Ll}+(?:[ \t]+\p{Lu}[\p{L}'’-]+)+")
_FAMILY = regex.compile(r"\b[Tt]he[ \t]+(\p{Lu}\p{Ll}+)s\b")
_STATEMENT_BY = regex.compile(r"(?:the[ \t]+)?(?P<who>[\p{L}’' -]{2,60}?)[ \t]+said[ \t]+in[ \t]+a[ \t]+statement")
_LINE = regex.compile(r"[^\n]+")
_HONORIFICS = frozenset("m mme mlle herr frau sr sra srta don doña".split())
# "un proche de Pierre Moscovici", "a spokeswoman for the ministry", "una portavoz del departamento que dirige Ana
# Mato": someone the article does not name, whoever is named after them.
_SOMEONE_OF = regex.compile(
    r"(?i:un|une|a|an|one|ein|eine|uno|una)[ \t]+(?i:proche|ami|amie|friend|aide|relative|"
    r"collaborateur|collaboratrice|conseiller|conseillère|adviser|advisor|neighbour|neighbor|"
    r"Vertrauter|Freund|amigo|amiga|allegado|colaborador|portavoz|porte-parole|spokesman|"
    r"spokeswoman|spokesperson|Sprecher|Sprecherin)[ \t]+"
    r"(?i:de|du|des|d['’]|of|to|for|von|del)\b"
)
_OF_THE_BODY = frozenset(
    f"{p} {the}".strip() for p in ("of", "at", "from", "with", "for") for the in ("", "the")
)  # "X of the Daily Mail", "X at Oxford"
_KIN = regex.compile(
    r"^\p{Lu}[\p{L}\p{M}'’‘. -]*['’‘]s[ \t]+(?P<kin>mom|mum|mother|wife|daughter|sister|dad|father|husband|son|"
    r"brother|girlfriend|boyfriend|fiancée|fiancé|widow|grandmother|grandfather)$",
    regex.IGNORECASE,
)
_FEMALE_KIN = frozenset("mom mum mother wife daughter sister girlfriend fiancée widow grandmother".split())
_COMPLEMENT = frozenset("a à de del des du of von".split())  # "el ingeniero de pista a Max Verstappen"
_OF = frozenset("de del du des d' d’ of von der la le les the el di da".split())
# A name set off by a comma after a description: ', Juan José Rodríguez Sendín' (two to five capitalised words).
_APPOSITION = regex.compile(
    r"[ \t]*,[ \t]+(?P<name>\p{Lu}[\p{L}\p{M}'’.-]*(?:[ \t]+(?:(?:de|del|da|van|von|le|la)"
    r"[ \t]+)?\p{Lu}[\p{L}\p{M}'’.-]*){1,4})(?=[ \t]*[,.;:]|[ \t]*$)"
)
UNNAMED = "unknown"  # the schema's word for a speaker the article does not name


def quotes(text: str, entities: Entities) -> list[dict[str, str]]:
    """Up to eight quotations with their speakers, in the order of the text."""
    found: list[dict[str, str]] = []
    previous: tuple[str | None, int] = (None, -1)
    # Quotes left open at a paragraph's end with no attribution of their own: a long quote split across
    # paragraphs is attributed in one of them ("“…¶“…,” she said. “…¶“…”"), and that speaker is theirs too.
    waiting: list[int] = []
    for start, end, inner in quote_spans(text):
        inner = inner.strip()
        words = len(inner.split())
        if words < 4:
            continue
        own = _speaker(text, start, end, entities, previous)
        speaker = own
        if (
            speaker is None
            and previous[0]
            and (_continues(text, previous[1], start) or _same_paragraph(text, previous, start, entities))
        ):
            speaker = previous[0]
        if speaker is None and words < 8:
            continue  # short phrases in quote marks are usually scare quotes, not speech
        if waiting and not _next_paragraph(text, previous[1], start):
            waiting = []
        if own is not None:
            for index in waiting:
                found[index]["speaker"] = own
            waiting = []
        previous = (speaker, end)
        found.append({"speaker": speaker or UNNAMED, "text": inner})
        if own is None and _left_open(text, end):
            waiting.append(len(found) - 1)
        if len(found) == MAX_QUOTES:
            break
    return found


def _left_open(text: str, end: int) -> bool:
    """The quote ending at ``end`` runs to its paragraph's end without a closing mark."""
    return (end == len(text) or text[end] == "\n") and text[end - 1 : end] not in _CLOSING_MARKS


def _next_paragraph(text: str, previous_end: int, start: int) -> bool:
    """Only a paragraph break lies between the previous quote and this one, which opens its paragraph."""
    return previous_end >= 0 and "\n" in text[previous_end:start] and not text[previous_end:start].strip()


def _continues(text: str, previous_end: int, start: int) -> bool:
    """Only the previous quote's own attribution ('," said Brent Sherwood, vice president…') or a
    paragraph break lies between: the quote goes on."""
    between = text[previous_end:start].strip()
    if previous_end < 0 or len(between) > 200:
        return False
    return len(between) < 3 or (bool(_ANY_VERB.search(between)) and between.count(". ") <= 1)


_OTHER_VOICE = regex.compile(r"(?i)\baccording to\b|\b(?:called|calls|dubbed|described)\b")


def _same_paragraph(text: str, previous: tuple[str | None, int], start: int, entities: Entities) -> bool:
    """The quote is in the paragraph of the previous one, which a person said, and nobody else is named between
    ('…," said Jeff Eagan, president of… He's also a 17-year Energy employee… "I have received lots of calls…"').
    """
    speaker, previous_end = previous
    between = text[previous_end:start]
    if previous_end < 0 or speaker is None or speaker == UNNAMED or "\n" in between or len(between) > 400:
        return False
    if entities.person_named(speaker) != speaker:
        return False
    told = between.split(". ", 1)[-1]  # after the previous quote's own attribution: no one else is said to speak
    if _ANY_VERB.search(told) or _OTHER_VOICE.search(told):
        return False
    return all(_resolve_person(m.group(), entities) in (None, speaker) for m in _NAME_RUN.finditer(between))


def _speaker(text: str, start: int, end: int, entities: Entities, previous: tuple[str | None, int]) -> str | None:
    """Who said the quote at ``start:end``: a name, ``UNNAMED`` (attributed to someone the article does not
    name), or None (no attribution at all)."""
    following = text[end : end + 300].split("\n", 1)[0]
    according = _ACCORDING_AFTER.match(following) or _SO_AFTER.match(following)  # '"…," according to X', '“…“, so X'
    if according:
        return _who(according.group("who"), entities, start, previous, after_verb=True)
    ended = text[start:end].rstrip("\"”»“'’ ").endswith((".", "!", "?")) and following.lstrip()[:1].isupper()
    after = _AFTER.match(following)
    if after and ended and not _VERB_ENDS.match(following, after.end()):
        after = None  # '…occurred." FBI spokesman X said authorities…' is a new sentence ('…?" Trump said.' is not)
    if after:
        subject = after.group("subject").strip(" ,\u2014\u2013")
        inverted = _INVERTED.search(after.group("verb")) or _INVERTED.match(following, after.end())
        said = None if subject or inverted else _VERB_THEN.match(text[end + after.end() : end + after.end() + 160])
        parts = subject.split(",")
        if len(parts) > 1 and parts[0].split()[0] in {"by", "from", "in", "at", "on", "for", "to", "with", "of"}:
            parts = parts[1:]  # '"…monitoring" by the IAEA, Crowley said': the quote's own words, then the speaker
        elif len(parts) > 1 and parts[0].split()[0].lower() in _DETERMINERS and _NAME_RUN.match(parts[1].strip()):
            parts = parts[1:]  # '"…," her mother, Fiona, said': the name after the description
        elif len(parts) > 1 and parts[0].split()[0].lower() in _CLAUSE_WORDS:
            parts = parts[-1:]  # '"…" while they were in power, Azzouz said': the quote's sentence goes on first
        phrase = parts[0] if subject else inverted.group(1) if inverted else said.group("who") if said else ""
        if not phrase.strip() and (said is None or not said.group("who").strip()):
            return _antecedent("", entities, start, previous)  # '“…”, expone.': the verb alone (a pro-drop subject)
        if said and phrase.strip()[:1].islower():  # "apunta el presidente de la OMC, Juan José Rodríguez Sendín"
            named = _APPOSITION.match(text, end + after.end() + said.end(), end + after.end() + said.end() + 120)
            phrase = named.group("name") if named else phrase
        who = _who(phrase, entities, start, previous, after_verb=bool(said))
        if who:
            return who
    window_start = max(text.rfind("\n", 0, start) + 1, start - 400)
    window = text[window_start:start]
    according = _ACCORDING.search(window)  # '…, according to Google Search lead Liz Reid, "…"' (before "saying")
    if according:
        found = _who(according.group("who"), entities, window_start + according.start(), previous)
        if found:
            return found
    before = _verb_before(window)
    if before:
        subject, verb_at = before
        at = window_start + verb_at
        if window[verb_at:].startswith("saying") and window[:verb_at].rstrip().endswith(","):
            # "In 2022, she withdrew her allegations against Dershowitz, saying she "…"": who says is the clause's
            # subject, not its object
            for part in subject.split(","):
                words = part.split()
                if words and words[0].lower() in _PRONOUNS and _PRONOUNS[words[0].lower()] == "person":
                    found = _antecedent(words[0].lower(), entities, at, previous)
                    if found:
                        return found
        # "The leader of Ennahda, Rachid Ghannouchi, condemned the attack, saying that it "…"": the person in
        # apposition rather than the body of the description
        candidates = [
            w for part in (_last_clause(subject), *subject.split(",")[:3]) if (w := _who(part, entities, at, previous))
        ]
        if not candidates:  # "Christie had the courage to demand that voters answer…": the clause's subject
            candidates = [p for m in _NAME_RUN.finditer(subject) if (p := _resolve_person(m.group(), entities))][:1]
        return next((w for w in candidates if entities.person_named(w) == w), candidates[0] if candidates else None)
    introduced = _INTRODUCED.search(text[window_start:start])  # 'Ms Major has the final say: "…"'
    if introduced:
        subject = introduced.group("subject").split(",")[0]
        pronoun = subject.split()[0].lower()
        if _PRONOUNS.get(pronoun) == "person":  # 'He then told these leaders…: "…"'
            return _antecedent(pronoun, entities, window_start + introduced.start(), previous)
        owner = _owner(subject, entities)  # "Mourinhos Urteil über Juventus: „…“", "Smith's verdict: "…""
        found = owner or _who(subject, entities, window_start + introduced.start(), previous)
        if found is None or found[:1].islower():  # "Lundi 6 mai, Sebastian Kurz, le chancelier…, a dit :"
            person = next(
                (
                    p
                    for m in _NAME_RUN.finditer(introduced.group("subject"))
                    if (p := _resolve_person(m.group(), entities))
                ),
                None,
            )
            found = person or found
        return found
    return None


def _resolve_person(run: str, entities: Entities) -> str | None:
    tokens = run.split()
    return next((p for i in range(len(tokens)) if (p := entities.person_named(" ".join(tokens[i:])))), None)


def _owner(subject: str, entities: Entities) -> str | None:
    """The person whose words a subject like "Mourinhos Urteil" or "Smith's verdict" announces."""
    first = _NAME_RUN.match(subject)
    if first is None:
        return None
    name = first.group().split()[0]
    for stem in (name[:-2] if name.endswith(("'s", "’s")) else None, name[:-1] if name.endswith("s") else None):
        if stem and len(stem) > 2:
            person = entities.person_named(stem)
            if person:
                return person
    return None


def _verb_before(window: str) -> tuple[str, int] | None:
    """(subject, offset of the verb) of the last speech verb in ``window``'s last sentence, if any."""
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(window)]
    sentence_start = breaks[-1] if breaks else 0
    verbs = [m for m in _SPEECH.finditer(window, sentence_start) if len(window) - m.end() <= 160]
    if not verbs:
        return None
    verb = verbs[-1]
    return window[max(sentence_start, verb.start() - 200) : verb.start()].strip(" ,"), verb.start()


def _last_clause(subject: str) -> str:
    """ "Shelly Sterling was thrilled with the decision, her lawyer" -> "her lawyer"; "" when the last clause
    cannot be a subject ("…, including contributions from 4,000 stakeholders")."""
    clause = _COMMA.split(subject)[-1] if "," in subject else subject
    words = clause.split()
    if words and words[0].lower() in _SUBORDINATE:  # "…, as Montoya-Lewis herself"
        clause, words = " ".join(words[1:]), words[1:]
    first = words[0].lower() if words else ""
    if clause[:1].islower() and first not in {
        "the",
        "a",
        "an",
        "his",
        "her",
        "their",
        "its",
        "one",
        "he",
        "she",
        "they",
        "it",
        "we",
    }:
        return ""
    return clause


def _who(
    phrase: str, entities: Entities, at: int, previous: tuple[str | None, int], after_verb: bool = False
) -> str | None:
    """The speaker a subject phrase names: a name ("Commerzbank analyst Carsten Fritsch" -> "Carsten
    Fritsch"), a pronoun's antecedent, a description's referent, or ``UNNAMED``. ``after_verb``: the phrase
    follows the verb ('sagte Mourinho', 'erklärte Anna Schmidt am Montag'): its first name is the speaker, and a
    lone capitalised word is a name there."""
    phrase = phrase.strip(" ,:")
    words = phrase.split()
    if not words:
        return None
    first = words[0].lower()
    if first in _PRONOUNS and all(w.islower() and w != "and" for w in words[1:4]) and len(words) <= 4:
        return _antecedent(first, entities, at, previous)  # "he", "He then", "she also" (not "She and her husband")
    someone = _SOMEONE_OF.match(phrase)
    if someone:  # "un proche de Pierre Moscovici", "a friend of the family": not the one named, but their role
        return _as_written(phrase[: someone.end()].rsplit(None, 1)[0])
    if first in _DETERMINERS and len(words) <= 6 and is_title(words[-1].strip(".,")):
        return _described(phrase, entities, at, previous)  # "the Barca president": a role, not Barca
    found = [m for m in _NAME_RUN.finditer(phrase) if m.group().lower() not in {"the", "a", "an"}]
    names = [m.group() for m in found]
    shaped = _speaker_by_shape(phrase, found, entities, at, previous, after_verb)
    if shaped:
        return shaped
    if names:
        resolved = _resolve(names[0] if after_verb else names[-1], entities)
        if resolved:
            return resolved
        untitled = [
            t
            for t in names[0].split()  # "M. Klein" -> "Klein"
            if t.lower().rstrip(".") not in TITLES and t.lower().rstrip(".") not in _HONORIFICS
        ]
        lone = untitled[0].strip(",.") if len(untitled) == 1 else ""
        described = phrase[: phrase.find(names[0])].split()  # "l’agence officielle Suna": words that describe it
        if after_verb and entities.language == "de" and described and described[-1].lower() in {"der", "die"}:
            return _described(phrase, entities, at, previous)  # "berichtet die Kauffrau": German nouns have capitals
        if after_verb and not described and 2 <= len(untitled) <= 4:  # "dijo Juan José Rodríguez Sendín"
            return " ".join(untitled).strip(",.")
        if (
            after_verb
            and len(described) <= 3
            and all(w[:1].islower() for w in described)
            and (not described or described[-1].lower() not in _OF)
            and len(lone) > 2
            and lone.lower() not in TITLES
            and lone.lower() not in _PERSON_WORDS | _GROUP_NOUNS
        ):
            return entities.person_named(lone) or lone
    return _described(phrase, entities, at, previous)


def _speaker_by_shape(
    phrase: str,
    found: list[regex.Match[str]],
    entities: Entities,
    at: int,
    previous: tuple[str | None, int],
    after_verb: bool,
) -> str | None:
    """Subject phrases whose first or last name is not who speaks: an epithet and the name it is said to ("espetó el
    ingeniero de pista a Max Verstappen"), a person of a body ("Rebecca English of the Daily Mail"), a kinship
    ("Travis Kelce's mom"), a place and a role before the name ("said Kyiv resident Svitlana Onofryichuk")."""
    words = phrase.split()
    names = [m.group() for m in found]
    named_in = _NAME_RUN.search(phrase)
    if (
        after_verb
        and words[0].lower() in _EPITHET
        and entities.language != "en"
        and words[1:2]
        and words[1][:1].islower()
        and named_in
        and phrase[: named_in.start()].split()[-1].lower() in _COMPLEMENT
    ):
        # "abundó el team principal de Red Bull": the one the epithet describes, not the team it is of ("le
        # commissaire … Pierre Moscovici" is he)
        return _described(" ".join(words[:2]), entities, at, previous)
    if len(found) > 1 and not after_verb:  # the person, not her paper
        between = phrase[found[0].end() : found[-1].start()].strip().lower()
        person = entities.person_named(names[0]) if between in _OF_THE_BODY else None
        if person:
            return person
    kin = _KIN.match(phrase)
    if kin:  # not Travis Kelce; she, if the article named her, else as written
        pronoun = "she" if kin.group("kin").lower() in _FEMALE_KIN else "he"
        return _antecedent(pronoun, entities, at, previous) or _as_written(phrase)
    if after_verb and len(found) > 1:  # the person, not her city
        gap = phrase[found[0].end() : found[1].start()].split()
        person = entities.person_named(names[1]) or _resolve_person(names[1], entities)
        if gap and all(w.islower() for w in gap) and person:
            return person
    return None


def _resolve(phrase: str, entities: Entities) -> str | None:
    """The entity a capitalised phrase names: its longest tail that is a known name ("U.S. Attorney Nealy
    Cox" -> "Nealy Cox"), or an organisation ("Tottenham", "Big Machine")."""
    tokens = phrase.split()
    if len(tokens) > 1 and tokens[0].lower().rstrip(".") in _HONORIFICS:  # "M. Klein", "Frau Merkel"
        tokens = tokens[1:]
    for i in range(len(tokens)):
        tail = " ".join(tokens[i:]).strip(",.")
        person = entities.person_named(tail)
        if person:
            return person
        named = entities.named(tail)
        if named is not None and named.kind in {"organization", "person"}:
            return named.text
    if " and " in phrase:  # "Bill and Denise Richard"
        return phrase
    names = [t for t in tokens if t.lower().rstrip(".") not in TITLES]
    if 2 <= len(names) <= 3 and names == tokens[-len(names) :]:
        return " ".join(names).strip(",.")  # a person the entity list left out
    return None


def _antecedent(pronoun: str, entities: Entities, at: int, previous: tuple[str | None, int]) -> str | None:
    """What "he", "she", "it", "they" refers to: the previous quote's speaker when it was just before,
    else the last person (or organisation, or pair of people) named as a subject before the quote."""
    kind = _PRONOUNS.get(pronoun, "person")  # "": a person of either sex (a verb without subject, "este hombre")
    kinds: tuple[str, ...] = {"person": ("person",), "organization": ("organization",), "group": ("organization",)}[
        kind
    ]
    sex = _SEX.get(pronoun, "")
    named, named_at = entities.subject_before(at, kinds, sex)
    candidate = named.text if named else None
    if kind == "group":  # "they": a pair of people or a family rather than one person
        group, group_at = _group_before(entities, at)
        if group and group_at > named_at:
            candidate, named_at = group, group_at
    if candidate and named_at > previous[1]:
        return candidate  # named since the last quote: "The company…, Dick Clark Productions, denies…"
    if previous[0] and previous[0][:1].isupper() and at - previous[1] < 600 and agrees(previous[0], sex):
        return previous[0]  # not "unknown", "a reporter"; not John Smith for "she"
    return candidate


def _group_before(entities: Entities, at: int) -> tuple[str | None, int]:
    """ "Bill and Denise Richard wrote…", "the Richards are urging…": the people "they" most likely are."""
    text = entities.text[:at]
    surnames = {n.text.split()[-1] for n in entities.names.values() if n.kind == "person" and " " in n.text}
    found = list(_PAIR.finditer(text))
    found += [m for m in _FAMILY.finditer(text) if m.group(1) in surnames]
    if not found:
        return None, -1
    last = max(found, key=lambda m: m.start())
    return last.group(), last.start()


def _described(description: str, entities: Entities, at: int, previous: tuple[str | None, int]) -> str | None:
    """ "the 56-year-old" -> the last person named; "the statement", "the government" -> who made it;
    "the doctor", "one user", "officers" -> ``UNNAMED``."""
    words = description.lower().split()
    if not words or len(words) > 8:
        return None
    if any(w.endswith("-year-old") for w in words) or words[0] in _THIS:  # "the 68-year-old", "este hombre"
        return _antecedent("", entities, at, previous) or _last_person(entities, at)
    noun = words[-1].strip(".,")
    if words[0] in _EPITHET and entities.language != "en" and noun not in _GROUP_NOUNS:
        # "ajoute le politique letton", "sagt die Managerin", "dijo el ministro": the press's epithet for the
        # person just named or quoted, unless another person named before holds that role
        return _role_holder(noun, entities, at) or _antecedent("", entities, at, previous) or _as_written(description)
    if noun in _GROUP_NOUNS:
        return _group(noun, entities, at, previous) or UNNAMED
    if (
        noun in _PERSON_WORDS
        or is_title(noun)
        or words[0] in {"the", "a", "an", "one", "another", "some", "her", "his", "their"}
    ):
        definite = words[0] in {"the", "his", "her", "their", "its", "le", "la", "l’", "l'", "el", "der", "die"}
        of_a_body = any(  # "the Boeing representative" is Boeing's, not Rep. Jim Jordan
            (named := entities.named(w)) is not None and named.kind == "organization"
            for w in description.split()[1:-1]
            if w[:1].isupper()
        )
        holder = _role_holder(noun, entities, at, abbreviated=not of_a_body) if definite else None
        return holder or _as_written(description)
    return None


def _last_person(entities: Entities, at: int) -> str | None:
    """The person mentioned last before ``at``, wherever in the sentence ("…is Hall of Famer Reggie Jackson, who…")."""
    best: tuple[int, str] | None = None
    for name in entities.names.values():
        if name.kind == "person":
            found = max(entities.text.rfind(form, 0, at) for form in (name.text, *name.aliases))
            if found >= 0 and (best is None or found > best[0]):
                best = (found, name.text)
    return best[1] if best else None


_LESSER = frozenset("lt lieutenant deputy vice assistant associate acting former".split())  # "Lt. Gov." holds no "Gov."
# "Indiana Gov. Eric Holcomb" is "the governor" later on.
_ABBREVIATED_TITLES = {
    "gov": "governor",
    "sen": "senator",
    "rep": "representative",
    "gen": "general",
    "pres": "president",
    "supt": "superintendent",
    "prof": "professor",
    "atty": "attorney",
    "lt": "lieutenant",
    "col": "colonel",
    "capt": "captain",
    "sgt": "sergeant",
    "cmdr": "commander",
}


def _role_holder(noun: str, entities: Entities, at: int, abbreviated: bool = True) -> str | None:
    """ "the spokeswoman", "the Barca president": the person named before ``at`` with that role ("Jane Doe, a
    spokeswoman for…", "Barcelona president Josep Maria Bartomeu"), the last named if several. Only a definite
    description refers back: "a spokeswoman said" is someone new. ``abbreviated``: a title written short counts
    too ("Indiana Gov. Eric Holcomb" is "the governor"), when only one person holds it."""
    spelled, short = [], []
    for name in entities.names.values():
        if name.kind != "person" or not name.role or name.first >= at:
            continue
        words = [w.lower().strip(".,’'") for w in name.role.split()]
        if noun in words:
            spelled.append(name)
        elif noun in {_ABBREVIATED_TITLES.get(w) for i, w in enumerate(words) if not (i and words[i - 1] in _LESSER)}:
            short.append(name)  # "Indiana Gov." is "the governor"; "Lt. Gov." is not
    if spelled:
        return max(spelled, key=lambda n: n.first).text
    # "Sen. Joe Manchin and Sen. Kyrsten Sinema…", "the senator said": which one? As written.
    return short[0].text if len(short) == 1 and abbreviated else None


def _as_written(description: str) -> str:
    """A role as the speaker when the article names nobody: "the spokeswoman", "a police officer", "un proche"."""
    words = description.strip(" ,.:;").split()[:8]
    if words and words[0].lower() in _DETERMINERS:
        words[0] = words[0].lower()
    return " ".join(words)[:100] or UNNAMED


def _group(noun: str, entities: Entities, at: int, previous: tuple[str | None, int]) -> str | None:
    """ "the statement" -> "US military" ("the US military said in a statement"); "the government" ->
    "Pakistani government"; else the last organisation named."""
    text = entities.text[max(0, at - 1500) : at]
    if noun == "statement":
        made = list(_STATEMENT_BY.finditer(text))
        if made:
            return _who(made[-1].group("who"), entities, at, (None, -1)) or made[-1].group("who")
    named = list(regex.finditer(rf"(?:\p{{Lu}}[\p{{L}}.-]+[ \t]+)+{noun}\b", text))
    if named:
        return named[-1].group()
    return _antecedent("it", entities, at, previous)


def quote_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of each quotation, typographic or straight, in text order."""
    spans: list[tuple[int, int, str]] = []
    lines = list(_LINE.finditer(text))
    for line in lines:
        dash = _DIALOGUE.match(line.group())
        if dash:
            stop = _DIALOGUE_END.search(line.group(), dash.end())
            end = stop.start() if stop else len(line.group().rstrip())
            inner = line.group()[dash.end() : end]
            if 12 <= len(inner) <= 800:
                spans.append((line.start() + dash.start(), line.start() + end, inner))
                spans += _in_line(line.group()[end:], line.start() + end)
                continue
        spans += _in_line(line.group(), line.start())
    if not spans and ("'" in text or "\u2018" in text):  # no double quotes: British single ones, if any
        for line in lines:
            spans += _single_in_line(line.group(), line.start())
    return spans


# 'I'm fit,' said Bolt. / ‘I’m happy at Chelsea.’ An opening mark before a letter; a closing one after a letter or
# punctuation and before a space or punctuation, so "I'm", "It’s" and "the club's" are no quotes.
_SINGLE_OPEN = regex.compile(r"(?:(?<=^)|(?<=[\s(\[—–-]))(['\u2018])(?=[\p{L}\d\[])")
_SINGLE_CLOSE = regex.compile(r"(?<=[\p{L}\d.,!?…\]])['\u2019](?=[\s.,;:!?)\]—–-]|$)")
# A quote continued in the next paragraph opens again without closing ("…to do. 'He has a contract…"): the
# next paragraph's mark after a sentence's end closes it (the paragraphs may have been joined into one line).
_SINGLE_AGAIN = regex.compile(r"(?<=[.!?][ \t]+)['\u2018](?=\p{Lu})")


def _single_in_line(line: str, offset: int) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    position = 0
    while True:
        opening = _SINGLE_OPEN.search(line, position)
        if opening is None:
            return found
        close = _SINGLE_CLOSE.search(line, opening.end())
        again = _SINGLE_AGAIN.search(line, opening.end(), close.start() if close else len(line))
        if again:  # ends before the mark that opens its continuation; that mark opens the next quote
            inner, end, position = line[opening.end() : again.start()].rstrip(), again.start(), again.start()
        elif close:
            inner, end = line[opening.end() : close.start()], close.end()
            position = end
        else:
            inner, end = line[opening.end() :], len(line)
            position = end
        inner = _before_caption(inner)
        if 12 <= len(inner) <= 800 and len(inner.split()) >= 3:
            found.append((offset + opening.start(), offset + end, inner))
        elif not again and close and len(inner) < 12:
            position = opening.end()  # "the '90s", "rock 'n' roll": try the marks after this one


_PAIRS = {'"': '"', "“": "”", "«": "»", "„": "“", "»": "«"}  # »…«: German and Scandinavian
_CLOSING_MARKS = frozenset("\"”»“’'")
_STRAIGHT_CLOSE = regex.compile(r'(?<=\S)"(?=[\s.,;:!?)\]—–-]|$)')
# An opening mark: at a line's start or after a space, bracket or dash; « may have a space after it (French); » opens
# a German »…« quote when a letter or digit follows it.
_OPEN = regex.compile(r"(?:(?<=^)|(?<=[\s(\[—–-]))(?:([\"“„])|(«)[ \u00a0\u202f]?(?=\S)|(»)(?=[\p{L}\p{N}]))(?=\S)")
# A line of dialogue: "— Oui, dit-il." / "—No pienso firmar —dijo Pedro—. Es un mal negocio." The quote runs to
# the next dash or the line's end; a French incise (", dit-il,") ends it too.
_DIALOGUE = regex.compile(r"^[ \t]*[—–][ \t]*(?=\S)")
_DIALOGUE_END = regex.compile(rf"[ \t]*[—–]|,[ \t]+(?=(?i:{_VERB})(?![\p{{L}}]))")


def _in_line(line: str, offset: int) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    position = 0
    while True:
        opening = _OPEN.search(line, position)
        if opening is None:
            return found
        mark = opening.group(1) or opening.group(2) or opening.group(3)
        close = _closing(line, opening.end(), mark)
        if close is None:  # open to the paragraph's end: the quote continues in the next paragraph
            inner, end = line[opening.end() :], len(line)
        else:
            inner, end = line[opening.end() : close], close + 1
        inner = _before_caption(inner)
        if 12 <= len(inner) <= 800:
            found.append((offset + opening.start(), offset + end, inner))
        position = end


# In the CNN/Daily Mail text, whose paragraphs run together, a photo caption ends in a full stop set off by a space:
# inside a quote that runs on ("…what we want it to be. Leicester manager Nigel Pearson has urged his players…
# run-in . …"), it marks where the speaker's words stopped, at the end of the sentence before it.
_CAPTION_STOP = regex.compile(r"\s\.(?=\s|$)")
_SENTENCE_END = regex.compile(r"[.!?…]['’\"”]?(?=\s)")


def _before_caption(inner: str) -> str:
    """``inner`` cut before a caption that a run-on quote swallowed. The quote's end stays where its mark closes
    it: the attribution after it (", he said") is still its own."""
    caption = _CAPTION_STOP.search(inner)
    if caption is None:
        return inner
    ends = [m.end() for m in _SENTENCE_END.finditer(inner, 0, caption.start())]
    return inner[: ends[-1]] if ends else inner


def _closing(line: str, start: int, mark: str) -> int | None:
    wanted = _PAIRS[mark]
    if mark == '"':
        match = _STRAIGHT_CLOSE.search(line, start)
        return match.start() if match else None
    candidates = [line.find(c, start) for c in ({wanted, "”"} if mark == "„" else {wanted})]
    found = [c for c in candidates if c >= 0]
    return min(found) if found else None
