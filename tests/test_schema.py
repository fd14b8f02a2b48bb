"""The schema table, its README documentation, and validate_frame's typed result."""

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard.schema import FIELD_NAMES, FIELDS, REQUIRED, validate_frame

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_schema_rows() -> dict[str, str]:
    """field -> 'required' cell, from README's schema table."""
    section = README.read_text(encoding="utf-8").split("## The event schema", 1)[1]
    section = section.split("\n## ", 1)[0]
    return {m[1]: m[2].strip() for m in re.finditer(r"^\| `(\w+)` \|([^|]*)\|", section, re.M)}


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_NAMES)
def test_every_field_is_in_readme_table(field):
    rows = _readme_schema_rows()
    assert field.name in rows, f"README's schema table lacks `{field.name}`"
    assert (rows[field.name] == "yes") == field.required


def test_readme_table_has_no_unknown_fields():
    assert set(_readme_schema_rows()) == set(FIELD_NAMES)


def _raw(**columns) -> pd.DataFrame:
    base = {"id": ["a"], "date": ["2025-03-27"], "title": ["T"], "place": ["Bogotá"],
            "country": ["co"], "row": ["line 2"]}
    base.update({k: [v] for k, v in columns.items()})
    return pd.DataFrame(base, dtype=object)


def test_valid_row_gets_types_defaults_and_derived_columns():
    valid, problems = validate_frame(_raw(lat="4.61", lon="-74.08", notes="kept"), "f.csv")
    assert problems == []
    rec = valid.iloc[0]
    assert rec["country"] == "CO"
    assert (rec["lat"], rec["lon"]) == (4.61, -74.08)
    assert rec["date_basis"] == rec["place_basis"] == "stated"
    assert rec["notes"] == "kept"
    assert rec["day"] == "2025-03-27"
    assert rec["instant"] == pd.Timestamp("2025-03-27T12:00", tz="UTC")  # a date alone: midday UTC


def test_datetime_with_offset_keeps_local_day_and_orders_in_utc():
    valid, problems = validate_frame(_raw(date="2025-03-27T23:30-05:00"), "f.csv")
    assert problems == []
    assert valid.iloc[0]["day"] == "2025-03-27"
    assert valid.iloc[0]["instant"] == pd.Timestamp("2025-03-28T04:30", tz="UTC")


def test_missing_coordinates_are_nan_not_errors():
    valid, problems = validate_frame(_raw(), "f.csv")
    assert problems == []
    assert math.isnan(valid.iloc[0]["lat"]) and math.isnan(valid.iloc[0]["lon"])


def test_every_problem_of_a_row_is_reported_at_once():
    _, problems = validate_frame(_raw(id="Bad Id", date="27/03/2025", country="XX", lat="95",
                                      lon="-200", date_basis="guess"), "f.csv")
    assert [p.field for p in problems] == ["id", "date", "country", "lat", "lon", "date_basis"]
    assert all(p.file == "f.csv" and p.row == "line 2" for p in problems)


def test_missing_required_column_is_one_problem():
    raw = pd.DataFrame({"id": ["a", "b"], "date": ["2025-03-27"] * 2, "place": ["x"] * 2,
                        "country": ["CO"] * 2, "row": ["line 2", "line 3"]}, dtype=object)
    valid, problems = validate_frame(raw, "f.csv")
    assert valid.empty
    assert [str(p) for p in problems] == [
        "f.csv, line 1, field 'title': there is no 'title' column; every event needs one: "
        "Short headline of the event."]


def test_required_fields_are_the_issue_list():
    assert REQUIRED == ("id", "date", "title", "place", "country")


def test_columns_the_file_lacks_come_out_alike_whether_rows_are_dropped_or_not():
    # Columns a file lacks are made anew for the kept rows: same values, dtype and order as
    # when the file has them empty.
    lacking = pd.DataFrame({"id": ["a", "b", "c"],
                            "date": ["2025-03-27", "2025-02-30", "2025-03-28"],
                            "title": ["T"] * 3, "place": ["P"] * 3, "country": ["sv"] * 3,
                            "row": ["line 2", "line 3", "line 4"]}, dtype="str")
    full = lacking.copy()
    for name in FIELD_NAMES:
        if name not in full.columns:
            full[name] = ""
    full = full[[*lacking.columns[:-1], "row", *[c for c in full.columns if c not in lacking]]]
    events, problems = validate_frame(lacking, "f.csv")
    expected, same_problems = validate_frame(full, "f.csv")
    assert [p.row for p in problems] == ["line 3"] and problems == same_problems
    assert events["id"].tolist() == ["a", "c"]
    assert events["date_basis"].tolist() == ["stated", "stated"]
    assert events["country"].tolist() == ["SV", "SV"]
    pd.testing.assert_frame_equal(events, expected[events.columns])
    assert list(events.columns) == list(validate_frame(lacking.iloc[[0]], "f.csv")[0].columns)
