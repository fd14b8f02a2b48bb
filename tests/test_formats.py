"""CSV and GeoJSON reading and writing, round trips, and atomic writes."""

import json
import os

import pytest

from dashboard import atomic
from dashboard.formats import load_events, parse_events, to_csv_text, to_geojson_text, write_events

CSV = (
    "id,date,title,place,country,lat,lon,category,participants,summary,source_name,source_url,"
    "source_quote,date_basis,place_basis,notes,weather\n"
    'sv-a,2025-03-26,"Visit, with comma",San Salvador,SV,13.68935,-89.18718,visit,'
    '"A (Role); B (Other role)","She said ""yes"".",Latin Times,https://example.org/a,'
    '"A quote, verbatim.",stated,inferred,first note,sunny\n'
    "co-b,2025-03-27T10:30-05:00,Meeting,Bogotá,CO,,,meeting,,,,,,inferred,,,\n"
)


def _records(dataset):
    cols = [c for c in dataset.events.columns if c not in ("instant", "day", "row")]
    return dataset.events[cols].astype(object).fillna("").astype(str).to_dict("records")


def test_csv_with_bom_reads_like_without():
    plain = parse_events(CSV.encode(), "e.csv")
    bom = parse_events(b"\xef\xbb\xbf" + CSV.encode(), "e.csv")
    assert plain.problems == bom.problems == []
    assert _records(plain) == _records(bom)
    assert list(bom.events.columns[:1]) == ["id"]


def test_round_trip_csv_geojson_csv_keeps_every_field():
    first = parse_events(CSV.encode(), "e.csv")
    geo = parse_events(to_geojson_text(first.events).encode(), "e.geojson")
    back = parse_events(to_csv_text(geo.events).encode(), "e.csv")
    assert first.problems == geo.problems == back.problems == []
    assert _records(back) == _records(first)
    assert back.events.loc[0, "notes"] == "first note"
    assert back.events.loc[0, "weather"] == "sunny"
    assert back.events.loc[0, "summary"] == 'She said "yes".'
    assert to_csv_text(back.events) == to_csv_text(first.events)


def test_geojson_is_rfc7946_lon_lat_and_null_geometry_without_coordinates():
    doc = json.loads(to_geojson_text(parse_events(CSV.encode(), "e.csv").events))
    assert doc["type"] == "FeatureCollection"
    located, unlocated = doc["features"]
    assert located["geometry"] == {"type": "Point", "coordinates": [-89.18718, 13.68935]}
    assert "lat" not in located["properties"] and "lon" not in located["properties"]
    assert located["properties"]["notes"] == "first note"
    assert unlocated["geometry"] is None
    assert unlocated["properties"]["id"] == "co-b"


def test_write_events_picks_format_by_suffix(tmp_path):
    events = parse_events(CSV.encode(), "e.csv").events
    write_events(events, tmp_path / "out.geojson")
    write_events(events, tmp_path / "out.csv")
    assert json.loads((tmp_path / "out.geojson").read_text())["type"] == "FeatureCollection"
    assert (tmp_path / "out.csv").read_text().startswith("id,date,title,")
    assert _records(load_events(tmp_path / "out.csv")) == _records(
        load_events(tmp_path / "out.geojson"))


def test_unreadable_path_is_a_problem_not_a_crash(tmp_path):
    result = load_events(tmp_path / "missing.csv")
    assert result.events.empty
    assert [p.row for p in result.problems] == ["file"]
    assert "cannot read the file" in result.problems[0].message


class KilledError(RuntimeError):
    pass


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != "events.geojson")


def test_interrupted_rename_leaves_previous_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "events.geojson"
    target.write_text("old content\n")

    def fail(*_args):
        raise KilledError("killed before rename")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KilledError):
        atomic.write_text(target, "new content that never lands\n")
    assert target.read_text() == "old content\n"
    assert _leftovers(tmp_path) == []


def test_interrupted_write_midway_leaves_previous_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "events.geojson"
    target.write_text("old content\n")
    real_fsync = os.fsync
    calls = []

    def fail_after_partial_write(fd):
        calls.append(fd)
        real_fsync(fd)  # the partial data really is on disk, in the temporary file
        raise KilledError("killed mid-write")

    monkeypatch.setattr(os, "fsync", fail_after_partial_write)
    events = parse_events(CSV.encode(), "e.csv").events
    with pytest.raises(KilledError):
        write_events(events, target)
    assert calls, "the write never reached fsync"
    assert target.read_text() == "old content\n"
    assert _leftovers(tmp_path) == []


def test_atomic_write_replaces_and_creates_folders(tmp_path):
    target = tmp_path / "new" / "events.geojson"
    atomic.write_text(target, "one\n")
    atomic.write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["events.geojson"]


def test_atomic_write_keeps_the_file_readable_like_a_plain_write(tmp_path):
    plain, written = tmp_path / "plain.txt", tmp_path / "written.txt"
    plain.write_text("x")
    atomic.write_text(written, "x")
    assert written.stat().st_mode == plain.stat().st_mode  # not mkstemp's private 0600
    os.chmod(written, 0o640)
    atomic.write_text(written, "y")
    assert written.stat().st_mode & 0o777 == 0o640
