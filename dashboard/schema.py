"""The event schema: one row is one event. Validation collects every problem at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.countries import country_names, in_country


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    help: str


# One table drives validation, the writers' column order and README's schema section
# (tests/test_schema.py fails when README misses a field).
FIELDS: tuple[Field, ...] = (
    Field("id", True, "Unique slug: lowercase letters, digits, '-' or '_' "
                      "(e.g. `co-petro-meeting`)."),
    Field("date", True, "ISO date `YYYY-MM-DD`, or an ISO 8601 datetime with UTC offset "
                        "(`2025-03-27T10:30-05:00`)."),
    Field("title", True, "Short headline of the event."),
    Field("place", True, "A place name a geocoder can find (`Bogotá`, `Mexico City`)."),
    Field("country", True, "ISO 3166-1 alpha-2 code of the country (`SV`, `CO`, `MX`)."),
    Field("lat", False, "Latitude, WGS84 decimal degrees (-90..90). With `lon`, the row is "
                        "not geocoded."),
    Field("lon", False, "Longitude, WGS84 decimal degrees (-180..180)."),
    Field("category", False, "`meeting`, `visit`, `signing`, `press_conference`, or other text."),
    Field("participants", False, "Semicolon-separated people with roles "
                                 "(`Gustavo Petro (President of Colombia); ...`)."),
    Field("summary", False, "What happened, in your own words."),
    Field("source_name", False, "Who reported it (`Latin Times`)."),
    Field("source_url", False, "Link to the source; only `http`/`https` links are shown as links."),
    Field("source_quote", False, "One sentence quoted verbatim from the source."),
    Field("date_basis", False, "`stated` (the source gives the date) or `inferred`; default "
                               "`stated`."),
    Field("place_basis", False, "`stated` (the source names the place) or `inferred`; default "
                                "`stated`."),
    Field("geocode_source", False, "Written by the geocoder: where the coordinates came from "
                                   "(`manual`, `cache`, `nominatim`, `gazetteer`)."),
    Field("geocode_match", False, "Written by the geocoder: the name the place matched."),
    Field("geocode_query", False, "Written by the geocoder: the query that was looked up."),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
REQUIRED = tuple(f.name for f in FIELDS if f.required)
TEXT_FIELDS = tuple(n for n in FIELD_NAMES if n not in ("lat", "lon"))
CATEGORIES = ("meeting", "visit", "signing", "press_conference")
BASES = ("stated", "inferred")
# Columns the loader derives; never written back to files.
DERIVED = ("instant", "day", "row")

ID_RE = r"[a-z0-9][a-z0-9_-]*"
DATE_RE = r"\d{4}-\d{2}-\d{2}"
DATETIME_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})"
_NAIVE_DATETIME_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an events file, said so a person can fix it."""

    file: str
    row: str  # "line 7" for CSV, "feature 3" for GeoJSON, "file" for the whole file
    field: str  # "" when the problem is not one field's
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class EventsFileError(ValueError):
    """A file that cannot be read as events at all (wrong encoding, not CSV/GeoJSON, empty)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _show(value: object, limit: int = 60) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _duplicated(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``values.duplicated(keep=False)`` and ``values.duplicated()``, from integer codes."""
    codes, distinct = pd.factorize(values)
    if len(distinct) == len(values):  # the usual case: nothing repeats
        none = np.zeros(len(values), dtype=bool)
        return none, none.copy()
    counts = np.bincount(codes, minlength=len(distinct))
    later = np.ones(len(values), dtype=bool)
    later[np.unique(codes, return_index=True)[1]] = False
    return counts[codes] > 1, later


def _each_distinct(values: pd.Series, convert) -> pd.Series:
    """``convert(values)``, computed once per distinct value: files repeat dates many times."""
    codes, distinct = pd.factorize(values)
    converted = convert(pd.Series(distinct, dtype=values.dtype)).take(codes)
    converted.index = values.index
    return converted


# Plain decimals, read alike by pyarrow and pandas (both round correctly at 15 digits or less).
_DECIMAL_RE2 = r"^[+-]?[0-9]{1,15}(\.[0-9]{1,15})?$"
_PLAIN_LINK_RE2 = r"^[hH][tT][tT][pP][sS]?://[!-~]+$"  # ASCII only: Python's re agrees
_LINK = re.compile(r"(?i)https?://\S+$")


