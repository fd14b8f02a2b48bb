"""Dates said the way people write them: "26–27 Mar 2025", "30 Dec 2024 – 2 Jan 2025"."""

from __future__ import annotations

from datetime import date


def day_text(day: date) -> str:
    """One day as "26 Mar 2025"."""
    return f"{day.day} {day:%b %Y}"


def short_day_text(day: date) -> str:
    """One day as "Wed 26 Mar", for buttons."""
    return f"{day:%a} {day.day} {day:%b}"


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
