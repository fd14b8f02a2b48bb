"""The page: layout and wiring. Run ``streamlit run dashboard/app.py [-- --data PATH]``."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import folium  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import streamlit as st  # noqa: E402
import streamlit_folium  # noqa: E402

from dashboard import assets, clicks, exports, mapview, overview, settings, upload  # noqa: E402
from dashboard.countries import country_name  # noqa: E402
from dashboard.dates import format_when, short_day_text, span_text  # noqa: E402
from dashboard.filters import FilterState, category_label, choices  # noqa: E402
from dashboard.formats import Dataset, load_events  # noqa: E402
from dashboard.geocode import Cache, CacheError  # noqa: E402
from dashboard.located import require_coordinates  # noqa: E402
from dashboard.playback import Playlist  # noqa: E402
from dashboard.route import Route, route_order  # noqa: E402
from dashboard.timeline import SELECTION, selection_to_id, timeline_spec  # noqa: E402

MAP_HEIGHT = 430  # the map frame's height in pixels wherever MAP_FRAME_CSS does not apply
# The map's frame follows the window's height: title, filters and player take about 350 px
# above it, so a 1280x800 window shows the whole map on first load and a taller one a taller
# map. Inside the frame, MAP_FILL_CSS makes streamlit-folium's map_div (whose inline height
# is MAP_HEIGHT) fill it; Leaflet follows the frame's resizes on its own. Never less than the
# frame's least height: the map is fitted to the events as soon as it is made, and a frame
# not yet sized (0 px tall) would fit them at the deepest zoom, far out of view once it grows.
MAP_FRAME_CSS = ("iframe[title='streamlit_folium.st_folium']"
                 "{height:clamp(320px,calc(100vh - 370px),800px)!important}")
MAP_FILL_CSS = "<style>#map_div{height:100vh!important;min-height:320px}</style>"
MAX_DAY_BUTTONS = 14  # one button per day reads well for a trip, not for a year of events
ALL_DAYS = "all"
FILTER_FIELDS = ("countries", "categories", "participants")  # the multi-select filters
MAX_PROBLEM_ROWS = 50  # a table wraps long messages; beyond this many, a scrolling grid
PLAY_SECONDS = 2.0  # how long play shows each event
# A tick this close to its due time steps: the browser's timer and the server's clock differ.
PLAY_SLACK_SECONDS = 0.4
MAX_TIMELINE_EVENTS = 2000  # beyond this, points merge into a band that no one can click
# The list sends its rows to the browser on every run: 100,000 rows are 10 MB that nobody
# scrolls through. The first ones in time order, and the filters, lead to the others.
MAX_LIST_ROWS = 2000


@st.cache_resource(show_spinner=False)
def _vendor_assets() -> list[str]:
    return [str(p) for p in assets.install()]


# One copy for every session (st.cache_data would hand each run a copy: a tenth of a second
# and another 100 MB at 100,000 events); nothing changes a loaded Dataset after this.
@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path: str, stamp: tuple[int, int]) -> Dataset:  # noqa: ARG001 (stamp keys the cache)
    return require_coordinates(load_events(path))


# --- cached work ------------------------------------------------------------------------------
# Keyed on the data's version (file path and stamp, or the upload's id) and the filter without
# the selection, so a click, a details change or a play step reuses them. Shared between
# sessions (cache_resource): nothing may change these objects after they are made.


def _filter_key(view: FilterState) -> str:
    return repr(replace(view, event=""))


@st.cache_resource(show_spinner=False, max_entries=16)
def _view_data(version: str, filter_key: str,  # noqa: ARG001 (they key the cache)
               _events: pd.DataFrame, _view: FilterState) -> tuple[pd.DataFrame, Route]:
    shown = _view.apply(_events)
    return shown, mapview.view_route(_events, shown)


@st.cache_resource(show_spinner=False, max_entries=8)
def _map_args(version: str, filter_key: str,  # noqa: ARG001 (they key the cache)
              _shown: pd.DataFrame, _route: Route) -> dict[str, object]:
    """What st_folium sends for the map, worked out once per data and filter.

    st_folium renders the whole map two or three times on every run, and changes the map it is
    given (so a built map cannot be cached and handed to it again). This does its steps once,
    with streamlit-folium's own helpers (0.27.x), in its order.
    """
    if mapview.clustered(len(_shown)):
        fmap = mapview.build_cluster_map(_shown, height=MAP_HEIGHT)
    else:
        fmap = mapview.build_map(_shown, _route, height=MAP_HEIGHT)
    fmap.get_root().header.add_child(folium.Element(MAP_FILL_CSS), name="map_fill_css")
    sf = streamlit_folium
    fmap.get_root().render()
    fmap.render()
    html, header = sf._get_html(fmap), sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    box = fmap.get_bounds()
    css: list[str] = []
    js: list[str] = []
    stack = [fmap]
    while stack:  # every element's links, depth first in order, as st_folium collects them
        element = stack.pop(0)
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
        stack[:0] = list(getattr(element, "_children", {}).values())
    return {"script": script, "header": header, "html": html, "id": sf.get_full_id(fmap),
            "bounds": {"_southWest": {"lat": box[0][0], "lng": box[0][1]},
                       "_northEast": {"lat": box[1][0], "lng": box[1][1]}},
            "zoom": fmap.options.get("zoom"),
            "css_links": list(dict.fromkeys(css)), "js_links": list(dict.fromkeys(js)),
            "digest": hashlib.sha256(script.encode()).hexdigest()}


def _map_component(args: dict[str, object], ring, key: str,
                   view: tuple[dict[str, float] | None, float | None] = (None, None)) -> None:
    """st_folium's component call with the cached arguments, this run's highlight and view."""
    ring_script = None
    if ring is not None:
        # On a map of its own: the cached map is never touched. Its name becomes map_div.
        ring_script = streamlit_folium._get_feature_group_string(ring, map=folium.Map(tiles=None))
    component_key = hashlib.sha256(f"{args['digest']}:{key}".encode()).hexdigest()

    def changed() -> None:
        st.session_state[key] = st.session_state.get(component_key, {})
        _on_map_click(key)

    streamlit_folium._component_func(
        script=args["script"], header=args["header"], html=args["html"], id=args["id"],
        key=component_key, height=MAP_HEIGHT, width=None,
        returned_objects=list(clicks.RETURNED_OBJECTS),
        default=dict.fromkeys(clicks.RETURNED_OBJECTS), zoom=view[1], center=view[0],
        feature_group=ring_script, return_on_hover=False, layer_control=None,
        pixelated=False, css_links=args["css_links"], js_links=args["js_links"],
        on_change=changed, wrap_longitude=False)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _argv() -> list[str]:
    # Under `streamlit run`, sys.argv is [this script, *arguments after --]; under AppTest it
    # is the test runner's, which is not ours to read.
    if sys.argv and Path(sys.argv[0]).resolve() == Path(__file__).resolve():
        return sys.argv[1:]
    return []


# --- your own data --------------------------------------------------------------------------
# An uploaded file lives in this session's state only: other sessions never see it.


def _uploader_key() -> str:
    # A new key empties the uploader (its value cannot be set from code).
    return f"upload_file_{st.session_state.get('upload_epoch', 0)}"


def _back_to_file() -> None:
    st.session_state["upload_epoch"] = st.session_state.get("upload_epoch", 0) + 1
    st.session_state.pop("upload", None)


def _geocode_cache():
    if "geocode_cache" not in st.session_state:
        try:
            st.session_state["geocode_cache"] = upload.session_cache()
        except CacheError:
            st.session_state["geocode_cache"] = Cache()  # an unusable file: start empty
    return st.session_state["geocode_cache"]


def _uploaded() -> upload.Upload | None:
    """The file uploaded in this session, read again only when it or the online switch changes."""
    file = st.session_state.get(_uploader_key())
    if file is None:
        st.session_state.pop("upload", None)
        return None
    online = bool(st.session_state.get("online_geocoding"))
    done = st.session_state.get("upload")
    if done is not None and st.session_state.get("upload_read") == (file.file_id, online):
        return done
    source = None
    if online:
        try:
            source = upload.online_source(os.environ)
        except ValueError as err:
            st.error(f"Online geocoding is off: {overview.md_escape(str(err))}",
                     icon=":material/cloud_off:")
    wait = ": looking places up online, one a second" if source else ""
    with st.spinner(f"Reading {overview.md_escape(file.name)}{wait}…"):
        done = upload.read_upload(file.name, file.getvalue(), cache=_geocode_cache(),
                                  online=source)
    st.session_state["upload"] = done
    st.session_state["upload_read"] = (file.file_id, online)
    # Each read is new data to the cached view and map (see _view_data).
    st.session_state["upload_reads"] = st.session_state.get("upload_reads", 0) + 1
    return done


def _data_panel(tools, label: str, uploaded: upload.Upload | None, file_label: str) -> None:
    with tools.popover("Your data", icon=":material/upload_file:"):
        st.caption(f"Showing {overview.md_escape(label)}.")
        st.file_uploader(
            "Your own events", type=list(upload.UPLOAD_TYPES), key=_uploader_key(),
            max_upload_size=upload.MAX_UPLOAD_MB,
            help=f"A CSV or GeoJSON file in the event schema (see the README), up to "
                 f"{upload.MAX_UPLOAD_MB} MB. It stays in this browser tab's session: nobody "
                 "else sees it, and reloading the page forgets it.")
        st.toggle("Online geocoding", key="online_geocoding",
                  help="Rows without coordinates are located through the geocoding cache and "
                       "an offline gazetteer of towns and cities. Turn this on to ask "
                       "OpenStreetMap's Nominatim for the places those lack (one a second, at "
                       f"most {upload.MAX_ONLINE_PLACES} per file). Off, the page sends no "
                       "request anywhere.")
        if uploaded is not None:
            st.button(f"Back to {file_label}", on_click=_back_to_file, key="back_to_file",
                      icon=":material/undo:")


# --- state -----------------------------------------------------------------------------------
# st.session_state["view"] (a FilterState) is the truth; widgets and the URL follow it. A new
# filter widget gets a key, an on_change callback that writes its value into the view
# (_set_view(replace(_view(), countries=...))), and a line in _sync_widgets that writes the
# view back into the widget's state before it is drawn (for links and "Clear all filters").


def _view() -> FilterState:
    return st.session_state["view"]


def _set_view(state: FilterState, *, remount_map: bool = False) -> None:
    st.session_state["view"] = state
    if remount_map and st.session_state.get("map_clicked", "") not in ("", state.event):
        # streamlit-folium only reports values that changed: once the selection moved away
        # from the marker clicked last, a click on that marker would not register. A new
        # map key gives a fresh map whose next click always does; other selections from
        # outside the map (play, timeline) keep the map as it is.
        st.session_state["map_epoch"] = st.session_state.get("map_epoch", 0) + 1
        st.session_state["map_clicked"] = ""


def _dates_to_view(start: date | None, end: date | None) -> None:
    first, last = st.session_state["bounds"]
    if (start or first) <= first and (end or last) >= last:
        start = end = None  # all days: no limit, so the link stays short
    _set_view(replace(_view(), start=start, end=end))


def _on_dates() -> None:
    value = st.session_state.get("dates") or ()
    if isinstance(value, date):
        value = (value,)
    if not value:
        return
    # While a range is being picked the widget holds its first day only: show that day.
    _dates_to_view(value[0], value[-1])


def _on_day() -> None:
    choice = st.session_state.get("day")
    if choice in (None, ALL_DAYS):
        _dates_to_view(None, None)
    else:
        day = date.fromisoformat(choice)
        _dates_to_view(day, day)


def _on_multi(field: str) -> None:
    _set_view(replace(_view(), **{field: tuple(st.session_state.get(f"f_{field}") or ())}))


def _on_text() -> None:
    _set_view(replace(_view(), text=(st.session_state.get("f_text") or "").strip()))


def _on_map_click(key: str) -> None:
    event_id = clicks.clicked_event(st.session_state.get(key))
    if event_id:
        st.session_state["map_clicked"] = event_id
        _set_view(replace(_view(), event=event_id))
        _focus_map("map", event_id)


def _focus_map(source: str, event_id: str) -> None:
    # The next _map asks mapview.focus whether a selection from there moves the map. The
    # number makes each request new to the map's frontend (see mapview.focus_view).
    request = st.session_state.get("focus_request", 0) + 1
    st.session_state["focus_request"] = request
    st.session_state["map_focus"] = (source, event_id, request)


def _on_table() -> None:
    selection = st.session_state["table"]["selection"]
    # A row's checkbox selects the row; a click on any of its cells selects the cell. Each
    # run leaves only the selected event's row selected, so a cell is always the newest click.
    rows = [cell[0] for cell in selection["cells"]] or list(selection["rows"])
    ids = st.session_state.get("table_ids", [])
    event_id = ids[rows[0]] if rows and rows[0] < len(ids) else ""
    _set_view(replace(_view(), event=event_id), remount_map=True)
    _focus_map("list", event_id)


def _select(event_id: str, source: str = "player") -> None:
    _set_view(replace(_view(), event=event_id), remount_map=True)
    _focus_map(source, event_id)


def _on_timeline() -> None:
    event_id = selection_to_id(st.session_state.get("timeline"))
    if event_id:  # a double click clears the chart's selection; the page keeps its own
        _select(event_id, "timeline")


def _step(direction: str) -> None:
    playlist, at = st.session_state["playlist"]
    current = _view().event or None
    step = playlist.previous if direction == "previous" else playlist.next
    _select(step(current, at) or "")
    st.session_state["playing"] = False  # stepping by hand takes over from play


def _play_pause() -> None:
    if st.session_state.get("playing"):
        st.session_state["playing"] = False
        return
    playlist, _ = st.session_state["playlist"]
    _select(playlist.play_start(_view().event or None) or "")
    st.session_state["playing"] = len(playlist) > 1
    st.session_state["play_due"] = time.monotonic() + PLAY_SECONDS


def _play_tick(playlist: Playlist) -> bool:
    """While playing, show the next event once its time has come; True when it stepped."""
    if not st.session_state.get("playing"):
        return False
    if time.monotonic() < st.session_state.get("play_due", 0.0) - PLAY_SLACK_SECONDS:
        return False
    event_id, going = playlist.play_step(_view().event or None)
    _select(event_id or "")
    st.session_state["playing"] = going
    st.session_state["play_due"] = time.monotonic() + PLAY_SECONDS
    return True


def _clear_filters() -> None:
    view = _view()
    _set_view(FilterState(event=view.event), remount_map=True)


def _dismiss_notes() -> None:
    st.session_state["notes"] = []


def _sync_widgets(days: list[str]) -> None:
    view = _view()
    first, last = st.session_state["bounds"]
    want = (view.start or first, view.end or last)
    current = st.session_state.get("dates")
    picking = isinstance(current, tuple) and len(current) == 1 and want == (current[0],) * 2
    if not picking and current != want:
        st.session_state["dates"] = want
    if view.start is None and view.end is None:
        day = ALL_DAYS
    elif view.start and view.start == view.end and view.start.isoformat() in days:
        day = view.start.isoformat()
    else:
        day = None
    if st.session_state.get("day") != day:
        st.session_state["day"] = day
    for field in FILTER_FIELDS:
        if st.session_state.get(f"f_{field}") != list(getattr(view, field)):
            st.session_state[f"f_{field}"] = list(getattr(view, field))
    if st.session_state.get("f_text") != view.text:
        st.session_state["f_text"] = view.text


def _sync_url() -> None:
    want = _view().to_pairs()
    have = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    if sorted(want) != sorted(have):
        st.query_params.from_dict(_view().to_query())


# --- page parts ------------------------------------------------------------------------------



def _problems_notice(dataset: Dataset) -> None:
    if dataset.problems:
        n = len(dataset.problems)
        name = overview.md_escape(Path(dataset.source).name)
        st.warning(f"{overview.plural(n, 'problem')} in {name}: the rows "
                   "concerned are left out, every other event is shown. "
                   "[See the problems](#problems)", icon=":material/warning:")


def _problems(dataset: Dataset, uploaded: bool = False) -> None:
    if not dataset.problems:
        return
    st.subheader("Problems", anchor="problems")
    again = "upload the file again" if uploaded else "reload the page"
    st.caption(f"In {overview.md_escape(dataset.source)}. Fix these rows and {again} to see "
               "them.")
    table = pd.DataFrame([(Path(p.file).name, p.row, p.field, p.message)
                          for p in dataset.problems],
                         columns=["file", "row", "field", "message"])
    if len(table) <= MAX_PROBLEM_ROWS:
        # st.table reads its cells as Markdown; the messages quote the file's text.
        st.table(table.map(overview.md_escape).set_index("file"))
    else:
        st.dataframe(table, hide_index=True, width="stretch")


@st.cache_resource(show_spinner=False, max_entries=16)
def _choices(version: str, countries: tuple[str, ...],  # noqa: ARG001 (version keys the cache)
             categories: tuple[str, ...], participants: tuple[str, ...],
             _events: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    # Worked out once per data and chosen values for every session, not at every selection or
    # play step; tuples, as the options are shared and must not change.
    view = FilterState(countries=countries, categories=categories, participants=participants)
    return {field: tuple(values) for field, values in choices(_events, view).items()}


def _filters(days: list[str], events: pd.DataFrame, version: str) -> None:
    first, last = st.session_state["bounds"]
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    left.date_input("Dates", min_value=first, max_value=last, key="dates", on_change=_on_dates,
                    format="YYYY-MM-DD", help="Show the events between these dates.")
    if 1 < len(days) <= MAX_DAY_BUTTONS:
        labels = {ALL_DAYS: "All days"} | {d: short_day_text(date.fromisoformat(d)) for d in days}
        right.pills("Trip days", list(labels), format_func=labels.__getitem__, key="day",
                    on_change=_on_day, help="One click shows one day of the trip.")
    view = _view()
    options = _choices(version, view.countries, view.categories, view.participants, events)
    # Labels hidden (screen readers still read them): the placeholders say what each is for,
    # which keeps the map higher on the page.
    cols = st.columns(4)
    for col, (field, label, show) in zip(cols, (("countries", "Countries", country_name),
                                                ("categories", "Categories", category_label),
                                                ("participants", "Participants", str)),
                                         strict=False):
        col.multiselect(label, options[field], format_func=show, key=f"f_{field}",
                        on_change=_on_multi, args=(field,), label_visibility="collapsed",
                        placeholder=f"All {label.lower()}")
    cols[3].text_input("Search", key="f_text", on_change=_on_text, max_chars=200,
                       label_visibility="collapsed", type="search",
                       placeholder="Search titles, summaries, people",
                       help="Shows events whose title, summary, participants or place contain "
                            "every word; press Enter to search.")


def _located_notice(uploaded: upload.Upload | None) -> None:
    if uploaded is not None and uploaded.summary():
        st.info(f"{overview.md_escape(uploaded.summary())} [See where](#located)",
                icon=":material/travel_explore:")


def _located(uploaded: upload.Upload | None) -> None:
    if uploaded is None or not uploaded.located:
        return
    st.subheader("Places located", anchor="located")
    st.caption(f"In {overview.md_escape(uploaded.name)}: rows without coordinates, and where "
               "the page found them. Check them on the map; give lat and lon in the file for "
               "any that are wrong.")
    st.dataframe(pd.DataFrame(
        [(loc.row, loc.place, country_name(loc.country), upload.HOW.get(loc.source, loc.source),
          loc.match, round(loc.lat, 5), round(loc.lon, 5)) for loc in uploaded.located],
        columns=["row", "place", "country", "found in", "matched", "lat", "lon"]),
        hide_index=True, width="stretch", key="located_table")
    for warning in uploaded.warnings:
        st.warning(overview.md_escape(warning))


def _glance(shown: pd.DataFrame, route: Route) -> None:
    st.subheader("At a glance")
    numbers = list(overview.glance(shown, route).items())
    for pair in (numbers[:2], numbers[2:]):  # row by row, so screen readers read in order
        for col, (label, value) in zip(st.columns(2), pair, strict=True):
            col.metric(label, value)
    if route.stops:
        st.markdown("\n".join(f"{s.number}. {overview.stop_line(s)}" for s in route.stops))
    st.caption("Click a marker on the map, or a row in the list, to read what happened there.")


def _details(events: pd.DataFrame, shown: pd.DataFrame, route: Route) -> None:
    view = _view()
    match = events.loc[events["id"] == view.event]
    if match.empty:
        _glance(shown, route)
        return
    event = match.iloc[0].to_dict()
    if not (shown["id"] == view.event).any():
        st.info("This event is outside the current filter, so the map does not show it.")
        st.button("Show all events", on_click=_clear_filters, key="show_all")
    stop = route.stop_of().get(view.event)
    st.markdown(overview.details_markdown(event, stop))
    st.button("Back to the overview", on_click=_select, args=("",), key="clear_selection",
              icon=":material/arrow_back:")


def _each_value(values: pd.Series, text) -> pd.Series:
    # Once per distinct value: 100,000 events have far fewer days, places and categories.
    return values.map({v: text(v) for v in values.unique()})


@st.cache_resource(show_spinner=False, max_entries=8)
def _table_rows(version: str, filter_key: str,  # noqa: ARG001 (they key the cache)
                _shown: pd.DataFrame, _route: Route) -> tuple[tuple[str, ...], pa.Table]:
    """The list's first MAX_LIST_ROWS events in time order: their ids, and the rows as Arrow."""
    ordered = _shown.iloc[route_order(_shown)[:MAX_LIST_ROWS]]  # those rows only, not a copy of all
    table = pd.DataFrame({
        # A whole number, or empty for an event off the route (a large view draws none).
        "stop": ordered["id"].map(_route.numbering()).astype("Int64"),
        "when": _each_value(ordered["date"], format_when),
        "title": ordered["title"],
        "place": ordered["place"] + ", " + _each_value(ordered["country"], country_name),
        "category": _each_value(ordered["category"], category_label),
    })
    # As Arrow, which st.dataframe sends as it is: converting rows on every run takes a while.
    return (tuple(ordered["id"].astype(str).tolist()),
            pa.Table.from_pandas(table, preserve_index=False))


