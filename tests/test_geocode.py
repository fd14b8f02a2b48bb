"""The geocoding pipeline with scripted geocoders: cache, retries, country checks, gazetteer, CLI.

No test here reaches a geocoding service: geocoders are fakes, or a fake Nominatim on 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from geopy.distance import geodesic
from geopy.exc import (
    GeocoderQueryError,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.location import Location

from dashboard import gazetteer
from dashboard.formats import load_events, parse_events
from dashboard.geocode import (
    CACHE_FORMAT,
    Answer,
    Cache,
    Source,
    call_with_retries,
    geocode_events,
    main,
    nominatim_source,
)

SAN_SALVADOR = Location("San Salvador, El Salvador", (13.6989, -89.1914), {})
BOGOTA = Location("Bogotá, Colombia", (4.6534, -74.0837), {})
GUATEMALA_CITY = Location("Ciudad de Guatemala, Guatemala", (14.6349, -90.5069), {})


class FakeGeocoder:
    """Scripted answers per query: a list of Location / None / exception, the last one repeats."""

    def __init__(self, script: dict[str, list]):
        self.script = script
        self.calls: list[tuple[str, str]] = []

    def __call__(self, query: str, *, country_codes: str) -> Location | None:
        asked = sum(1 for q, _ in self.calls if q == query)
        self.calls.append((query, country_codes))
        outcomes = self.script.get(query, [None])
        outcome = outcomes[min(asked, len(outcomes) - 1)]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _events(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Validated events from (id, place, country) rows."""
    text = "id,date,title,place,country\n" + "".join(
        f"{i},2025-03-26,Event {i},{p},{c}\n" for i, p, c in rows)
    data = parse_events(text.encode(), "e.csv")
    assert data.problems == []
    return data.events


def _run(events, fake, cache=None, **kwargs):
    sleeps: list[float] = []
    result = geocode_events(events, [Source("nominatim", fake)], cache, sleep=sleeps.append,
                            **kwargs)
    return result, sleeps


def test_found_place_gets_coordinates_source_match_and_query():
    fake = FakeGeocoder({"San Salvador": [SAN_SALVADOR]})
    cache = Cache()
    result, sleeps = _run(_events(("a", "San Salvador", "SV")), fake, cache)
    rec = result.events.iloc[0]
    assert (rec["lat"], rec["lon"]) == (13.6989, -89.1914)
    assert rec["geocode_source"] == "nominatim"
    assert rec["geocode_match"] == "San Salvador, El Salvador"
    assert rec["geocode_query"] == "San Salvador"
    assert fake.calls == [("San Salvador", "sv")]
    assert sleeps == [] and result.failures == []
    assert cache.get("san  salvador", "sv") == Answer(13.6989, -89.1914,
                                                      "San Salvador, El Salvador")


def test_cache_hit_makes_zero_calls():
    cache = Cache(entries={Cache.key("Bogotá", "CO"): {"lat": 4.6534, "lon": -74.0837,
                                                       "match": "Bogotá, Colombia"}})
    fake = FakeGeocoder({})
    result, _ = _run(_events(("a", "Bogotá", "CO"), ("b", "BOGOTÁ ", "CO")), fake, cache)
    assert fake.calls == []
    assert sum(result.calls.values()) == 0
    assert list(result.events["geocode_source"]) == ["cache", "cache"]
    assert result.located == {"cache": 2}


