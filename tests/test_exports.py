"""Exports of the view: CSV/GeoJSON load back equal, .ics is strict RFC 5545, HTML is offline."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import folium
import icalendar
import pandas as pd
import pytest
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster

from dashboard import assets, exports
from dashboard.formats import parse_events
from tests.sample_events import ROWS, make_events

STAMP = dt.datetime(2025, 4, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def events() -> pd.DataFrame:
    return make_events()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # `row` names the record in its file ("line 5"/"feature 2"), so it differs by format.
    return frame.drop(columns="row").sort_index(axis=1).reset_index(drop=True)


# --- CSV and GeoJSON -------------------------------------------------------------------------

@pytest.mark.parametrize(("export", "name"), [(exports.to_csv_bytes, "view.csv"),
                                              (exports.to_geojson_bytes, "view.geojson")])
@pytest.mark.parametrize("view", [slice(None), [1, 3, 4], [2]], ids=["all", "some", "one"])
def test_table_exports_load_back_equal(events, export, name, view):
    shown = events.iloc[view]
    back = parse_events(export(shown), name)
    assert back.problems == []
    pd.testing.assert_frame_equal(_comparable(back.events), _comparable(shown))


@pytest.mark.parametrize(("export", "name"), [(exports.to_csv_bytes, "view.csv"),
                                              (exports.to_geojson_bytes, "view.geojson")])
def test_table_export_of_an_empty_view_loads_as_no_events(events, export, name):
    back = parse_events(export(events.iloc[[]]), name)
    assert back.events.empty
    assert [p.message for p in back.problems] == ["the file has no events; add one row per event."]


@pytest.mark.parametrize(("export", "name"), [(exports.to_csv_bytes, "view.csv"),
                                              (exports.to_geojson_bytes, "view.geojson")])
def test_table_exports_keep_extra_columns_and_text(export, name):
    rows = [{**ROWS[1], "notes": "extra, column; kept\nacross lines"}]
    shown = make_events(rows)
    back = parse_events(export(shown), name).events
    assert back.loc[0, "notes"] == "extra, column; kept\nacross lines"
    assert back.loc[0, "summary"] == ROWS[1]["summary"]
    assert back.loc[0, "title"] == 'Talks, round 2; "final"'


def test_geojson_export_has_coordinates_and_null_geometry(events):
    import json

    doc = json.loads(exports.to_geojson_bytes(events))
    by_id = {f["id"]: f for f in doc["features"]}
    assert by_id["co-talks"]["geometry"] == {"type": "Point", "coordinates": [-74.0721, 4.711]}
    assert by_id["mx-unlocated"]["geometry"] is None


# --- iCalendar -------------------------------------------------------------------------------

def _calendar(events: pd.DataFrame, name: str = "Trip") -> tuple[bytes, icalendar.Calendar]:
    data = exports.to_ics_bytes(events, name, stamp=STAMP)
    cal = icalendar.Calendar.from_ical(data)
    for component in cal.walk():
        assert component.errors == [], (component.name, component.errors)
    if hasattr(cal, "validate"):  # icalendar 7 checks required properties and components
        cal.validate()
    return data, cal


def _by_uid(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_ics_is_well_formed_rfc5545(events):
    data, cal = _calendar(events, "Noem's trip, March 2025")
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == "" and "\n" not in text.replace("\r\n", "")  # CRLF only
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)  # folded (RFC 5545 3.1)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]) == exports.PRODID
    assert str(cal["X-WR-CALNAME"]) == "Noem's trip, March 2025"
    assert str(cal["NAME"]) == "Noem's trip, March 2025"
    for event in cal.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert required in event
        assert event.decoded("DTSTAMP") == STAMP


def test_ics_one_event_each_with_stable_unique_uids(events):
    _, cal = _calendar(events)
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert uids == [f"{i}@eventmap" for i in
                    events.sort_values("instant", kind="stable")["id"]]
    assert len(set(uids)) == len(events)
    _, again = _calendar(events.iloc[::-1])
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids  # time order, not view order


@pytest.mark.parametrize(("event_id", "start", "end"), [
    ("sv-visit", dt.date(2024, 12, 31), dt.date(2025, 1, 1)),  # end is exclusive, next year
    ("co-talks", dt.date(2025, 1, 2), dt.date(2025, 1, 3)),
    ("mx-unlocated", dt.date(2025, 1, 4), dt.date(2025, 1, 5)),
])
def test_ics_all_day_events(events, event_id, start, end):
    data, cal = _calendar(events)
    event = _by_uid(cal)[f"{event_id}@eventmap"]
    assert type(event.decoded("DTSTART")) is dt.date
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == end
    assert f"DTSTART;VALUE=DATE:{start:%Y%m%d}\r\n" in data.decode()
    assert f"DTEND;VALUE=DATE:{end:%Y%m%d}\r\n" in data.decode()


@pytest.mark.parametrize(("event_id", "utc", "local"), [
    ("co-signing", dt.datetime(2025, 1, 2, 15, 30, tzinfo=dt.UTC),
     "Thu 2 Jan 2025, 10:30 (UTC\u221205:00)"),
    # 23:15 in Mexico City is the next day in UTC; the instant is kept, the local time told.
    ("mx-press", dt.datetime(2025, 1, 4, 5, 15, tzinfo=dt.UTC),
     "Fri 3 Jan 2025, 23:15 (UTC\u221206:00)"),
])
def test_ics_timed_events_start_at_their_instant_in_utc(events, event_id, utc, local):
    data, cal = _calendar(events)
    event = _by_uid(cal)[f"{event_id}@eventmap"]
    assert event.decoded("DTSTART") == utc
    assert f"DTSTART:{utc:%Y%m%dT%H%M%SZ}\r\n" in data.decode()
    assert "DTEND" not in event and "DURATION" not in event
    assert f"Local time: {local}" in str(event["DESCRIPTION"])


def test_ics_text_is_escaped_and_reads_back(events):
    data, cal = _calendar(events)
    raw = data.decode("utf-8")
    talks = _by_uid(cal)["co-talks@eventmap"]
    assert str(talks["SUMMARY"]) == 'Talks, round 2; "final"'
    assert "SUMMARY:Talks\\, round 2\\; \"final\"\r\n" in raw
    description = str(talks["DESCRIPTION"])
    assert ROWS[1]["summary"] in description  # newline, commas, semicolons, unicode intact
    assert "Gustavo Petro (President of Colombia)" in description
    assert "\u201cTalks went on; nobody left, they said.\u201d \u2014 Example Wire" in description
    assert "Date inferred, not stated by the source." in description
    unfolded = raw.replace("\r\n ", "")
    assert "First line\\, with comma\\; and semicolon.\\nSecond line" in unfolded
    assert str(talks["LOCATION"]) == "Bogotá, Colombia"


def test_ics_location_geo_categories_and_url(events):
    _, cal = _calendar(events)
    by_uid = _by_uid(cal)
    visit = by_uid["sv-visit@eventmap"]
    assert str(visit["LOCATION"]) == "San Salvador, El Salvador"
    assert (visit["GEO"].latitude, visit["GEO"].longitude) == (13.6929, -89.2182)
    assert list(visit["CATEGORIES"].cats) == ["Visit"]
    assert list(by_uid["mx-press@eventmap"]["CATEGORIES"].cats) == ["Press conference"]
    assert str(visit["URL"]) == "https://example.org/a"
    assert str(by_uid["co-signing@eventmap"]["URL"]) == "http://example.org/b"
    unlocated = by_uid["mx-unlocated@eventmap"]
    assert "GEO" not in unlocated and "URL" not in unlocated
    assert "Participants:\n- Ana Pérez (Minister)\n- Luis Gómez" in str(visit["DESCRIPTION"])


def test_ics_url_only_for_http_links(events):
    # Validation already refuses such links; the export does not rely on it.
    events.loc[events["id"] == "sv-visit", "source_url"] = "javascript:alert(1)"
    _, cal = _calendar(events)
    assert "URL" not in _by_uid(cal)["sv-visit@eventmap"]


def test_ics_of_no_events_says_what_to_do(events):
    with pytest.raises(ValueError, match="widen the filters"):
        exports.to_ics_bytes(events.iloc[[]], "Trip")


def test_ics_default_stamp_is_now_in_utc(events):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cal = icalendar.Calendar.from_ical(exports.to_ics_bytes(events.iloc[[0]], "Trip"))
    stamp = next(iter(cal.walk("VEVENT"))).decoded("DTSTAMP")
    assert stamp.tzinfo is not None and stamp >= before


# --- Standalone HTML -------------------------------------------------------------------------

CDN_HOSTS = ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "netdna",
             "bootstrapcdn", "unpkg.com")


def _map(events: pd.DataFrame, cluster: bool = True) -> folium.Map:
    located = events.dropna(subset=["lat", "lon"])
    m = folium.Map(location=[10, -80], zoom_start=3)
    group = MarkerCluster().add_to(m) if cluster else m
    for rec in located.itertuples():
        folium.Marker([rec.lat, rec.lon], tooltip=rec.title, title=rec.title).add_to(group)
    folium.PolyLine(located[["lat", "lon"]].to_numpy().tolist()).add_to(m)
    m.fit_bounds(located[["lat", "lon"]].to_numpy().tolist())
    return m


@pytest.mark.parametrize("localized", [False, True], ids=["cdn-links", "app-links"])
def test_standalone_html_has_no_network_assets(events, localized):
    m = _map(events)
    if localized:
        assets.localize(m)
    page = exports.standalone_html(m, title="Trip <map>").decode("utf-8")
    assert exports.remote_assets(page) == []
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet", page)
    for host in CDN_HOSTS:
        assert host not in page
    assert assets.URL_ROOT not in page
    assert "<title>Trip &lt;map&gt;</title>" in page
    assert "L.MarkerClusterGroup" in page  # the plugin is inlined, not dropped
    assert 'url("data:image/png;base64,' in page  # Leaflet's CSS images
    assert "tile.openstreetmap.org" in page  # tiles are the one thing left online


def test_standalone_html_leaves_the_map_alone(events):
    m = _map(events)
    before = assets.links(m)
    exports.standalone_html(m)
    assert assets.links(m) == before


def test_standalone_html_refuses_a_plugin_without_local_copy(events):
    m = _map(events)
    from folium.plugins import AntPath

    AntPath([[0, 0], [1, 1]]).add_to(m)
    with pytest.raises(exports.StandaloneMapError, match="antpath"):
        exports.standalone_html(m)


@dataclass(frozen=True)
class _FileAsset:
    path: Path

    def source(self) -> Path:
        return self.path


class _Tricky(JSCSSMixin, folium.MacroElement):
    """An element whose script holds text that would end a <script> element if not escaped."""

    default_js = [("tricky", "https://cdn.example.org/tricky.js")]


TRICKY_JS = 'window.tricky = ["</script><script>window.broken = 1;</script>", "<!--", "</SCRIPT"];'


@pytest.fixture
def tricky_map(events, tmp_path, monkeypatch) -> folium.Map:
    script = tmp_path / "tricky.js"
    script.write_text(TRICKY_JS, encoding="utf-8")
    monkeypatch.setitem(assets.ASSETS, "tricky", _FileAsset(script))
    m = _map(events)
    _Tricky().add_to(m)
    return m


def test_standalone_html_escapes_script_ends(tricky_map):
    page = exports.standalone_html(tricky_map).decode("utf-8")
    assert page.lower().count("<script") == page.lower().count("</script>")
    assert "window.broken" in page and "<script>window.broken" not in page


# --- Standalone HTML in a real browser -------------------------------------------------------

def _open_offline(browser, path: Path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1000, "height": 700})
    requested: list[str] = []
    errors: list[str] = []

    def route(request_route):
        url = request_route.request.url
        requested.append(url)
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    expect(page.locator(".leaflet-container")).to_be_visible()
    return page, requested, errors


@pytest.mark.browser
def test_standalone_html_opens_offline_with_markers(browser, events, tmp_path):
    from playwright.sync_api import expect

    path = tmp_path / "map.html"
    path.write_bytes(exports.standalone_html(_map(events, cluster=False), title="Trip"))
    page, requested, errors = _open_offline(browser, path)
    located = events.dropna(subset=["lat", "lon"])
    markers = page.locator("img.leaflet-marker-icon")
    expect(markers).to_have_count(len(located))
    titles = markers.evaluate_all("imgs => imgs.map(img => img.title)")
    assert sorted(titles) == sorted(located["title"])
    first = markers.first
    expect(first).to_be_visible()
    assert first.get_attribute("src").startswith("data:image/png;base64,")
    assert first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("L.version") == "1.9.3"
    assert errors == []
    # Only tiles went for the network (and were blocked); nothing else was asked for.
    outside = [u for u in requested if not u.startswith(("file:", "data:"))]
    assert outside and all("tile.openstreetmap.org" in u for u in outside)
    page.close()


@pytest.mark.browser
def test_standalone_html_of_the_dashboards_map(browser, events, tmp_path):
    from playwright.sync_api import expect

    from dashboard.mapview import build_map
    from dashboard.route import build_route

    path = tmp_path / "trip.html"
    path.write_bytes(exports.standalone_html(
        build_map(events, build_route(events), selected="co-talks"), title="Trip"))
    page, _, errors = _open_offline(browser, path)
    located = events.dropna(subset=["lat", "lon"])
    markers = page.locator(".leaflet-marker-icon.em-event")
    expect(markers).to_have_count(len(located))
    titles = markers.evaluate_all("els => els.map(el => el.title)")
    assert sorted(titles) == sorted(located["title"])
    expect(page.locator(".em-selected")).to_have_count(1)
    box = page.locator(".leaflet-container").bounding_box()
    assert box["height"] == 700  # fills the window, not the 560 px the dashboard gives it
    expect(page.locator(".leaflet-overlay-pane path").first).to_be_visible()  # the route
    assert errors == []
    page.close()


@pytest.mark.browser
def test_standalone_html_clusters_and_escaped_scripts_work(browser, tricky_map, tmp_path):
    from playwright.sync_api import expect

    path = tmp_path / "map.html"
    path.write_bytes(exports.standalone_html(tricky_map))
    page, _, errors = _open_offline(browser, path)
    # The two Bogotá events sit 1 km apart: the cluster plugin runs and groups them.
    expect(page.locator(".marker-cluster")).not_to_have_count(0)
    assert page.evaluate("window.tricky") == ["</script><script>window.broken = 1;</script>",
                                              "<!--", "</SCRIPT"]
    assert page.evaluate("window.broken === undefined")
    assert errors == []
    page.close()


@pytest.mark.parametrize(("source", "kind", "name"), [
    ("data/events.geojson", "csv", "events.csv"),
    ("data/events.geojson", "ics", "events.ics"),
    ("trip.csv", "geojson", "trip.geojson"),
    ("trip.csv", "html", "trip-map.html"),
    ("My trip (v2).csv", "csv", "My_trip_v2.csv"),
    ("C:\\Users\\me\\trip.csv", "csv", "trip.csv"),
    ("..", "csv", "events.csv"),
    ("", "ics", "events.ics"),
    ("Bogotá día.geojson", "csv", "Bogotá_día.csv"),
])
def test_file_name(source, kind, name):
    assert exports.file_name(source, kind) == name
