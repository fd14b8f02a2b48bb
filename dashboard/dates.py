"""Dates and event times as people read them: "26–27 Mar 2025", "Thu 27 Mar 2025, 10:30".

An event's time is shown in its own local time, as written, with its UTC offset
("(UTC−05:00)"); a span of days shares what its two ends share.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date

import pandas as pd

# English names on purpose: strftime's %a follows the server's locale.
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUS = "\u2212"  # typographic minus, so "UTC−05:00" does not read as a dash

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_text(day: date) -> str:
    """One day as "26 Mar 2025"."""
    return f"{day.day} {day:%b %Y}"


def short_day_text(day: date) -> str:
    """One day as "Wed 26 Mar", for buttons."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%b}"


def span_text(start: date, end: date) -> str:
    """A date range, sharing what the two ends share.

    >>> span_text(date(2025, 3, 26), date(2025, 3, 27))
    '26–27 Mar 2025'
    >>> span_text(date(2025, 3, 30), date(2025, 4, 2))
    '30 Mar – 2 Apr 2025'
    """
    if end < start:
        start, end = end, start
    if start == end:
        return day_text(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{day_text(start)} – {day_text(end)}"


def parse_day(text: str) -> date | None:
    """An ISO date 'YYYY-MM-DD', or None when the text is not one."""
    try:
        parsed = date.fromisoformat(text.strip())
    except ValueError:
        return None
    # fromisoformat also takes '20250327' and week dates; URLs and files use the dashed form.
    return parsed if len(text.strip()) == 10 else None


# --- event times --------------------------------------------------------------------------


def parse_when(text: str) -> dt.date | dt.datetime:
    """The event's ``date`` field as a date, or as a datetime carrying its own UTC offset.

    >>> parse_when("2025-03-27T10:30-05:00").utcoffset()
    datetime.timedelta(days=-1, seconds=68400)
    """
    text = text.strip()
    if _DATE_RE.fullmatch(text):
        return dt.date.fromisoformat(text)
    # Python 3.11 reads "Z", "+0500" and a space separator as well as strict ISO 8601.
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has a time but no UTC offset; add one, e.g. "
                         "2025-03-27T10:30-05:00.")
    return value


def format_offset(offset: dt.timedelta | None) -> str:
    """A UTC offset as "UTC−05:00", "UTC+05:30", or "UTC" for zero.

    >>> format_offset(dt.timedelta(hours=-5))
    'UTC−05:00'
    """
    if not offset:
        return "UTC"
    sign = "+" if offset > dt.timedelta(0) else MINUS
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_day(day: dt.date) -> str:
    """A calendar day with its weekday: "Wed 26 Mar 2025"."""
    return f"{WEEKDAYS[day.weekday()]} {day_text(day)}"


def format_when(value: str | dt.date | dt.datetime) -> str:
    """An event's time as written: a day, or a day and time in the event's local time.

    >>> format_when("2025-03-26")
    'Wed 26 Mar 2025'
    >>> format_when("2025-03-27T10:30-05:00")
    'Thu 27 Mar 2025, 10:30 (UTC−05:00)'
    """
    if isinstance(value, str):
        value = parse_when(value)
    if not isinstance(value, dt.datetime):
        return format_day(value)
    clock = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        clock += f":{value.second:02d}"
    if value.tzinfo is None:
        return f"{format_day(value.date())}, {clock}"
    return f"{format_day(value.date())}, {clock} ({format_offset(value.utcoffset())})"


def format_span(first: str | dt.date, last: str | dt.date | None = None) -> str:
    """Days from ``first`` to ``last`` (inclusive), naming month and year once where shared.

    Accepts dates or ISO 'YYYY-MM-DD' text (a datetime's text counts as its local day);
    the wording is :func:`span_text`'s, so route and page read alike.

    >>> format_span("2025-03-26", "2025-03-28")
    '26–28 Mar 2025'
    >>> format_span("2024-12-30", "2025-01-02")
    '30 Dec 2024 – 2 Jan 2025'
    """
    a = _day(first)
    return span_text(a, a if last is None else _day(last))


def events_span(events: pd.DataFrame) -> str:
    """The span of the events' local days ("26–28 Mar 2025"), or "" when there are none."""
    days = events["day"] if "day" in events.columns else pd.Series([], dtype=str)
    days = days[days.astype(str) != ""]
    if days.empty:
        return ""
    return format_span(str(days.min()), str(days.max()))


def wall_time(value: str | dt.date | dt.datetime) -> dt.datetime:
    """The event's local clock reading as a naive datetime (midnight for a date-only event).

    Charts place events by this, so an event shows on the day and hour it was written with,
    whatever the viewer's time zone.
    """
    if isinstance(value, str):
        value = parse_when(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime(value.year, value.month, value.day)


def _day(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])
