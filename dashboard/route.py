"""The route of a trip: stops in time order, and the great-circle legs between them."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic

from dashboard.dates import span_text

# Consecutive events this close together are one stop even when their place names differ
# (two venues named differently in one city).
MERGE_KM = 1.0
# Consecutive events with the same place name are one stop when this close (venues across a
# city), but two towns that share a name are not.
SAME_NAME_KM = 50.0
# Arcs get a point about every ARC_STEP_KM: smooth at any zoom, small on the page.
ARC_STEP_KM = 50.0
MAX_ARC_POINTS = 256
_EARTH_KM = 6371.0088


@dataclass(frozen=True)
class Stop:
    """Consecutive events at one place, numbered from 1 in route order."""

    number: int
    place: str
    country: str
    lat: float
    lon: float
    # The longitude to draw at: lon shifted by a multiple of 360 so that the route is one
    # unbroken line on the map (Fiji 178 -> Samoa -172 is drawn as 178 -> 188).
    display_lon: float
    event_ids: tuple[str, ...]
    first_day: date
    last_day: date

    @property
    def days_text(self) -> str:
        """The stop's dates, e.g. "26 Mar 2025"."""
        return span_text(self.first_day, self.last_day)


@dataclass(frozen=True)
class Leg:
    """The way from one stop to the next, along the great circle (the geodesic)."""

    number: int
    origin: Stop
    destination: Stop
    km: float
    points: tuple[tuple[float, float], ...]  # (lat, display lon), origin to destination
    # Where to draw the direction arrow: the middle of the arc, and the heading there in
    # degrees clockwise from north (Mercator keeps angles, so it is also the on-screen angle).
    middle: tuple[float, float]
    heading: float

    @property
    def dates_text(self) -> str:
        """From the last day at the origin to the first day at the destination."""
        return span_text(self.origin.last_day, self.destination.first_day)

    @property
    def tooltip(self) -> str:
        """E.g. "San Salvador → Bogotá · 1,937 km · 26–27 Mar 2025"."""
        return (f"{self.origin.place} → {self.destination.place} · {self.km:,.0f} km · "
                f"{self.dates_text}")


@dataclass(frozen=True)
class Route:
    """Stops and legs of the events, in time order."""

    stops: tuple[Stop, ...] = ()
    legs: tuple[Leg, ...] = ()

    @property
    def total_km(self) -> float:
        """Length of all legs together."""
        return float(sum(leg.km for leg in self.legs))

    def stop_of(self) -> dict[str, Stop]:
        """Event id -> the stop it belongs to."""
        return {event_id: stop for stop in self.stops for event_id in stop.event_ids}

    def numbering(self) -> dict[str, int]:
        """Event id -> its stop's number, to keep numbers when a filter hides stops."""
        return {event_id: stop.number for stop in self.stops for event_id in stop.event_ids}


def place_key(place: str, country: str) -> str:
    """Compare places ignoring case, accents and spacing: 'Bogotá' == 'bogota '."""
    bare = unicodedata.normalize("NFKD", place.casefold())
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch))
    return " ".join(bare.split()) + "|" + country.upper()


def unwrap_near(lon: float, reference: float) -> float:
    """lon shifted by a multiple of 360 to lie within 180 degrees of reference."""
    return lon + 360.0 * round((reference - lon) / 360.0)


def route_order(events: pd.DataFrame) -> np.ndarray:
    """Positions of the located events sorted by time; events at the same time keep their
    file order, events without a time come last."""
    located = np.flatnonzero((events["lat"].notna() & events["lon"].notna()).to_numpy())
    # One column is sorted, not the frame: a million events' every column is 100s of MB.
    instants = pd.DatetimeIndex(events["instant"].iloc[located])
    keys = instants.asi8.copy()
    keys[instants.isna()] = np.iinfo(np.int64).max
    return located[np.argsort(keys, kind="stable")]


