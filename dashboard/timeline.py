"""The filtered events over time, as a Vega-Lite spec whose clicked point names an event."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dashboard.countries import country_name
from dashboard.dates import format_when, wall_time
from dashboard.filters import category_label
from dashboard.mapview import SELECTED_COLOUR, category_styles

# The point selection's name: st.vega_lite_chart(..., on_select="rerun") returns the clicked
# event under state["selection"][SELECTION], as [{"id": ...}].
SELECTION = "event"
POINTS_VIEW = "points"  # the layer the selection listens to
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

LANES = ("country", "category")
ROW_PX = 26
CHROME_PX = 150  # axis, legend and padding
# Up to this many days, the axis has a labelled tick per day; beyond, Vega's own ticks.
DAY_TICKS_UP_TO = 14
# How many legend entries share a row depends on the chart's width, which only the browser
# knows: the spec gives Vega the width each count of columns needs (see _legend_columns).
# Streamlit's theme draws legend labels at 14 px; these overestimate, so a row never overflows.
LEGEND_CHAR_PX = 8  # more than the theme font's widest lowercase average
LEGEND_ENTRY_PX = 40  # symbol, the space before its label and the space after the entry
LEGEND_LABEL_LIMIT = 160  # Vega's default: a longer label ends in an ellipsis
# The map's marker shapes, in Vega-Lite's names.
_VEGA_SHAPES = {"circle": "circle", "square": "square", "diamond": "diamond",
                "triangle": "triangle-up"}


COLUMNS = ("id", "title", "when", "where", "category", "category_label", "lane", "at", "slot",
           "selected", "aria")


def timeline_data(events: pd.DataFrame, selected_id: str | None = None,
                  lane: str = "country") -> pd.DataFrame:
    """One row per event with what the chart draws (lane, local time, slot, labels)."""
    return pd.DataFrame(_columns(events, selected_id, lane), columns=list(COLUMNS))


def _columns(events: pd.DataFrame, selected_id: str | None, lane: str) -> dict[str, list]:
    if lane not in LANES:
        raise ValueError(f"lane must be one of {', '.join(LANES)}; got {lane!r}.")
    ordered = events.sort_values("instant", kind="stable")
    dates, categories = ordered["date"].to_list(), ordered["category"].astype(str).to_list()
    # Worked out once per distinct value: a large view has far fewer days and countries.
    times = {d: _local_time(d) for d in set(dates)}
    names = {c: country_name(c) for c in set(ordered["country"])}
    labels = {c: category_label(c) for c in set(categories)}
    ids, titles = ordered["id"].astype(str).to_list(), ordered["title"].to_list()
    countries = [names[c] for c in ordered["country"]]
    when = [times[d][2] for d in dates]
    where = [", ".join(p for p in (place, name) if p)
             for place, name in zip(ordered["place"], countries, strict=True)]
    category_labels = [labels[c] for c in categories]
    lanes = countries if lane == "country" else category_labels
    # Events of one lane and day share a spot on the chart; each gets its own slot in the lane.
    # Slots are centred on the lane's line: -0.5 and 0.5 for two events, -1, 0 and 1 for three.
    spots = list(zip(lanes, (times[d][1] for d in dates), strict=True))
    size = Counter(spots)
    seen: Counter[tuple[str, str]] = Counter()
    slots = []
    for spot in spots:
        slots.append(seen[spot] - (size[spot] - 1) / 2)
        seen[spot] += 1
    return {
        "id": ids, "title": titles, "when": when, "where": where, "category": categories,
        "category_label": category_labels, "lane": lanes,
        "at": [times[d][0] for d in dates], "slot": slots,
        "selected": [bool(selected_id) and i == selected_id for i in ids],
        "aria": [", ".join(parts) for parts in zip(titles, when, where, category_labels,
                                                   strict=True)],
    }


def _local_time(date: str) -> tuple[str, str, str]:
    """Where an event's ``date`` stands on the chart, its local day, and how it reads."""
    # A date-only event happened some time that day: it stands at midday, in the middle of
    # its day's band, and a timed event at its local clock time within the band.
    local = wall_time(date) + (dt.timedelta(hours=12) if len(date) == 10 else dt.timedelta())
    # Vega parses a trailing Z as UTC and the chart's scale is UTC, so a point stands at the
    # local time the event was written with, whatever the viewer's time zone.
    return (local.strftime("%Y-%m-%dT%H:%M:%S") + "Z", local.date().isoformat(),
            format_when(date))


