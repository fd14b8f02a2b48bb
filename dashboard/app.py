"""The page: layout and wiring. Run ``streamlit run dashboard/app.py [-- --data PATH]``."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard import assets, clicks, mapview, overview, settings, upload  # noqa: E402
from dashboard.countries import country_name  # noqa: E402
from dashboard.dates import short_day_text, span_text  # noqa: E402
from dashboard.filters import FilterState, category_label, choices  # noqa: E402
from dashboard.formats import Dataset, load_events  # noqa: E402
from dashboard.geocode import Cache, CacheError  # noqa: E402
from dashboard.located import require_coordinates  # noqa: E402
from dashboard.route import Route, build_route, in_route_order  # noqa: E402

MAP_HEIGHT = 520
MAX_DAY_BUTTONS = 14  # one button per day reads well for a trip, not for a year of events
ALL_DAYS = "all"
FILTER_FIELDS = ("countries", "categories", "participants")  # the multi-select filters
MAX_PROBLEM_ROWS = 50  # a table wraps long messages; beyond this many, a scrolling grid


@st.cache_resource(show_spinner=False)
def _vendor_assets() -> list[str]:
    return [str(p) for p in assets.install()]


@st.cache_data(show_spinner=False)
def _load(path: str, stamp: tuple[int, int]) -> Dataset:  # noqa: ARG001 (stamp keys the cache)
    return require_coordinates(load_events(path))


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
    return done


def _data_panel(label: str, uploaded: upload.Upload | None, file_label: str) -> None:
    with st.sidebar:
        st.header("Data")
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
    if remount_map:
        # A new map key gives a fresh map whose next click always registers, even on the
        # marker clicked last (streamlit-folium only reports values that changed).
        st.session_state["map_epoch"] = st.session_state.get("map_epoch", 0) + 1


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
        _set_view(replace(_view(), event=event_id))


def _on_table() -> None:
    selection = st.session_state["table"]["selection"]
    # A row's checkbox selects the row; a click on any of its cells selects the cell. Each
    # run leaves only the selected event's row selected, so a cell is always the newest click.
    rows = [cell[0] for cell in selection["cells"]] or list(selection["rows"])
    ids = st.session_state.get("table_ids", [])
    event_id = ids[rows[0]] if rows and rows[0] < len(ids) else ""
    _set_view(replace(_view(), event=event_id), remount_map=True)


def _select(event_id: str) -> None:
    _set_view(replace(_view(), event=event_id), remount_map=True)


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


def _filters(days: list[str], events: pd.DataFrame) -> None:
    first, last = st.session_state["bounds"]
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    left.date_input("Dates", min_value=first, max_value=last, key="dates", on_change=_on_dates,
                    format="YYYY-MM-DD", help="Show the events between these dates.")
    if 1 < len(days) <= MAX_DAY_BUTTONS:
        labels = {ALL_DAYS: "All days"} | {d: short_day_text(date.fromisoformat(d)) for d in days}
        right.pills("Trip days", list(labels), format_func=labels.__getitem__, key="day",
                    on_change=_on_day, help="One click shows one day of the trip.")
    options = choices(events, _view())
    cols = st.columns(4, vertical_alignment="bottom")
    for col, (field, label, show, anyone) in zip(cols, (
            ("countries", "Countries", country_name, "All countries"),
            ("categories", "Categories", category_label, "All categories"),
            ("participants", "Participants", str, "Anyone")), strict=False):
        col.multiselect(label, options[field], format_func=show, key=f"f_{field}",
                        on_change=_on_multi, args=(field,), placeholder=anyone)
    cols[3].text_input("Search", key="f_text", on_change=_on_text, max_chars=200,
                       placeholder="Words in title, summary, people",
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


def _table(shown: pd.DataFrame, route: Route) -> None:
    ordered = in_route_order(shown)
    stop_of = route.stop_of()
    ids = [str(i) for i in ordered["id"]]
    st.session_state["table_ids"] = ids
    table = pd.DataFrame({
        "stop": [stop_of[i].number if i in stop_of else None for i in ids],
        "date": ordered["day"].to_list(),
        "title": ordered["title"].to_list(),
        "place": [f"{p}, {country_name(c)}" for p, c in zip(ordered["place"],
                                                            ordered["country"], strict=True)],
        "category": [category_label(c) for c in ordered["category"]],
    })
    want = [ids.index(_view().event)] if _view().event in ids else []
    current = st.session_state.get("table")
    if current is None or (list(current["selection"]["rows"]), list(current["selection"]["cells"])
                           ) != (want, []):
        st.session_state["table"] = {"selection": {"rows": want, "columns": [], "cells": []}}
    st.dataframe(
        table, key="table", on_select=_on_table, selection_mode=["single-row", "single-cell"],
        hide_index=True,
        width="stretch",
        column_config={
            "stop": st.column_config.NumberColumn("Stop", width="small"),
            "date": st.column_config.TextColumn("Date", width="small"),
            "title": st.column_config.TextColumn("Event", width="large"),
            "place": st.column_config.TextColumn("Place"),
            "category": st.column_config.TextColumn("Category", width="small"),
        })


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


def _map(view: FilterState, shown: pd.DataFrame, total: int, route: Route) -> None:
    if shown.empty:
        st.info(f"No events match: {overview.md_escape(view.describe(0, total))}. Widen the "
                "dates (the data "
                f"covers {span_text(*st.session_state['bounds'])}) or choose “All days”.",
                icon=":material/search_off:")
    fmap = mapview.build_map(shown, route, height=MAP_HEIGHT)
    ring = mapview.highlight_layer(shown, route, view.event) if view.event else None
    # The highlight travels as a feature group, so selecting does not rebuild the map.
    key = f"map-{st.session_state.get('map_epoch', 0)}"
    st_folium(fmap, key=key, height=MAP_HEIGHT, use_container_width=True,
              returned_objects=list(clicks.RETURNED_OBJECTS), feature_group_to_add=ring,
              on_change=functools.partial(_on_map_click, key))
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
    # Less empty space above the title, so the map fits a laptop screen below the filters.
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>")
    st.title("Event map")
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
    _data_panel(label, uploaded, where.name)
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
    shown = view.apply(events)
    # Stops keep the whole trip's numbers when the filter hides some.
    route = build_route(shown, build_route(events).numbering())

    # The headline repeats the URL's filter values: Markdown must not read them.
    st.markdown(f"**{overview.md_escape(overview.headline(view, shown, len(events), route))}**")
    _problems_notice(dataset)
    _located_notice(uploaded)
    _notes()
    _filters(days, events)
    if view.countries or view.categories or view.participants or view.text:
        st.button("Clear all filters", on_click=_clear_filters, key="clear_filters")
    map_col, info_col = st.columns([3, 2], gap="medium")
    with map_col:
        _map(view, shown, len(events), route)
    with info_col, st.container(border=True):
        _details(events, shown, route)
    st.subheader(f"Events ({len(shown)} of {len(events)})" if view.filtered
                 else f"Events ({len(events)})")
    _table(shown, route)
    sources = sorted({s for s in events["source_name"] if s})
    st.caption(overview.md_escape(f"Data: {label}" + (f" · Sources: {', '.join(sources)}"
                                                       if sources else "")))
    _located(uploaded)
    _problems(dataset, uploaded is not None)
    _sync_url()


main()