def in_route_order(events: pd.DataFrame) -> pd.DataFrame:
    """Located events sorted by time; events at the same time keep their file order."""
    return events.iloc[route_order(events)]


def _km_between(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                lon2: np.ndarray) -> np.ndarray:
    # Haversine is plenty for "closer than MERGE_KM"; leg lengths use the geodesic.
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def stop_numbers(ordered: pd.DataFrame) -> np.ndarray:
    """For events already in route order, the number of the stop each belongs to (from 1)."""
    if ordered.empty:
        return np.zeros(0, dtype=int)
    keys = np.array([place_key(p, c) for p, c in zip(ordered["place"], ordered["country"],
                                                      strict=True)])
    lat, lon = ordered["lat"].to_numpy(float), ordered["lon"].to_numpy(float)
    km = _km_between(lat[:-1], lon[:-1], lat[1:], lon[1:])
    same = (km < MERGE_KM) | ((keys[1:] == keys[:-1]) & (km < SAME_NAME_KM))
    new_stop = np.concatenate(([True], ~same))
    return np.cumsum(new_stop)


def _arc(origin: Stop, destination: Stop
         ) -> tuple[list[tuple[float, float]], tuple[float, float], float]:
    line = Geodesic.WGS84.InverseLine(origin.lat, origin.lon, destination.lat, destination.lon)
    segments = int(min(MAX_ARC_POINTS - 1, max(1, math.ceil(line.s13 / 1000 / ARC_STEP_KM))))
    mask = Geodesic.LATITUDE | Geodesic.LONGITUDE | Geodesic.AZIMUTH | Geodesic.LONG_UNROLL
    shift = origin.display_lon - origin.lon
    points = []
    for i in range(segments + 1):
        pos = line.Position(line.s13 * i / segments, mask)
        # LONG_UNROLL keeps longitude continuous along the path (it may pass 180), which is
        # what Leaflet needs to draw the short way across the antimeridian.
        points.append((pos["lat2"], pos["lon2"] + shift))
    mid = line.Position(line.s13 / 2, mask)
    return points, (mid["lat2"], mid["lon2"] + shift), mid["azi2"] % 360.0


def build_route(events: pd.DataFrame, numbering: Mapping[str, int] | None = None) -> Route:
    """Merge consecutive events at one place into stops and join the stops by legs.

    Events without coordinates are left out. A stop sits at its first event's coordinates.
    Stops are numbered 1, 2, ... unless ``numbering`` (event id -> number, from the whole
    trip's route) gives each stop the number of its first event, so a filtered view keeps
    the trip's stop numbers.
    """
    ordered = in_route_order(events)
    if ordered.empty:
        return Route()
    numbers = stop_numbers(ordered)
    stops: list[Stop] = []
    legs: list[Leg] = []
    groups = ordered.groupby(numbers, sort=True)
    for position, group in groups:
        first = group.iloc[0]
        number = int(position)
        if numbering is not None and str(first["id"]) in numbering:
            number = numbering[str(first["id"])]
        lat, lon = float(first["lat"]), float(first["lon"])
        display_lon = lon
        arc = None
        if stops:
            prev = stops[-1]
            provisional = Stop(int(number), str(first["place"]), str(first["country"]), lat, lon,
                               lon, (), date.min, date.min)
            arc = _arc(prev, provisional)
            display_lon = arc[0][-1][1]
        days = [date.fromisoformat(d) for d in group["day"]]
        stop = Stop(int(number), str(first["place"]), str(first["country"]), lat, lon,
                    display_lon, tuple(str(i) for i in group["id"]), min(days), max(days))
        if arc is not None:
            points, middle, heading = arc
            prev = stops[-1]
            km = geodesic((prev.lat, prev.lon), (stop.lat, stop.lon)).km
            legs.append(Leg(len(legs) + 1, prev, stop, km, tuple(points), middle, heading))
        stops.append(stop)
    return Route(tuple(stops), tuple(legs))