@st.cache_resource(show_spinner=False, max_entries=8)
def _playlist(version: str, filter_key: str,  # noqa: ARG001 (they key the cache)
              _shown: pd.DataFrame) -> Playlist:
    return Playlist.from_events(_shown)


@st.cache_resource(show_spinner=False, max_entries=8)
def _sources(version: str, _events: pd.DataFrame) -> list[str]:  # noqa: ARG001 (cache key)
    return sorted(s for s in _events["source_name"].unique() if s)


def _table(shown: pd.DataFrame, route: Route, version: str) -> None:
    ids, table = _table_rows(version, _filter_key(_view()), shown, route)
    st.session_state["table_ids"] = ids
    if len(ids) == MAX_LIST_ROWS and len(shown) > len(ids):
        st.caption(f"Listing the first {len(ids):,} of {len(shown):,} events in time order. "
                   "Narrow the filters to list the others, or download them all (Download, "
                   "above).")
    want = [ids.index(_view().event)] if _view().event in ids else []
    current = st.session_state.get("table")
    if current is None or (list(current["selection"]["rows"]), list(current["selection"]["cells"])
                           ) != (want, []):
        st.session_state["table"] = {"selection": {"rows": want, "columns": [], "cells": []}}
    # A clustered view draws no route: a column of empty stops would only say "None".
    routed = table["stop"].null_count < table.num_rows
    st.dataframe(
        table, key="table", on_select=_on_table, selection_mode=["single-row", "single-cell"],
        hide_index=True,
        width="stretch",
        column_config={
            "stop": st.column_config.NumberColumn("Stop", width="small") if routed else None,
            "when": st.column_config.TextColumn("When", width="medium"),
            "title": st.column_config.TextColumn("Event", width="large"),
            "place": st.column_config.TextColumn("Place"),
            "category": st.column_config.TextColumn("Category", width="small"),
        })


