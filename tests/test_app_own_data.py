"""Uploading your own events on the page, run by AppTest's file uploader.

The size limit is also enforced by the browser (max_upload_size); AppTest sends any bytes, so
the page's own check is what these tests see. tests/test_browser.py uploads through the real
widget.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import upload
from tests.conftest import APP, ROOT, TRIP_ROWS, events_csv, ok
from tests.fake_services import PLACES, FakeNominatim

OWN = [  # a trip of someone else's, one row without coordinates the gazetteer knows
    {"id": "pe-lima", "date": "2025-05-02", "title": "Talks in Lima", "place": "Lima",
     "country": "PE", "lat": "-12.0464", "lon": "-77.0428", "category": "meeting",
     "participants": "Rosa Díaz (Mayor)"},
    {"id": "cl-santiago", "date": "2025-05-03T18:00-04:00", "title": "Evening in Santiago",
     "place": "Santiago", "country": "CL", "lat": "", "lon": "", "category": "visit"},
]
BAD = [
    {"id": "Bad Id", "date": "2025-05-04", "title": "x", "place": "Quito", "country": "EC",
     "lat": "-0.18", "lon": "-78.47"},
    {"id": "no-date", "date": "soon", "title": "y", "place": "Quito", "country": "EC",
     "lat": "-0.18", "lon": "-78.47"},
    {"id": "nowhere", "date": "2025-05-05", "title": "z", "place": "Palacio Nacional",
     "country": "MX", "lat": "", "lon": "", "category": "meeting"},
]


@pytest.fixture
def page(run_page):
    """The page on the bundled trip, as a new session."""
    return functools.partial(run_page, None)


def send(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return ok(at.run())


def marker_ids(at: AppTest) -> list[str]:
    components = at.get("component_instance")
    if not components:
        return []
    script = json.loads(components[0].proto.json_args)["script"]
    return [json.loads(f)["properties"]["id"]
            for f in re.findall(r"\.feature = (\{.*?\});", script)]


def plain(text: str) -> str:
    return text.replace("\\", "")


def headline(at: AppTest) -> str:
    return plain(at.markdown[0].value.strip("*"))


def captions(at: AppTest) -> list[str]:
    return [plain(c.value) for c in at.caption]


def located_table(at: AppTest):
    (table,) = [d.value for d in at.dataframe if "found in" in d.value.columns]
    return table


def problems(at: AppTest) -> list[tuple[str, str, str]]:
    table = at.table[0].value.reset_index().map(plain)
    assert list(table.columns) == ["file", "row", "field", "message"]
    return list(table[["file", "row", "field"]].itertuples(index=False, name=None))


def test_the_upload_control_says_what_it_takes(page):
    at = page()
    (uploader,) = at.file_uploader
    assert uploader.label == "Your own events"
    assert sorted(uploader.allowed_type) == [".csv", ".geojson", ".json"]
    assert uploader.proto.max_upload_size_mb == upload.MAX_UPLOAD_MB
    assert at.toggle(key="online_geocoding").value is False
    assert "Showing data/events.geojson." in captions(at)
    with (ROOT / "dashboard" / ".streamlit" / "config.toml").open("rb") as fh:
        assert tomllib.load(fh)["server"]["maxUploadSize"] == upload.MAX_UPLOAD_MB


def test_a_good_file_replaces_the_trip_and_locates_its_row_offline(page):
    at = page()
    trip = marker_ids(at)
    send(at, "my trip.csv", events_csv(OWN).encode())
    assert marker_ids(at) == ["pe-lima", "cl-santiago"]
    assert headline(at).startswith("All 2 events · 2–3 May 2025 · 2 stops · ")
    assert "Showing my trip.csv (uploaded)." in captions(at)
    assert any(c.startswith("Data: my trip.csv (uploaded)") for c in captions(at))
    assert plain(at.info[0].value).startswith(
        "1 of 1 events without coordinates located (1 from the offline gazetteer); no online "
        "service was asked.")
    located = located_table(at)
    assert located.iloc[0][["row", "place", "country", "found in"]].tolist() == [
        "line 3", "Santiago", "Chile", "the offline gazetteer"]
    assert not at.table  # no problems
    assert list(at.dataframe[0].value["when"]) == ["Fri 2 May 2025",
                                                   "Sat 3 May 2025, 18:00 (UTC−04:00)"]
    at.button(key="back_to_file").click().run()
    assert marker_ids(at) == trip
    assert at.file_uploader[0].value is None
    assert "Showing data/events.geojson." in captions(at)


def test_a_mixed_file_lists_every_bad_row_and_shows_the_rest(page):
    at = send(page(), "mixed.csv", events_csv([*OWN, *BAD]).encode())
    assert marker_ids(at) == ["pe-lima", "cl-santiago"]
    assert plain(at.warning[0].value).startswith("3 problems in mixed.csv: the rows concerned "
                                                 "are left out, every other event is shown.")
    assert problems(at) == [("mixed.csv", "line 4", "id"), ("mixed.csv", "line 5", "date"),
                            ("mixed.csv", "line 6", "place")]
    message = plain(at.table[0].value.iloc[-1]["message"])
    assert message.startswith("'Palacio Nacional' in Mexico (MX) was not found (")
    assert message.endswith("or turn on online geocoding.")
    assert "Fix these rows and upload the file again to see them." in " ".join(captions(at))


def test_a_file_with_no_good_rows_explains_itself_and_offers_the_way_back(page):
    at = send(page(), "bad.csv", events_csv(BAD[:2]).encode())
    assert plain(at.error[0].value).startswith("No events to show from bad.csv. Fix the "
                                               "problems below and upload it again")
    assert [r[1:] for r in problems(at)] == [("line 2", "id"), ("line 3", "date")]
    assert marker_ids(at) == []
    at.button(key="back_to_file").click().run()
    assert not at.error and len(marker_ids(at)) == 7


@pytest.mark.parametrize(("name", "data", "message"), [
    ("trip.csv", b"id;date;title\na;b;c\n", "the file seems to use ';'"),
    ("trip.csv", "id,date\n".encode("utf-16"), "the file is not UTF-8 text"),
    ("trip.geojson", b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
])
def test_a_file_that_is_not_events_says_why(page, name, data, message):
    at = send(page(), name, data)
    assert plain(at.error[0].value).startswith(f"No events to show from {name}.")
    assert message in plain(at.table[0].value.iloc[0]["message"])


def test_a_file_over_the_limit_is_refused_and_the_trip_stays(page):
    at = send(page(), "huge.csv", b"x" * (upload.MAX_UPLOAD_BYTES + 1))
    assert plain(at.error[0].value).startswith(
        "huge.csv is 20.0 MB; the page takes files up to 20 MB. Split it into smaller files")
    assert len(marker_ids(at)) == 7
    assert "Showing data/events.geojson." in captions(at)


@pytest.mark.usefixtures("page")
def test_an_upload_starts_from_all_its_events_and_the_link_follows():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["country"] = "SV"
    ok(at.run())
    assert len(marker_ids(at)) == 3
    send(at, "mine.csv", events_csv(OWN).encode())
    assert marker_ids(at) == ["pe-lima", "cl-santiago"]
    assert dict(at.query_params) == {}
    at.multiselect(key="f_countries").set_value(["PE"]).run()
    assert marker_ids(at) == ["pe-lima"] and dict(at.query_params) == {"country": "PE"}
    assert at.multiselect(key="f_countries").options == ["Chile", "Peru"]


def test_uploads_belong_to_their_session(page):
    mine, yours = page(), page()
    send(mine, "mine.csv", events_csv(OWN).encode())
    ok(yours.run())
    assert marker_ids(mine) == ["pe-lima", "cl-santiago"]
    assert len(marker_ids(yours)) == 7


@pytest.fixture
def nominatim(monkeypatch):
    places = {**PLACES, "palacio nacional": ("19.4326", "-99.1320", "Palacio Nacional, CDMX")}
    with FakeNominatim(places=places) as fake:
        monkeypatch.setenv("EVENTMAP_GEOCODER_URL", fake.url)
        yield fake


def test_online_geocoding_is_asked_only_when_switched_on(page, nominatim):
    rows = [*TRIP_ROWS[:1], BAD[2]]
    at = send(page(), "trip.csv", events_csv(rows).encode())
    assert marker_ids(at) == ["sv-prison-visit"]
    assert nominatim.requests == []  # off: not one request
    at.toggle(key="online_geocoding").set_value(True).run()
    ok(at)
    assert nominatim.queries == ["Palacio Nacional"]
    assert marker_ids(at) == ["sv-prison-visit", "nowhere"]
    assert not at.table
    located = located_table(at)
    assert located.iloc[0][["place", "found in", "matched"]].tolist() == [
        "Palacio Nacional", "Nominatim, online", "Palacio Nacional, CDMX"]
    # Off again: the answer stays in this session's cache, and no new request is made.
    at.toggle(key="online_geocoding").set_value(False).run()
    assert marker_ids(at) == ["sv-prison-visit", "nowhere"]
    assert located_table(at).iloc[0]["found in"] == "the geocoding cache"
    assert len(nominatim.requests) == 1
    # The committed cache file is not written by the page.
    assert json.loads(upload.CACHE_PATH.read_text(encoding="utf-8"))["entries"].get(
        "palacio nacional|MX") is None
