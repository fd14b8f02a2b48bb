"""Broken files through the commands people run: ``validate`` and ``geocode --offline``.

Every file of the malformed corpus (tests/broken_files.py) gets its messages naming the file,
the row and the field, a non-zero exit and no traceback; ``geocode --partial`` keeps the valid
rows. Marked ``slow``: a 50 MB file and a million rows, timed and measured.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import geocode, validate
from dashboard.formats import load_events, parse_events
from tests.broken_files import CASES

ROOT = Path(__file__).resolve().parents[1]
IDS = [c[0] for c in CASES]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _problem_lines(text: str, path: Path) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{path}, ")]


WITHOUT_KEPT = [(name, data, fragments) for name, data, _, fragments in CASES]


@pytest.mark.parametrize(("name", "data", "fragments"), WITHOUT_KEPT, ids=IDS)
def test_validate_reports_every_broken_file(tmp_path, capsys, name, data, fragments):
    path = _write(tmp_path, name, data)
    assert validate.main([str(path)]) == 1
    out, err = capsys.readouterr()
    expected = [str(p) for p in parse_events(data, str(path)).problems]
    # Every problem, one line each, all naming the file (and a row): nothing else on stdout.
    assert out.splitlines() == expected
    assert _problem_lines(out, path) == expected
    for fragment in fragments:
        assert fragment in out
    n = len(expected)
    assert err == f"{n} problem{'s' if n != 1 else ''} in 1 file.\n"


@pytest.mark.parametrize(("name", "data", "fragments"), WITHOUT_KEPT, ids=IDS)
def test_geocode_refuses_every_broken_file(tmp_path, capsys, name, data, fragments):
    path = _write(tmp_path, name, data)
    out = tmp_path / "out.geojson"
    assert geocode.main([str(path), "--output", str(out), "--offline"]) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err
    assert _problem_lines(err, path)
    assert "Nothing was geocoded." in err
    assert not out.exists()


@pytest.mark.parametrize(("name", "data", "kept", "fragments"), CASES, ids=IDS)
def test_geocode_partial_keeps_the_valid_rows(tmp_path, capsys, name, data, kept, fragments):
    path = _write(tmp_path, name, data)
    out = tmp_path / "out.geojson"
    assert geocode.main([str(path), "--output", str(out), "--offline", "--partial"]) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err
    if not kept:
        assert "Nothing was geocoded." in err
        assert not out.exists()
        return
    written = load_events(out)
    assert written.problems == []
    valid = parse_events(data, name).events
    assert list(written.events["id"]) == list(valid["id"])
    assert written.events["lat"].notna().all()
    assert f"wrote {out}" in err


def test_the_corpus_through_the_commands_as_processes(tmp_path):
    # The same files through real processes: no traceback, whatever the input.
    paths = [_write(tmp_path, name, data) for name, data, _, _ in CASES]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "dashboard.validate", *map(str, paths)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    total = sum(len(parse_events(p.read_bytes(), str(p)).problems) for p in paths)
    assert len(done.stdout.splitlines()) == total
    assert done.stderr == f"{total} problems in {len(paths)} files.\n"
    for path in paths:
        assert _problem_lines(done.stdout, path), path.name

    garbage = tmp_path / "garbage.csv"
    done = subprocess.run([sys.executable, "-m", "dashboard.geocode", str(garbage), "--output",
                           str(tmp_path / "o.geojson"), "--offline", "--partial"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{garbage}, byte 128: the file is not UTF-8 text" in done.stderr


def test_a_missing_or_unreadable_file_is_a_message(tmp_path, capsys):
    missing = tmp_path / "nowhere.csv"
    assert validate.main([str(missing)]) == 1
    assert capsys.readouterr().out == (f"{missing}, file: cannot read the file: No such file "
                                       "or directory.\n")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert geocode.main([str(folder), "--output", str(tmp_path / "o.csv"), "--offline"]) == 2
    assert f"{folder}, file: cannot read the file: Is a directory." in capsys.readouterr().err


# --- big files -------------------------------------------------------------------------------

def _run_measured(command: list[str], timeout: float) -> tuple[int, str, str, float, float]:
    """Run ``command`` under a small Python parent that reports the child's own peak RSS."""
    probe = ("import json, os, resource, subprocess, sys, time\n"
             "t = time.monotonic()\n"
             "p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)\n"
             "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
             "json.dump({'rc': p.returncode, 'out': p.stdout.decode(), "
             "'err': p.stderr.decode(), 's': time.monotonic() - t, 'mb': rss}, sys.stdout)\n")
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=ROOT, env={
        **os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=timeout)
    assert done.returncode == 0, done.stderr
    res = json.loads(done.stdout)
    return res["rc"], res["out"], res["err"], res["s"], res["mb"]


