"""Property tests: for any input, the validator returns a result, never an exception."""

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.formats import parse_events
from dashboard.schema import FIELD_NAMES, Problem

FIELDS = st.sampled_from([*FIELD_NAMES, "extra", ""])
CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["2025-03-27", "2025-02-30", "13.69", "-89.19", "nan", "1e999", "SV", "co",
                     "inferred", "https://example.org", "javascript:alert(1)", '"', "\n", ","]),
)
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _check(result, name):
    assert result.source == name
    assert all(isinstance(p, Problem) for p in result.problems)
    assert all(p.file == name and p.message for p in result.problems)
    # Every kept event has the required fields filled in.
    for field in ("id", "date", "title", "place", "country"):
        assert (result.events[field] != "").all()
    assert result.events["id"].is_unique


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_csv(data):
    _check(parse_events(data, "x.csv"), "x.csv")


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_geojson(data):
    _check(parse_events(data, "x.geojson"), "x.geojson")


@SETTINGS
@given(st.lists(FIELDS, min_size=1, max_size=8),
       st.lists(st.lists(CELL, max_size=9), max_size=6))
def test_any_csv_table(header, rows):
    def line(cells):
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    text = "\n".join([line(header), *(line(r) for r in rows)])
    _check(parse_events(text.encode(), "t.csv"), "t.csv")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(string.ascii_letters),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8),
                                                                       children, max_size=3),
    max_leaves=12,
)


@SETTINGS
@given(st.lists(st.fixed_dictionaries({
    "type": st.sampled_from(["Feature", "Point", None]),
    "geometry": JSONISH | st.fixed_dictionaries({
        "type": st.sampled_from(["Point", "LineString"]),
        "coordinates": st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3)}),
    "properties": JSONISH | st.dictionaries(FIELDS, CELL, max_size=8),
}), max_size=5))
def test_any_feature_collection(features):
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    _check(parse_events(data, "f.geojson"), "f.geojson")
