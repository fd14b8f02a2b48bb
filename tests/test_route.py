"""Stops, legs, distances and arcs of a route."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from geopy.distance import geodesic

from dashboard.route import Route, build_route, in_route_order, place_key, route_order, unwrap_near
from tests.conftest import make_dataset

SAN_SALVADOR = {"place": "San Salvador", "country": "SV", "lat": "13.6929", "lon": "-89.2182"}
BOGOTA = {"place": "Bogotá", "country": "CO", "lat": "4.711", "lon": "-74.0721"}
SUVA = {"place": "Suva", "country": "FJ", "lat": "-18.1416", "lon": "178.4419"}
MEXICO_CITY = {"place": "Mexico City", "country": "MX", "lat": "19.4326", "lon": "-99.1332"}
APIA = {"place": "Apia", "country": "WS", "lat": "-13.8333", "lon": "-171.7667"}


def event(event_id: str, day: str, where: dict[str, str], **extra: str) -> dict[str, str]:
    return {"id": event_id, "date": day, "title": event_id.title(), **where, **extra}


def route_of(rows: list[dict[str, str]]) -> Route:
    dataset = make_dataset(rows)
    assert not dataset.problems, [str(p) for p in dataset.problems]
    return build_route(dataset.events)


def test_trip_stops_merge_consecutive_events_at_one_place(trip_events):
    route = build_route(trip_events)
    assert [(s.number, s.place, s.event_ids) for s in route.stops] == [
        (1, "Tecoluca", ("sv-prison-visit",)),
        (2, "San Salvador", ("sv-president-meeting", "sv-agreement-signing")),
        (3, "Bogotá", ("co-officials-meeting", "co-data-signing")),
        (4, "Mexico City", ("mx-press-conference", "mx-president-meeting")),
    ]
    assert [(leg.origin.number, leg.destination.number) for leg in route.legs] == [
        (1, 2), (2, 3), (3, 4)]
    assert route.stops[1].first_day == route.stops[1].last_day == date(2025, 3, 26)


def test_leg_distances_are_geodesic_km(trip_events):
    route = build_route(trip_events)
    for leg in route.legs:
        expected = geodesic((leg.origin.lat, leg.origin.lon),
                            (leg.destination.lat, leg.destination.lon)).km
        assert leg.km == pytest.approx(expected, rel=1e-9)
    assert route.total_km == pytest.approx(sum(leg.km for leg in route.legs))


def test_leg_tooltip_names_places_distance_and_dates():
    route = route_of([event("a", "2025-03-26", SAN_SALVADOR), event("b", "2025-03-27", BOGOTA)])
    assert route.legs[0].tooltip == "San Salvador → Bogotá · 1,937 km · 26–27 Mar 2025"


def test_events_are_ordered_by_time_and_same_day_keeps_file_order():
    rows = [
        event("last", "2025-03-28", BOGOTA),
        event("first", "2025-03-26", SAN_SALVADOR),
        event("second", "2025-03-26", BOGOTA),  # same day, no time: after "first", as filed
        # 09:30 at UTC-6 is 15:30 UTC, after 10:00 at UTC-5 (15:00 UTC) though filed before.
        event("fourth", "2025-03-27T09:30-06:00", SAN_SALVADOR),
        event("third", "2025-03-27T10:00-05:00", MEXICO_CITY),
    ]
    route = route_of(rows)
    assert [s.event_ids for s in route.stops] == [("first",), ("second",), ("third",),
                                                   ("fourth",), ("last",)]


def test_returning_to_a_place_is_a_new_stop():
    rows = [event("a", "2025-03-26", SAN_SALVADOR), event("b", "2025-03-27", BOGOTA),
            event("c", "2025-03-28", SAN_SALVADOR)]
    route = route_of(rows)
    assert [s.number for s in route.stops] == [1, 2, 3]
    assert route.stops[0].place == route.stops[2].place


AWAY = {"lat": "13.75", "lon": "-89.1"}  # 14 km from SAN_SALVADOR: across a city


@pytest.mark.parametrize(("second", "merged"), [
    (SAN_SALVADOR, True),  # same spot
    ({**SAN_SALVADOR, **AWAY}, True),  # same name, another venue in town
    ({**SAN_SALVADOR, **AWAY, "place": "san  salvador "}, True),  # case and spacing
    ({**SAN_SALVADOR, **AWAY, "place": "Sán Salvador"}, True),  # accents
    ({**SAN_SALVADOR, "place": "Palacio Nacional", "lat": "13.6975", "lon": "-89.2135"}, True),
    ({**SAN_SALVADOR, **AWAY, "place": "Soyapango"}, False),  # another name, 14 km
    ({**SAN_SALVADOR, "lat": "13.3", "lon": "-88.2"}, False),  # same name, 115 km: another town
])
def test_which_consecutive_events_share_a_stop(second, merged):
    route = route_of([event("a", "2025-03-26", SAN_SALVADOR), event("b", "2025-03-26", second)])
    assert (len(route.stops) == 1) == merged


def test_place_key_ignores_case_accents_and_spaces():
    assert place_key("Bogotá", "co") == place_key("  bogota ", "CO")
    assert place_key("Bogotá", "CO") != place_key("Bogotá", "US")


def test_arc_runs_from_stop_to_stop_with_a_point_about_every_50_km():
    route = route_of([event("a", "2025-03-26", SAN_SALVADOR), event("b", "2025-03-27", BOGOTA)])
    leg = route.legs[0]
    assert leg.points[0] == pytest.approx((13.6929, -89.2182))
    assert leg.points[-1] == pytest.approx((4.711, -74.0721))
    assert len(leg.points) == int(np.ceil(leg.km / 50)) + 1
    steps = [geodesic(a, b).km for a, b in zip(leg.points, leg.points[1:], strict=False)]
    assert max(steps) == pytest.approx(min(steps), rel=1e-6)  # evenly spaced along the arc
    assert sum(steps) == pytest.approx(leg.km, rel=1e-6)  # and on the geodesic
    assert 90 < leg.heading < 180  # south-east from San Salvador to Bogotá


@pytest.mark.parametrize(("origin", "destination", "west_to_east"), [
    (SUVA, APIA, True),
    (APIA, SUVA, False),
])
def test_antimeridian_leg_takes_the_short_way(origin, destination, west_to_east):
    route = route_of([event("a", "2025-03-26", origin), event("b", "2025-03-27", destination)])
    leg = route.legs[0]
    lons = np.array([p[1] for p in leg.points])
    # One unbroken line: no jump of ~360 degrees between neighbouring points ...
    assert np.abs(np.diff(lons)).max() < 2
    # ... crossing 180 the short way, about 10 degrees of longitude, not 350.
    assert abs(lons[-1] - lons[0]) < 15
    assert (np.diff(lons) > 0).all() == west_to_east
    stop = route.stops[1]
    assert stop.display_lon == pytest.approx(lons[-1])
    assert unwrap_near(stop.lon, stop.display_lon) == pytest.approx(stop.display_lon)
    assert leg.km == pytest.approx(geodesic((float(origin["lat"]), float(origin["lon"])),
                                            (float(destination["lat"]),
                                             float(destination["lon"]))).km)
    assert leg.km < 1500


def test_unwrap_near():
    assert unwrap_near(-171.77, 178.44) == pytest.approx(188.23)
    assert unwrap_near(178.44, -171.77) == pytest.approx(-181.56)
    assert unwrap_near(10.0, 20.0) == 10.0


def test_filtered_route_keeps_the_trip_numbers(trip_events):
    numbering = build_route(trip_events).numbering()
    later = trip_events.loc[trip_events["day"] >= "2025-03-27"]
    assert [s.number for s in build_route(later, numbering).stops] == [3, 4]
    assert [s.number for s in build_route(later).stops] == [1, 2]


def test_events_without_coordinates_are_left_out(trip_events):
    events = trip_events.copy()
    events.loc[0, ["lat", "lon"]] = np.nan
    route = build_route(events)
    assert "sv-prison-visit" not in route.stop_of()
    assert route.stops[0].place == "San Salvador"


def test_no_events_no_route(trip_events):
    route = build_route(trip_events.iloc[0:0])
    assert route == Route()
    assert route.total_km == 0


def test_one_stop_has_no_legs(trip_events):
    route = build_route(trip_events.loc[trip_events["day"] == "2025-03-27"])
    assert len(route.stops) == 1 and route.legs == ()


def test_stop_days_span_its_events():
    rows = [event("a", "2025-03-26", SAN_SALVADOR), event("b", "2025-03-28", SAN_SALVADOR)]
    stop = route_of(rows).stops[0]
    assert (stop.first_day, stop.last_day, stop.days_text) == (
        date(2025, 3, 26), date(2025, 3, 28), "26–28 Mar 2025")


def test_route_order_is_a_stable_sort_of_the_located_events_by_time():
    rng = np.random.default_rng(3)
    n = 500
    instants = pd.Series(pd.to_datetime("2025-03-26", utc=True)
                         + pd.to_timedelta(rng.integers(0, 20, n), unit="h"))  # many ties
    instants[rng.random(n) < 0.05] = pd.NaT
    lat = pd.Series(rng.uniform(-60, 60, n))
    lat[rng.random(n) < 0.1] = np.nan
    events = pd.DataFrame({"id": [f"e{i}" for i in range(n)], "lat": lat,
                           "lon": rng.uniform(-180, 180, n), "instant": instants},
                          index=rng.permutation(n) + 1000)  # positions are not labels
    reference = events.loc[events["lat"].notna() & events["lon"].notna()].sort_values(
        "instant", kind="stable")
    assert in_route_order(events).equals(reference)
    assert list(events.iloc[route_order(events)]["id"]) == list(reference["id"])
    assert len(route_order(events.iloc[:0])) == 0