def _report(capsys, what: str, seconds: float, mb: float, size: int) -> None:
    """Say what was measured in the test run's output (measured, never asserted)."""
    with capsys.disabled():
        print(f"\n  {what}: {size / 1e6:.0f} MB file, {seconds:.1f} s, peak RSS {mb:.0f} MB")


MILLION = 1_000_000
BAD_EVERY = 100_000  # one bad date per 100k rows, so the report has something to say


def _million_rows(path: Path) -> list[int]:
    """Write a million-row events CSV; return the line numbers of its bad rows."""
    rng = random.Random(1)
    bad = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("id,date,title,place,country,lat,lon,category,summary\n")
        for i in range(MILLION):
            date = f"2025-03-{26 + i % 3}"
            if i % BAD_EVERY == BAD_EVERY - 1:
                date = "2025-02-30"
                bad.append(i + 2)
            fh.write(f"ev-{i},{date},Event {i},San Salvador,SV,{13.6 + rng.random() / 5:.4f},"
                     f"{-89.3 + rng.random() / 5:.4f},meeting,\"Row {i}, as written\"\n")
    return bad


@pytest.mark.slow
def test_a_million_rows_validate_with_a_clear_outcome(tmp_path, capsys):
    path = tmp_path / "million.csv"
    bad = _million_rows(path)
    rc, out, err, seconds, mb = _run_measured(
        [sys.executable, "-m", "dashboard.validate", str(path)], timeout=300)
    _report(capsys, "validate, 1,000,000-row CSV", seconds, mb, path.stat().st_size)
    # Issue 6: at most 1 GB for a million rows (measured 0.83 GB; 1.45 GB before the text
    # columns stayed in pyarrow and the frame was no longer copied during validation).
    assert mb < 1024
    assert rc == 1
    assert out.splitlines() == [
        f"{path}, line {n}, field 'date': '2025-02-30' is not a date; write YYYY-MM-DD "
        "(e.g. 2025-03-27) or a datetime with UTC offset (2025-03-27T10:30-05:00)."
        for n in bad]
    assert err == f"{len(bad)} problems in 1 file.\n"


@pytest.mark.slow
def test_a_50_mb_geojson_validates_with_a_clear_outcome(tmp_path, capsys):
    rng = random.Random(2)
    features = []
    size = 0
    n = 0
    while size < 50_000_000:
        feature = {"type": "Feature",
                   "geometry": {"type": "Point", "coordinates": [
                       round(-74.2 + rng.random() / 5, 5), round(4.5 + rng.random() / 5, 5)]},
                   "properties": {"id": f"co-{n}", "date": "2025-03-27", "title": f"Event {n}",
                                  "place": "Bogotá", "country": "CO",
                                  "summary": "Ñ" * rng.randint(50, 400)}}
        features.append(feature)
        size += len(json.dumps(feature, ensure_ascii=False).encode()) + 2
        n += 1
    features[-1]["properties"]["country"] = "MX"  # one bad row at the very end
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    del features
    assert path.stat().st_size >= 50_000_000
    rc, out, err, seconds, mb = _run_measured(
        [sys.executable, "-m", "dashboard.validate", str(path)], timeout=300)
    _report(capsys, f"validate, {n:,}-feature GeoJSON", seconds, mb, path.stat().st_size)
    assert rc == 1
    [line] = out.splitlines()
    assert line.startswith(f"{path}, feature {n - 1}, field 'lat': ")
    assert "is not in Mexico (MX)" in line
    assert err == "1 problem in 1 file.\n"