def _player(playlist: Playlist) -> None:
    view = _view()
    playing = bool(st.session_state.get("playing"))
    current = view.event or None
    row = st.container(horizontal=True, vertical_alignment="center", key="player")
    empty = not len(playlist)
    row.button("Previous", key="previous", on_click=_step, args=("previous",),
               icon=":material/skip_previous:", shortcut="J",
               disabled=empty or playlist.is_first(current),
               help="The event before this one, in time order (key J).")
    row.button("Pause" if playing else "Play", key="play", on_click=_play_pause,
               icon=":material/pause:" if playing else ":material/play_arrow:", shortcut="K",
               disabled=len(playlist) < 2, type="primary" if playing else "secondary",
               help=f"Show the events one after another, {PLAY_SECONDS:g} seconds each, in "
                    "time order (key K).")
    row.button("Next", key="next", on_click=_step, args=("next",),
               icon=":material/skip_next:", shortcut="L",
               disabled=empty or playlist.is_last(current),
               help="The event after this one, in time order (key L).")
    row.markdown(overview.md_escape(playlist.position_label(current)))
    if playing:
        # The fragment alone reruns on the timer; a step reruns the page, so map, details
        # and timeline follow.
        @st.fragment(run_every=PLAY_SECONDS)
        def ticker() -> None:
            if _play_tick(playlist):
                st.rerun()

        ticker()


