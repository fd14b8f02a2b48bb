"""Our loader and clustered layer alone, without the rest of the dashboard."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import folium  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard import assets, clicks  # noqa: E402
from dashboard.cluster import EventCluster  # noqa: E402
from dashboard.formats import load_events  # noqa: E402

st.set_page_config(page_title="Clustered events", layout="wide")
events = load_events(os.environ["EVENTMAP_DATA"]).events
st.title(f"{len(events)} events")
m = folium.Map(location=[20, 0], zoom_start=2)
layer = EventCluster(events).add_to(m)
m.fit_bounds(layer.get_bounds())
assets.localize(m)
value = st_folium(m, key="map", height=520, use_container_width=True,
                  returned_objects=list(clicks.RETURNED_OBJECTS))
st.write(clicks.clicked_event(value) or "Click a marker.")
