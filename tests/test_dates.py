"""Dates, event times in their local time, and date spans, as tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.dates import (
    events_span,
    format_day,
    format_offset,
    format_span,
    format_when,
    parse_when,
    wall_time,
)
from tests.sample_events import make_events

M = "\u2212"


@pytest.mark.parametrize(("text", "shown"), [
    ("2025-03-26", "Wed 26 Mar 2025"),
    ("2025-03-27T10:30-05:00", f"Thu 27 Mar 2025, 10:30 (UTC{M}05:00)"),
    ("2025-03-27T10:30:00-05:00", f"Thu 27 Mar 2025, 10:30 (UTC{M}05:00)"),
    ("2025-03-27T10:30:15-05:00", f"Thu 27 Mar 2025, 10:30:15 (UTC{M}05:00)"),
    ("2025-03-27 10:30-0500", f"Thu 27 Mar 2025, 10:30 (UTC{M}05:00)"),
    # Local time as written, never converted: 23:15 in Mexico City stays on Friday.
    ("2025-01-03T23:15-06:00", f"Fri 3 Jan 2025, 23:15 (UTC{M}06:00)"),
    ("2025-03-27T09:05Z", "Thu 27 Mar 2025, 09:05 (UTC)"),
    ("2025-03-27T09:05+00:00", "Thu 27 Mar 2025, 09:05 (UTC)"),
    ("2025-03-28T14:00+05:30", "Fri 28 Mar 2025, 14:00 (UTC+05:30)"),
    ("2025-03-28T00:00+13:45", "Fri 28 Mar 2025, 00:00 (UTC+13:45)"),
    ("2024-02-29", "Thu 29 Feb 2024"),
    ("2025-03-30", "Sun 30 Mar 2025"),
])
def test_format_when(text, shown):
    assert format_when(text) == shown


def test_format_when_takes_parsed_values():
    assert format_when(dt.date(2025, 3, 24)) == "Mon 24 Mar 2025"
    tz = dt.timezone(dt.timedelta(hours=-3))
    assert format_when(dt.datetime(2025, 3, 29, 8, 0, tzinfo=tz)) == \
        f"Sat 29 Mar 2025, 08:00 (UTC{M}03:00)"


@pytest.mark.parametrize("text", ["2025-03-27T10:30", "27/03/2025", "2025-13-01", ""])
def test_parse_when_refuses_what_the_schema_refuses(text):
    with pytest.raises(ValueError):
        parse_when(text)


@pytest.mark.parametrize(("hours", "minutes", "shown"), [
    (0, 0, "UTC"), (-5, 0, f"UTC{M}05:00"), (5, 30, "UTC+05:30"), (-9, -30, f"UTC{M}09:30"),
    (14, 0, "UTC+14:00"), (-12, 0, f"UTC{M}12:00"),
])
def test_format_offset(hours, minutes, shown):
    assert format_offset(dt.timedelta(hours=hours, minutes=minutes)) == shown


@pytest.mark.parametrize(("first", "last", "shown"), [
    ("2025-03-26", "2025-03-26", "26 Mar 2025"),
    ("2025-03-26", None, "26 Mar 2025"),
    ("2025-03-26", "2025-03-28", "26\u201328 Mar 2025"),
    ("2025-03-30", "2025-04-02", "30 Mar \u2013 2 Apr 2025"),
    ("2024-12-30", "2025-01-02", "30 Dec 2024 \u2013 2 Jan 2025"),
    ("2025-03-28", "2025-03-26", "26\u201328 Mar 2025"),  # ends given the wrong way round
    ("2025-03-27T23:30-05:00", "2025-03-28", "27\u201328 Mar 2025"),  # the local day counts
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "1 Jan \u2013 31 Dec 2025"),
])
def test_format_span(first, last, shown):
    assert format_span(first, last) == shown


def test_format_day():
    assert format_day(dt.date(2025, 3, 26)) == "Wed 26 Mar 2025"


def test_events_span():
    events = make_events()
    assert events_span(events) == "31 Dec 2024 \u2013 4 Jan 2025"
    # mx-press is 05:15 UTC on 4 Jan, but its local day (the one shown) is 3 Jan.
    assert events_span(events[events["id"].isin(["co-talks", "mx-press"])]) == "2\u20133 Jan 2025"
    assert events_span(events.iloc[[]]) == ""
    assert events_span(pd.DataFrame()) == ""


@pytest.mark.parametrize(("text", "wall"), [
    ("2025-03-26", dt.datetime(2025, 3, 26)),
    ("2025-03-27T10:30-05:00", dt.datetime(2025, 3, 27, 10, 30)),
    ("2025-01-03T23:15-06:00", dt.datetime(2025, 1, 3, 23, 15)),
])
def test_wall_time_is_the_local_clock(text, wall):
    assert wall_time(text) == wall