@st.cache_resource(show_spinner=False, max_entries=16)
def _timeline_spec(version: str, filter_key: str, event: str,  # noqa: ARG001 (cache key)
                   _shown: pd.DataFrame) -> tuple[dict[str, object], str]:
    lane = "country" if _shown["country"].nunique() > 1 else "category"
    spec = timeline_spec(_shown, event or None, lane=lane)
    # As Arrow tables, which Streamlit sends as they are (rows would be converted every run).
    datasets = {name: pa.Table.from_pylist(rows) for name, rows in spec["datasets"].items()}
    return {**spec, "datasets": datasets}, lane


def _timeline(shown: pd.DataFrame, version: str) -> None:
    st.subheader("Timeline")
    if shown.empty:
        st.caption("No events in the current view.")
        return
    if len(shown) > MAX_TIMELINE_EVENTS:
        st.caption(f"The timeline draws up to {MAX_TIMELINE_EVENTS:,} events; narrow the "
                   f"filters ({len(shown):,} now) to see it.")
        return
    # Shared between sessions: Streamlit copies the spec before it takes the datasets out.
    spec, lane = _timeline_spec(version, _filter_key(_view()), _view().event, shown)
    st.vega_lite_chart(spec, on_select=_on_timeline, selection_mode=SELECTION, key="timeline",
                       width="stretch")
    st.caption("Each point is an event at its local time, one lane per "
               f"{lane}. Click a point to select the event.")


