"""Small event frames built in code, validated as a loaded file would be."""

from __future__ import annotations

import pandas as pd

from dashboard.schema import validate_frame

BASE = {"source_name": "Example Wire", "date_basis": "stated", "place_basis": "stated"}

# Spread over three countries and two years, with a timed event, a dateline-adjacent day,
# an event without coordinates, and text that needs escaping in every format.
ROWS = [
    {"id": "sv-visit", "date": "2024-12-31", "title": "Year-end visit", "place": "San Salvador",
     "country": "SV", "lat": "13.6929", "lon": "-89.2182", "category": "visit",
     "participants": "Ana Pérez (Minister); Luis Gómez", "summary": "A visit.",
     "source_url": "https://example.org/a", "source_quote": "They visited."},
    {"id": "co-talks", "date": "2025-01-02", "title": 'Talks, round 2; "final"',
     "place": "Bogotá", "country": "CO", "lat": "4.711", "lon": "-74.0721",
     "category": "meeting", "participants": "Gustavo Petro (President of Colombia)",
     "summary": "First line, with comma; and semicolon.\nSecond line — “quoted” ünïcode ✓",
     "source_quote": "Talks went on; nobody left, they said.", "date_basis": "inferred"},
    {"id": "co-signing", "date": "2025-01-02T10:30-05:00", "title": "Signing at 10:30",
     "place": "Bogotá", "country": "CO", "lat": "4.7", "lon": "-74.08", "category": "signing",
     "participants": "", "summary": "", "source_url": "http://example.org/b"},
    {"id": "mx-press", "date": "2025-01-03T23:15-06:00", "title": "Late press conference",
     "place": "Mexico City", "country": "MX", "lat": "19.4326", "lon": "-99.1332",
     "category": "press_conference", "summary": "Local day differs from the UTC day."},
    {"id": "mx-unlocated", "date": "2025-01-04", "title": "Somewhere in Mexico",
     "place": "Nowhere Special", "country": "MX", "lat": "", "lon": "", "category": "tour"},
]


def make_events(rows: list[dict[str, str]] | None = None, file: str = "fixture.csv"
                ) -> pd.DataFrame:
    """Validated events from row dicts (text values, as a file gives them); no problems allowed."""
    records = [{**BASE, **r} for r in (ROWS if rows is None else rows)]
    raw = pd.DataFrame(records, dtype=object).fillna("")
    raw["row"] = [f"line {i + 2}" for i in range(len(raw))]
    events, problems = validate_frame(raw, file)
    assert not problems, [str(p) for p in problems]
    return events
