"""What the page says in words: the headline, the trip at a glance, one event's details."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from urllib.parse import quote

import pandas as pd

from dashboard.countries import country_name
from dashboard.dates import format_when, span_text
from dashboard.filters import FilterState, category_label
from dashboard.route import Route, Stop

# Characters Markdown (and Streamlit's extensions: $math$, :emoji:, :red[...]) would read.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")


def md_escape(text: str) -> str:
    """Text shown as itself in st.markdown, whatever characters it holds."""
    # Every line break (Markdown reads "\r" as one too) becomes a space: a blank line
    # would start a new block, and an indented line after it a code block.
    return re.sub(r"\r\n?|\n", " ", _MD_SPECIAL.sub(r"\\\1", text))


def plural(n: int, noun: str) -> str:
    """'1 stop', '4 stops'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def days_span(events: pd.DataFrame) -> tuple[date, date] | None:
    """First and last day of the events, or None for no events."""
    if events.empty:
        return None
    return date.fromisoformat(events["day"].min()), date.fromisoformat(events["day"].max())


def headline(state: FilterState, shown: pd.DataFrame, total: int, route: Route) -> str:
    """One line on what is shown: "All 7 events · 26–28 Mar 2025 · 4 stops · 5,161 km"."""
    count, _, rest = state.describe(len(shown), total).partition(" · ")
    parts = [count, rest] if rest else [count]
    span = days_span(shown)
    if span and not (state.start or state.end):
        parts.insert(1, span_text(*span))  # the days first, as when the dates are filtered
    if not shown.empty:
        parts.append(plural(len(route.stops), "stop"))
        if route.legs:
            parts.append(f"{route.total_km:,.0f} km")
    return " · ".join(parts)


def glance(shown: pd.DataFrame, route: Route) -> dict[str, str]:
    """The trip in four numbers: days, stops, distance, events."""
    span = days_span(shown)
    days = (span[1] - span[0]).days + 1 if span else 0
    return {
        "Days": f"{days:,}",
        "Stops": f"{len(route.stops):,}",
        "Distance": f"{route.total_km:,.0f} km",
        "Events": f"{len(shown):,}",
    }


def stop_line(stop: Stop) -> str:
    """One stop in Markdown: "San Salvador, El Salvador · 26 Mar 2025 · 2 events"."""
    return (f"{md_escape(stop.place)}, {md_escape(country_name(stop.country))} · "
            f"{stop.days_text} · {plural(len(stop.event_ids), 'event')}")


def source_link(name: str, url: str) -> str:
    """The source as Markdown: a link only for http(s) URLs, otherwise just the name."""
    label = md_escape(name or url or "source")
    if re.match(r"(?i)https?://\S+$", url or ""):
        safe = quote(url, safe=":/?#@!$&'*+,;=%~")
        return f"[{label}]({safe})"
    return label


def details_markdown(event: Mapping[str, object], stop: Stop | None) -> str:
    """Everything known about one event, as Markdown with the data's text escaped."""
    def text(name: str) -> str:
        value = event.get(name, "")
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    lines = [f"#### {md_escape(text('title'))}"]
    when = format_when(text("date"))
    if text("date_basis") == "inferred":
        when += " · _date inferred_"
    lines.append(f"**Date:** {when}")
    place = f"{md_escape(text('place'))}, {md_escape(country_name(text('country')))}"
    if text("place_basis") == "inferred":
        place += " · _place inferred_"
    if stop is not None:
        place += f" · stop {stop.number}"
    lines.append(f"**Place:** {place}")
    lines.append(f"**Category:** {md_escape(category_label(text('category')))}")
    people = [p.strip() for p in text("participants").split(";") if p.strip()]
    if people:
        lines.append("**Participants:**\n" + "\n".join(f"- {md_escape(p)}" for p in people))
    if text("summary"):
        lines.append(md_escape(text("summary")))
    if text("source_quote"):
        lines.append(f"> “{md_escape(text('source_quote'))}”\n>\n> — "
                     f"{source_link(text('source_name'), text('source_url'))}")
    elif text("source_name") or text("source_url"):
        lines.append(f"**Source:** {source_link(text('source_name'), text('source_url'))}")
    lat, lon = event.get("lat"), event.get("lon")
    if isinstance(lat, float) and isinstance(lon, float) and not (pd.isna(lat) or pd.isna(lon)):
        where = f"**Coordinates:** {lat:.5f}, {lon:.5f}"
        if text("geocode_source"):
            where += f" · from {md_escape(text('geocode_source'))}"
            if text("geocode_match"):
                where += f" (matched “{md_escape(text('geocode_match'))}”)"
        lines.append(where)
    return "\n\n".join(lines)