def _downloads(tools, shown: pd.DataFrame, route: Route, source: str, description: str
               ) -> None:
    row = tools.popover("Download", icon=":material/download:").container(key="downloads",
                                                                            width=340)
    row.caption(f"What the page shows now: {overview.md_escape(description)}.")
    # Each file is made when its button is clicked (data is a function), not on every run.
    made = {
        "csv": ("Events as CSV", ":material/table:",
                functools.partial(exports.to_csv_bytes, shown)),
        "geojson": ("Events as GeoJSON", ":material/map:",
                    functools.partial(exports.to_geojson_bytes, shown)),
        "ics": ("Itinerary as a calendar (.ics)", ":material/calendar_month:",
                functools.partial(exports.to_ics_bytes, shown, f"Event map: {description}")),
        "html": ("Map as a web page (.html)", ":material/public:",
                 functools.partial(_map_page, shown, route, _view().event,
                                   f"Event map: {description}")),
    }
    for kind, (label, icon, data) in made.items():
        no_calendar = kind == "ics" and shown.empty  # a calendar needs at least one event
        row.download_button(label, data=data, file_name=exports.file_name(source, kind),
                            mime=exports.MIME_TYPES[kind], key=f"download_{kind}", icon=icon,
                            on_click="ignore", disabled=no_calendar, width="stretch",
                            help="No events to put in a calendar." if no_calendar else None)


