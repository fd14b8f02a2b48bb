"""Uploaded files: size limit, problems, rows located by cache, gazetteer or (asked) online."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard.formats import parse_events, to_csv_text
from dashboard.geocode import Answer, Cache
from dashboard.upload import (
    MAX_UPLOAD_BYTES,
    Located,
    online_source,
    read_upload,
    session_cache,
    size_text,
)
from tests.conftest import TRIP_ROWS, events_csv
from tests.fake_services import PLACES, FakeNominatim

UNLOCATED = [
    {"id": "co-medellin", "date": "2025-04-01", "title": "Medellín talk", "place": "Medellín",
     "country": "CO", "lat": "", "lon": "", "category": "meeting"},
    {"id": "mx-cached", "date": "2025-04-02", "title": "Cached venue", "place": "Casa Amarilla",
     "country": "MX", "lat": "", "lon": "", "category": "visit"},
    {"id": "mx-palace", "date": "2025-04-03", "title": "At the palace",
     "place": "Palacio Nacional", "country": "MX", "lat": "", "lon": "", "category": "meeting"},
]


def cache_with_casa_amarilla() -> Cache:
    cache = Cache()
    cache.put("Casa Amarilla", "MX", Answer(19.43, -99.14, "Casa Amarilla, CDMX"), "nominatim")
    cache.dirty = False
    return cache


def test_a_good_file_shows_every_event():
    data = events_csv(TRIP_ROWS).encode()
    upload = read_upload("my trip.csv", data, cache=Cache())
    assert upload.name == "my trip.csv" and upload.size == len(data) and not upload.too_big
    assert upload.dataset.problems == []
    assert list(upload.dataset.events["id"]) == [r["id"] for r in TRIP_ROWS]
    assert upload.located == [] and upload.summary() == ""


def test_the_name_is_the_files_own_not_a_path():
    upload = read_upload("../../etc/trip.csv", events_csv(TRIP_ROWS).encode())
    assert upload.name == "trip.csv" and upload.dataset.source == "trip.csv"


def test_rows_without_coordinates_are_located_by_cache_then_gazetteer():
    rows = [*TRIP_ROWS[:2], *UNLOCATED]
    upload = read_upload("trip.csv", events_csv(rows).encode(), cache=cache_with_casa_amarilla())
    events = upload.dataset.events
    # File order kept; the palace is in neither the cache nor the gazetteer.
    assert list(events["id"]) == ["sv-prison-visit", "sv-president-meeting", "co-medellin",
                                  "mx-cached"]
    by_id = events.set_index("id")
    assert by_id.loc["mx-cached", ["lat", "lon"]].tolist() == [19.43, -99.14]
    assert by_id.loc["co-medellin", "geocode_source"] == "gazetteer"
    assert by_id.loc["co-medellin", "lat"] == pytest.approx(6.25, abs=0.1)
    assert [(loc.row, loc.source) for loc in upload.located] == [("line 4", "gazetteer"),
                                                                 ("line 5", "cache")]
    assert upload.located[1] == Located("line 5", "Casa Amarilla", "MX", "cache",
                                        "Casa Amarilla, CDMX", 19.43, -99.14)
    (problem,) = upload.dataset.problems
    assert (problem.file, problem.row, problem.field) == ("trip.csv", "line 6", "place")
    assert problem.message.startswith("'Palacio Nacional' in Mexico (MX) was not found (")
    assert problem.message.endswith("or turn on online geocoding.")
    assert upload.summary() == ("2 of 3 events without coordinates located (1 from the offline "
                                "gazetteer, 1 from the geocoding cache); 1 not found, listed "
                                "under Problems; no online service was asked.")
    assert upload.online_calls == 0


def test_located_events_export_and_load_back_as_shown():
    upload = read_upload("trip.csv", events_csv([*TRIP_ROWS[:1], *UNLOCATED[:2]]).encode(),
                         cache=cache_with_casa_amarilla())
    again = parse_events(to_csv_text(upload.dataset.events).encode(), "again.csv")
    assert again.problems == []
    pd.testing.assert_frame_equal(again.events.drop(columns="row").sort_index(axis=1),
                                  upload.dataset.events.drop(columns="row").sort_index(axis=1))


def test_bad_rows_are_reported_and_the_valid_ones_kept():
    rows = [*TRIP_ROWS[:3],
            {"id": "Bad Id", "date": "2025-03-27", "title": "x", "place": "Bogotá",
             "country": "CO", "lat": "4.7", "lon": "-74.1"},
            {"id": "no-date", "date": "someday", "title": "y", "place": "Bogotá",
             "country": "CO", "lat": "4.7", "lon": "-74.1"},
            UNLOCATED[2]]
    upload = read_upload("mixed.csv", events_csv(rows).encode(), cache=Cache())
    assert list(upload.dataset.events["id"]) == [r["id"] for r in TRIP_ROWS[:3]]
    assert [(p.row, p.field) for p in upload.dataset.problems] == [
        ("line 5", "id"), ("line 6", "date"), ("line 7", "place")]


def test_a_geojson_upload_with_a_feature_without_geometry():
    features = [{"type": "Feature", "geometry": None, "properties": {
        k: v for k, v in UNLOCATED[0].items() if k not in ("lat", "lon")}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-74.0721, 4.711]},
         "properties": {k: v for k, v in TRIP_ROWS[3].items() if k not in ("lat", "lon")}}]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    upload = read_upload("trip.geojson", data, cache=Cache())
    assert upload.dataset.problems == []
    assert list(upload.dataset.events["id"]) == ["co-medellin", "co-officials-meeting"]
    assert [loc.row for loc in upload.located] == ["feature 0"]


def test_a_file_over_the_limit_is_refused_unread():
    data = b"\xff" * (MAX_UPLOAD_BYTES + 1)  # not even UTF-8: the size is the message
    upload = read_upload("huge.csv", data)
    assert upload.too_big
    assert upload.dataset.events.empty
    (problem,) = upload.dataset.problems
    assert problem.row == "file"
    assert problem.message.startswith("huge.csv is 20.0 MB; the page takes files up to 20 MB.")
    assert "--data PATH" in problem.message


def test_a_file_at_the_limit_is_read():
    text = events_csv(TRIP_ROWS[:1])
    data = text.encode() + b" " * (MAX_UPLOAD_BYTES - len(text.encode()))
    upload = read_upload("big.csv", data, cache=Cache())
    assert not upload.too_big and len(upload.dataset.events) == 1


@pytest.mark.parametrize(("size", "text"), [(812, "812 bytes"), (2048, "2.0 KB"),
                                            (3_565_158, "3.4 MB")])
def test_size_text(size, text):
    assert size_text(size) == text


def test_session_cache_is_a_copy_never_written(tmp_path):
    path = tmp_path / "cache.json"
    mine = Cache(path)
    mine.put("Casa Amarilla", "MX", Answer(19.43, -99.14, "x"), "nominatim")
    mine.save()
    before = path.read_bytes()
    copy = session_cache(path)
    copy.put("Palacio Nacional", "MX", Answer(19.43, -99.13, "y"), "nominatim")
    copy.save()
    assert path.read_bytes() == before
    assert session_cache(path).get("Palacio Nacional", "MX") is None
    assert session_cache(tmp_path / "missing.json").entries == {}


@pytest.fixture
def fake():
    places = {**PLACES, "palacio nacional": ("19.4326", "-99.1320", "Palacio Nacional, CDMX"),
              "zócalo": ("19.4326", "-99.1332", "Zócalo, CDMX")}
    with FakeNominatim(places=places) as server:
        yield server


def test_online_geocoding_asks_only_for_what_cache_and_gazetteer_lack(fake):
    cache = cache_with_casa_amarilla()
    source = online_source({"EVENTMAP_GEOCODER_URL": fake.url})
    upload = read_upload("trip.csv", events_csv(UNLOCATED).encode(), cache=cache, online=source)
    assert fake.queries == ["Palacio Nacional"]
    assert fake.requests[0]["countrycodes"] == "mx"
    assert [loc.source for loc in upload.located] == ["gazetteer", "cache", "nominatim"]
    assert upload.dataset.problems == [] and upload.online_calls == 1
    assert cache.get("Palacio Nacional", "MX") == Answer(19.4326, -99.132,
                                                         "Palacio Nacional, CDMX")
    assert upload.summary().endswith("1 from Nominatim, online).")


def test_online_geocoding_stops_after_the_limit(fake):
    rows = [{**UNLOCATED[2], "id": "a"}, {**UNLOCATED[2], "id": "b", "place": "Zócalo"}]
    source = online_source({"EVENTMAP_GEOCODER_URL": fake.url})
    upload = read_upload("trip.csv", events_csv(rows).encode(), cache=Cache(), online=source,
                         max_online=1)
    assert fake.queries == ["Palacio Nacional"]
    (problem,) = upload.dataset.problems
    assert problem.row == "line 3"
    assert "at most 1 places online per file" in problem.message
    assert problem.message.endswith("give lat and lon, or a more specific place name.")


def test_each_distinct_place_is_looked_up_once(fake):
    rows = [{**UNLOCATED[2], "id": f"palace-{i}"} for i in range(3)]
    rows += [{**UNLOCATED[0], "id": f"medellin-{i}"} for i in range(2)]
    rows += [{**UNLOCATED[2], "id": f"zocalo-{i}", "place": "Zócalo"} for i in range(2)]
    source = online_source({"EVENTMAP_GEOCODER_URL": fake.url})
    upload = read_upload("trip.csv", events_csv(rows).encode(), cache=Cache(), online=source,
                         max_online=1)
    assert fake.queries == ["Palacio Nacional"]  # Medellín is the gazetteer's
    assert list(upload.dataset.events["id"]) == [r["id"] for r in rows[:5]]
    assert [loc.source for loc in upload.located] == ["nominatim"] * 3 + ["gazetteer"] * 2
    assert [(p.row, p.field) for p in upload.dataset.problems] == [("line 7", "place"),
                                                                   ("line 8", "place")]
    assert len({p.message for p in upload.dataset.problems}) == 1
    assert upload.summary().startswith("5 of 7 events without coordinates located")
