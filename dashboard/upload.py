"""A file someone uploads on the page: size limit, validation, and places located offline.

:func:`read_upload` turns the bytes of a CSV or GeoJSON into a :class:`Upload`: the valid
events that have (or got) coordinates, a problem for every row left out, and which rows were
located how. Rows without coordinates are looked up in the geocoding cache, then in the
offline gazetteer; a network service is asked only when the caller passes one (the page's
"online geocoding" switch, off by default).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from geopy.exc import GeocoderQuotaExceeded

from dashboard import gazetteer
from dashboard.countries import country_name
from dashboard.formats import Dataset, parse_events
from dashboard.geocode import (
    CACHE_NAME,
    DEFAULT_ENDPOINT,
    ENV_ENDPOINT,
    ENV_USER_AGENT,
    USER_AGENT,
    Cache,
    Source,
    geocode_events,
    nominatim_source,
)
from dashboard.schema import FIELD_NAMES, Problem, validate_frame

MAX_UPLOAD_MB = 20  # dashboard/.streamlit/config.toml sets server.maxUploadSize to the same
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # Streamlit counts a megabyte as 2**20 bytes
UPLOAD_TYPES = ("csv", "geojson", "json")
# Nominatim answers one query a second: a file of new places would keep the page busy for
# minutes. Beyond this many places per file, the command line is the better tool.
MAX_ONLINE_PLACES = 30
CACHE_PATH = Path(__file__).resolve().parents[1] / "data" / CACHE_NAME
HOW = {"cache": "the geocoding cache", "gazetteer": "the offline gazetteer",
       "nominatim": "Nominatim, online"}


@dataclass(frozen=True)
class Located:
    """A row that had no coordinates and was given some, and by what."""

    row: str
    place: str
    country: str
    source: str  # "cache", "gazetteer" or "nominatim"
    match: str
    lat: float
    lon: float


@dataclass
class Upload:
    """What the page shows for an uploaded file."""

    name: str
    size: int
    dataset: Dataset
    located: list[Located] = field(default_factory=list)
    not_located: int = 0
    online: bool = False
    online_calls: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def too_big(self) -> bool:
        """Was the file refused for its size?"""
        return self.size > MAX_UPLOAD_BYTES

    def summary(self) -> str:
        """How the rows without coordinates were located, in one line ("" when none lacked any).

        >>> Upload("a.csv", 10, Dataset(pd.DataFrame())).summary()
        ''
        """
        wanted = len(self.located) + self.not_located
        if not wanted:
            return ""
        counts = pd.Series([loc.source for loc in self.located], dtype=str).value_counts()
        how = ", ".join(f"{n} from {HOW.get(src, src)}" for src, n in counts.items())
        text = f"{len(self.located)} of {wanted} events without coordinates located"
        text += f" ({how})" if how else ""
        if self.not_located:
            text += f"; {self.not_located} not found, listed under Problems"
        if not self.online:
            text += "; no online service was asked"
        return text + "."


def size_text(size: int) -> str:
    """A file size as people read it: '812 bytes', '3.4 MB'.

    >>> size_text(25 * 1024 * 1024)
    '25.0 MB'
    """
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def too_big_message(name: str, size: int) -> str:
    """Why a file was refused, and what to do instead."""
    return (f"{name} is {size_text(size)}; the page takes files up to {MAX_UPLOAD_MB} MB. Split "
            "it into smaller files, or show it with `streamlit run dashboard/app.py -- --data "
            "PATH`, which reads a file of any size from disk.")


def session_cache(path: str | os.PathLike[str] = CACHE_PATH) -> Cache:
    """The committed geocoding cache, as a copy of its own that is never written back.

    Each session gets one: answers a session fetches online stay in that session, and no
    session can change what another sees.
    """
    return Cache(None, Cache.load(path).entries)


def online_source(environ: Mapping[str, str] = os.environ) -> Source:
    """Nominatim as the command line builds it (endpoint and user agent from the environment)."""
    endpoint = environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT
    return nominatim_source(endpoint, environ.get(ENV_USER_AGENT) or USER_AGENT, timeout=10.0)


def _limited(source: Source, limit: int) -> Source:
    """The source, refusing every place after the first ``limit`` distinct ones."""
    asked: set[str] = set()

    def geocode(query: str, *, country_codes: str):
        key = Cache.key(query, country_codes)
        if key not in asked and len(asked) >= limit:
            raise GeocoderQuotaExceeded(
                f"the page looks up at most {limit} places online per file; geocode the file "
                "with `python -m dashboard.geocode FILE --output FILE.geojson` instead")
        asked.add(key)
        return source.geocode(query, country_codes=country_codes)

    return replace(source, geocode=geocode)


def read_upload(name: str, data: bytes, *, cache: Cache | None = None,
                online: Source | None = None, max_online: int = MAX_ONLINE_PLACES,
                track: Callable[[Iterable], Iterable] = iter) -> Upload:
    """Validate an uploaded file and locate its rows that have no coordinates.

    ``cache`` is consulted first (and receives ``online`` answers), then the offline
    gazetteer, then ``online`` when given (at most ``max_online`` distinct places). A file over
    :data:`MAX_UPLOAD_BYTES` is refused unread. ``track`` wraps the lookups (a progress bar).
    """
    name = Path(name).name or "upload"
    if len(data) > MAX_UPLOAD_BYTES:
        problem = Problem(name, "file", "", too_big_message(name, len(data)))
        return Upload(name, len(data), Dataset(_no_events(name), [problem], name))
    dataset = parse_events(data, name)
    upload = Upload(name, len(data), dataset, online=online is not None)
    events = dataset.events
    missing = (events["lat"].isna() | events["lon"].isna()).to_numpy()
    if not missing.any():
        return upload
    sources = [Source("gazetteer", gazetteer.geocode, cached=False)]
    if online is not None:
        sources.append(_limited(online, max_online))
    todo = events.loc[missing]
    keys = pd.Series([Cache.key(p, c) for p, c in zip(todo["place"], todo["country"],
                                                       strict=True)], index=todo.index)
    # One lookup per distinct place (the geocoder goes row by row): 10,000 rows in a few
    # hundred towns take as long as those towns.
    firsts = todo.loc[~keys.duplicated().to_numpy()]
    result = geocode_events(firsts, sources, cache, retries=1, backoff=1.0, track=track)
    columns = ["lat", "lon", "geocode_source", "geocode_match", "geocode_query"]
    answers = result.events[columns].set_axis(keys[firsts.index].to_numpy())
    filled = todo.copy()
    for column in columns:
        filled[column] = keys.map(answers[column]).to_numpy()
    found = (filled["lat"].notna() & filled["lon"].notna()).to_numpy()
    upload.located = [
        Located(r["row"], r["place"], r["country"], r["geocode_source"], r["geocode_match"],
                float(r["lat"]), float(r["lon"]))
        for r in filled.loc[found].to_dict("records")]
    hint = ("give lat and lon, or a place name the gazetteer knows (a city or town), or turn "
            "on online geocoding" if online is None else "give lat and lon, or a more "
            "specific place name")
    key_of_row = dict(zip(firsts["row"], keys[firsts.index], strict=True))
    reasons = {key_of_row[f.row]: f.reason for f in result.failures}
    problems = [Problem(name, r["row"], "place",
                        f"{r['place']!r} in {country_name(r['country'])} ({r['country']}) was "
                        f"not found ({reasons[key]}); {hint}.")
                for r, key in zip(filled.loc[~found].to_dict("records"), keys[~found],
                                  strict=True)]
    upload.not_located = len(problems)
    upload.online_calls = result.calls["nominatim"]
    upload.warnings = list(result.warnings)
    located = pd.concat([events.loc[~missing], filled.loc[found]])
    upload.dataset = Dataset(located.sort_index().reset_index(drop=True),  # file order
                             _in_row_order([*dataset.problems, *problems]), name)
    return upload


def _no_events(name: str) -> pd.DataFrame:
    return validate_frame(pd.DataFrame(columns=[*FIELD_NAMES, "row"], dtype=object), name)[0]


def _in_row_order(problems: list[Problem]) -> list[Problem]:
    def order(problem: Problem) -> int:
        tail = problem.row.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else -1

    return sorted(problems, key=order)
