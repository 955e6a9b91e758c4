"""Word lists the extractive engine reasons with: stopwords (the ``stop-words`` package, 30+
languages), the GeoNames gazetteer in ``data/places.txt``, common first names (and the sex they are
mostly given to) in ``data/first_names.txt``, and the short hand-kept lists of titles, organisation
and place words that say what kind of name a name is.

Everything loads once per process, lazily: the engine pays for it on its first article only.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# ISO 639-1 -> the stop-words package's language names (it takes full names only).
_STOPWORD_LANGUAGES = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "sv": "swedish",
    "no": "norwegian",
    "da": "danish",
    "fi": "finnish",
    "pl": "polish",
    "ru": "russian",
    "uk": "ukrainian",
    "tr": "turkish",
    "ar": "arabic",
    "fa": "persian",
    "hu": "hungarian",
    "ro": "romanian",
    "cs": "czech",
    "el": "greek",
    "id": "indonesian",
    "hi": "hindi",
    "he": "hebrew",
}


# Urdu, which the stop-words package lacks: its commonest function words of four letters or more (shorter
# words in Arabic script are left out of topics anyway).
_URDU = frozenset(
    "لیکن ساتھ انہوں انہیں کرنے والے والی کیلئے لیے ہوئے ہوگا ہونے جاتا جاتی گیا گئی گئے "
    "رہے رہا رہی تھے تھی تاکہ اپنے اپنی بلکہ حوالے دوران مطابق بارے کہنا کیونکہ ذریعے ہوتا ہوتی ہوتے "
    "کرتا کرتی کرتے زیادہ سکتا سکتی سکتے چاہیے".split()
)


@cache
def stopwords(language: str) -> frozenset[str]:
    """Lower-cased stopwords of ``language`` (an ISO code); English for a language the package lacks."""
    from stop_words import get_stop_words

    if language == "ur":
        return _URDU | frozenset(get_stop_words("persian")) | frozenset(get_stop_words("arabic"))
    name = _STOPWORD_LANGUAGES.get(language, "english")
    return frozenset(w.casefold() for w in get_stop_words(name))


@cache
def with_english(language: str) -> frozenset[str]:
    """Stopwords of ``language`` and of English: news in any language quotes English names and phrases."""
    return stopwords(language) | stopwords("en")


@cache
def all_stopwords() -> frozenset[str]:
    """Stopwords of every language above: for questions like "is this topic a stopword anywhere?"."""
    return frozenset().union(*(stopwords(code) for code in (*_STOPWORD_LANGUAGES, "ur")))


@cache
def _gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    text = files("summarizer").joinpath("data", "places.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    return (
        frozenset(line.lstrip("!").casefold() for line in lines),
        frozenset(line[1:].casefold() for line in lines if line[0] == "!"),
    )


def places() -> frozenset[str]:
    """Place names (countries, capitals, US states, cities of 100,000+, regions, seas), case-folded."""
    return _gazetteer()[0]


def regions() -> frozenset[str]:
    """Countries, US states, continents and regions: the places demonyms are made from."""
    return _gazetteer()[1]


@cache
def _first_names() -> dict[str, str]:
    text = files("summarizer").joinpath("data", "first_names.txt").read_text(encoding="utf-8")
    rows = [line.split() for line in text.splitlines() if line.strip() and line[0] != "#"]
    return {row[0].casefold(): row[1] if len(row) > 1 else "" for row in rows}


@cache
def first_names() -> frozenset[str]:
    """Common first names (``data/first_names.txt``), case-folded, without countries and states ("Georgia");
    cities may stay ("George", "Victoria"): a first name before another name word outweighs a gazetteer entry."""
    return frozenset(_first_names()) - regions()


#: First names that are places too, which data/first_names.txt leaves out (scripts/make_first_names.py: a capital
#: letter on them says nothing on its own).
PLACES_AS_FIRST_NAMES = frozenset(
    "georgia virginia florence carolina dakota austin houston jackson lincoln madison orlando paris sydney india "
    "israel jordan chad savannah victoria dallas".split()
)


def given_name(word: str) -> bool:
    """A first name, places included ("Virginia" of Virginia Giuffre, "Jordan" of Jordan Henderson): for a
    name whose first word is also a place, once its other words say it is no place."""
    return word.casefold() in _first_names() or word.casefold() in PLACES_AS_FIRST_NAMES


def sex_of(first_name: str) -> str:
    """ "m" or "f" for a first name given (almost) only to men or to women, else "" ("Andrea", "Kim")."""
    return _first_names().get(first_name.casefold(), "")


#: Words before or inside a name that make it a person's title (lower-cased, without dots).
TITLES = frozenset(
    """