def timeline_spec(events: pd.DataFrame, selected_id: str | None = None,
                  lane: str = "country") -> dict[str, Any]:
    """The events over time as a Vega-Lite spec: one lane per country (or category).

    Points are coloured and shaped by category, as on the map; ``selected_id`` is drawn larger,
    with an outline. A click selects a point: pass the spec to ``st.vega_lite_chart(spec,
    on_select=..., selection_mode=SELECTION)`` and read the event id with
    :func:`selection_to_id`. The spec is plain JSON data, its rows in ``spec["datasets"]``.
    """
    columns = _columns(events, selected_id, lane)
    # Styled from the view in its own order, as the map does, so both give a category the
    # same colour and shape.
    styles = list(category_styles(events["category"].astype(str)).values()) if len(events) else []
    lanes = list(dict.fromkeys(columns["lane"]))  # in time order of first appearance
    slots = int(max(map(abs, columns["slot"]), default=0) * 2) + 1
    rows = [dict(zip(COLUMNS, values, strict=True))
            for values in zip(*(columns[c] for c in COLUMNS), strict=True)]
    name = _dataset_name("events", columns)
    labels = [s.label for s in styles]
    days = _days(columns["at"])
    scale = _time_scale(columns["at"], days)

    def when_selected(chosen: object, other: object) -> dict[str, object]:
        return {"condition": {"test": "datum.selected", "value": chosen}, "value": other}

    points: dict[str, Any] = {
        "data": {"name": name},
        "mark": {"type": "point", "filled": True, "cursor": "pointer"},
        "encoding": {
            "x": {"field": "at", "type": "temporal", "title": None, "scale": scale,
                  "axis": _time_axis(days)},
            "y": {"field": "lane", "type": "nominal", "title": None, "sort": lanes,
                  "axis": {"labelLimit": 160}},
            # Reversed, so the first event of a day stands at the top of its lane.
            "yOffset": {"field": "slot", "type": "quantitative",
                        "scale": {"domain": [-slots / 2, slots / 2], "reverse": True}},
            "color": {"field": "category_label", "type": "nominal", "title": "Category",
                      "scale": {"domain": labels, "range": [s.colour for s in styles]},
                      "legend": {"orient": "bottom", "symbolSize": 110,
                                 "symbolStrokeWidth": 0, "labelLimit": LEGEND_LABEL_LIMIT,
                                 "columns": _legend_columns(labels)}},
            "shape": {"field": "category_label", "type": "nominal", "title": "Category",
                      "scale": {"domain": labels,
                                "range": [_VEGA_SHAPES.get(s.shape, "circle") for s in styles]}},
            "size": when_selected(400, 130),
            "stroke": when_selected(SELECTED_COLOUR, "#ffffff"),
            "strokeWidth": when_selected(3, 1),
            # With one event selected the others step back, so the eye finds it at once.
            "opacity": (when_selected(1.0, 0.5) if any(columns["selected"])
                        else {"value": 1.0}),
            # Fields only: Vega shows a field's value as text, never as a format or expression.
            "tooltip": [{"field": "title", "type": "nominal", "title": "Event"},
                        {"field": "when", "type": "nominal", "title": "When"},
                        {"field": "where", "type": "nominal", "title": "Where"},
                        {"field": "category_label", "type": "nominal", "title": "Category"}],
            # The id rides along so the selection can carry it (fields=["id"]).
            "detail": {"field": "id", "type": "nominal"},
            # What a screen reader says for a point (by default Vega lists every field).
            "description": {"field": "aria", "type": "nominal"},
        },
    }
    pick: dict[str, Any] = {"name": SELECTION, "select": {
        "type": "point", "fields": ["id"], "on": "click", "toggle": False, "clear": "dblclick",
        "nearest": False}}
    # Streamlit fits axis and legend into the height too; ROW_PX per slot keeps points apart.
    spec: dict[str, Any] = {"$schema": VEGA_LITE_SCHEMA,
                            "height": CHROME_PX + ROW_PX * len(lanes) * max(2, min(slots, 4)),
                            "width": "container", "datasets": {name: rows}}
    if not days:
        return {**spec, **points, "params": [pick]}
    bounds = [{"at": (days[0] + dt.timedelta(days=i)).isoformat() + "T00:00:00Z"}
              for i in range(len(days) + 1)]
    lines = _dataset_name("days", {"at": [b["at"] for b in bounds]})
    spec["datasets"][lines] = bounds
    rules = {"data": {"name": lines}, "mark": {"type": "rule", "color": "#d0d4da",
                                               "strokeWidth": 1},
             "encoding": {"x": {"field": "at", "type": "temporal", "scale": scale}}}
    # A layer's selection is declared at the top and names the view it listens to.
    return {**spec, "layer": [rules, {**points, "name": POINTS_VIEW}],
            "params": [{**pick, "views": [POINTS_VIEW]}]}


