"""Baseline: the obvious folium page, one ``folium.Marker`` per event with tooltip and popup."""

from __future__ import annotations

import html
import os

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

st.set_page_config(page_title="Naive folium page", layout="wide")
events = pd.read_csv(os.environ["EVENTMAP_DATA"], dtype=str, keep_default_na=False)
events = events.assign(lat=events["lat"].astype(float), lon=events["lon"].astype(float))
st.title(f"{len(events)} events")
m = folium.Map(location=[events["lat"].mean(), events["lon"].mean()], zoom_start=2)
for row in events.itertuples(index=False):
    folium.Marker(
        [row.lat, row.lon],
        tooltip=html.escape(row.title),
        popup=folium.Popup(f"<b>{html.escape(row.title)}</b><br>{html.escape(row.date)} · "
                           f"{html.escape(row.place)}<br>{html.escape(row.summary)}",
                           max_width=300),
    ).add_to(m)
clicked = st_folium(m, key="map", height=520, use_container_width=True,
                    returned_objects=["last_object_clicked_tooltip"])
st.write((clicked or {}).get("last_object_clicked_tooltip") or "Click a marker.")
