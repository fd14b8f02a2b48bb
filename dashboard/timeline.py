"""The filtered events over time, as an Altair chart whose clicked point names an event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import altair as alt
import pandas as pd

from dashboard.countries import country_name
from dashboard.dates import format_when, wall_time
from dashboard.filters import category_label
from dashboard.mapview import SELECTED_COLOUR, category_styles

# The point selection's name: st.altair_chart(..., on_select="rerun") returns the clicked
# event under state["selection"][SELECTION], as [{"id": ...}].
SELECTION = "event"

LANES = ("country", "category")
ROW_PX = 26
CHROME_PX = 150  # axis, legend and padding
# Up to this many days, the axis has a labelled tick per day; beyond, Vega's own ticks.
DAY_TICKS_UP_TO = 14
# The map's marker shapes, in Vega-Lite's names.
_VEGA_SHAPES = {"circle": "circle", "square": "square", "diamond": "diamond",
                "triangle": "triangle-up"}


def timeline_data(events: pd.DataFrame, selected_id: str | None = None,
                  lane: str = "country") -> pd.DataFrame:
    """One row per event with what the chart draws (lane, local time, slot, labels)."""
    if lane not in LANES:
        raise ValueError(f"lane must be one of {', '.join(LANES)}; got {lane!r}.")
    columns = ["id", "title", "when", "where", "category", "category_label", "lane", "at",
               "slot", "selected", "aria"]
    if events.empty:
        return pd.DataFrame(columns=columns)
    ordered = events.sort_values("instant", kind="stable")
    # A date-only event happened some time that day: it stands at midday, in the middle of
    # its day's band, and a timed event at its local clock time within the band.
    local = [wall_time(d) + (dt.timedelta(hours=12) if len(d) == 10 else dt.timedelta())
             for d in ordered["date"]]
    countries = [country_name(c) for c in ordered["country"]]
    category = ordered["category"].astype(str)
    data = pd.DataFrame({
        "id": ordered["id"].astype(str).to_numpy(),
        "title": ordered["title"].to_numpy(),
        "when": [format_when(d) for d in ordered["date"]],
        "where": [", ".join(p for p in (place, name) if p)
                  for place, name in zip(ordered["place"], countries, strict=True)],
        "category": category.to_numpy(),
        "category_label": [category_label(c) for c in category],
        "lane": countries if lane == "country" else [category_label(c) for c in category],
        # Vega parses a trailing Z as UTC and the chart's scale is UTC, so a point stands at
        # the local time the event was written with, whatever the viewer's time zone.
        "at": [t.strftime("%Y-%m-%dT%H:%M:%S") + "Z" for t in local],
        "day": [t.date().isoformat() for t in local],
    })
    # Events of one lane and day share a spot on the chart; each gets its own slot in the lane.
    # Slots are centred on the lane's line: -0.5 and 0.5 for two events, -1, 0 and 1 for three.
    spot = data.groupby(["lane", "day"])
    data["slot"] = spot.cumcount() - (spot["id"].transform("size") - 1) / 2
    data["selected"] = data["id"].eq(selected_id) if selected_id else False
    data["aria"] = (data["title"] + ", " + data["when"] + ", " + data["where"]
                    + ", " + data["category_label"])
    return data[columns]


def timeline_chart(events: pd.DataFrame, selected_id: str | None = None,
                   lane: str = "country") -> alt.Chart | alt.LayerChart:
    """The events over time: one lane per country (or category), coloured by category.

    A click selects a point; pass the chart to ``st.altair_chart(chart, on_select="rerun",
    selection_mode=SELECTION)`` and read the event id with :func:`selection_to_id`.
    ``selected_id`` is drawn larger, with an outline.
    """
    data = timeline_data(events, selected_id, lane)
    # Styled from the view in its own order, as the map does, so both give a category the
    # same colour and shape.
    styles = category_styles(events["category"].astype(str)) if len(events) else {}
    lanes = list(dict.fromkeys(data["lane"]))  # in time order of first appearance
    slots = int(data["slot"].abs().max() * 2) + 1 if len(data) else 1
    pick = alt.selection_point(name=SELECTION, fields=["id"], on="click", toggle=False,
                               clear="dblclick", nearest=False)
    has_selected = bool(data["selected"].any())
    legend_scale = {"domain": [s.label for s in styles.values()]}
    days = _days(data)
    scale = _time_scale(data, days)
    chart = alt.Chart(data).mark_point(filled=True, cursor="pointer").encode(
        x=alt.X("at:T", title=None, scale=scale, axis=_time_axis(days)),
        y=alt.Y("lane:N", title=None, sort=lanes, axis=alt.Axis(labelLimit=160)),
        # Reversed, so the first event of a day stands at the top of its lane.
        yOffset=alt.YOffset("slot:Q", scale=alt.Scale(domain=[-slots / 2, slots / 2],
                                                      reverse=True)),
        color=alt.Color("category_label:N", title="Category",
                        scale=alt.Scale(**legend_scale,
                                        range=[s.colour for s in styles.values()]),
                        legend=alt.Legend(orient="bottom", symbolSize=110,
                                          symbolStrokeWidth=0)),
        shape=alt.Shape("category_label:N", title="Category",
                        scale=alt.Scale(**legend_scale,
                                        range=[_VEGA_SHAPES.get(s.shape, "circle")
                                               for s in styles.values()])),
        size=alt.condition("datum.selected", alt.value(400), alt.value(130)),
        stroke=alt.condition("datum.selected", alt.value(SELECTED_COLOUR), alt.value("#ffffff")),
        strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(1)),
        # With one event selected the others step back, so the eye finds it at once.
        opacity=(alt.condition("datum.selected", alt.value(1.0), alt.value(0.5))
                 if has_selected else alt.value(1.0)),
        tooltip=[alt.Tooltip("title:N", title="Event"), alt.Tooltip("when:N", title="When"),
                 alt.Tooltip("where:N", title="Where"),
                 alt.Tooltip("category_label:N", title="Category")],
        # The id rides along so the selection can carry it (fields=["id"]).
        detail="id:N",
        # What a screen reader says for a point (by default Vega lists every field).
        description="aria:N",
    ).add_params(pick)
    if days:
        chart = alt.layer(_day_lines(days, scale), chart)
    # Streamlit fits axis and legend into the height too; ROW_PX per slot keeps points apart.
    rows = len(lanes) * max(2, min(slots, 4))
    return chart.properties(height=CHROME_PX + ROW_PX * rows, width="container")


def _days(data: pd.DataFrame) -> list[dt.date]:
    """Every calendar day the chart spans, when it spans few enough to label each one."""
    if data.empty:
        return []
    first, last = (dt.date.fromisoformat(str(d)[:10]) for d in (data["at"].min(),
                                                                 data["at"].max()))
    count = (last - first).days + 1
    return [first + dt.timedelta(days=i) for i in range(count)] if count <= DAY_TICKS_UP_TO else []


def _utc(value: dt.datetime) -> alt.DateTime:
    # DateTime objects, not epoch milliseconds: Streamlit's chart drops a numeric time domain.
    return alt.DateTime(year=value.year, month=value.month, date=value.day, hours=value.hour,
                        minutes=value.minute, seconds=value.second, utc=True)


def _time_scale(data: pd.DataFrame, days: list[dt.date]) -> alt.Scale:
    if days:  # whole days, edge to edge
        ends = (days[0], days[-1] + dt.timedelta(days=1))
        return alt.Scale(type="utc",
                         domain=[_utc(dt.datetime.combine(d, dt.time())) for d in ends])
    if data.empty:
        return alt.Scale(type="utc")
    at = pd.to_datetime(data["at"]).dt.tz_localize(None)
    pad = pd.Timedelta(hours=12)  # room at the ends, and an axis for a one-instant view
    return alt.Scale(type="utc", domain=[_utc(at.min() - pad), _utc(at.max() + pad)])


def _time_axis(days: list[dt.date]) -> alt.Axis:
    if days:  # one label per day, at midday, between the lines that part the days
        noons = [_utc(dt.datetime.combine(d, dt.time(12))) for d in days]
        return alt.Axis(values=noons, format="%a %-d %b", labelAngle=0, grid=False,
                        title=None)
    return alt.Axis(labelAngle=0, grid=True, title=None)  # Vega picks weeks or months


def _day_lines(days: list[dt.date], scale: alt.Scale) -> alt.Chart:
    bounds = [dt.datetime.combine(days[0] + dt.timedelta(days=i), dt.time())
              for i in range(len(days) + 1)]
    lines = pd.DataFrame({"at": [b.strftime("%Y-%m-%dT%H:%M:%SZ") for b in bounds]})
    return alt.Chart(lines).mark_rule(color="#d0d4da", strokeWidth=1).encode(
        x=alt.X("at:T", scale=scale))


def selection_to_id(selection_state: object) -> str | None:
    """The clicked event's id from what ``st.altair_chart(on_select=...)`` returned, else None.

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
