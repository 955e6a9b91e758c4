"""What kind of name a name is, from evidence in the article: person, organisation, location,
event or other. A name is typed by the strongest evidence its mentions give:

- organisation: an organisation word ("Corporation", "Ministry", "Times"), a known wire, platform
  or institution, an acronym, or a CamelCase brand ("SpaceX");
- location: the GeoNames gazetteer (countries, capitals, US states, cities of 100,000+), a place
  word ("Sea of Okhotsk", "Sakhalin Island"), or a compass word before a place ("North Pacific");
- person: a title before it (German compounds too: "Bundesgeschäftsführers"), a speech verb after it
  ("Mayer said"), an apposition with a title ("Ishaq Dar, Pakistan's foreign minister"), an age, a
  byline, or the surname used alone later; otherwise a two- or three-word name with nothing against
  it (none of its later words written in lower case elsewhere) and, in German, which capitalises every
  noun, only one that opens with a common first name ("Gregor Gysi").

Every rule reads the few characters around each mention (``windows``), never the whole article again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import regex

from ..wordlists import (
    CARDINALS,
    EVENT_WORDS,
    HONORIFICS,
    KNOWN_ORGS,
    ORG_WORDS,
    PLACE_WORDS,
    TITLES,
    US_DOTTED_PLACES,
    first_names,
    given_name,
    places,
    regions,
)

# Particles inside a person's name: "José Ortega y Gasset", "Ursula von der Leyen", "Luiz Inácio da Silva".
_PARTICLES = frozenset("de del della di da van von der den du des y la le bin ibn al el".split())
CONNECTORS = frozenset("of the de du des del della di da van von der den al el bin ibn la le y for am on".split())
# What people (more than organisations) do right after their name: evidence for "person".
_PERSON_VERBS = (
    r"(?:said|says|told|tells|added|adds|explained|wrote|tweeted|recalled|quipped|testified|sagte|"
    r"erklärte|contributed)"
)
_SPEECH_AFTER = regex.compile(rf"^(?:,[^,.\n]{{1,60}},)?[ \t]+(?:{_PERSON_VERBS}|who)\b")
_SPEECH_BEFORE = regex.compile(
    r"\b(?:said|says|added|wrote|sagte|sagt|erklärte|erklärt|betonte|betont|ergänzte|ergänzt|berichtet|berichtete|"
    r"meint|meinte|dijo|afirmó|déclaré|ajouté|ajoute|explique|estime)[ \t]+$",
    regex.IGNORECASE,
)
# German compound roles and their inflections: "Regierungssprecher", "Bundesgeschäftsführers", "Condor-Chefin",
# "Kollegen"; and an age before a name: "der 62-jährige Gregor Gysi", "the 56-year-old John Smith".
_COMPOUND_ROLE = regex.compile(
    r"(?:sprecher|minister|chef|vorsitzende|präsident|trainer|direktor|leiter|führer|kollege|kanzler|anwalt|"
    r"anwältin|abgeordnete|bürgermeister|experte|expertin|politiker|analyst|ökonom|kommissar|botschafter|"
    r"gründer|manager|coach|moderator|autor|forscher|professor|sänger|schauspieler|spieler|stürmer|torwart)"
    r"(?:in|innen)?(?:s|n|en|r|e)?$"
)
# "Jane Doe, 34, of Leeds", "Richard Weir, 60, from Tynemouth, North Tyneside": the press's age and home town.
_HOME_BEFORE = regex.compile(
    r"\b\d{1,3},[ \t]+(?:from|of)[ \t]+(?P<town>\p{Lu}[\p{L}\p{M}'’-]+(?:[ \t]+\p{Lu}[\p{L}\p{M}'’-]+)*,[ \t]*)?\Z"
)
_AGE_BEFORE = regex.compile(r"\d{1,3}-(?:jährige[nr]?|year-old|ans|años)[ \t]+$", regex.IGNORECASE)
# "the journal Nature Astronomy", "El Nuevo Dia newspaper": a name a common noun says is not a person.
_KIND_NOUNS = (
    r"(?:journal|newspaper|magazine|daily|paper|company|firm|group|organi[sz]ation|agency|network|"
    r"channel|website|site|app|platform|broadcaster|station|club|team|brand|label|studio|band|ship|"
    r"lander|probe|telescope|spacecraft|rocket|mission|programme|program|show|series|film|album|hospital|"
    r"school|university|college|prison)"
)
_KIND_BEFORE = regex.compile(rf"\b{_KIND_NOUNS}[ \t]+$", regex.IGNORECASE)
_KIND_AFTER = regex.compile(
    rf"^(?:['’]s)?[ \t]+(?:{_KIND_NOUNS}|(?:[\p{{Ll}}-]+[ \t]+)?(?:analyst|spokesman|"
    r"spokeswoman|spokesperson|correspondent|official|officials|executive|chairman|"
    r"reporter|editor|owner|coach|manager|director|president|chief|founder))\b"
)
_ROLE_OF = regex.compile(
    r"\b(?:president|director|chairman|chairwoman|ceo|founder|head|chief|member|members|"
    r"spokesman|spokeswoman|minister|secretary|officials?|staff|employees?)[ \t]+(?:of|at)[ \t]+$",
    regex.IGNORECASE,
)
_PLACE_AFTER = regex.compile(r"^[ \t]+(?:police|residents|county|area|region|border|neighbo(?:u)?rhood)\b")
# "Jeff Bezos's Blue Origin": owned by a person, so not one. "CNN's Dottie Evans": owned by an organisation.
_OWNED_BY_PERSON = regex.compile(r"\p{Lu}\p{Ll}+[ \t]+\p{Lu}\p{Ll}+['’]s?[ \t]+$")
_CAMEL_CASE = regex.compile(r"\p{Ll}\p{Lu}")
_LAST_WORD = regex.compile(r"([\p{L}'’]+)[ \t]*$")
_NAME_WORD = regex.compile(r"\p{Lu}[\p{Ll}\p{M}'’-]+|\p{Lu}\.?")
_PUNCTUATION = regex.compile(r"[,;:\"“”()\n]")
_APPOSITION = regex.compile(r"^,[ \t]+((?:the|a|an)[ \t]+)?([^,.;:\"“”()\n]{3,90})")
_FRONTED_ROLE = regex.compile(r"(?:^|[.;:]\s+|\n)((?:\p{Lu}[\p{L}'’]*|the|a|an)(?:[ \t]+[\p{L}'’-]+){1,8}),[ \t]+$")
_TITLE_BEFORE = regex.compile(r"([\p{L}.-]+)[ \t]+$")
_APPOSITION_AFTER = regex.compile(r"^,[ \t]+(?:\d{1,3},|who\b|(?:the|a|an)[ \t]+[\p{L}-]+[ \t]+(?:of|at|for)\b)")
_THINGS = frozenset(
    "telescope satellite probe lander rover rocket spacecraft shuttle prize act bill law treaty accord "
    "agreement convention amendment protocol".split()
)
_BELIEFS = frozenset("islam christianity buddhism judaism hinduism sikhism catholicism protestantism".split())
_OPEN_QUOTES = frozenset('"“‘«„')
_CLOSE_QUOTES = frozenset('"”’»“,')
# A name that is the end of a quoted title of a few capitalised words ("Super Mario Run" reaches here as "Mario
# Run"), closed by a quote mark (not "," nor the possessive "’s").
_TITLE_WORD = r"\p{Lu}[\p{L}\p{M}\p{N}'’.:-]*"
_QUOTED_BEFORE = regex.compile(rf"[\"“‘«„](?:{_TITLE_WORD}[ \t]+){{1,3}}\Z")
_QUOTED_AFTER = regex.compile(r"[\"”»“]|’(?!s\b)")
_FIRST_TOKENS_NOT_PEOPLE = frozenset(
    "fc ac sc cf afc as real inter sporting dynamo club atletico atlético athletic olympique borussia bayern".split()
)
# Capitalised plurals that open sentences ("Analysts said…", "Police said…"): speakers, but not names.
_NOT_PEOPLE = frozenset(
    "analysts authorities police officials experts critics residents witnesses investigators researchers "
    "scientists doctors officers prosecutors lawyers sources observers economists traders fans locals "
    "neighbours neighbors relatives friends parents students teachers workers staff volunteers rescuers "
    "firefighters paramedics detectives troops soldiers protesters demonstrators organisers organizers "
    "campaigners activists leaders ministers members voters passengers customers users viewers readers "
    "visitors tourists historians legislators lawmakers senators farmers employers builders shareholders "
    "investors consumers shoppers drivers nurses patients victims survivors families children opponents supporters "
    "colleagues commuters councillors councilors anyone everyone someone somebody nobody everybody".split()
)
# The words of a web page's furniture ("Continue Reading", "Free Sign Up", "Featured Slide Shows"): a run of
# capitalised words holding one, and no first name, is a link or a label, not a person.
_FURNITURE = frozenset(
    "read reading continue sign subscribe sponsored featured related watch share click follow download latest "
    "trending recommended advertisement opinion columns stories slide slides shows video videos photos gallery "
    "newsletter comments ads more editorial editorials blog blogs podcast podcasts".split()
)
# Second words that make "<place> X" a place or a body: "India Gate", "Jackson Hole", "Georgia Southern".
_PLACE_PARTS = (
    PLACE_WORDS
    | ORG_WORDS
    | EVENT_WORDS
    | frozenset(
        "gate hole basin station airport orly harbour harbor beach southern northern eastern western state tech "
        "bridge square street road hall tower heights falls springs".split()
    )
)
# A slogan's first words: "Free Palestine", "Save Our NHS".
_SLOGANS = frozenset("free stop save".split())
# A caption's pointers: "Above, the skull of…", "Clockwise from top: …".
_CAPTION_POINTERS = frozenset("above below left right clockwise top bottom inset pictured main".split())
_NAME_NEXT = regex.compile(r"^[ \t]+\p{Lu}\p{Ll}")
# First words of a place's name: "Camp Pendleton", "Fort Bragg", "Mount Kenya", "Lake Placid".
_PLACE_FIRST = frozenset("camp fort mount mt lake port cape boulevard avenida".split())
# Car makes: "a Dodge Charger", "his Ford Fusion" are vehicles, not people.
_MAKES = frozenset(
    "ford dodge chevrolet chevy toyota honda nissan bmw audi volkswagen vw hyundai kia jeep lexus mazda subaru "
    "volvo porsche ferrari lamborghini jaguar cadillac buick chrysler pontiac mitsubishi suzuki peugeot renault "
    "citroen citroën fiat skoda range".split()
)
# Streets and places a name of two or more words may end in ("Mugga Way", "Red Hill", "Grand Concourse"); the
# ones that are also surnames ("Fiona Hill", "Lois Lane") not after a first name.
_STREET_WORDS = frozenset(
    "way hill hills lane drive boulevard terrace highway freeway parkway plaza bridge beach harbour harbor "
    "heights concourse rd ave blvd cathedral temple mosque palace castle tower monument memorial hotel".split()
)
_SURNAME_ORG_WORDS = frozenset("line lines post court church leader guardian herald times".split())
_SURNAME_PLACE_WORDS = frozenset("hill hills lane way beach bridge park lake field".split())


@dataclass
class Name:
    """One name and what the text says about it."""

    text: str
    first: int  # offset of the first mention
    count: int = 0
    mid_sentence: bool = False
    kind: str = "other"
    role: str | None = None
    person_evidence: int = 0
    aliases: set[str] = field(default_factory=set)
    common: bool = False  # a word after its first is written in lower case elsewhere in the article ("Free Sign Up")


def windows(article: str, name: str) -> list[tuple[str, str]]:
    """(up to 60 characters before, up to 120 after) each mention of ``name`` in ``article``: every rule
    below reads these, so the article is searched once per name."""
    found = []
    start = article.find(name)
    while start >= 0:
        end = start + len(name)
        inside_a_word = (start > 0 and article[start - 1].isalpha()) or (end < len(article) and article[end].isalpha())
        if not inside_a_word:
            found.append((article[max(0, start - 60) : start], article[end : end + 120]))
        start = article.find(name, end)
    return found


def is_title(word: str) -> bool:
    """A title or role before a name: "Minister", "Gen.", and German compounds ("Regierungssprecher",
    "Bundesgeschäftsführers", "Condor-Chefin")."""
    lower = word.lower().rstrip(".,").removesuffix("-elect")  # "President-elect Trump"
    if lower in TITLES or lower.split("-")[-1] in TITLES:
        return True
    return len(lower) > 4 and lower[:1].isalpha() and bool(_COMPOUND_ROLE.search(lower))


def first_named(text: str) -> bool:
    """Two to four name words led by a common first name: "Gregor Gysi", "Jean-Pierre Raffarin"."""
    tokens = text.split()
    if not 2 <= len(tokens) <= 4 or not all(_NAME_WORD.fullmatch(t) or t in _PARTICLES for t in tokens[1:]):
        return False
    first = tokens[0].casefold()
    if tokens[0] in CONNECTORS:  # "al Adal": "Al" is a first name, "al" a particle
        return False
    return first in first_names() or first.split("-")[0] in first_names()


def kind_of(name: Name, around: list[tuple[str, str]], language: str) -> str:
    """The entity type of ``name``, from the strongest evidence its mentions give (see the module's doc)."""
    text = name.text

    @cache
    def said_person() -> int:  # how strongly the mentions say "person": counted once, for the names that get that far
        return name.person_evidence + person_evidence(name, around)

    words = [w.lower().rstrip(".") for w in text.split()]
    parts = {p for w in words for p in w.split("-")}
    folded = text.casefold()
    if len(words) == 1 and (words[0] in _NOT_PEOPLE or words[0] in _CAPTION_POINTERS):
        return "other"  # "Analysts said…", "Above, the skull of…"
    if len(words) > 1 and set(words) <= _FURNITURE:
        return "other"  # "Continue Reading", "Opinion Columns": a page's links and labels
    if (
        len(words) > 1
        and not first_named(text)
        and (words[0] in _SLOGANS or words[-1] in {"minority", "majority"})
        and "-" not in text
        and words[-1] not in ORG_WORDS  # "Free Press"
        and not said_person()
    ):
        return "other"  # "Free Palestine", "Stop Oil" (of Just Stop Oil), "House Minority" (of "… Leader")
    if folded.rstrip(".") in US_DOTTED_PLACES:
        return "location"  # "Charleston, S.C.", "L.A. Unified" (not an acronym in capitals: an organisation)
    last = text.split()[-1]
    if last[-1:] == "s" and last[:1].isupper() and folded not in places() and _a_people(text[:-1]):
        return "other"  # "Native Americans", "New Yorkers", "Islamists": a people, not a person or a place
    if (
        len(words) > 1
        and folded not in places()
        and not first_named(text)
        and _a_people(text)
        and not said_person()  # not "President Ashraf Ghani"
    ):
        return "other"  # "Native American", "New Jerseyan": one of a people
    if len(words) > 1 and words[-1] == "international":
        return "organization"  # "Amnesty International" (not "… International Airport", "International Space Station")
    if words[0] in _WEATHER and len(words) == 2:
        return "event"  # "Hurricane Sandy", "Storm Ciara"
    if len(words) > 1 and folded in places():
        return "location"  # "United Kingdom" ("united" names football clubs), "New York City"
    if len(words) == 2 and words[0] in _MAKES and not first_named(text):
        return "other"  # "a Dodge Charger"
    if len(words) <= 3 and words[-1] in _SURNAME_ORG_WORDS and first_named(text) and said_person() >= 2:
        return "person"  # "spokesperson Bill Line", "Margaret Court": a title and a first name outweigh "Line"
    if len(words) > 2 and words[0] in PLACE_WORDS and words[1] in CONNECTORS:
        return "location"  # "Channel of Sicily", "Sea of Okhotsk"
    if (
        words[-1] in EVENT_WORDS
        or (len(words) > 1 and set(words) & {"war", "games", "olympics"})
        or (  # "Holocaust Remembrance Day", "Flag Day"; not Doris Day or "singer Andra Day"
            len(words) > 1 and words[-1] == "day" and not first_named(text) and not said_person()
        )
    ):
        return "event"  # "Academy of Country Music Awards", "World War One"
    if len(words) == 1 and words[0] in ORG_WORDS and name.mid_sentence:
        return "organization"  # "Parliament", "Congress" (not "Hospital trusts…" opening a sentence)
    if (
        folded.replace(" ", "-") in KNOWN_ORGS
        or any(w in ORG_WORDS for w in words[1:])
        or words[0] in _FIRST_TOKENS_NOT_PEOPLE
        or (
            len(words) > 1
            and ((words[0] in ORG_WORDS and words[1] in CONNECTORS) or parts & KNOWN_ORGS or parts & ORG_WORDS)
        )
    ):
        return "organization"
    if len(words) > 1 and words[0] in _PLACE_FIRST and not first_named(text):
        return "location"  # "Camp Pendleton", "Fort Bragg", "Mount Kenya" (but "Fort Worth Police Department")
    if (
        len(words) > 1
        and words[-1] in regions()
        and words[0] not in CARDINALS
        and folded not in places()
        and not first_named(text)
    ):
        return "organization"  # "Public Health England", "Sport Scotland": a body named after its country
    homes = [home for before, _ in around if (home := _HOME_BEFORE.search(before))]
    if homes and not first_named(text):
        # "Richard Weir, 60, from Tynemouth, North Tyneside, said": where he lives, or what he belongs to
        # ("Jane Doe, 34, of Greenpeace"): no person; a place after another given as a home town is a place
        return "location" if folded in places() or any(home.group("town") for home in homes) else "other"
    evidence = said_person()
    if any(ch.isdigit() for ch in text) or words[-1] in _THINGS or folded in _BELIEFS:
        return "other"  # "RC-135U", "Hubble Space Telescope", "Islam"
    if around and all(after[:1] == "/" for _, after in around):
        return "other"  # a photo credit: "Ashraf Shazly/Agence France-Presse"
    if any(before[-1:] in _OPEN_QUOTES and after[:1] in _CLOSE_QUOTES for before, after in around) or (
        evidence <= name.person_evidence  # nothing around it says "person" (a first name inside the run may)
        and any(_QUOTED_BEFORE.search(before) and _QUOTED_AFTER.match(after) for before, after in around)
    ):
        return "other"  # the title of a work: the video game "Space Invaders", the film "Parasite", "Super Mario Run"
    if folded.replace(".", "") in {"us", "usa", "uk", "dc"} or folded in places():
        if evidence >= 2 and " " not in text and name.role:
            return "person"
        speaks = (
            " " not in text
            and folded not in regions()
            and any(_SPEECH_AFTER.match(after) and after[:1] != "," for _, after in around)  # not "X, who…"
        )
        return "organization" if speaks else "location"  # "Tottenham said in a statement"
    surname_like = words[-1] in _SURNAME_PLACE_WORDS and first_named(text)  # "Linda Park", "Kelly Hill"
    if not surname_like and (words[-1] in PLACE_WORDS or (len(words) > 1 and words[-1] in _STREET_WORDS)):
        return "location"
    if (
        words[0] in CARDINALS
        and len(words) > 1
        and (" ".join(words[1:]) in places() or demonym(text.split()[1]) or words[-1] in PLACE_WORDS)
    ):
        return "location"
    if text.replace(".", "").isupper() and len(text.replace(".", "")) >= 2:
        return "organization"
    if _CAMEL_CASE.search(text) and " " not in text:  # SpaceX, BamTech
        return "organization"
    if words[-1].endswith("ism"):
        return "other"
    if evidence and not any(after.startswith(", which") for _, after in around):
        return "person"
    before_words = [_LAST_WORD.findall(before) for before, _ in around]
    previous = [w[0].lower() for w in before_words if w]
    named = first_named(text)  # "Chris Coleman's team" is his team, not a team called "Chris Coleman"
    if any(_KIND_BEFORE.search(before) or _ROLE_OF.search(before) for before, _ in around) or any(
        (_KIND_AFTER.match(after) and not (named and after[:1] in "'’")) or after.startswith(", which")
        for _, after in around
    ):
        return "organization"  # "the journal Nature Astronomy", "Commerzbank analyst …", "president of X"
    if any(_PLACE_AFTER.match(after) for _, after in around):
        return "location"  # "Forest Hill police officers"
    if " " not in text:
        if "the" in previous:
            return "organization"
        placed = sum(p in {"in", "at", "from", "near", "across", "to"} for p in previous)
        if previous and placed * 2 >= len(previous):
            return "location"
        return "other"
    tokens = text.split()
    looks_like_a_name = all(_NAME_WORD.fullmatch(t) or (i and t in _PARTICLES) for i, t in enumerate(tokens))
    if (
        len(words) <= (4 if first_named(text) else 3)  # "José Ortega y Gasset"
        and looks_like_a_name
        and (first_named(text) or (language != "de" and not name.common))  # German capitalises nouns
        and words[0] not in CARDINALS
        and (  # "George Town"; "George Osborne", "Virginia Giuffre" (a first name and a place, then a surname)
            tokens[0].casefold() not in places()
            or first_named(text)
            or (
                given_name(tokens[0])
                and len(tokens) == 2
                and tokens[1].casefold() not in places()
                and words[1] not in _PLACE_PARTS  # not "Paris Orly", "India Gate", "Jackson Hole"
            )
        )
        and words[-1] not in regions()
    ):
        owned = any(_OWNED_BY_PERSON.search(before) for before, _ in around)
        if owned or any(p in {"at", "joined"} for p in previous):
            return "organization"  # "Jeff Bezos's Blue Origin", "vice president at Blue Origin"
        if any(p in {"an", "the", "our", "their", "its"} or (p == "a" and language == "en") for p in previous):
            return "other"  # "a Range Rover", "our Blue Moon lander", "the Fat Cat"
        return "person"  # "Kim Kardashian": two or three capitalised words and nothing against
    return "other"


_WEATHER = frozenset("hurricane storm typhoon cyclone tropical tornado".split())


def _a_people(singular: str) -> bool:
    """ "Native American", "New Yorker" (New York + er), "Londoner", "Islamist": one of a people or a movement."""
    last = singular.split()[-1]
    if demonym(last) or last.lower().endswith("ist"):
        return True
    return singular.endswith(("er", "an")) and singular[:-2].casefold() in places()  # New Yorker, New Jerseyan


def person_evidence(name: Name, around: list[tuple[str, str]]) -> int:
    """How strongly the mentions say "a person": a title before (2), a speech verb or "who" after (1), an
    apposition like ", 48," (1), the surname used alone elsewhere (1)."""
    evidence = 0
    with_connector = any(w.lower() in CONNECTORS for w in name.text.split())
    single = " " not in name.text
    for before, after in around:
        if single and _NAME_NEXT.match(after):
            continue  # "Bill" in "Opposition Leader Bill Shorten": evidence for the longer name, not this one
        if (_SPEECH_AFTER.match(after) or _SPEECH_BEFORE.search(before)) and not with_connector:
            evidence += 1
        title = _TITLE_BEFORE.search(before)
        word = title.group(1).lower().rstrip(".") if title else ""
        titled = bool(word) and is_title(word) and (word not in HONORIFICS or title.group(1)[:1].isupper())  # type: ignore[union-attr]
        if titled or _AGE_BEFORE.search(before):  # "Minister X", "der 62-jährige X"
            evidence += 2
        if _APPOSITION_AFTER.match(after):
            evidence += 1
    surname = name.text.split()[-1]
    if " " in name.text and surname in name.aliases and not place_prefixed(name.text):
        evidence += 1
    return evidence


def role_before(around: list[tuple[str, str]], stop: frozenset[str]) -> str | None:
    """ "Commerzbank analyst Carsten Fritsch" -> "Commerzbank analyst"; "Maj. Gen. Igor…" -> "Maj. Gen.";
    "Pakistan's ambassador to Iran, Mudassir Tipu," -> "Pakistan's ambassador to Iran"."""
    for before, after in around:
        fronted = _FRONTED_ROLE.search(before)
        if (
            fronted
            and after.startswith(",")
            and any(w.lower().strip(".’'") in TITLES for w in fronted.group(1).split())
        ):
            return fronted.group(1)
        words = _PUNCTUATION.split(before)[-1].split()[-4:]
        if not words or words[-1].lower().rstrip(".,") not in TITLES or before[-1:] not in " \t":
            continue
        while words and (
            words[0].lower() in stop
            or words[0].lower() in CONNECTORS
            or (words[0].lower().rstrip(".,") not in TITLES and words[0][:1].islower())
        ):
            words = words[1:]
        if words:
            return " ".join(words)
    return None


def apposition_role(around: list[tuple[str, str]]) -> str | None:
    """ "Ishaq Dar, Pakistan's foreign minister," -> "Pakistan's foreign minister"."""
    for _, after in around:
        match = _APPOSITION.match(after)
        if match is None:
            continue
        phrase = match.group(2).strip()
        words = [w.lower().strip(".’'") for w in phrase.split()]
        if (
            words
            and words[0] not in {"who", "which", "he", "she", "said", "says"}
            and any(w in TITLES or w.split("-")[-1] in TITLES for w in words[:8])
        ):
            return phrase[:100]
    return None


_DEMONYM_SUFFIXES = ("ians", "ans", "ian", "ean", "ese", "ish", "an", "is", "i", "ine", "er", "ers")
_DEMONYMS = frozenset(
    "afghan afghans thai swiss dutch french british welsh irish greek filipino spanish danish "
    "finnish norwegian scottish arab arabs jewish kurdish kurds sunni shia shiite shiites "
    "muslim muslims german germans argentine portuguese français française allemand allemande "
    "américain américaine anglais anglaise britannique européen européenne italien italienne "
    "espagnol espagnole russe chinois chinoise deutsche deutscher deutschen amerikanische "
    "amerikanischer französische französischer britische britischer europäische".split()
)


def place_prefixed(text: str) -> bool:
    """ "Los Angeles Clippers", "New York Times": a name that starts with a place is not a person's."""
    words = text.split()
    return any(" ".join(words[:k]).casefold() in places() for k in range(1, len(words)))


@cache
def demonym(word: str) -> bool:
    """Whether ``word`` names the people or the adjective of a place: "Iranian" (Iran), "Canadian" (Canada),
    "Portuguese" (Portugal), "South Dakotans" (South Dakota); "Juan", "Ali", "Christian Bale" are not."""
    lower = word.casefold()
    if lower in _DEMONYMS:
        return True
    if "-" in lower and all(demonym(part) for part in lower.split("-")):
        return True  # "African-American"
    if lower in places() or (" " in lower and not lower.endswith("ns")):
        return False
    for suffix in _DEMONYM_SUFFIXES:
        if lower.endswith(suffix):
            stem = lower[: -len(suffix)]
            if len(stem) >= 4 and any(
                p.startswith(stem) and len(p) <= len(stem) + 2 for p in _places_by_initial(stem[0])
            ):
                return True
    return False


@cache
def _places_by_initial(initial: str) -> tuple[str, ...]:
    return tuple(p for p in regions() if p[:1] == initial)