mr mrs ms miss dr prof sir dame lord president vice minister secretary senator sen governor gov judge
justice mayor chancellor king queen prince princess pope ceo cfo coo chairman chairwoman chair director coach
manager spokesman spokeswoman spokesperson officer chief executive general gen lt col maj capt captain sgt
admiral cmdr professor lawyer attorney rep representative congressman congresswoman leader founder
co-founder cofounder commissioner ambassador premier ombudsman administrator deputy correspondent editor
editor-in-chief analyst economist strategist trader official democrat republican conservative mp mep mla
owner sheriff prosecutor supt boss
inspector superintendent chairperson principal dean rabbi imam bishop archbishop cardinal reverend rev
striker midfielder goalkeeper defender player actor actress singer rapper author researcher scientist
oberstaatsanwalt staatsanwalt kanzlerin kanzler präsident präsidentin ministerin sprecher sprecherin
bürgermeister bürgermeisterin ministre président présidente ambassadeur député maire juge porte-parole
herr frau trainer trainerin geschäftsführer geschäftsführerin vorsitzende vorsitzender chef chefin direktor direktorin
directeur directrice secrétaire entraîneur presidente presidenta ministro ministra portavoz alcalde alcaldesa
adv advocate mec datuk dato seri cllr councillor hon
""".split()
)

#: A name with one of these words is an organisation (last word, or anywhere for the strong ones).
ORG_WORDS = frozenset(
    """
inc corp corporation co company ltd llc plc gmbh ag sa group holdings university college school institute
academy ministry department bureau agency authority commission committee council court tribunal police army
navy forces command party union league association federation foundation fund trust bank exchange
organization organisation parliament congress senate assembly government office board service services
network networks times post news press herald globe journal tribune gazette leader telegraph guardian daily
airlines airways motors productions studios studio media entertainment records robotics systems animation
pictures films images studies research corps tech
technologies labs laboratory observatory center centre hospital clinic directorate club fc united rovers
athletic channel sports line lines railways church nations nation presse agence sciences industries aerospace
markets radio television brotherhood foods administration coalition alliance society caucus insider
ministerium partei gericht landgericht polizei bundestag
universität regierung verband zeitung ministère gouvernement assemblée parti tribunal conseil
stiftung verein gesellschaft konzern behörde université fondation fédération banque société syndicat
ministerio consejería organización universidad gobierno partido sindicato ayuntamiento fundación asociación
federación comisión consejo banco empresa
""".split()
)

#: A name ending in (or starting "X of") one of these is a place.
PLACE_WORDS = frozenset(
    """
sea ocean island islands isle river lake bay gulf coast strait channel province county state district region
street avenue road square park valley mountains mountain peninsula desert airport
stadium city village town republic kingdom emirates oblast prefecture canton
""".split()
)

#: Names that are organisations on their own: wires, broadcasters, platforms, institutions.
KNOWN_ORGS = frozenset(
    """
reuters afp bloomberg xinhua tass sputnik ruptly irna dpa cnn bbc nbc cbs abc fox msnbc pbs npr
twitter facebook instagram youtube tiktok tumblr snapchat whatsapp telegram reddit linkedin netflix hulu
spotify google apple amazon microsoft tesla spacex uber airbnb disney pentagon kremlin taliban hamas
hezbollah nato fed interpol wikileaks opec unesco unicef labour tories conservatives democrats republicans
lib-dems lib-dem white-house islamic-state
""".split()
)

#: Leading words that make "North Pacific", "Northern Europe" a place when the rest is one.
CARDINALS = frozenset("north south east west northern southern eastern western central upper lower greater".split())

#: Acronyms that are not names: they would otherwise be typed as organisations.
NOT_NAMES = frozenset("tv ok am pm gdp dna rna id pc ai hiv aids covid ad bc ce pdf url usb ceo cfo coo oh".split())

#: US states and cities as the AP writes them with dots ("Charleston, S.C."), folded, without the last dot: places,
#: not the acronyms of organisations that letters in capitals otherwise are.
US_DOTTED_PLACES = frozenset("d.c l.a n.y n.j n.c s.c n.h n.m n.d s.d r.i w.va".split())

_ENGLISH_MONTHS = "january february march april may june july august september october november december"
_GERMAN_FRENCH_MONTHS = """
januar februar märz april mai juni juli august september oktober november dezember janvier février mars avril mai
juin juillet août septembre octobre novembre décembre
"""
_SPANISH_MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"

#: Month names of German, French and Spanish, which write a date day first ("5 mai", "5. Mai", "3 de mayo"): a number
#: before one is a date, not a figure.
FOREIGN_MONTH_NAMES = frozenset((_GERMAN_FRENCH_MONTHS + _SPANISH_MONTHS).split())

#: Month and day names (English, German, French): dates, never names. (Not the Spanish months: "Mayo" of the Mayo
#: Clinic opens a name.)
CALENDAR = frozenset(
    (
        _ENGLISH_MONTHS
        + _GERMAN_FRENCH_MONTHS
        + """
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday montag
dienstag mittwoch donnerstag freitag samstag sonntag lundi mardi mercredi jeudi vendredi samedi dimanche
"""
    ).split()
)

#: Honorifics that count only when capitalised ("Ms Persson"; the ship "ms Ryndam" is not a woman).
HONORIFICS = frozenset(
    "mr mrs ms miss dr prof sir dame lord lady sen gov rep gen lt col maj capt sgt cmdr rev herr frau".split()
)

#: A name ending in one of these is an event.
EVENT_WORDS = frozenset(
    """
awards award games olympics cup league championship championships open festival conference summit war
marathon tournament grand prix expo fair election elections revolution crisis
""".split()
)
