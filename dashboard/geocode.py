"""Turn events' place names into coordinates: cache first, then a geocoder, checked by country.

Command line::

    python -m dashboard.geocode data/events.csv --output data/events.geojson [--offline]

The core (:func:`geocode_events`) takes any geopy-style geocoder, a callable
``geocode(query, country_codes="sv") -> Location | None``, so tests inject fakes. Only
:func:`main` builds the real one: geopy's Nominatim behind its ``RateLimiter``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from geopy.exc import (
    GeocoderParseError,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from geopy.location import Location

from dashboard import atomic, gazetteer
from dashboard.countries import country_at, country_name, in_country
from dashboard.formats import load_events, write_events

USER_AGENT = "eventmap/0.1 (geographic event map dashboard)"
DEFAULT_ENDPOINT = "https://nominatim.openstreetmap.org"
PUBLIC_HOST = "nominatim.openstreetmap.org"  # its policy: at most one request a second
ENV_ENDPOINT = "EVENTMAP_GEOCODER_URL"
ENV_USER_AGENT = "EVENTMAP_USER_AGENT"
CACHE_NAME = "geocode_cache.json"
CACHE_FORMAT = "eventmap-geocode-cache/1"
SOURCES = ("manual", "cache", "nominatim", "gazetteer")
# Errors worth another try: the service was slow, busy or down, or answered something that is
# not a geocoding answer (a proxy's HTML page, a cut-off body), not wrong about the query.
# GeocoderServiceError itself is what geopy raises for other 5xx answers; its subclasses for
# 4xx answers (bad query, bad credentials) would fail the same way again.
TRANSIENT = (GeocoderTimedOut, GeocoderRateLimited, GeocoderUnavailable, GeocoderParseError)
# What geopy lets through when a service's JSON has another shape than it expects.
_SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class Geocoder(Protocol):
    """What the pipeline calls: geopy's ``geocode`` signature, restricted to one country."""

    def __call__(self, query: str, *, country_codes: str) -> Location | None: ...


@dataclass(frozen=True)
class Source:
    """A named geocoder; ``cached`` answers are remembered (services), others are cheap to redo."""

    name: str
    geocode: Geocoder
    cached: bool = True


@dataclass(frozen=True)
class Answer:
    """Where a query was found."""

    lat: float
    lon: float
    match: str


@dataclass(frozen=True)
class Failure:
    """A row that could not be located, and why."""

    row: str
    place: str
    reason: str

    def __str__(self) -> str:
        return f"{self.row}, place {self.place!r}: {self.reason}"


