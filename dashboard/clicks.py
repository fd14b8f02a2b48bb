"""Which event a click on the map selected, from streamlit-folium's return value.

How the id travels: dashboard.mapview puts every event marker in a Leaflet FeatureGroup and
gives it ``marker.feature = {"type": "Feature", "properties": {"id": <event id>}}``.
streamlit-folium binds its click handler to every layer on the map; the click on a marker
bubbles to its group with ``e.layer`` set to the marker, and the frontend stores
``e.layer.toGeoJSON()`` as ``last_active_drawing``. Leaflet's toGeoJSON keeps ``layer.feature``,
so the returned properties carry the id: exact, unlike comparing clicked coordinates.
Other clickable layers (route legs) have no id and select nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

# What st_folium returns. Only a click changes it, so pan and zoom do not rerun the page.
RETURNED_OBJECTS = ("last_active_drawing",)


def clicked_event(value: object) -> str | None:
    """The id of the event whose marker was clicked last, or None.

    >>> clicked_event({"last_active_drawing": {"type": "Feature",
    ...     "properties": {"id": "co-petro-meeting"}, "geometry": None}})
    'co-petro-meeting'
    >>> clicked_event({"last_active_drawing": None}) is None
    True
    """
    if not isinstance(value, Mapping):
        return None
    drawing = value.get("last_active_drawing")
    if not isinstance(drawing, Mapping):
        return None
    properties = drawing.get("properties")
    if not isinstance(properties, Mapping):
        return None
    event_id = properties.get("id")
    return event_id if isinstance(event_id, str) and event_id else None
