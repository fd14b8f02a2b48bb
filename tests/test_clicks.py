"""From streamlit-folium's return value to the clicked event's id."""

from __future__ import annotations

import pytest

from dashboard.clicks import RETURNED_OBJECTS, clicked_event

MARKER = {"type": "Feature", "properties": {"id": "co-data-signing"},
          "geometry": {"type": "Point", "coordinates": [-74.0721, 4.711]}}


@pytest.mark.parametrize(("value", "event_id"), [
    ({"last_active_drawing": MARKER}, "co-data-signing"),
    # What st_folium returns before any click, and in AppTest.
    ({"last_active_drawing": None}, None),
    (None, None),
    ({}, None),
    ("not a mapping", None),
    # A click on a route leg: Leaflet's toGeoJSON of a polyline without a feature.
    ({"last_active_drawing": {"type": "Feature", "properties": {},
                              "geometry": {"type": "LineString", "coordinates": []}}}, None),
    ({"last_active_drawing": {"type": "Feature", "geometry": None}}, None),
    ({"last_active_drawing": {"type": "Feature", "properties": None}}, None),
    ({"last_active_drawing": {"properties": {"id": 7}}}, None),
    ({"last_active_drawing": {"properties": {"id": ""}}}, None),
    ({"last_active_drawing": ["not", "a", "feature"]}, None),
    # Other keys (if a caller returns more) do not matter.
    ({"last_active_drawing": MARKER, "zoom": 7, "last_object_clicked": {"lat": 0, "lng": 0}},
     "co-data-signing"),
])
def test_clicked_event(value, event_id):
    assert clicked_event(value) == event_id


def test_only_clicks_are_returned_so_pan_and_zoom_do_not_rerun():
    # st_folium reruns the page when a returned object changes; bounds, zoom and center
    # change on every pan and zoom.
    assert RETURNED_OBJECTS == ("last_active_drawing",)
    assert not {"bounds", "zoom", "center", "last_clicked"} & set(RETURNED_OBJECTS)
