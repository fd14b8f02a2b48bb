"""Many events: the switch to browser clustering, its map, its highlight, and the page's cache."""

from __future__ import annotations

import base64
import json
from datetime import date

import folium
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_events
from dashboard import mapview
from dashboard.cluster import EventCluster
from dashboard.filters import FilterState
from dashboard.formats import load_events, write_events
from dashboard.route import build_route
from tests.conftest import APP, ok


@pytest.fixture(scope="module")
def many_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("many") / "many.csv"
    write_events(synthetic_events(mapview.CLUSTER_ABOVE + 50, seed=3), path)
    return path


@pytest.fixture(scope="module")
def many(many_file):
    dataset = load_events(many_file)
    assert not dataset.problems
    return dataset.events


def layers(m: folium.Map, kind: type) -> list:
    found, stack = [], [m]
    while stack:
        element = stack.pop()
        found += [element] if isinstance(element, kind) else []
        stack += list(element._children.values())
    return found


def test_the_switch_is_by_the_number_of_events_in_view():
    assert not mapview.clustered(0)
    assert not mapview.clustered(mapview.CLUSTER_ABOVE)
    assert mapview.clustered(mapview.CLUSTER_ABOVE + 1)


def test_a_clustered_view_has_no_route(many):
    assert mapview.view_route(many, many).stops == ()


def test_a_small_view_keeps_the_trips_stop_numbers(trip_events):
    shown = trip_events.loc[trip_events["country"] == "MX"]
    route = mapview.view_route(trip_events, shown)
    assert [s.number for s in route.stops] == [4]  # San Salvador, Tecoluca, Bogotá, Mexico
    assert route.stops == build_route(shown, build_route(trip_events).numbering()).stops


def test_a_small_view_of_big_data_numbers_its_own_stops(many):
    shown = many.iloc[:3]
    assert [s.number for s in mapview.view_route(many, shown).stops] == [1, 2, 3]


def test_the_clustered_map_sends_every_event_once_and_no_marker(many):
    m = mapview.build_cluster_map(many, tiles=None)
    (layer,) = layers(m, EventCluster)
    assert layer.count == len(many)
    assert layers(m, folium.Marker) == [] and layers(m, folium.PolyLine) == []
    assert layer.data["ids"].split(" ") == list(many["id"])
    coords = np.frombuffer(base64.b64decode(layer.data["ll"]), dtype="<i4").reshape(-1, 2)
    assert np.allclose(coords[:, 0] / 1e5, many["lat"], atol=1e-5)
    # Titles are the markers' names; countries and categories read as words.
    columns = {c["name"]: c for c in layer.data["cols"]}
    assert columns["title"]["list"] == list(many["title"])
    assert "United States" in columns["country"].get("values", columns["country"].get("list"))
    palette = dict(zip(columns["category"]["values"], layer.data["palette"], strict=True))
    assert tuple(palette["Meeting"]) == mapview.CATEGORY_STYLES["meeting"]


def test_the_clustered_map_fits_the_events_and_loads_nothing_from_a_cdn(many):
    m = mapview.build_cluster_map(many, tiles=None)
    (fit,) = [c for c in m._children.values() if type(c).__name__ == "FitBounds"]
    assert fit.bounds == [[many["lat"].min(), many["lon"].min()],
                          [many["lat"].max(), many["lon"].max()]]
    page = m.get_root().render()
    assert "cdn" not in page.lower() and "unpkg" not in page


def test_titles_are_left_out_of_very_large_maps(many, monkeypatch):
    monkeypatch.setattr(mapview, "CLUSTER_TITLES_UP_TO", 10)
    (layer,) = layers(mapview.build_cluster_map(many, tiles=None), EventCluster)
    assert "title" not in [c["name"] for c in layer.data["cols"]]


def test_the_ring_sits_on_the_selected_event(many):
    chosen = many.iloc[7]
    ring = mapview.cluster_highlight_layer(many, chosen["id"])
    (marker,) = layers(ring, folium.Marker)
    assert marker.location == [chosen["lat"], chosen["lon"]]
    assert mapview.cluster_highlight_layer(many, "no-such-event") is None


@pytest.fixture
def big_page(static_serving, monkeypatch, many_file):  # noqa: ARG001
    monkeypatch.setenv("EVENTMAP_DATA", str(many_file))
    return ok(AppTest.from_file(str(APP), default_timeout=60).run())


def component_args(at: AppTest) -> dict:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)


def test_the_page_clusters_many_events_and_a_selection_keeps_the_map(big_page, many):
    before = component_args(big_page)
    assert "markerClusterGroup" in before["script"] and before["feature_group"] is None
    assert "L.marker(" not in before["script"]  # EventCluster's markers, no folium.Marker
    chosen = many.iloc[11]
    big_page.session_state["view"] = FilterState(event=chosen["id"])
    big_page.run()
    after = component_args(big_page)
    # The same map (and component key: no remount); only the highlight is new.
    assert after["script"] == before["script"]
    assert "em-selected" in after["feature_group"]
    assert f"{chosen['lat']}" in after["feature_group"]
    assert chosen["title"] in "\n".join(m.value for m in big_page.markdown)


def test_a_narrow_filter_brings_the_route_back(big_page, many):
    day = date.fromisoformat(many["day"].iloc[0])
    big_page.session_state["view"] = FilterState(start=day, end=day)
    big_page.run()
    shown = many.loc[many["day"] == day.isoformat()]
    args = component_args(big_page)
    assert "markerClusterGroup" not in args["script"]
    assert args["script"].count(".feature = {") == len(shown) >= 1


def list_columns(at: AppTest) -> dict:
    """The list's column settings as the page sends them (a hidden column says so)."""
    return json.loads(at.dataframe[0].proto.columns)


def test_the_list_shows_stops_only_when_the_view_has_a_route(big_page, many):
    # Clustered: no route, so no column of empty stops.
    assert list_columns(big_page)["stop"].get("hidden") is True
    day = date.fromisoformat(many["day"].iloc[0])
    big_page.session_state["view"] = FilterState(start=day, end=day)
    big_page.run()
    assert not list_columns(big_page)["stop"].get("hidden")
    assert list_columns(big_page)["stop"]["label"] == "Stop"


def test_the_clustered_map_downloads_as_a_page_that_works_offline(many):
    from dashboard import exports

    m = mapview.build_cluster_map(many, tiles=None)
    mapview.cluster_highlight_layer(many, many["id"].iloc[0]).add_to(m)
    page = exports.standalone_html(m, title="Events").decode()
    assert "L.markerClusterGroup(" in page and "em-selected" in page
    # The plugin's script is in the page itself, not linked.
    assert "<script src=" not in page.replace("<script src=\"data:", "")