def legend_row_widths(labels: list[str]) -> dict[int, int]:
    """For each number of legend columns, the width in pixels a row of them needs at most."""
    entries = [LEGEND_ENTRY_PX + min(len(label) * LEGEND_CHAR_PX, LEGEND_LABEL_LIMIT)
               for label in labels]
    # Vega fills the rows first and makes each column as wide as its widest entry.
    return {count: sum(max(entries[col::count]) for col in range(count))
            for count in range(1, len(entries) + 1)}


def _legend_columns(labels: list[str]) -> int | dict[str, str]:
    # A Vega expression of the plot's width (the legend starts at the plot's left edge): the
    # most columns whose row fits, so a phone gets two rows where a desktop gets one.
    widths = legend_row_widths(labels)
    if len(widths) < 2:
        return 0  # one entry or none: a single row
    expr = "1"
    for count, need in widths.items():  # the largest count that fits is tested first
        if count > 1:
            expr = f"width >= {need} ? {count} : {expr}"
    return {"expr": expr}


def _dataset_name(prefix: str, columns: dict[str, list]) -> str:
    # Named by content, as Altair names its datasets: new data is a new spec, drawn afresh.
    digest = hashlib.md5(json.dumps(columns).encode(), usedforsecurity=False)
    return f"{prefix}-{digest.hexdigest()}"


def _days(at: list[str]) -> list[dt.date]:
    """Every calendar day the chart spans, when it spans few enough to label each one."""
    if not at:
        return []
    first, last = (dt.date.fromisoformat(d[:10]) for d in (min(at), max(at)))
    count = (last - first).days + 1
    return [first + dt.timedelta(days=i) for i in range(count)] if count <= DAY_TICKS_UP_TO else []


def _utc(value: dt.datetime) -> dict[str, object]:
    # Vega-Lite DateTime objects, not epoch milliseconds: Streamlit's chart drops a numeric
    # time domain.
    return {"year": value.year, "month": value.month, "date": value.day, "hours": value.hour,
            "minutes": value.minute, "seconds": value.second, "utc": True}


def _time_scale(at: list[str], days: list[dt.date]) -> dict[str, object]:
    if days:  # whole days, edge to edge
        ends = (days[0], days[-1] + dt.timedelta(days=1))
        return {"type": "utc", "domain": [_utc(dt.datetime.combine(d, dt.time())) for d in ends]}
    if not at:
        return {"type": "utc"}
    # The text sorts as the time does (one fixed format), so only the ends are parsed.
    first, last = (dt.datetime.fromisoformat(a.removesuffix("Z")) for a in (min(at), max(at)))
    pad = dt.timedelta(hours=12)  # room at the ends, and an axis for a one-instant view
    return {"type": "utc", "domain": [_utc(first - pad), _utc(last + pad)]}


def _time_axis(days: list[dt.date]) -> dict[str, object]:
    if days:  # one label per day, at midday, between the lines that part the days
        noons = [_utc(dt.datetime.combine(d, dt.time(12))) for d in days]
        return {"values": noons, "format": "%a %-d %b", "labelAngle": 0, "grid": False,
                "title": None}
    return {"labelAngle": 0, "grid": True, "title": None}  # Vega picks weeks or months


def selection_to_id(selection_state: object) -> str | None:
    """The clicked event's id from what ``st.vega_lite_chart(on_select=...)`` returned, else None.

    >>> selection_to_id({"selection": {"event": [{"id": "co-petro"}]}})
    'co-petro'
    >>> selection_to_id({"selection": {"event": {}}}) is None
    True
    """
    if not isinstance(selection_state, Mapping):
        return None
    selection = selection_state.get("selection", selection_state)
    if not isinstance(selection, Mapping):
        return None
    value = selection.get(SELECTION)
    # Streamlit gives the point list ([{"id": ...}]); Vega's own signal value is {"id": [...]}.
    if isinstance(value, Mapping) and isinstance(value.get("vlPoint"), Mapping):
        value = value["vlPoint"].get("or", [])
    if isinstance(value, Mapping):
        ids = value.get("id")
        ids = ids if isinstance(ids, list | tuple) else [ids]
    elif isinstance(value, list | tuple):
        ids = [item.get("id") for item in value if isinstance(item, Mapping)]
    else:
        return None
    ids = [i for i in ids if isinstance(i, str) and i]
    return ids[-1] if ids else None
