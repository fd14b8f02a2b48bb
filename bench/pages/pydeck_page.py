"""Baseline: the same events as one deck.gl ScatterplotLayer through ``st.pydeck_chart``."""

from __future__ import annotations

import os

import pandas as pd
import pydeck as pdk
import streamlit as st

st.set_page_config(page_title="pydeck page", layout="wide")
events = pd.read_csv(os.environ["EVENTMAP_DATA"], dtype=str, keep_default_na=False)
events = events.assign(lat=events["lat"].astype(float), lon=events["lon"].astype(float))
st.title(f"{len(events)} events")
layer = pdk.Layer(
    "ScatterplotLayer", id="events",
    data=events[["id", "title", "date", "place", "lat", "lon"]],
    get_position=["lon", "lat"], get_radius=4000, radius_min_pixels=3,
    get_fill_color=[0, 114, 178, 200], pickable=True)
deck = pdk.Deck(layers=[layer], map_style=None, tooltip={"text": "{title}\n{date} · {place}"},
                initial_view_state=pdk.ViewState(latitude=float(events["lat"].mean()),
                                                 longitude=float(events["lon"].mean()), zoom=1))
chosen = st.pydeck_chart(deck, height=520, on_select="rerun", selection_mode="single-object",
                         key="deck")
picked = chosen.selection.objects.get("events", []) if chosen else []
st.write(picked[0]["title"] if picked else "Click a point.")