def _map_page(shown: pd.DataFrame, route: Route, selected: str, title: str) -> bytes:
    if mapview.clustered(len(shown)):
        fmap = mapview.build_cluster_map(shown)
        ring = mapview.cluster_highlight_layer(shown, selected) if selected else None
        if ring is not None:
            ring.add_to(fmap)
    else:
        fmap = mapview.build_map(shown, route, selected=selected)
    return exports.standalone_html(fmap,
                                   title=title)


def _init_state(events: pd.DataFrame, days: list[str], data: str) -> None:
    st.session_state["bounds"] = (date.fromisoformat(days[0]), date.fromisoformat(days[-1]))
    if "view" not in st.session_state:  # a new session: the URL says what to show
        pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
        state, notes = FilterState.from_pairs(pairs)
    elif st.session_state.get("data") != data:  # other events: start from all of them
        state, notes = FilterState(), []
    else:
        state, notes = _view(), st.session_state.get("notes", [])
    state, more = state.fit(events)  # the file may have changed since the last run
    if "view" not in st.session_state and state.event:
        _focus_map("url", state.event)
    st.session_state["view"] = state
    st.session_state["notes"] = notes + more
    st.session_state["data"] = data
    _sync_widgets(days)


def _notes() -> None:
    if st.session_state["notes"]:
        with st.container(border=True):
            for note in st.session_state["notes"]:
                st.warning(overview.md_escape(note), icon=":material/link:")
            st.button("Dismiss", on_click=_dismiss_notes, key="dismiss_notes")


