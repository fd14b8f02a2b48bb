"""`python -m dashboard.validate`: every bad input gets its message, good files an OK."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.validate import main

ROOT = Path(__file__).resolve().parents[1]
HEADER = "id,date,title,place,country,lat,lon\n"
GOOD = "sv-a,2025-03-26,Visit,San Salvador,SV,13.69,-89.19\n"
LAT_LON_HINT = ("Check the country code, and that lat and lon are not swapped (GeoJSON "
                "coordinates are [lon, lat]).")


def _csv(row: str) -> bytes:
    return (HEADER + GOOD + row).encode()


def _swapped_geojson() -> bytes:
    def feature(event_id, lat, lon, country, place):
        # Written [lat, lon] by mistake: RFC 7946 wants [lon, lat].
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lat, lon]},
                "properties": {"id": event_id, "date": "2025-03-27", "title": "T",
                               "place": place, "country": country}}
    return json.dumps({"type": "FeatureCollection", "features": [
        feature("sv-a", 13.69, -89.19, "SV", "San Salvador"),
        feature("co-b", 4.61, -74.08, "CO", "Bogotá")]}).encode()


# (file name, content, every line the command must print)
BAD = [
    ("missing-value.csv", _csv("co-b,2025-03-27,,Bogotá,CO,4.61,-74.08\n"),
     ["missing-value.csv, line 3, field 'title': 'title' is required and empty; "
      "Short headline of the event."]),
    ("missing-column.csv", b"id,date,place,country\nco-b,2025-03-27,Bogot\xc3\xa1,CO\n",
     ["missing-column.csv, line 1, field 'title': there is no 'title' column; every event "
      "needs one: Short headline of the event."]),
    ("bad-date.csv", _csv("co-b,2025-02-30,Meeting,Bogotá,CO,4.61,-74.08\n"),
     ["bad-date.csv, line 3, field 'date': '2025-02-30' is not a date; write YYYY-MM-DD "
      "(e.g. 2025-03-27) or a datetime with UTC offset (2025-03-27T10:30-05:00)."]),
    ("lat-95.csv", _csv("co-b,2025-03-27,Meeting,Bogotá,CO,95,-74.08\n"),
     ["lat-95.csv, line 3, field 'lat': 95 is out of range; lat must lie between -90 and 90."]),
    ("lon-200.csv", _csv("co-b,2025-03-27,Meeting,Bogotá,CO,4.61,-200\n"),
     ["lon-200.csv, line 3, field 'lon': -200 is out of range; lon must lie between -180 "
      "and 180."]),
    ("country-xx.csv", _csv("co-b,2025-03-27,Meeting,Bogotá,XX,4.61,-74.08\n"),
     ["country-xx.csv, line 3, field 'country': 'XX' is not an ISO 3166-1 alpha-2 country "
      "code; use two letters such as SV, CO or MX."]),
    ("duplicate-id.csv", _csv("sv-a,2025-03-27,Meeting,Bogotá,CO,4.61,-74.08\n"),
     ["duplicate-id.csv, line 3, field 'id': duplicate id 'sv-a' (first used at line 2); "
      "give every event its own id."]),
    ("empty.csv", b"",
     ["empty.csv, line 1: the file is empty; it needs a header line naming the columns "
      "(id,date,title,place,country,...)."]),
    ("empty.geojson", b"",
     ["empty.geojson, file: the file is empty; it needs a GeoJSON FeatureCollection."]),
    ("latin1.csv", (HEADER + "co-b,2025-03-27,Meeting,Bogotá,CO,4.61,-74.08\n").encode("latin-1"),
     # byte 65 is the Latin-1 'á' of Bogotá, the first byte that is not UTF-8
     ["latin1.csv, byte 65: the file is not UTF-8 text; save it as UTF-8 (\"CSV UTF-8\" in "
      "spreadsheet programs) and try again."]),
    ("swapped.geojson", _swapped_geojson(),
     ["swapped.geojson, feature 0, field 'lat': (-89.19, 13.69) is not in El Salvador (SV). "
      + LAT_LON_HINT,
      "swapped.geojson, feature 1, field 'lat': (-74.08, 4.61) is not in Colombia (CO). "
      + LAT_LON_HINT]),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD, ids=[c[0] for c in BAD])
def test_bad_file_is_rejected_with_its_message(name, content, expected, tmp_path, capsys,
                                                monkeypatch):
    monkeypatch.chdir(tmp_path)  # problems name the file as given on the command line
    Path(name).write_bytes(content)
    assert main([name]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == expected
    n = len(expected)
    assert err == f"{n} problem{'s' if n > 1 else ''} in 1 file.\n"


def test_every_problem_of_every_file_is_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_bytes(_csv("co-b,2025-02-30,,Bogotá,XX,95,-200\n"))
    Path("b.csv").write_bytes(b"")
    assert main(["a.csv", "b.csv"]) == 1
    out, err = capsys.readouterr()
    assert [line.split(":", 1)[0] for line in out.splitlines()] == [
        "a.csv, line 3, field 'title'", "a.csv, line 3, field 'date'",
        "a.csv, line 3, field 'country'", "a.csv, line 3, field 'lat'",
        "a.csv, line 3, field 'lon'", "b.csv, line 1"]
    assert err == "6 problems in 2 files.\n"


def test_good_file_passes_with_a_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("good.csv").write_bytes(_csv(""))
    assert main(["good.csv"]) == 0
    assert capsys.readouterr() == ("OK: 1 event in 1 file, no problems.\n", "")


def test_command_line_accepts_the_shipped_files():
    run = subprocess.run([sys.executable, "-m", "dashboard.validate", "data/events.csv",
                          "data/events.geojson"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK: ") and "in 2 files, no problems." in run.stdout


def test_command_line_rejects_a_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv("co-b,2025-03-27,Meeting,Bogotá,CO,95,-74.08\n"))
    run = subprocess.run([sys.executable, "-m", "dashboard.validate", str(bad)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    assert run.stdout == (f"{bad}, line 3, field 'lat': 95 is out of range; lat must lie "
                          "between -90 and 90.\n")


def test_no_file_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "FILE" in capsys.readouterr().err