def _arrow(values: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow strings behind a text column, or None for other columns."""
    data = getattr(values.array, "_pa_array", None)
    if data is None or not (pa.types.is_large_string(data.type) or pa.types.is_string(data.type)):
        return None
    return data


def _numbers(values: pd.Series) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce")``, plain decimals converted in C++ at once."""
    data = _arrow(values)
    if data is None or not len(values):
        return pd.to_numeric(values, errors="coerce")
    plain = pc.fill_null(pc.match_substring_regex(data, _DECIMAL_RE2), False)
    nums = pc.cast(pc.if_else(plain, data, pa.scalar("0", data.type)), pa.float64()).to_numpy()
    nums = nums.copy() if not nums.flags.writeable else nums
    missing = pc.is_null(data).to_numpy()
    nums[missing] = np.nan
    other = ~plain.to_numpy() & ~missing
    if other.any():
        rest = values[other]
        nums[other] = pd.to_numeric(rest, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(nums, index=values.index)


def _links(url: pd.Series) -> np.ndarray:
    """Which values are http(s) links (as ``re.match(r"(?i)https?://\\S+$")`` says)."""
    data = _arrow(url)
    if data is None:
        return url.map(lambda u: bool(_LINK.match(u))).to_numpy(dtype=bool)
    ok = pc.fill_null(pc.match_substring_regex(data, _PLAIN_LINK_RE2), False).to_numpy().copy()
    empty = pc.equal(pc.fill_null(pc.binary_length(data), 0), 0).to_numpy()
    for pos in np.flatnonzero(~ok & ~empty):  # not plain ASCII: Python's re decides
        ok[pos] = bool(_LINK.match(url.iat[pos]))
    return ok


def validate_frame(raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check raw events (all columns text) and return (valid events, problems).

    ``raw`` must carry a ``row`` column with each record's label ("line 5", "feature 2").
    Valid events get typed ``lat``/``lon`` (NaN when absent) and the derived columns
    ``instant`` (UTC timestamp for ordering; midday UTC for a date alone) and ``day``
    (the event's local calendar date).
    Extra columns are kept as they are. Rows with any problem are left out of the result.
    """
    df = raw.copy()
    for name in FIELD_NAMES:
        if name not in df.columns:
            df[name] = ""
    text = [c for c in df.columns if c not in ("lat", "lon", "row")]
    # Column by column, text first and then blanks: several times faster than fillna on objects.
    for c in text:
        stripped = df[c].astype(str).fillna("").str.strip()
        if not stripped.equals(df[c]):  # else the file's own column: one copy in memory, not two
            df[c] = stripped
    problems: list[tuple[int, Problem]] = []
    bad = np.zeros(len(df), dtype=bool)

    def flag(mask: pd.Series | np.ndarray, field: str, message) -> None:
        nonlocal bad
        mask = np.asarray(mask, dtype=bool)
        for pos in np.flatnonzero(mask):
            msg = message(df.iloc[pos]) if callable(message) else message
            problems.append((int(pos), Problem(file, df["row"].iat[pos], field, msg)))
        bad |= mask

    # A required column missing from the whole file is one problem, not one per row.
    header = "line 1" if len(df) and str(df["row"].iat[0]).startswith("line ") else "file"
    for name in REQUIRED:
        help_text = next(f.help for f in FIELDS if f.name == name)
        if name not in raw.columns and len(df):
            what = "column" if header == "line 1" else "property"
            problems.append((-1, Problem(file, header, name, f"there is no '{name}' {what}; "
                                         f"every event needs one: {help_text}")))
            bad[:] = True
            continue
        flag(df[name] == "", name, f"'{name}' is required and empty; " + help_text)

    ids = df["id"]
    flag((ids != "") & ~ids.str.fullmatch(ID_RE), "id",
         lambda r: f"{_show(r['id'])} is not a slug; use lowercase letters, digits, '-' or '_'.")
    dup, later = _duplicated(ids)
    dup &= (ids != "").to_numpy()
    first_row = df.loc[dup].groupby("id")["row"].first()
    flag(dup & later, "id",
         lambda r: f"duplicate id {_show(r['id'])} (first used at {first_row[r['id']]}); "
                   "give every event its own id.")

    dates = df["date"]
    # Each distinct date text is matched once: files repeat dates many times.
    date_codes, distinct_dates = pd.factorize(dates)
    distinct_dates = pd.Series(distinct_dates, dtype=dates.dtype)
    is_date, is_dt, naive = (pd.Series(distinct_dates.str.fullmatch(pattern).to_numpy(
        dtype=bool)[date_codes], index=df.index) for pattern in (
            DATE_RE, DATETIME_RE, _NAIVE_DATETIME_RE))
    parsed = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    if is_date.any():
        # A date without a time orders as midday UTC of that day: then it sorts after any timed
        # event of an earlier local day and before any of a later one, for UTC offsets up to
        # ±12 h (midnight UTC put "27 Mar, 23:15 −06:00" after a date-only 28 Mar).
        parsed[is_date] = _each_distinct(dates[is_date], lambda d: pd.to_datetime(
            d, format="%Y-%m-%d", errors="coerce", utc=True) + pd.Timedelta(hours=12))
    if is_dt.any():
        parsed[is_dt] = _each_distinct(dates[is_dt], lambda d: pd.to_datetime(
            d.str.replace(" ", "T", n=1), format="ISO8601", errors="coerce", utc=True))
    flag((dates != "") & naive, "date",
         lambda r: f"{_show(r['date'])} has a time but no UTC offset; add one, "
                   "e.g. 2025-03-27T10:30-05:00 (or Z for UTC).")
    flag((dates != "") & ~naive & parsed.isna(), "date",
         lambda r: f"{_show(r['date'])} is not a date; write YYYY-MM-DD (e.g. 2025-03-27) "
                   "or a datetime with UTC offset (2025-03-27T10:30-05:00).")

    codes = df["country"].str.upper()
    known = codes.isin(country_names().keys())
    flag((codes != "") & ~known, "country",
         lambda r: f"{_show(r['country'])} is not an ISO 3166-1 alpha-2 country code; "
                   "use two letters such as SV, CO or MX.")
    df["country"] = codes

    coords = {}
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        col = df[name] if name in raw.columns else pd.Series("", index=df.index)
        blank = col.isna() | (col.astype(str).str.strip() == "")
        num = _numbers(col.where(~blank))
        finite = np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
        flag(~blank & ~finite, name,
             lambda r, n=name: f"{_show(r[n])} is not a finite number; write decimal degrees "
                               "like 13.6929.")
        flag(finite & (num.abs() > limit), name,
             lambda r, n=name, lim=limit: f"{r[n]} is out of range; {n} must lie between "
                                          f"-{lim:g} and {lim:g}.")
        coords[name] = (num, blank)
    (lat, lat_blank), (lon, lon_blank) = coords["lat"], coords["lon"]
    flag(lat_blank != lon_blank, "lat" if bool((lat_blank & ~lon_blank).any()) else "lon",
         "give both 'lat' and 'lon', or neither (then the geocoder fills them).")
    df["lat"], df["lon"] = lat.astype(float), lon.astype(float)

    for name in ("date_basis", "place_basis"):
        flag(~df[name].isin(("",) + BASES), name,
             lambda r, n=name: f"{_show(r[n])} is not allowed; use 'stated' or 'inferred'.")
        df.loc[df[name] == "", name] = "stated"

    url = df["source_url"]
    flag((url != "") & ~_links(url), "source_url",
         lambda r: f"{_show(r['source_url'])} is not an http(s) link; give a full URL "
                   "starting with https://.")

    # Only rows whose own fields are sound are checked against their country.
    check = ~bad & df["lat"].notna() & df["lon"].notna() & known.to_numpy()
    if check.any():
        # Columns, not df.loc[check]: that would copy every column of a million rows.
        which, distinct = pd.factorize(df["country"][check])
        inside = in_country(df["lat"].to_numpy()[check], df["lon"].to_numpy()[check],
                            np.asarray(distinct, dtype=str)[which])
        outside = np.zeros(len(df), dtype=bool)
        outside[np.flatnonzero(check)[~inside]] = True
        flag(outside, "lat", lambda r: (
            f"({r['lat']:g}, {r['lon']:g}) is not in {country_names()[r['country']]} "
            f"({r['country']}). Check the country code, and that lat and lon are not swapped "
            "(GeoJSON coordinates are [lon, lat])."))

    df["instant"] = parsed
    df["day"] = df["date"].str.slice(0, 10)
    problems.sort(key=lambda p: p[0])
    return _keep(df, ~bad, [c for c in FIELD_NAMES if c not in raw.columns]), [
        p for _, p in problems]


def _keep(df: pd.DataFrame, keep: np.ndarray, added: list[str]) -> pd.DataFrame:
    """The kept rows, renumbered. Columns the file lacks hold one value: sliced, not filtered."""
    if keep.all():
        return df.reset_index(drop=True)
    same = [c for c in added if len(df) and df[c].dtype == "str"
            and bool((df[c] == df[c].iat[0]).all())]
    valid = df.drop(columns=same).loc[keep].reset_index(drop=True)
    for c in same:  # the first rows of a column of one value: a slice, not a copy
        valid[c] = df[c].iloc[:len(valid)].reset_index(drop=True)
    return valid[df.columns]