def _map(view: FilterState, shown: pd.DataFrame, total: int, route: Route, version: str
         ) -> None:
    if shown.empty:
        if view.countries or view.categories or view.participants or view.text:
            hint = "Loosen the filters above, or clear them all"
        else:
            hint = (f"Widen the dates (the data covers {span_text(*st.session_state['bounds'])}) "
                    "or choose “All days”")
        st.info(f"No events match: {overview.md_escape(view.describe(0, total))}. {hint}.",
                icon=":material/search_off:")
    args = _map_args(version, _filter_key(view), shown, route)
    ring = None
    if view.event:
        ring = (mapview.cluster_highlight_layer(shown, view.event)
                if mapview.clustered(len(shown))
                else mapview.highlight_layer(shown, route, view.event))
    pending = st.session_state.pop("map_focus", None)  # one request, for this run's map
    target = (mapview.focus(shown, route, view.event, pending[0])
              if pending and pending[1] == view.event else None)
    if target is not None and ring is not None and not mapview.clustered(len(shown)):
        mapview.bring_into_view(ring, target)  # the routed map pans only if it must
        target = None
    # The highlight travels as a feature group, so selecting does not rebuild the map.
    _map_component(args, ring, f"map-{st.session_state.get('map_epoch', 0)}",
                   mapview.focus_view(target, pending[2] if pending else 0))
    st.caption("Map tiles © OpenStreetMap contributors, loaded from openstreetmap.org; "
               "offline, markers and route still work on a blank background.")


