"""Every shipped event: valid fields, coordinates in its country, its quote in the article."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from geopy.distance import geodesic

from dashboard.countries import in_country
from dashboard.formats import load_events
from dashboard.geocode import SOURCES
from dashboard.schema import BASES, CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "events.csv"
GEOJSON = ROOT / "data" / "events.geojson"
CACHE = ROOT / "data" / "geocode_cache.json"
# The article sits beside the repository (../shared), in CI as here; it is never copied in.
ARTICLE = ROOT.parent / "shared" / "source" / "article.txt"
TRIP_DAYS = ("2025-03-26", "2025-03-27", "2025-03-28")
GEOCODED = ("lat", "lon", "geocode_source", "geocode_match", "geocode_query")

CURATED = load_events(CSV)
SHIPPED = load_events(GEOJSON)
IDS = list(CURATED.events["id"])


def _event(dataset, event_id):
    return dataset.events.set_index("id").loc[event_id]


def test_shipped_files_have_no_problems():
    assert [str(p) for p in CURATED.problems] == []
    assert [str(p) for p in SHIPPED.problems] == []
    assert len(IDS) == 7


def test_geojson_holds_the_curated_events_in_order():
    assert list(SHIPPED.events["id"]) == IDS
    fields = [c for c in CURATED.events.columns if c not in GEOCODED]
    curated = CURATED.events[fields].astype(str).to_dict("records")
    shipped = SHIPPED.events[fields].astype(str).to_dict("records")
    for before, after in zip(curated, shipped, strict=True):
        before.pop("row"), after.pop("row")
        assert after == before, "data/events.geojson is stale: run the geocode command in README"


@pytest.mark.parametrize("event_id", IDS)
def test_curated_event_fields(event_id):
    rec = _event(CURATED, event_id)
    assert rec["day"] in TRIP_DAYS
    assert rec["category"] in CATEGORIES
    assert rec["date_basis"] in BASES and rec["place_basis"] in BASES
    assert rec["source_name"] == "Latin Times"
    assert rec["summary"] and rec["title"]
    for person in rec["participants"].split(";"):
        assert re.fullmatch(r"[^()]+ \([^()]+\)", person.strip()), f"{person!r} has no role"
    assert rec["country"] in ("SV", "CO", "MX")


@pytest.mark.parametrize("event_id", IDS)
def test_shipped_event_is_located_in_its_country(event_id):
    rec = _event(SHIPPED, event_id)
    assert -90 <= rec["lat"] <= 90 and -180 <= rec["lon"] <= 180
    assert in_country([rec["lat"]], [rec["lon"]], [rec["country"]])[0]
    assert rec["geocode_source"] in SOURCES
    if rec["geocode_source"] != "manual":
        assert rec["geocode_query"] == rec["place"]
        assert rec["geocode_match"]


@pytest.mark.parametrize("event_id", IDS)
def test_quote_is_verbatim_from_the_article(event_id):
    if not ARTICLE.exists():
        pytest.skip(f"source article not found at {ARTICLE} (it lives beside the repository, "
                    "not in it); the quotes cannot be checked here")
    quote = _event(CURATED, event_id)["source_quote"]
    assert quote and "\n" not in quote
    assert quote in ARTICLE.read_text(encoding="utf-8")


def test_offline_geocoding_reproduces_the_shipped_geojson(tmp_path):
    out = tmp_path / "OUT.geojson"
    cmd = [sys.executable, "-m", "dashboard.geocode", "data/events.csv", "--output", str(out),
           "--offline"]
    if CACHE.exists():  # use the shipped cache, but never write to it from a test
        shutil.copy(CACHE, tmp_path / "cache.json")
        cmd += ["--cache", str(tmp_path / "cache.json")]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240,
                         check=False)
    assert run.returncode == 0, run.stderr
    again = json.loads(out.read_text(encoding="utf-8"))["features"]
    shipped = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    assert [f["id"] for f in again] == [f["id"] for f in shipped]
    for new, old in zip(again, shipped, strict=True):
        (lon1, lat1), (lon2, lat2) = new["geometry"]["coordinates"], old["geometry"]["coordinates"]
        assert geodesic((lat1, lon1), (lat2, lon2)).km < 1.0, new["id"]
