"""Shared fixtures: a small trip, a running dashboard server, headless Chromium, AppTest pages."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from bench.headless import CHROMIUM_ARGS
from dashboard.formats import Dataset, parse_events

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"

_BASE = {"source_name": "Example Wire", "source_url": "https://example.org/trip",
         "date_basis": "stated", "place_basis": "stated"}

# A three-country trip in the shape of the bundled one: a stop with one event, stops with two
# events at the same spot, and a day per country. Facts invented for the tests.
TRIP_ROWS: list[dict[str, str]] = [
    {"id": "sv-prison-visit", "date": "2025-03-26", "title": "Prison visit",
     "place": "Tecoluca", "country": "SV", "lat": "13.5386", "lon": "-88.7872",
     "category": "visit", "participants": "Ana Pérez (Minister)",
     "summary": "A visit outside the capital.", "source_quote": "They visited the prison.",
     "place_basis": "inferred"},
    {"id": "sv-president-meeting", "date": "2025-03-26", "title": "Meeting the president",
     "place": "San Salvador", "country": "SV", "lat": "13.6929", "lon": "-89.2182",
     "category": "meeting", "participants": "Ana Pérez (Minister); Luis Gómez (President)",
     "summary": "Talks in the capital.", "source_quote": "They met the president."},
    {"id": "sv-agreement-signing", "date": "2025-03-26", "title": "Agreement signed",
     "place": "San Salvador", "country": "SV", "lat": "13.6929", "lon": "-89.2182",
     "category": "signing", "participants": "Ana Pérez (Minister)",
     "summary": "An agreement.", "source_quote": "They signed it.", "date_basis": "inferred"},
    {"id": "co-officials-meeting", "date": "2025-03-27", "title": "Meeting officials",
     "place": "Bogotá", "country": "CO", "lat": "4.711", "lon": "-74.0721",
     "category": "meeting", "participants": "Ana Pérez (Minister); Gustavo Petro (President)",
     "summary": "Officials met.", "source_quote": "They met officials."},
    {"id": "co-data-signing", "date": "2025-03-27", "title": "Data agreement signed",
     "place": "Bogotá", "country": "CO", "lat": "4.711", "lon": "-74.0721",
     "category": "signing", "participants": "Ana Pérez (Minister)",
     "summary": "Data sharing.", "source_quote": "They agreed to share data."},
    {"id": "mx-press-conference", "date": "2025-03-28", "title": "Morning press conference",
     "place": "Mexico City", "country": "MX", "lat": "19.4326", "lon": "-99.1332",
     "category": "press_conference", "participants": "Claudia Sheinbaum (President)",
     "summary": "Questions from reporters.", "source_quote": "She spoke to reporters."},
    {"id": "mx-president-meeting", "date": "2025-03-28", "title": "Meeting in Mexico City",
     "place": "Mexico City", "country": "MX", "lat": "19.4326", "lon": "-99.1332",
     "category": "meeting", "participants": "Ana Pérez (Minister); Claudia Sheinbaum (President)",
     "summary": "The last meeting.", "source_quote": "They met last."},
]


def events_csv(rows: list[dict[str, str]]) -> str:
    """CSV text of event rows (text values), with the shared defaults filled in."""
    records = [{**_BASE, **r} for r in rows]
    columns = list(dict.fromkeys(k for r in records for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def make_dataset(rows: list[dict[str, str]], name: str = "trip.csv") -> Dataset:
    """Rows validated as the loader would; the test decides whether problems are expected."""
    return parse_events(events_csv(rows).encode(), name)


@pytest.fixture
def trip() -> Dataset:
    dataset = make_dataset(TRIP_ROWS)
    assert not dataset.problems, [str(p) for p in dataset.problems]
    return dataset


@pytest.fixture
def trip_events(trip: Dataset) -> pd.DataFrame:
    return trip.events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, args: tuple[str, ...] = (), *,
                     script: Path = APP, options: tuple[str, ...] = ()) -> Iterator[str]:
    """Run ``streamlit run dashboard/app.py`` (or `script`) on a free local port; yield its URL.

    `options` are more of Streamlit's own (``--name value``), `args` the script's.
    """
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none", *options]
    if args:
        command += ["--", *args]
    url = f"http://127.0.0.1:{port}"
    # Output goes to a file, not a pipe: nobody reads it while the server runs, and a full
    # pipe would block the server.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(proc, url, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(proc: subprocess.Popen, url: str, log) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError("streamlit exited: " + log.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")
        time.sleep(0.2)


def chromium_path() -> str | None:
    """Debian's chromium, or None (browser tests then skip, or fail when CI=true)."""
    path = "/usr/bin/chromium"
    return path if os.access(path, os.X_OK) else shutil.which("chromium")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path; skips without it or Playwright, but fails when CI=true."""
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """A headless Chromium, shared by the tests of a module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# --- The page under Streamlit's AppTest ---------------------------------------------------------

@pytest.fixture
def static_serving() -> Iterator[None]:
    """Static serving on, as dashboard/.streamlit/config.toml sets it, and empty caches.

    A served page reads that file; AppTest does not. The option is restored and the caches
    emptied again afterwards.
    """
    import streamlit as st
    from streamlit import config

    before = config.get_option("server.enableStaticServing")
    config.set_option("server.enableStaticServing", True)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    config.set_option("server.enableStaticServing", before)
    st.cache_data.clear()
    st.cache_resource.clear()


def ok(at: AppTest) -> AppTest:
    """The run, once it is known to have raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def run_page(static_serving: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ARG001
    """Run the page as a new session on event rows (the bundled data when None), with a query."""
    monkeypatch.delenv("EVENTMAP_DATA", raising=False)

    def run(rows: list[dict[str, str]] | None = TRIP_ROWS, query: dict | None = None, *,
            data: str | None = None, file_name: str = "events.csv") -> AppTest:
        from streamlit.testing.v1 import AppTest

        if rows is not None:
            path = tmp_path / file_name
            path.write_text(events_csv(rows), encoding="utf-8")
            monkeypatch.setenv("EVENTMAP_DATA", str(path))
        elif data is not None:
            monkeypatch.setenv("EVENTMAP_DATA", data)
        else:
            monkeypatch.delenv("EVENTMAP_DATA", raising=False)
        at = AppTest.from_file(str(APP), default_timeout=60)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        return ok(at.run())

    return run
