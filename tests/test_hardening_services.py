"""Geocoding against a failing service: slow, rate-limited, broken, talking nonsense, gone.

Every test talks HTTP to a fake Nominatim on 127.0.0.1 (tests/fake_services.py) through geopy's
real client, so what is proved is what a real run would do. Waits are recorded, not slept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from geopy.exc import GeocoderQueryError, GeocoderUnavailable
from geopy.location import Location

from dashboard.formats import load_events, parse_events
from dashboard.geocode import CACHE_FORMAT, Cache, Source, geocode_events, nominatim_source
from tests.fake_services import DROP, FakeNominatim, body, hang, status, truncated

ROOT = Path(__file__).resolve().parents[1]
AGENT = "eventmap-tests/1 (tests@example.org)"
# geopy warns before it refuses a latitude of 95, which one fake answer is.
pytestmark = pytest.mark.filterwarnings("ignore:Latitude normalization:UserWarning")
ROWS = [("a", "San Salvador", "SV"), ("b", "Bogotá", "CO"), ("c", "Mexico City", "MX"),
        ("d", "Tecoluca", "SV"), ("e", "Medellín", "CO"), ("f", "Guadalajara", "MX")]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _csv(rows=ROWS) -> str:
    return "id,date,title,place,country\n" + "".join(
        f"{i},2025-03-26,Event {i},{p},{c}\n" for i, p, c in rows)


def _events(rows=ROWS) -> pd.DataFrame:
    data = parse_events(_csv(rows).encode(), "e.csv")
    assert data.problems == []
    return data.events


def _run(fake: FakeNominatim, rows=ROWS, cache: Cache | None = None, *, retries: int = 2):
    """Geocode ``rows`` against ``fake``; return the result and the backoff waits asked for."""
    source = nominatim_source(fake.url, AGENT, timeout=0.5, min_delay_seconds=0)
    waits: list[float] = []
    result = geocode_events(_events(rows), [source], cache if cache is not None else Cache(),
                            retries=retries, backoff=0.25, sleep=waits.append)
    return result, waits


def _cache_doc(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == CACHE_FORMAT
    return doc["entries"]


# --- misbehaving once, then fine: retried with backoff, nothing lost ---------------------------

ONCE = {
    "timeout": (hang(2.0), [0.25]),
    "429-retry-after": (status(429, b"slow down", Retry_After="3"), [3.0]),
    "429-no-header": (status(429), [0.25]),
    "500": (status(500, b"<h1>Internal Server Error</h1>"), [0.25]),
    "502": (status(502), [0.25]),
    "503": (status(503, Retry_After="1"), [0.25]),
    "504": (status(504), [0.25]),
    "connection-dropped": (DROP, [0.25]),
    "body-cut-short": (truncated('[{"place_id": 1, "lat": "13.69'), [0.25]),
    "html-page": (body("<!doctype html>\n<html><body><h1>Bad gateway</h1>\n</body></html>"),
                  [0.25]),
    "truncated-json": (body('[{"place_id": 1, "lat": "13.69'), [0.25]),
    "binary": (body(b"\xff\xfe\x00\x81garbage\x00"), [0.25]),
    "object-not-list": (body('{"results": []}'), [0.25]),
    "list-of-numbers": (body("[1, 2, 3]"), [0.25]),
    "string": (body('"San Salvador"'), [0.25]),
    "lat-not-a-number": (body('[{"lat": "north", "lon": "-89.19", "display_name": "x"}]'),
                         [0.25]),
    "lat-out-of-range": (body('[{"lat": "95", "lon": "-89.19", "display_name": "x"}]'), [0.25]),
    "nan-coordinates": (body('[{"lat": "NaN", "lon": "Infinity", "display_name": "x"}]'),
                        [0.25]),
}


@pytest.mark.parametrize(("act", "waits"), ONCE.values(), ids=ONCE.keys())
def test_one_bad_answer_is_retried_and_the_run_completes(act, waits):
    rows = ROWS[:2]
    with FakeNominatim(script=[act]) as fake:
        cache = Cache()
        result, slept = _run(fake, rows, cache)
    assert result.failures == []
    assert fake.queries == ["San Salvador", "San Salvador", "Bogotá"]
    assert slept == waits
    assert list(result.events["geocode_source"]) == ["nominatim", "nominatim"]
    assert result.events.iloc[0][["lat", "lon"]].tolist() == [13.6989, -89.1914]
    assert sorted(cache.entries) == ["bogotá|CO", "san salvador|SV"]


# --- misbehaving for good: reported on one line, never cached, the run goes on -----------------

ALWAYS = {
    # name: (answer, attempts, words of the reason)
    "timeout": (hang(2.0), 3, "GeocoderTimedOut"),
    "429": (status(429, Retry_After="1"), 3, "GeocoderRateLimited"),
    "500": (status(500, b"<h1>oops</h1>\n<p>trace</p>"), 3, "500"),
    "html-page": (body("<html>\n<body>\n" + "Sorry! " * 500 + "</body></html>"), 3,
                  "GeocoderParseError"),
    "object-not-list": (body('{"results": []}'), 3, "not a geocoding answer"),
    "lat-not-a-number": (body('[{"lat": "north", "lon": "1", "display_name": "x"}]'), 3,
                         "not a geocoding answer"),
    "error-message": (body('{"error": "Unable to parse the query\\n at all"}'), 1,
                      "GeocoderQueryError"),
}


@pytest.mark.parametrize(("act", "attempts", "words"), ALWAYS.values(), ids=ALWAYS.keys())
def test_a_service_that_keeps_failing_is_reported_per_row(act, attempts, words):
    rows = ROWS[:2]
    with FakeNominatim(script=[act] * attempts) as fake:
        cache = Cache()
        result, slept = _run(fake, rows, cache)
    assert fake.queries == ["San Salvador"] * attempts + ["Bogotá"]
    assert len(slept) == attempts - 1
    [failure] = result.failures
    assert failure.row == "line 2" and failure.place == "San Salvador"
    reason = failure.reason
    assert reason.startswith(f"nominatim: service error after {attempts} attempt")
    assert words in reason
    # One line per failed row, however long or many-lined the service's answer was.
    assert "\n" not in str(failure) and len(reason) < 300, reason
    assert pd.isna(result.events.iloc[0]["lat"])
    assert result.events.iloc[1]["geocode_source"] == "nominatim"
    assert list(cache.entries) == ["bogotá|CO"]


@pytest.mark.parametrize("answer", ["[]", "null", '{"error": "Unable to geocode"}'])
def test_empty_answers_are_no_match_and_not_cached(answer):
    with FakeNominatim(script=[body(answer)]) as fake:
        cache = Cache()
        result, slept = _run(fake, ROWS[:1], cache)
    assert len(fake.requests) == 1 and slept == []
    assert result.failures[0].reason == "nominatim: no match in El Salvador (SV)"
    assert cache.entries == {}


def test_an_answer_without_coordinates_is_rejected_not_cached():
    with FakeNominatim(script=[body('[{"display_name": "San Salvador"}]')]) as fake:
        cache = Cache()
        result, _ = _run(fake, ROWS[:1], cache)
    [failure] = result.failures
    assert "rejected" in failure.reason
    assert cache.entries == {}


def test_cache_is_saved_after_every_answer(tmp_path):
    # A run that dies without a word (SIGKILL, power cut) has no `finally`: every answer must
    # already be on disk when the next call starts.
    path = tmp_path / "cache.json"
    seen: list[list[str]] = []

    class Spy(FakeNominatim):
        def _handle(self, handler):
            seen.append(sorted(_cache_doc(path)) if path.exists() else [])
            super()._handle(handler)

    with Spy() as fake:
        result, _ = _run(fake, ROWS[:3], Cache.load(path))
    assert result.failures == []
    assert seen == [[], ["san salvador|SV"], ["bogotá|CO", "san salvador|SV"]]
    assert len(_cache_doc(path)) == 3


def test_service_vanishes_mid_run_then_the_next_run_resumes_from_the_cache(tmp_path):
    path = tmp_path / "cache.json"
    with FakeNominatim(vanish_after=2) as fake:
        first, _ = _run(fake, cache=Cache.load(path), retries=1)
    assert fake.answered == 2
    assert [f.place for f in first.failures] == [p for _, p, _ in ROWS[2:]]
    # Three rows fail after their retries; then the service is not asked any more.
    reasons = [f.reason for f in first.failures]
    assert all("service error after 2 attempts" in r for r in reasons[:3]), reasons
    assert reasons[3].startswith("nominatim: not asked, the service failed 3 rows in a row")
    assert first.calls["nominatim"] == 2 + 3 * 2  # two answers, three rows tried twice
    assert sorted(_cache_doc(path)) == ["bogotá|CO", "san salvador|SV"]  # no failure kept

    with FakeNominatim() as back:
        second, _ = _run(back, cache=Cache.load(path))
    assert second.failures == []
    assert back.queries == [p for _, p, _ in ROWS[2:]]  # only what was still missing
    assert list(second.events["geocode_source"]) == ["cache"] * 2 + ["nominatim"] * 4
    with FakeNominatim() as fresh:
        reference, _ = _run(fresh)
    columns = ["id", "lat", "lon", "geocode_match", "geocode_query"]
    assert second.events[columns].equals(reference.events[columns])


# --- the command line, as a process ------------------------------------------------------------

def _cli(tmp_path: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dashboard.geocode", str(tmp_path / "events.csv"),
            "--output", str(tmp_path / "out.geojson"), "--cache", str(tmp_path / "cache.json"),
            "--endpoint", url, "--user-agent", AGENT, "--min-delay", "0", *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}


def test_killed_run_resumes_from_its_cache_and_never_corrupts_the_output(tmp_path):
    (tmp_path / "events.csv").write_text(_csv(), encoding="utf-8")
    out = tmp_path / "out.geojson"
    previous = '{"type": "FeatureCollection", "features": []}\n'
    out.write_text(previous, encoding="utf-8")

    with FakeNominatim(hold_after=3) as fake:
        proc = subprocess.Popen(_cli(tmp_path, fake.url), cwd=ROOT, env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert fake.held.wait(60), proc.communicate(timeout=30)[1].decode()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text(encoding="utf-8") == previous  # the old file, whole
    assert sorted(_cache_doc(tmp_path / "cache.json")) == [
        "bogotá|CO", "mexico city|MX", "san salvador|SV"]

    with FakeNominatim() as fake:
        done = subprocess.run(_cli(tmp_path, fake.url), cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert fake.queries == ["Tecoluca", "Medellín", "Guadalajara"]  # fewer calls: resumed
    assert "located 6 of 6 events (3 cache, 3 nominatim); 3 geocoder calls" in done.stderr
    resumed = load_events(out)
    assert resumed.problems == []
    with FakeNominatim() as fresh:
        reference, _ = _run(fresh)
    columns = ["id", "lat", "lon", "geocode_match", "geocode_query"]
    assert resumed.events[columns].equals(reference.events[columns])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_cli_against_a_vanishing_service_reports_rows_and_writes_nothing(tmp_path):
    (tmp_path / "events.csv").write_text(_csv(), encoding="utf-8")
    with FakeNominatim(vanish_after=2) as fake:
        done = subprocess.run(_cli(tmp_path, fake.url, "--retries", "0"), cwd=ROOT,
                              env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if "nominatim: " in line]
    assert [line.split(", place ")[0] for line in failed] == [
        f"{tmp_path / 'events.csv'}, line {n}" for n in (4, 5, 6, 7)]
    assert "not asked, the service failed 3 rows in a row" in failed[-1]
    assert "located 2 of 6 events (2 nominatim); 5 geocoder calls; 4 failed" in done.stderr
    assert not (tmp_path / "out.geojson").exists()
    assert sorted(_cache_doc(tmp_path / "cache.json")) == ["bogotá|CO", "san salvador|SV"]


def test_cli_against_a_service_talking_nonsense_fails_cleanly(tmp_path):
    (tmp_path / "events.csv").write_text(_csv(ROWS[:3]), encoding="utf-8")
    html = body("<html>\n<head><title>Captive portal</title></head>\n<body>Log in</body>")
    with FakeNominatim(script=[html] * 3) as fake:
        done = subprocess.run(_cli(tmp_path, fake.url, "--retries", "0", "--partial"),
                              cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    for n, place in ((2, "San Salvador"), (3, "Bogotá"), (4, "Mexico City")):
        [line] = [x for x in lines if f"line {n}, place {place!r}" in x]
        assert "GeocoderParseError" in line
    features = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["geometry"] for f in features] == [None] * 3  # --partial: written, unlocated
    assert not (tmp_path / "cache.json").exists()  # nothing worth keeping


@pytest.mark.slow
def test_kills_at_random_moments_never_leave_a_corrupt_file(tmp_path):
    # Many fast answers, so that kills land during cache and output writes too.
    import random

    places = {f"place {n}": (f"{13.5 + n / 1000:.4f}", "-89.19", f"Place {n}, El Salvador")
              for n in range(150)}
    rows = [(f"p{n}", f"Place {n}", "SV") for n in range(150)]
    (tmp_path / "events.csv").write_text(_csv(rows), encoding="utf-8")
    out, cache = tmp_path / "out.geojson", tmp_path / "cache.json"
    rng = random.Random(6)
    with FakeNominatim(places=places) as fake:
        for _ in range(6):
            proc = subprocess.Popen(_cli(tmp_path, fake.url), cwd=ROOT, env=_env(),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=rng.uniform(2.5, 5.0))
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            if cache.exists():
                _cache_doc(cache)  # whole JSON, right format
            if out.exists():
                assert load_events(out).problems == []
        calls_before = len(fake.requests)
        done = subprocess.run(_cli(tmp_path, fake.url), cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(_cache_doc(cache)) == 150
    assert len(fake.requests) - calls_before < 150  # the killed runs' answers were kept
    assert load_events(out).events["lat"].notna().all()


@pytest.mark.parametrize(("endpoint", "asked", "spacing"), [
    ("https://nominatim.openstreetmap.org", 0.0, 1.0),
    ("nominatim.openstreetmap.org", 0.2, 1.0),
    ("https://nominatim.openstreetmap.org", 2.0, 2.0),
    ("http://127.0.0.1:8080", 0.0, 0.0),
    ("https://geocode.example.org/nominatim", 0.25, 0.25),
])
def test_the_public_nominatim_is_never_called_more_than_once_a_second(endpoint, asked, spacing):
    source = nominatim_source(endpoint, AGENT, min_delay_seconds=asked)
    assert source.geocode.min_delay_seconds == spacing


@pytest.mark.parametrize(("give_up_after", "asked"), [(1, 1), (2, 2), (0, 6)])
def test_a_dead_service_is_not_asked_row_after_row(give_up_after, asked):
    source = nominatim_source("http://127.0.0.1:9", AGENT, timeout=0.5, min_delay_seconds=0)
    waits: list[float] = []
    calls = 0

    def counted(query, *, country_codes):
        nonlocal calls
        calls += 1
        return source.geocode(query, country_codes=country_codes)

    result = geocode_events(_events(), [Source(source.name, counted)], Cache(),
                            retries=1, backoff=0.25, sleep=waits.append,
                            give_up_after=give_up_after)
    assert calls == 2 * asked  # each asked row: one call and one retry
    assert len(waits) == asked
    assert len(result.failures) == len(ROWS)
    skipped = [f for f in result.failures if "not asked" in f.reason]
    assert len(skipped) == len(ROWS) - asked


def test_a_success_resets_the_count_and_query_errors_do_not_count():
    answers = iter([GeocoderUnavailable("down"), GeocoderUnavailable("down"),
                    Location("San Salvador", (13.6989, -89.1914), {}),
                    GeocoderQueryError("bad query"), GeocoderUnavailable("down"),
                    GeocoderUnavailable("down")])

    def flaky(_query, **_country):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    rows = [("a", "Tecoluca", "SV"), ("b", "Tecoluca Norte", "SV"), ("c", "San Salvador", "SV"),
            ("d", "Bogotá", "CO"), ("e", "Medellín", "CO"), ("f", "Cali", "CO")]
    result = geocode_events(_events(rows), [Source("nominatim", flaky)], Cache(), retries=0,
                            sleep=[].append, give_up_after=3)
    # Two failures, a success (count back to 0), a query error (not the service's fault),
    # two failures: never three in a row, so every row was asked.
    assert [f.place for f in result.failures] == ["Tecoluca", "Tecoluca Norte", "Bogotá",
                                                  "Medellín", "Cali"]
    assert not any("not asked" in f.reason for f in result.failures)