def main() -> None:
    """Build the page."""
    # An emoji icon, not a :material/...: one, whose favicon Streamlit fetches from Google Fonts.
    st.set_page_config(page_title="Event map", page_icon="🗺️", layout="wide")
    if not st.get_option("server.enableStaticServing"):
        st.error("The map's scripts (Leaflet) are served by this app, and static file serving "
                 "is off. Start the page with `streamlit run dashboard/app.py`, whose "
                 "dashboard/.streamlit/config.toml turns it on, or add "
                 "`--server.enableStaticServing true` to your command.")
        st.stop()
    _vendor_assets()

    path, arg_notes = settings.data_path(_argv(), os.environ)
    where = path.relative_to(settings.ROOT) if path.is_relative_to(settings.ROOT) else path
    # Less empty space above the title (it starts where Streamlit's 60 px header ends), so
    # the map fits a laptop screen below the filters.
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:3.75rem}"
            f"[data-testid='stMainBlockContainer'] h1{{padding:0}}{MAP_FRAME_CSS}</style>")
    title_col, tools_col = st.columns([3, 2], vertical_alignment="center")
    title_col.title("Event map")
    # Filled further down, once the data and the view are known.
    tools = tools_col.container(horizontal=True, horizontal_alignment="right")
    uploaded = _uploaded()
    if uploaded is not None and uploaded.too_big:
        st.error(overview.md_escape(uploaded.dataset.problems[0].message),
                 icon=":material/block:")
        uploaded = None
    if uploaded is not None:
        dataset, label = uploaded.dataset, f"{uploaded.name} (uploaded)"
        data = f"upload:{st.session_state['upload_read'][0]}"
    else:
        dataset, label, data = _load(str(path), _stamp(path)), str(where), f"file:{path}"
    events = dataset.events
    _data_panel(tools, label, uploaded, where.name)
    for note in arg_notes:
        st.warning(note)
    if events.empty:
        if uploaded is not None:
            st.error(f"No events to show from {overview.md_escape(uploaded.name)}. Fix the "
                     "problems below and upload it again, or go back to "
                     f"{overview.md_escape(where.name)}.")
        else:
            st.error(f"No events to show from {path}. Fix the problems below, or point the page "
                     "at another file: `streamlit run dashboard/app.py -- --data PATH`.")
        _problems(dataset, uploaded is not None)
        return

    days = sorted(events["day"].unique())
    _init_state(events, days, data)
    view = _view()
    # What the cached work is keyed on: an upload read again (online switched on) is new data.
    version = (f"{data}:{st.session_state['upload_reads']}" if uploaded
               else f"{data}:{_stamp(path)}")
    # Stops keep the whole trip's numbers when the filter hides some (mapview.view_route).
    shown, route = _view_data(version, _filter_key(view), events, view)

    playlist = _playlist(version, _filter_key(view), shown)
    selected = events.loc[events["id"] == view.event, "instant"]
    # For the callbacks of the next run; the instant lets steps go on from a hidden event.
    st.session_state["playlist"] = (playlist, selected.iloc[0] if len(selected) else None)
    if _play_tick(playlist):
        view = _view()
    # The headline repeats the URL's filter values: Markdown must not read them.
    st.markdown(f"**{overview.md_escape(overview.headline(view, shown, len(events), route))}**")
    _problems_notice(dataset)
    _located_notice(uploaded)
    _notes()
    _filters(days, events, version)
    if view.countries or view.categories or view.participants or view.text:
        st.button("Clear all filters", on_click=_clear_filters, key="clear_filters")
    map_col, info_col = st.columns([3, 2], gap="medium")
    with map_col:
        _player(playlist)
        _map(view, shown, len(events), route, version)
    with info_col, st.container(border=True):
        _details(events, shown, route)
    _timeline(shown, version)
    st.subheader(f"Events ({len(shown)} of {len(events)})" if view.filtered
                 else f"Events ({len(events)})")
    _table(shown, route, version)
    _downloads(tools, shown, route, uploaded.name if uploaded else path.name,
               view.describe(len(shown), len(events)))
    sources = _sources(version, events)
    st.caption(overview.md_escape(f"Data: {label}" + (f" · Sources: {', '.join(sources)}"
                                                       if sources else "")))
    _located(uploaded)
    _problems(dataset, uploaded is not None)
    _sync_url()


main()
