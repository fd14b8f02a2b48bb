"""The vectorized paths give the answers of the plain ones: line labels, countries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import formats
from dashboard.countries import countries_near, country_names, in_country
from dashboard.formats import read_csv_text

HEADER = "id,date,title\n"


@pytest.fixture(params=[2, 10_000], ids=["chunks of 2", "one chunk"])
def chunk_rows(request, monkeypatch):
    """Records are read in chunks: labels must not depend on where a chunk ends."""
    monkeypatch.setattr(formats, "_CHUNK_ROWS", request.param)


@pytest.mark.usefixtures("chunk_rows")
@pytest.mark.parametrize("body, labels", [
    # One line per record: the fast path numbers by position.
    ("a,1,x\nb,2,y\n", ["line 2", "line 3"]),
    # Blank lines are skipped but still counted.
    ("a,1,x\n\nb,2,y\n\n\nc,3,z\n", ["line 2", "line 4", "line 7"]),
    ("a,1,x\r\n\r\nb,2,y\r\n", ["line 2", "line 4"]),
    # A quoted value spanning lines moves the following records down.
    ('a,1,"two\nlines"\nb,2,y\n', ["line 2", "line 4"]),
    # Short rows are padded; blank-valued rows are not events.
    ("a,1\n,,\nb,2,y\n", ["line 2", "line 4"]),
])
def test_csv_rows_are_labelled_with_the_line_they_start_on(body, labels):
    frame = read_csv_text(HEADER + body, "f.csv")
    assert frame["row"].tolist() == labels
    assert frame.attrs["problems"] == []
    assert frame["id"].tolist() == [line.split(",")[0] for line in body.split("\n")
                                    if line.strip(",\r") and not line.startswith("lines")]


@pytest.mark.usefixtures("chunk_rows")
def test_csv_problems_name_their_lines_after_blank_lines_and_multiline_values():
    body = 'a,1,x\n\nb,2,y,extra\nc,3,"multi\nline"\nd,4,w,extra\ne,5,"open\n'
    frame = read_csv_text(HEADER + body, "f.csv")
    assert frame["id"].tolist() == ["a", "c"]
    assert frame["row"].tolist() == ["line 2", "line 5"]
    assert [(p.row, p.message.split(";")[0]) for p in frame.attrs["problems"]] == [
        ("line 4", "the row has 4 values but the header names 3 columns"),
        ("line 7", "the row has 4 values but the header names 3 columns"),
        ("line 8", "cannot read the rest of the file (unexpected end of data)"),
    ]


def test_in_country_agrees_with_countries_near():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-60, 70, 3000), rng.uniform(-180, 180, 3000)
    codes = np.array(sorted(country_names()))
    stated = codes[rng.integers(0, len(codes), len(lat))].tolist()
    near = countries_near(lat, lon)
    # Half the points state a country that is near them, in either letter case.
    for i in range(0, len(lat), 2):
        if near[i]:
            stated[i] = sorted(near[i])[0].lower()
    expected = np.array([c.upper() in n for c, n in zip(stated, near, strict=True)])
    assert 300 < expected.sum() < len(lat)
    assert np.array_equal(in_country(lat, lon, stated), expected)


def test_in_country_handles_nothing_and_refuses_mismatched_lengths():
    assert in_country([], [], []).tolist() == []
    with pytest.raises(ValueError, match="one country per point"):
        in_country([13.7], [-89.2], ["SV", "CO"])


@pytest.mark.parametrize("values", [[], ["a"], ["a", "b", "a", "", "", "c", "a"],
                                    ["x", "y", "z"], ["", ""]])
def test_duplicates_from_codes_agree_with_pandas(values):
    from dashboard.schema import _duplicated

    series = pd.Series(values, dtype="str")
    dup, later = _duplicated(series)
    assert dup.tolist() == series.duplicated(keep=False).tolist()
    assert later.tolist() == series.duplicated(keep="first").tolist()


def test_the_places_tree_finds_the_nearest_place_a_full_scan_finds():
    from dashboard.countries import _places, _unit_vectors, country_at

    tree, codes = _places()
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-60, 70, 150), rng.uniform(-180, 180, 150)
    points = _unit_vectors(lat, lon)
    places = tree.data
    assert len(places) == len(codes) > 100_000
    nearest = np.array([np.argmin(((places - p) ** 2).sum(axis=1)) for p in points])
    _, found = tree.query(points, k=1)
    assert np.array_equal(codes[found], codes[nearest])
    # Namibia's code is text, not a missing value.
    assert country_at(-22.56, 17.08) == "NA"