@pytest.mark.slow
def test_one_50_mb_value_is_read_whole(tmp_path, capsys):
    # A single cell far beyond the csv module's default field limit (128 KiB).
    path = tmp_path / "long.csv"
    path.write_text("id,date,title,place,country,lat,lon,summary\n"
                    "a,2025-03-26,T,San Salvador,SV,13.69,-89.19,\"" + "x" * 50_000_000
                    + "\"\nb,2025-03-26,T,San Salvador,SV,13.69,-89.19,\n", encoding="utf-8")
    rc, out, err, seconds, mb = _run_measured(
        [sys.executable, "-m", "dashboard.validate", str(path)], timeout=300)
    _report(capsys, "validate, CSV with one 50 MB value", seconds, mb, path.stat().st_size)
    # Measured 0.49 GB; a quote check that backtracks per character took 6 GB here.
    assert mb < 1024
    assert (rc, out, err) == (0, "OK: 2 events in 1 file, no problems.\n", "")


# --- the page's upload -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "kept", "fragments"), CASES, ids=IDS)
def test_upload_reports_every_broken_file_and_keeps_valid_rows(name, data, kept, fragments):
    from dashboard.upload import read_upload

    result = read_upload(name, data)
    report = "\n".join(str(p) for p in result.dataset.problems)
    assert len(result.dataset.events) == kept, report
    assert result.dataset.problems and all(p.file == name for p in result.dataset.problems)
    for fragment in fragments:
        assert fragment in report


def test_upload_of_hostile_text_keeps_it_exactly():
    from dashboard.upload import read_upload
    from tests.hostile import TEXT_FIELDS, hostile_csv, hostile_rows

    result = read_upload("hostile.csv", hostile_csv())
    assert result.dataset.problems == []
    events = result.dataset.events
    for row, (_, event) in zip(hostile_rows(), events.iterrows(), strict=True):
        assert all(event[f] == row[f] for f in TEXT_FIELDS), row["id"]


@pytest.mark.slow
def test_big_uploads_are_refused_unread_and_the_largest_allowed_is_measured(tmp_path, capsys):
    from dashboard.upload import MAX_UPLOAD_BYTES, read_upload

    path = tmp_path / "million.csv"
    _million_rows(path)
    big = read_upload("million.csv", path.read_bytes())
    assert big.too_big and len(big.dataset.events) == 0
    [problem] = big.dataset.problems
    assert "the page takes files up to" in problem.message
    # The largest file the page reads: the first rows of the million, just under the limit.
    data = path.read_bytes()[:MAX_UPLOAD_BYTES]
    largest = tmp_path / "largest.csv"
    largest.write_bytes(data[:data.rindex(b"\n") + 1])
    probe = ("import sys, time\nfrom pathlib import Path\n"
             "from dashboard.upload import read_upload\n"
             "u = read_upload('largest.csv', Path(sys.argv[1]).read_bytes())\n"
             "print(len(u.dataset.events), len(u.dataset.problems), u.too_big)\n")
    rc, out, err, seconds, mb = _run_measured([sys.executable, "-c", probe, str(largest)],
                                              timeout=300)
    _report(capsys, "page upload at the size limit", seconds, mb, largest.stat().st_size)
    assert rc == 0, err
    events, problems, too_big = out.split()
    assert too_big == "False" and int(events) > 150_000 and int(problems) >= 1
