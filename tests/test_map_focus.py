"""A selection from outside the map brings its event into view; a click on the map does not move it.

mapview.focus decides (by selection source). On the clustered map mapview.focus_view turns that
into streamlit-folium's center/zoom arguments; on the routed map mapview.bring_into_view makes
the selection ring's script pan only as far as it must. The page does either for one run. The
clustered zoom is checked against the plugin's greedy clustering, replayed here in Python.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_events
from dashboard import cluster, mapview
from dashboard.filters import FilterState
from dashboard.formats import load_events, write_events
from dashboard.route import build_route
from tests.conftest import ok

RADIUS = cluster.RADIUS_PX
DEEPEST = mapview.deepest_zoom()


# --- the plugin's clustering, replayed --------------------------------------------------------

def world_px(lat: float, lon: float) -> tuple[float, float]:
    """Leaflet's spherical Mercator at zoom 0, written out apart from mapview's."""
    s = math.sin(math.radians(max(min(lat, 85.0511), -85.0511)))
    return 256 * (0.5 + lon / 360), 256 * (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi))


def own_markers(lat, lon, zoom: int, deepest: int = DEEPEST) -> set[int]:
    """The events drawn as their own marker at ``zoom``: Leaflet.markercluster's greedy
    clustering level by level from the deepest zoom (what EventCluster's tree builds).

    Each node not yet taken, in order, gathers every node not yet taken within the radius of
    it; a cluster sits where its first node does.
    """
    xy = np.array([world_px(a, b) for a, b in zip(lat, lon, strict=True)])
    nodes = [(xy[i], None, i) for i in range(len(xy))]  # (place, cluster members, event)
    for z in range(deepest, zoom - 1, -1):
        places = np.array([n[0] for n in nodes])
        free = np.ones(len(nodes), bool)
        merged = []
        for k in range(len(nodes)):
            if not free[k]:
                continue
            near = free & (np.hypot(*(places - places[k]).T) * 2 ** z <= RADIUS)
            free &= ~near
            group = [nodes[j] for j in np.flatnonzero(near)]
            if len(group) == 1 and group[0][1] is None:
                merged.append(group[0])
            else:
                members = [m for n in group for m in (n[1] or [n[2]])]
                merged.append((places[k], members, None))
        nodes = merged
    return {n[2] for n in nodes if n[1] is None}


@pytest.fixture(scope="module")
def crowd() -> pd.DataFrame:
    """Events packed around a few towns, with two pairs at the same spot: clusters at most zooms."""
    rng = np.random.default_rng(5)
    towns = np.array([[4.71, -74.07], [4.6, -74.2], [13.69, -89.22], [19.43, -99.13]])
    pick = rng.integers(0, len(towns), 240)
    lat = towns[pick, 0] + rng.normal(0, 0.05, 240)
    lon = towns[pick, 1] + rng.normal(0, 0.05, 240)
    lat[1], lon[1] = lat[0], lon[0]
    lat[3], lon[3] = lat[2], lon[2]
    lat[10], lon[10] = 40.0, -30.0  # alone in the Atlantic
    return pd.DataFrame({"id": [f"e{i}" for i in range(240)], "lat": np.round(lat, 5),
                         "lon": np.round(lon, 5)})


@pytest.mark.parametrize("index", [4, 5, 17, 42, 99, 150, 239])
def test_at_the_focus_zoom_the_event_is_its_own_marker(crowd, index):
    lat, lon = crowd["lat"].to_numpy(), crowd["lon"].to_numpy()
    zoom = mapview.own_marker_zoom(lat, lon, index)
    assert mapview.MIN_ZOOM <= zoom < DEEPEST
    assert index in own_markers(lat, lon, zoom)
    # One zoom out, another event is within the radius: the bound is the lowest it can prove.
    x, y = world_px(lat[index], lon[index])
    gaps = [math.dist((x, y), world_px(a, b)) for k, (a, b) in enumerate(zip(lat, lon, strict=True))
            if k != index]
    assert min(gaps) * 2 ** (zoom - 1) <= RADIUS + 1


def test_events_at_one_spot_get_the_deepest_zoom_and_a_lone_event_the_widest(crowd):
    lat, lon = crowd["lat"].to_numpy(), crowd["lon"].to_numpy()
    assert mapview.own_marker_zoom(lat, lon, 0) == DEEPEST
    assert 0 not in own_markers(lat, lon, DEEPEST)  # no zoom parts them: the plugin spiderfies
    assert mapview.own_marker_zoom(lat, lon, 10) == mapview.MIN_ZOOM
    assert 10 in own_markers(lat, lon, mapview.MIN_ZOOM)
    assert mapview.own_marker_zoom(np.array([5.0]), np.array([5.0]), 0) == mapview.MIN_ZOOM


def test_events_without_coordinates_are_no_neighbours():
    lat, lon = np.array([1.0, np.nan, 1.0001]), np.array([1.0, 1.0, np.nan])
    assert mapview.own_marker_zoom(lat, lon, 0) == mapview.MIN_ZOOM


def test_the_deepest_zoom_is_the_tiles_or_the_layers_own():
    assert mapview.deepest_zoom("OpenStreetMap") == 19
    assert mapview.deepest_zoom(None) == cluster.MAX_ZOOM


# --- which source moves the map -----------------------------------------------------------------

@pytest.fixture(scope="module")
def many() -> pd.DataFrame:
    return synthetic_events(mapview.CLUSTER_ABOVE + 40, seed=4)


@pytest.mark.parametrize("source", ["list", "timeline", "player", "url"])
def test_a_selection_from_outside_the_map_centres_its_event(trip_events, many, source):
    route = build_route(trip_events)
    layout = mapview.marker_layout(trip_events, route).set_index("id")
    target = mapview.focus(trip_events, route, "co-data-signing", source)
    assert target == mapview.Focus(layout.loc["co-data-signing", "lat"],
                                   layout.loc["co-data-signing", "lon"], None)
    chosen = many.iloc[33]
    target = mapview.focus(many, mapview.view_route(many, many), chosen["id"], source)
    lat, lon = many["lat"].to_numpy(float), many["lon"].to_numpy(float)
    assert target == mapview.Focus(chosen["lat"], chosen["lon"],
                                   mapview.own_marker_zoom(lat, lon, 33))


def test_a_click_on_the_map_and_nothing_to_show_leave_the_map_be(trip_events, many):
    route = build_route(trip_events)
    assert mapview.focus(trip_events, route, "co-data-signing", "map") is None
    assert mapview.focus(many, mapview.Route(), many["id"].iloc[0], "map") is None
    assert mapview.focus(trip_events, route, "", "list") is None
    assert mapview.focus(trip_events, route, "no-such-event", "list") is None
    assert mapview.focus(many, mapview.Route(), "no-such-event", "url") is None
    hidden = trip_events.loc[trip_events["country"] == "MX"]
    assert mapview.focus(hidden, build_route(hidden), "co-data-signing", "timeline") is None


def test_an_unknown_source_says_which_are_known(trip_events):
    with pytest.raises(ValueError, match="use one of map, list, timeline, player, url"):
        mapview.focus(trip_events, build_route(trip_events), "co-data-signing", "mouse")


def test_each_request_is_new_to_the_frontend_and_rounds_to_its_zoom():
    target = mapview.Focus(4.711, -74.0721, 9)
    views = [mapview.focus_view(target, n) for n in (1, 2, 3, 99_999)]
    # The frontend moves only for a centre, and takes only a zoom, unlike the last one sent.
    assert len({json.dumps(c) for c, _ in views}) == len({z for _, z in views}) == len(views)
    for center, zoom in views:
        assert (center["lat"], center["lng"]) == (4.711, -74.0721)
        assert round(zoom) == 9  # Leaflet snaps zooms to whole ones (zoomSnap 1)
    assert mapview.focus_view(mapview.Focus(1.0, 2.0, None), 5) == (
        {"lat": 1.0, "lng": 2.0, "request": 5}, None)
    assert mapview.focus_view(None, 5) == (None, None)


# --- the page ---------------------------------------------------------------------------------

def map_args(at: AppTest) -> dict:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)


def send(at: AppTest, element_id: str, value: object, field: str) -> AppTest:
    """Rerun as when the browser reports a widget's new value (a map click, a list row)."""
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = element_id
    setattr(state, field, json.dumps(value))
    return ok(at._run(states))


def click_marker(at: AppTest, event_id: str) -> AppTest:
    (component,) = at.get("component_instance")
    drawing = {"type": "Feature", "properties": {"id": event_id}, "geometry": None}
    return send(at, component.proto.id, {"last_active_drawing": drawing}, "json_value")


def click_row(at: AppTest, row: int) -> AppTest:
    selection = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return send(at, at.dataframe[0].proto.id, selection, "string_value")


PAN = re.compile(r"map_div\.panInside\(\s*\[([-\d.]+), ([-\d.]+)\]")


def panned_to(args: dict) -> tuple[float, float] | None:
    """Where the ring's script pans the routed map (Leaflet's panInside), or None."""
    found = PAN.search(args["feature_group"] or "")
    return (float(found[1]), float(found[2])) if found else None


def test_the_url_and_the_list_bring_the_event_into_view_and_a_map_click_does_not(run_page):
    at = run_page(query={"event": "co-data-signing"})
    first = map_args(at)
    # The routed map pans only as far as it must: no new centre, the person's zoom kept.
    assert (first["center"], first["zoom"]) == (None, None)
    assert panned_to(first) == (4.711, -74.0721)
    assert panned_to(map_args(ok(at.run()))) is None  # once: a rerun leaves the map be

    at = click_row(at, 5)  # the list is in time order: Mexico City's press conference
    assert at.session_state["view"].event == "mx-press-conference"
    listed = map_args(at)
    assert panned_to(listed) == (19.4326, -99.1332)
    assert listed["script"] == first["script"]  # the same map, moved, not rebuilt

    at = click_marker(at, "sv-prison-visit")
    assert at.session_state["view"].event == "sv-prison-visit"
    clicked = map_args(at)
    assert clicked["center"] is None and clicked["zoom"] is None
    assert "em-selected" in clicked["feature_group"] and panned_to(clicked) is None


def test_the_timeline_brings_its_event_into_view(run_page):
    at = run_page()
    (chart,) = at.get("vega_lite_chart")
    at = send(at, chart.proto.id, {"selection": {"event": [{"id": "sv-prison-visit"}]}},
              "string_value")
    assert at.session_state["view"].event == "sv-prison-visit"
    assert panned_to(map_args(at)) == (13.5386, -88.7872)


def test_on_the_clustered_map_the_player_zooms_to_the_events_own_marker(run_page, tmp_path):
    path = tmp_path / "many.csv"
    write_events(synthetic_events(mapview.CLUSTER_ABOVE + 40, seed=4), path)
    events = load_events(path).events
    at = run_page(None, data=str(path))
    before = map_args(at)
    assert "markerClusterGroup" in before["script"] and before["center"] is None
    at.button(key="next").click().run()
    chosen = at.session_state["view"].event
    index = int(np.flatnonzero(events["id"] == chosen)[0])
    args = map_args(ok(at))
    want = mapview.own_marker_zoom(events["lat"].to_numpy(), events["lon"].to_numpy(), index)
    assert round(args["zoom"]) == want
    assert (args["center"]["lat"], args["center"]["lng"]) == (events["lat"].iloc[index],
                                                              events["lon"].iloc[index])
    assert args["script"] == before["script"]
    at.session_state["view"] = FilterState(event=events["id"].iloc[0])  # no source: no move
    assert map_args(ok(at.run()))["center"] is None