@dataclass
class Result:
    """Located events (every input row, in order) and what happened on the way."""

    events: pd.DataFrame
    located: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: located per source and failures."""
        total = len(self.events)
        done = sum(self.located.values())
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.located.items(),
                                                         key=lambda i: SOURCES.index(i[0])
                                                         if i[0] in SOURCES else 99))
        text = f"located {done} of {total} events" + (f" ({parts})" if parts else "")
        calls = sum(self.calls.values())
        text += f"; {calls} geocoder call{'s' if calls != 1 else ''}"
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


class CacheError(ValueError):
    """The cache file exists but cannot be used."""


class Cache:
    """Answers from geocoding services, kept in a JSON file and keyed by query and country."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 entries: dict[str, dict] | None = None):
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, dict] = dict(entries or {})
        self.dirty = False

    @staticmethod
    def key(query: str, country: str) -> str:
        """'bogotá|CO': case and spacing of the query do not matter, accents do."""
        text = unicodedata.normalize("NFC", query).casefold()
        return f"{' '.join(text.split())}|{country.upper()}"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cache:
        """Read the cache file; a missing file is an empty cache."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CacheError(f"{path}: cannot read the geocode cache ({err}); delete the file "
                             "or pass another --cache path.") from err
        entries = doc.get("entries") if isinstance(doc, dict) else None
        if not isinstance(entries, dict) or doc.get("format") != CACHE_FORMAT:
            raise CacheError(f"{path}: not an eventmap geocode cache (expected "
                             f"\"format\": \"{CACHE_FORMAT}\"); delete the file or pass another "
                             "--cache path.")
        return cls(path, entries)

    def get(self, query: str, country: str) -> Answer | None:
        entry = self.entries.get(self.key(query, country))
        try:
            return Answer(float(entry["lat"]), float(entry["lon"]), str(entry.get("match", "")))
        except (TypeError, KeyError, ValueError):
            return None  # no entry, or one edited by hand into nonsense: ask again

    def put(self, query: str, country: str, answer: Answer, source: str) -> None:
        self.entries[self.key(query, country)] = {
            "query": query, "country": country.upper(), "lat": answer.lat, "lon": answer.lon,
            "match": answer.match, "source": source,
            "fetched": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.dirty = True

    def forget(self, query: str, country: str) -> None:
        if self.entries.pop(self.key(query, country), None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write the file atomically if anything changed."""
        if self.path is None or not self.dirty:
            return
        doc = {"format": CACHE_FORMAT,
               "about": "Answers from geocoding services, keyed by 'query|COUNTRY'. Failures "
                        "are never stored. Delete an entry to look it up again.",
               "entries": dict(sorted(self.entries.items()))}
        atomic.write_text(self.path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        self.dirty = False


def call_with_retries(geocode: Geocoder, query: str, country: str, *, retries: int = 3,
                      backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep,
                      on_call: Callable[[], None] | None = None) -> Location | None:
    """Call ``geocode``, retrying transient service errors with exponential backoff.

    Waits ``backoff``, ``2*backoff``, ``4*backoff``... seconds between attempts (longer when a
    429 answer says so), and re-raises the last error after ``retries`` retries.
    """
    for attempt in range(retries + 1):
        try:
            if on_call:
                on_call()
            try:
                return geocode(query, country_codes=country.lower())
            except GeopyError:
                raise  # geopy's own errors (some are ValueErrors too) say what they are
            except _SHAPE_ERRORS as err:
                # geopy reads the answer after the HTTP call; a body of another shape fails
                # there with a plain Python error, which would otherwise end the whole run.
                raise GeocoderParseError(f"not a geocoding answer ({type(err).__name__}: "
                                         f"{err})") from err
        except GeocoderServiceError as err:
            transient = isinstance(err, TRANSIENT) or type(err) is GeocoderServiceError
            if not transient or attempt == retries:
                raise
            wait = backoff * 2 ** attempt
            if isinstance(err, GeocoderRateLimited) and err.retry_after:
                wait = max(wait, float(err.retry_after))
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _outside(answer: Answer, country: str) -> str | None:
    """Why an answer is not in ``country``, or None when it is."""
    if bool(in_country([answer.lat], [answer.lon], [country])[0]):
        return None
    found = country_at(answer.lat, answer.lon)
    where = f"in {country_name(found)} ({found})" if found else "far from any known place"
    return (f"answered {answer.match!r} at ({answer.lat:.5f}, {answer.lon:.5f}), which is "
            f"{where}, not in {country_name(country)} ({country}); rejected")


@dataclass
class _Breaker:
    """Stops asking a source that failed ``limit`` rows in a row (0: never stops)."""

    limit: int
    streak: Counter[str] = field(default_factory=Counter)
    down: dict[str, str] = field(default_factory=dict)

    def failed(self, source: str, error: str) -> None:
        self.streak[source] += 1
        if self.limit and self.streak[source] >= self.limit:
            self.down[source] = (
                f"{source}: not asked, the service failed {self.limit} rows in a row (last: "
                f"{error}); run again later, answers so far are cached")

    def answered(self, source: str) -> None:
        self.streak[source] = 0


def geocode_events(events: pd.DataFrame, sources: Sequence[Source], cache: Cache | None = None,
                   *, retries: int = 3, backoff: float = 2.0, give_up_after: int = 3,
                   sleep: Callable[[float], None] = time.sleep,
                   track: Callable[[Iterable], Iterable] = iter) -> Result:
    """Fill ``lat``/``lon`` and ``geocode_*`` of validated events.

    Rows that already have both coordinates are kept (source ``manual`` unless they name one).
    Others are looked up in the cache, then in each source in turn; every answer must lie in
    the row's country. Answers of ``cached`` sources go into the cache; failures never do.
    ``track`` wraps the row loop (a progress bar); ``sleep`` is the backoff's wait. A source
    whose service fails ``give_up_after`` rows in a row (after their retries) is not asked for
    the remaining rows: a service that is down would otherwise cost every row its backoff.
    """
    out = events.copy()
    for name in ("geocode_source", "geocode_match", "geocode_query"):
        if name not in out.columns:
            out[name] = ""
    result = Result(out)
    failed: dict[str, str] = {}  # within one run, a failed query is not asked twice
    breaker = _Breaker(max(0, give_up_after))
    # Rows with coordinates are kept as they are, all at once: a million of them one by one
    # took many minutes.
    has = (out["lat"].notna() & out["lon"].notna()).to_numpy()
    if has.any():
        kept = out.loc[has, "geocode_source"].replace("", "manual")
        out.loc[has, "geocode_source"] = kept
        result.located.update(kept.value_counts().to_dict())
    for pos in track(np.flatnonzero(~has).tolist()):
        rec = out.iloc[pos]
        place, country = rec["place"], rec["country"]
        key = Cache.key(place, country)
        found, reasons = None, []
        if key in failed:
            reasons.append(failed[key])
        else:
            found, reasons = _locate(place, country, sources, cache, result, breaker,
                                     retries=retries, backoff=backoff, sleep=sleep)
        if cache is not None and cache.dirty:
            cache.save()  # now, not at the end: a killed run keeps every answer paid for
        if found is None:
            reason = "; ".join(reasons) or "no geocoder was given"
            failed[key] = reason
            result.failures.append(Failure(rec["row"], place, reason))
            continue
        source, answer = found
        for col, value in (("lat", answer.lat), ("lon", answer.lon), ("geocode_source", source),
                           ("geocode_match", answer.match), ("geocode_query", place)):
            out.iat[pos, out.columns.get_loc(col)] = value
        result.located[source] += 1
    return result


def _locate(place: str, country: str, sources: Sequence[Source], cache: Cache | None,
            result: Result, breaker: _Breaker, **retry
            ) -> tuple[tuple[str, Answer] | None, list[str]]:
    reasons: list[str] = []
    if cache is not None and (hit := cache.get(place, country)) is not None:
        why = _outside(hit, country)
        if why is None:
            return ("cache", hit), reasons
        cache.forget(place, country)
        result.warnings.append(f"cache entry for {place!r} ({country}) {why}; entry removed")
    for source in sources:
        if source.name in breaker.down:
            reasons.append(breaker.down[source.name])
            continue
        try:
            loc = call_with_retries(source.geocode, place, country,
                                    on_call=lambda s=source.name: result.calls.update([s]),
                                    **retry)
        except GeocoderServiceError as err:
            transient = isinstance(err, TRANSIENT) or type(err) is GeocoderServiceError
            attempts = retry["retries"] + 1 if transient else 1
            error = f"{type(err).__name__}: {_one_line(str(err))}"
            reasons.append(f"{source.name}: service error after {attempts} "
                           f"attempt{'s' if attempts > 1 else ''} ({error})")
            if transient:  # the service's trouble, not this query's
                breaker.failed(source.name, error)
            continue
        breaker.answered(source.name)
        if loc is None:
            reasons.append(f"{source.name}: no match in {country_name(country)} ({country})")
            continue
        answer = Answer(float(loc.latitude), float(loc.longitude), str(loc.address))
        why = _outside(answer, country)
        if why is not None:
            reasons.append(f"{source.name}: {why}")
            result.warnings.append(f"{place!r} ({country}): {source.name} {why}")
            continue
        if cache is not None and source.cached:
            cache.put(place, country, answer, source.name)
        return (source.name, answer), reasons
    return None, reasons


def _one_line(text: str, limit: int = 160) -> str:
    """A service's error text fit for one report line: an HTML page must not flood it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def nominatim_source(endpoint: str, user_agent: str, *, timeout: float = 10.0,
                     min_delay_seconds: float = 1.0) -> Source:
    """Nominatim at ``endpoint`` (a URL or a host name) behind geopy's RateLimiter.

    ``min_delay_seconds`` below 1 is for a Nominatim of your own; the public one's policy
    asks for at most one request a second, so its calls are never closer than that.
    """
    from geopy.adapters import URLLibAdapter
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"geocoder endpoint {endpoint!r} is not a URL; give one such as "
                         f"{DEFAULT_ENDPOINT}")
    service = Nominatim(user_agent=user_agent, domain=parts.netloc + parts.path.rstrip("/"),
                        scheme=parts.scheme, timeout=timeout, adapter_factory=URLLibAdapter)
    # Retries happen in one place, call_with_retries, where they are visible and testable:
    # geopy's default requests adapter would also retry 429/503 answers on its own, sleeping
    # for Retry-After outside the RateLimiter. The RateLimiter only spaces calls out
    # (Nominatim's policy: at most one a second).
    delay = max(1.0 if parts.hostname == PUBLIC_HOST else 0.0, min_delay_seconds)
    limited = RateLimiter(service.geocode, min_delay_seconds=delay, max_retries=0,
                          error_wait_seconds=delay, swallow_exceptions=False)
    return Source("nominatim", limited, cached=True)


def _progress() -> Callable[[Iterable], Iterable]:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in logs and pipes. Rows that already have
    # coordinates are not counted: they take no time.
    return lambda rows: tqdm(rows, desc="geocoding", unit="event", file=sys.stderr,
                             disable=None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.geocode",
        description="Geocode an events file (CSV or GeoJSON) into a GeoJSON the map reads. "
                    "Answers are checked to lie in each row's country and cached.")
    parser.add_argument("events", help="events file to read, e.g. data/events.csv")
    parser.add_argument("--output", "-o", required=True,
                        help="file to write (.geojson or .csv), e.g. data/events.geojson")
    parser.add_argument("--offline", action="store_true",
                        help="no network: use the cache, then the GeoNames gazetteer")
    parser.add_argument("--partial", action="store_true",
                        help="write the output even when some rows fail (they get no "
                             "coordinates) or are invalid (they are left out)")
    parser.add_argument("--cache", help=f"cache file (default: {CACHE_NAME} beside the events "
                                        "file)")
    parser.add_argument("--endpoint", default=os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT,
                        help=f"Nominatim URL (env {ENV_ENDPOINT}; default {DEFAULT_ENDPOINT})")
    parser.add_argument("--user-agent", default=os.environ.get(ENV_USER_AGENT) or USER_AGENT,
                        help=f"user agent sent to Nominatim; put your contact in it (env "
                             f"{ENV_USER_AGENT})")
    parser.add_argument("--retries", type=int, default=3,
                        help="retries after a timeout, 429 or 5xx answer (default 3)")
    parser.add_argument("--give-up-after", type=int, default=3, metavar="ROWS",
                        help="stop asking the service after it failed this many rows in a "
                             "row, even after retries (default 3; 0: never)")
    parser.add_argument("--min-delay", type=float, default=1.0, metavar="SECONDS",
                        help="seconds between service calls (default 1; never less for "
                             f"{PUBLIC_HOST}, whose policy asks for it)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry; returns the exit code: 0 when every row is located, 1 when some
    could not be, 2 when the file has problems (with ``--partial``, after geocoding the rest)."""
    args = _parser().parse_args(argv)
    err = sys.stderr
    data = load_events(args.events)
    if data.problems:
        for problem in data.problems:
            print(problem, file=err)
        if not args.partial or data.events.empty:
            print(f"{args.events}: {len(data.problems)} problem(s); fix them first "
                  f"(python -m dashboard.validate {args.events}). Nothing was geocoded.",
                  file=err)
            return 2
        print(f"{args.events}: {len(data.problems)} problem(s); --partial: the rows with "
              "problems are left out, the others geocoded.", file=err)
    try:
        cache = Cache.load(args.cache or Path(args.events).parent / CACHE_NAME)
        if args.offline:
            sources = [Source("gazetteer", gazetteer.geocode, cached=False)]
        else:
            sources = [nominatim_source(args.endpoint, args.user_agent,
                                        min_delay_seconds=args.min_delay)]
    except (CacheError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    try:
        result = geocode_events(data.events, sources, cache, retries=max(0, args.retries),
                                give_up_after=args.give_up_after,
                                track=_progress())
    finally:
        cache.save()  # answers already paid for survive a failed or interrupted run
    for warning in result.warnings:
        print(f"warning: {warning}", file=err)
    for failure in result.failures:
        print(f"{args.events}, {failure}", file=err)
    print(result.summary(), file=err)
    if result.failures and not args.partial:
        print(f"{args.output} not written: fix or remove the rows above (a more specific "
              "place, or lat and lon), or pass --partial to write the rest.", file=err)
        return 1
    write_events(result.events, args.output)
    print(f"wrote {args.output}", file=err)
    return 2 if data.problems else 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