def test_second_run_over_the_same_file_makes_zero_calls(tmp_path):
    path = tmp_path / "cache.json"
    events = _events(("a", "San Salvador", "SV"), ("b", "Bogotá", "CO"),
                     ("c", "San Salvador", "SV"))
    first = FakeGeocoder({"San Salvador": [SAN_SALVADOR], "Bogotá": [BOGOTA]})
    cache = Cache.load(path)
    result, _ = _run(events, first, cache)
    cache.save()
    assert len(first.calls) == 2  # the third row is the first one's answer, from the cache
    assert list(result.events["geocode_source"]) == ["nominatim", "nominatim", "cache"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == CACHE_FORMAT
    assert sorted(doc["entries"]) == ["bogotá|CO", "san salvador|SV"]

    second = FakeGeocoder({})
    again, _ = _run(events, second, Cache.load(path))
    assert second.calls == []
    assert list(again.events["geocode_source"]) == ["cache"] * 3
    assert again.events[["lat", "lon"]].equals(result.events[["lat", "lon"]])


@pytest.mark.parametrize("error", [
    GeocoderTimedOut("Service timed out"),
    GeocoderUnavailable("Service not available"),
    GeocoderServiceError("Non-successful status code 500"),
], ids=["timeout", "unavailable", "http-500"])
def test_transient_error_then_success(error):
    fake = FakeGeocoder({"San Salvador": [error, error, SAN_SALVADOR]})
    result, sleeps = _run(_events(("a", "San Salvador", "SV")), fake, backoff=0.5)
    assert len(fake.calls) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert result.events.iloc[0]["geocode_source"] == "nominatim"
    assert result.failures == []


def test_rate_limited_waits_as_long_as_the_service_asks():
    fake = FakeGeocoder({"San Salvador": [GeocoderRateLimited("429", retry_after=30),
                                          SAN_SALVADOR]})
    result, sleeps = _run(_events(("a", "San Salvador", "SV")), fake, backoff=2.0)
    assert len(fake.calls) == 2
    assert sleeps == [30.0]
    assert result.located == {"nominatim": 1}


def test_permanent_failure_is_reported_not_cached_and_the_run_goes_on():
    fake = FakeGeocoder({"San Salvador": [GeocoderTimedOut("Service timed out")],
                         "Bogotá": [BOGOTA]})
    cache = Cache()
    result, sleeps = _run(_events(("a", "San Salvador", "SV"), ("b", "Bogotá", "CO")), fake,
                          cache, retries=3, backoff=1.0)
    assert [q for q, _ in fake.calls] == ["San Salvador"] * 4 + ["Bogotá"]
    assert sleeps == [1.0, 2.0, 4.0]
    [failure] = result.failures
    assert str(failure) == ("line 2, place 'San Salvador': nominatim: service error after 4 "
                            "attempts (GeocoderTimedOut: Service timed out)")
    assert cache.get("San Salvador", "SV") is None
    assert math.isnan(result.events.iloc[0]["lat"])
    assert result.events.iloc[1]["geocode_source"] == "nominatim"
    assert result.summary() == "located 1 of 2 events (1 nominatim); 5 geocoder calls; 1 failed"


def test_query_error_is_not_retried():
    fake = FakeGeocoder({"San Salvador": [GeocoderQueryError("Bad request")]})
    result, sleeps = _run(_events(("a", "San Salvador", "SV")), fake)
    assert len(fake.calls) == 1 and sleeps == []
    assert result.failures[0].reason == ("nominatim: service error after 1 attempt "
                                         "(GeocoderQueryError: Bad request)")


def test_no_match_is_reported_once_per_query_and_never_cached():
    fake = FakeGeocoder({"Nowhere": [None]})
    cache = Cache()
    result, _ = _run(_events(("a", "Nowhere", "SV"), ("b", "nowhere", "SV")), fake, cache)
    assert len(fake.calls) == 1
    assert [str(f) for f in result.failures] == [
        "line 2, place 'Nowhere': nominatim: no match in El Salvador (SV)",
        "line 3, place 'nowhere': nominatim: no match in El Salvador (SV)"]
    assert cache.entries == {} and not cache.dirty


def test_answer_in_the_wrong_country_is_rejected():
    fake = FakeGeocoder({"San Salvador": [GUATEMALA_CITY]})
    cache = Cache()
    result, _ = _run(_events(("a", "San Salvador", "SV")), fake, cache)
    [failure] = result.failures
    assert failure.reason == (
        "nominatim: answered 'Ciudad de Guatemala, Guatemala' at (14.63490, -90.50690), which "
        "is in Guatemala (GT), not in El Salvador (SV); rejected")
    assert math.isnan(result.events.iloc[0]["lat"])
    assert result.events.iloc[0]["geocode_source"] == ""
    assert cache.entries == {}
    assert result.warnings and "rejected" in result.warnings[0]


def test_wrong_country_cache_entry_is_dropped_and_asked_again():
    cache = Cache(entries={Cache.key("San Salvador", "SV"): {
        "lat": 14.6349, "lon": -90.5069, "match": "Ciudad de Guatemala"}})
    fake = FakeGeocoder({"San Salvador": [SAN_SALVADOR]})
    result, _ = _run(_events(("a", "San Salvador", "SV")), fake, cache)
    assert len(fake.calls) == 1
    assert result.events.iloc[0]["geocode_source"] == "nominatim"
    assert cache.get("San Salvador", "SV").lat == 13.6989
    assert "entry removed" in result.warnings[0]


def test_rows_with_coordinates_are_manual_and_not_geocoded():
    text = ("id,date,title,place,country,lat,lon\n"
            "a,2025-03-26,T,Somewhere off the map,SV,13.5,-88.9\n")
    events = parse_events(text.encode(), "e.csv").events
    fake = FakeGeocoder({})
    result, _ = _run(events, fake)
    assert fake.calls == []
    assert result.events.iloc[0]["geocode_source"] == "manual"
    assert (result.events.iloc[0]["lat"], result.events.iloc[0]["lon"]) == (13.5, -88.9)
    assert result.located == {"manual": 1}


def test_sources_are_tried_in_order_and_only_services_are_cached():
    offline = FakeGeocoder({"Bogotá": [BOGOTA]})
    service = FakeGeocoder({})
    cache = Cache()
    result = geocode_events(_events(("a", "Bogotá", "CO")),
                            [Source("nominatim", service), Source("gazetteer", offline, False)],
                            cache, sleep=lambda _s: None)
    assert len(service.calls) == len(offline.calls) == 1
    assert result.events.iloc[0]["geocode_source"] == "gazetteer"
    assert cache.entries == {}


def test_call_with_retries_gives_up_after_the_last_retry():
    fake = FakeGeocoder({"x": [GeocoderUnavailable("down")]})
    sleeps: list[float] = []
    with pytest.raises(GeocoderUnavailable):
        call_with_retries(fake, "x", "SV", retries=2, backoff=3.0, sleep=sleeps.append)
    assert len(fake.calls) == 3 and sleeps == [3.0, 6.0]


# --- the offline gazetteer -------------------------------------------------------------------

@pytest.mark.parametrize(("place", "country", "name", "where"), [
    ("San Salvador", "SV", "San Salvador", (13.69, -89.19)),
    ("Bogotá", "CO", "Bogotá", (4.61, -74.08)),
    ("bogota", "CO", "Bogotá", (4.61, -74.08)),
    ("Mexico City", "MX", "Mexico City", (19.43, -99.13)),
    ("Ciudad de México", "MX", "Mexico City", (19.43, -99.13)),
    ("Bogotá, Colombia", "CO", "Bogotá", (4.61, -74.08)),
    ("San Vicente", "SV", "San Vicente", (13.64, -88.78)),
])
def test_gazetteer_resolves_to_the_right_city(place, country, name, where):
    loc = gazetteer.geocode(place, country_codes=country.lower())
    assert loc is not None
    assert loc.raw["name"] == name and loc.raw["countrycode"] == country
    assert geodesic(where, (loc.latitude, loc.longitude)).km < 5


def test_gazetteer_matches_whole_names_only_within_the_country():
    assert gazetteer.lookup("San Salvador", "SV").name != "Mbanza Kongo"
    assert gazetteer.lookup("Tecoluca", "SV").name == "Tecoluca"  # not Zacatecoluca
    assert gazetteer.lookup("coluca", "SV") is None
    assert gazetteer.lookup("San Salv", "SV") is None
    assert gazetteer.lookup("Bogotá", "SV") is None
    assert gazetteer.geocode("Atlantis", country_codes="co") is None


def test_gazetteer_prefers_a_main_name_then_the_largest_population():
    # Several Mexican places are called San Salvador, and a larger one has it as another name:
    # a place's own name wins over a bigger namesake's alias, then population decides.
    hits = gazetteer._index("MX")["san salvador"]
    main_names = [c for rank, c in hits if rank == 0]
    aliases = [c for rank, c in hits if rank == 1]
    assert len(main_names) > 1 and aliases
    best = gazetteer.lookup("San Salvador", "MX")
    assert best == max(main_names, key=lambda c: c.population)
    assert max(c.population for c in aliases) > best.population


# --- the command line ------------------------------------------------------------------------

TRIP = ("id,date,title,place,country,summary\n"
        "sv-a,2025-03-26,Visit,San Salvador,SV,extra text kept\n"
        "co-b,2025-03-27,Meeting,Bogotá,CO,\n")


def test_cli_offline_writes_geojson_and_summary(tmp_path, capsys):
    src = tmp_path / "events.csv"
    src.write_text(TRIP, encoding="utf-8")
    out = tmp_path / "out.geojson"
    assert main([str(src), "--output", str(out), "--offline"]) == 0
    err = capsys.readouterr().err
    assert "located 2 of 2 events (2 gazetteer); 2 geocoder calls" in err
    data = load_events(out)
    assert data.problems == []
    assert list(data.events["geocode_source"]) == ["gazetteer", "gazetteer"]
    assert list(data.events["geocode_query"]) == ["San Salvador", "Bogotá"]
    assert data.events.iloc[0]["summary"] == "extra text kept"
    assert not (tmp_path / "geocode_cache.json").exists()  # the gazetteer needs no cache


def test_cli_failed_row_means_exit_1_a_line_and_no_file(tmp_path, capsys):
    src = tmp_path / "events.csv"
    src.write_text(TRIP + "mx-c,2025-03-28,Talks,Atlantis,MX,\n", encoding="utf-8")
    out = tmp_path / "out.geojson"
    assert main([str(src), "--output", str(out), "--offline"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"{src}, line 4, place 'Atlantis': gazetteer: no match in Mexico (MX)" in err
    assert "located 2 of 3 events (2 gazetteer); 3 geocoder calls; 1 failed" in err
    assert not out.exists()


def test_cli_partial_writes_located_rows_and_still_fails(tmp_path, capsys):
    src = tmp_path / "events.csv"
    src.write_text(TRIP + "mx-c,2025-03-28,Talks,Atlantis,MX,\n", encoding="utf-8")
    out = tmp_path / "out.geojson"
    assert main([str(src), "--output", str(out), "--offline", "--partial"]) == 1
    assert f"wrote {out}" in capsys.readouterr().err
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert [f["geometry"] is None for f in features] == [False, False, True]


def test_cli_refuses_an_invalid_file(tmp_path, capsys):
    src = tmp_path / "events.csv"
    src.write_text("id,date,title,place,country\na,2025-02-30,T,Bogotá,CO\n", encoding="utf-8")
    assert main([str(src), "--output", str(tmp_path / "o.geojson"), "--offline"]) == 2
    err = capsys.readouterr().err
    assert f"{src}, line 2, field 'date': '2025-02-30' is not a date" in err
    assert "Nothing was geocoded." in err


def test_cli_reports_a_corrupt_cache(tmp_path, capsys):
    src = tmp_path / "events.csv"
    src.write_text(TRIP, encoding="utf-8")
    (tmp_path / "geocode_cache.json").write_text("{not json", encoding="utf-8")
    assert main([str(src), "--output", str(tmp_path / "o.geojson"), "--offline"]) == 2
    err = capsys.readouterr().err
    assert "cannot read the geocode cache" in err and "delete the file" in err


def test_nominatim_endpoint_must_be_a_url():
    with pytest.raises(ValueError, match="is not a URL"):
        nominatim_source("ftp://example.org", "eventmap-tests")


class FakeNominatim(BaseHTTPRequestHandler):
    """Answers /search like Nominatim's JSON API, and records each request."""

    requests: list[dict] = []
    failures: list[tuple[int, dict]] = []  # (status, headers) answered before any success
    places = {"san salvador": ("13.6989", "-89.1914", "San Salvador, El Salvador")}

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append({"path": url.path, "query": query,
                                    "agent": self.headers.get("User-Agent")})
        if type(self).failures:
            status, headers = type(self).failures.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        hit = self.places.get(query.get("q", "").casefold())
        body = json.dumps([{"lat": hit[0], "lon": hit[1], "display_name": hit[2],
                            "place_id": 1}] if hit else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def fake_nominatim():
    FakeNominatim.requests = []
    FakeNominatim.failures = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_cli_online_uses_nominatim_then_the_cache(tmp_path, capsys, monkeypatch,
                                                  fake_nominatim):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("EVENTMAP_GEOCODER_URL", fake_nominatim)
    monkeypatch.setenv("EVENTMAP_USER_AGENT", "eventmap-tests/1 (tests@example.org)")
    src = tmp_path / "events.csv"
    src.write_text("id,date,title,place,country\n"
                   "a,2025-03-26,Visit,San Salvador,SV\n"
                   "b,2025-03-26,Meeting,san salvador,SV\n", encoding="utf-8")
    out = tmp_path / "out.geojson"

    assert main([str(src), "--output", str(out)]) == 0
    [request] = FakeNominatim.requests
    assert request["path"] == "/search"
    assert request["query"]["q"] == "San Salvador"
    assert request["query"]["countrycodes"] == "sv"
    assert request["agent"] == "eventmap-tests/1 (tests@example.org)"
    events = load_events(out).events
    assert list(events["geocode_source"]) == ["nominatim", "cache"]
    assert events.iloc[0]["geocode_match"] == "San Salvador, El Salvador"
    cache = json.loads((tmp_path / "geocode_cache.json").read_text(encoding="utf-8"))
    assert list(cache["entries"]) == ["san salvador|SV"]
    assert cache["entries"]["san salvador|SV"]["source"] == "nominatim"

    assert main([str(src), "--output", str(out)]) == 0
    assert len(FakeNominatim.requests) == 1  # the second run made zero calls
    assert "located 2 of 2 events (2 cache); 0 geocoder calls" in capsys.readouterr().err


def test_geopy_errors_from_a_real_nominatim_client_are_retried(fake_nominatim, monkeypatch):
    # geopy turns HTTP 429 into GeocoderRateLimited (with Retry-After) and 500 into
    # GeocoderServiceError; both must reach the backoff, whatever geopy's own mapping does.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    FakeNominatim.failures = [(429, {"Retry-After": "7"}), (500, {})]
    source = nominatim_source(fake_nominatim, "eventmap-tests/1 (tests@example.org)")
    # The RateLimiter's own clock and wait, faked as geopy's tests do: time passes only
    # when it sleeps, so the spacing it asks for is exact.
    now = [0.0]
    spacing: list[float] = []

    def wait(seconds):
        spacing.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(source.geocode, "_clock", lambda: now[0])
    monkeypatch.setattr(source.geocode, "_sleep", wait)
    backoff: list[float] = []
    loc = call_with_retries(source.geocode, "San Salvador", "SV", retries=3, backoff=0.5,
                            sleep=backoff.append)
    assert loc.address == "San Salvador, El Salvador"
    assert len(FakeNominatim.requests) == 3
    assert backoff == [7.0, 1.0]
    assert spacing == [1.0, 1.0]  # one second between calls, backoff or not
