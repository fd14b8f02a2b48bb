"""The page in a real browser: headless Debian Chromium through Playwright, offline.

Every request to anything but the local server is blocked; map tiles (the one thing allowed
to come from the internet) are counted apart. Skips without Chromium, unless CI=true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest

from bench.headless import LOCAL_HOSTS, TILE_HOSTS
from dashboard import settings
from dashboard.dates import short_day_text
from dashboard.formats import load_events
from dashboard.located import require_coordinates
from tests.conftest import ROOT, streamlit_server

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def trip():
    dataset = require_coordinates(load_events(settings.DEFAULT_DATA))
    assert not dataset.problems, [str(p) for p in dataset.problems]
    return dataset.events


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@dataclass
class Traffic:
    """Requests the page made, by where they went."""

    local: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def context(browser):
    # One context for the module: its HTTP cache keeps Streamlit's scripts between tests.
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    tab = context.new_page()
    traffic = Traffic()

    def route(r):
        host = urlsplit(r.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            traffic.local.append(r.request.url)
            r.continue_()
            return
        (traffic.tiles if TILE_HOSTS.match(host) else traffic.other).append(r.request.url)
        r.abort()

    tab.route("**/*", route)
    tab.traffic = traffic
    yield tab
    tab.close()


def markers(page):
    return page.frame_locator(MAP_FRAME).locator(".em-event")


def details_heading(page, title: str):
    return page.get_by_role("heading", name=title, exact=True)


def click_marker(page, title: str) -> None:
    """Zoom the map to a marker (markers of nearby stops overlap at the trip's zoom), click it."""
    from playwright.sync_api import expect

    # A selection made outside the map mounts a fresh map; wait until the old one is gone.
    expect(page.locator(MAP_FRAME)).to_have_count(1)
    marker = page.frame_locator(MAP_FRAME).get_by_role("button", name=title, exact=True)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    marker.evaluate("""el => { for (const k in map_div._layers) {
        const l = map_div._layers[k];
        if (l.getElement && l.getElement() === el) map_div.setView(l.getLatLng(), 10,
                                                                   {animate: false});
    } }""")
    marker.click()


def day_events(trip, day: str):
    return trip.loc[trip["day"] == day]


def test_page_loads_offline_with_one_marker_per_event(page, server, trip):
    from PIL import Image
    from playwright.sync_api import expect

    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    for title in trip["title"]:  # each marker is a focusable button named by its event
        expect(page.frame_locator(MAP_FRAME).get_by_role("button", name=title, exact=True)
               ).to_have_attribute("tabindex", "0")
    expect(page.get_by_text(f"All {len(trip)} events ·")).to_be_visible()
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()
    expect(page.frame_locator(MAP_FRAME).locator(".leaflet-control-attribution")
           ).to_contain_text("OpenStreetMap")
    assert any("/app/static/vendor/leaflet-1.9.3/leaflet.js" in u for u in page.traffic.local)
    assert page.traffic.other == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500, "the screenshot looks blank"
    print(f"\nrequests: {len(page.traffic.local)} local, {len(page.traffic.tiles)} tiles "
          f"(blocked), {len(page.traffic.other)} other")


def test_clicking_each_marker_shows_its_details(page, server, trip):
    from playwright.sync_api import expect

    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    for event_id, title in zip(trip["id"], trip["title"], strict=True):
        click_marker(page, title)
        expect(details_heading(page, title)).to_be_visible()
        expect(page).to_have_url(re.compile(rf"[?&]event={re.escape(event_id)}(&|$)"))
        expect(page.frame_locator(MAP_FRAME).locator(".em-selected")).to_have_count(1)
    # Keyboard: Tab to a marker, Enter selects it.
    title = trip["title"].iloc[0]
    marker = page.frame_locator(MAP_FRAME).get_by_role("button", name=title, exact=True)
    marker.focus()
    marker.press("Enter")
    expect(details_heading(page, title)).to_be_visible()
    assert page.traffic.other == []


def test_a_list_row_selects_and_a_marker_click_after_it_still_counts(page, server, trip):
    from playwright.sync_api import expect

    page.goto(server)
    # Every marker drawn first, as in the test above: a click on a map still being set up
    # was lost once in CI.
    expect(markers(page)).to_have_count(len(trip))
    first, last = trip["title"].iloc[0], trip["title"].iloc[-1]
    click_marker(page, first)
    expect(details_heading(page, first)).to_be_visible()
    grid = page.get_by_test_id("stDataFrame")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # The list is a canvas: click the cell of the last row (35 px rows under a header).
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 * len(trip) + 17)
    expect(details_heading(page, last)).to_be_visible()
    # The marker clicked before the list changed the selection selects again. The list's
    # selection remounts the map; a click that lands on the old map while it is being
    # replaced is lost, so the click is tried again until the details follow.
    for attempt in range(3):
        click_marker(page, first)
        try:
            expect(details_heading(page, first)).to_be_visible(timeout=7000)
            break
        except AssertionError:
            if attempt == 2:
                raise


def test_one_day_leaves_only_that_days_markers(page, server, trip):
    from playwright.sync_api import expect

    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    day = trip["day"].value_counts().idxmax()
    page.get_by_role("radiogroup", name="Trip days").get_by_role(
        "radio", name=short_day_text(date.fromisoformat(day)), exact=True).click()
    expected = day_events(trip, day)
    expect(markers(page)).to_have_count(len(expected))
    titles = sorted(markers(page).evaluate_all("els => els.map(e => e.title)"))
    assert titles == sorted(expected["title"])
    expect(page).to_have_url(re.compile(rf"start={day}&end={day}"))


def test_a_shared_link_restores_its_view(page, server, trip):
    from playwright.sync_api import expect

    day = trip["day"].iloc[-1]
    chosen = day_events(trip, day).iloc[0]
    page.goto(f"{server}/?start={day}&end={day}&event={chosen['id']}")
    expect(details_heading(page, chosen["title"])).to_be_visible()
    expect(markers(page)).to_have_count(len(day_events(trip, day)))
    expect(page.frame_locator(MAP_FRAME).locator(".em-selected")).to_have_count(1)
    year, month, dom = day.split("-")
    start = page.get_by_role("group", name="Dates start date")
    expect(start.get_by_role("spinbutton", name="day, Dates start date")).to_have_text(dom)
    expect(page.get_by_role("radio", checked=True)).to_have_text(
        short_day_text(date.fromisoformat(day)))
    assert page.traffic.other == []


# Each event marker's box inside the map's box (markers beyond the view are drawn too).
IN_VIEW = """els => { const view = document.querySelector(".leaflet-container")
    .getBoundingClientRect(); return els.map(el => { const r = el.getBoundingClientRect();
    return r.left >= view.left && r.right <= view.right && r.top >= view.top
        && r.bottom <= view.bottom; }); }"""


def test_a_link_opens_on_the_whole_trip_and_the_list_pans_to_its_event(page, server, trip):
    from playwright.sync_api import expect

    view = "() => [map_div.getCenter().lat, map_div.getCenter().lng, map_div.getZoom()]"
    frame = page.frame_locator(MAP_FRAME).locator("body")
    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    page.wait_for_timeout(1000)
    fitted = frame.evaluate(view)
    ordered = trip.sort_values("instant")
    chosen = ordered.iloc[0]
    page.goto(f"{server}/?event={chosen['id']}")
    expect(details_heading(page, chosen["title"])).to_be_visible()
    expect(markers(page)).to_have_count(len(trip))
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    # The fitted map already shows the event: a shared link opens on the whole trip, as
    # the page without it does, not centred on the event.
    page.wait_for_timeout(1000)
    assert frame.evaluate(view) == pytest.approx(fitted)
    assert all(markers(page).evaluate_all(IN_VIEW))

    # Zoomed in on the first stop, the last event is far out of view; its list row brings
    # it in, at the zoom the person chose.
    first, last = ordered.iloc[0], ordered.iloc[-1]
    frame.evaluate(f"() => map_div.setView([{first['lat']}, {first['lon']}], 9, "
                   "{animate: false})")
    target = page.frame_locator(MAP_FRAME).get_by_role("button", name=last["title"],
                                                       exact=True)
    assert target.evaluate_all(IN_VIEW) == [False]
    grid = page.get_by_test_id("stDataFrame")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 * len(trip) + 17)
    expect(details_heading(page, last["title"])).to_be_visible()
    for _ in range(40):
        if target.evaluate_all(IN_VIEW) == [True]:
            break
        page.wait_for_timeout(250)
    assert target.evaluate_all(IN_VIEW) == [True]
    assert frame.evaluate("() => map_div.getZoom()") == 9
    assert page.traffic.other == []


def test_pan_and_zoom_do_not_rerun_the_page(page, server, trip):
    from playwright.sync_api import expect

    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    frame = next(f for f in page.frames if "st_folium" in f.url)
    # streamlit-folium 0.27 sends the map's state from updateComponentValue, which reads
    # returned_objects first and calls Streamlit.setComponentValue only when a returned
    # object changed. Count both.
    frame.evaluate("""() => {
        const data = window.__GLOBAL_DATA__, wanted = data.returned_objects;
        window.__updates = 0; window.__sent = 0;
        Object.defineProperty(data, "returned_objects",
            {get() { window.__updates += 1; return wanted; }});
        const send = window.Streamlit.setComponentValue;
        window.Streamlit.setComponentValue = (v) => { window.__sent += 1; return send(v); };
    }""")
    page.frame_locator(MAP_FRAME).get_by_role("button", name="Zoom in").click()
    frame.wait_for_function("window.__updates >= 1")
    box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4, steps=5)
    page.mouse.up()
    frame.wait_for_function("window.__updates >= 2")
    assert frame.evaluate("window.__sent") == 0


# --- timeline, playback, upload (issue 4) -----------------------------------------------------

TIMELINE_POINTS = "[data-testid='stVegaLiteChart'] g.mark-symbol.role-mark path"


def test_a_timeline_click_selects_the_event_and_play_moves_on(page, server, trip):
    from playwright.sync_api import expect

    page.goto(server)
    expect(markers(page)).to_have_count(len(trip))
    points = page.locator(TIMELINE_POINTS)
    expect(points).to_have_count(len(trip))
    ordered = trip.sort_values("instant", kind="stable")
    target = ordered.iloc[len(ordered) // 2]
    labels = points.evaluate_all("ps => ps.map(p => p.getAttribute('aria-label'))")
    index = next(i for i, label in enumerate(labels) if label.startswith(target["title"] + ","))
    points.nth(index).scroll_into_view_if_needed()
    points.nth(index).click()
    expect(details_heading(page, target["title"])).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]event={re.escape(target['id'])}(&|$)"))
    expect(page.frame_locator(MAP_FRAME).locator(".em-selected")).to_have_count(1)
    # Play goes on from the selected event on its own, then pauses when asked.
    following = ordered.iloc[len(ordered) // 2 + 1]
    page.get_by_role("button", name="Play").click()
    expect(details_heading(page, following["title"])).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert page.traffic.other == []


def test_an_uploaded_file_shows_its_events_and_lists_its_bad_rows(page, server, tmp_path):
    from playwright.sync_api import expect

    from tests.conftest import events_csv

    rows = [
        {"id": "pe-lima", "date": "2025-05-02", "title": "Talks in Lima", "place": "Lima",
         "country": "PE", "lat": "-12.0464", "lon": "-77.0428", "category": "meeting"},
        {"id": "cl-santiago", "date": "2025-05-03T18:00-04:00", "title": "Evening in Santiago",
         "place": "Santiago", "country": "CL", "lat": "", "lon": "", "category": "visit"},
        {"id": "Bad Id", "date": "2025-05-04", "title": "Bad", "place": "Quito",
         "country": "EC", "lat": "-0.18", "lon": "-78.47"},
    ]
    path = tmp_path / "my trip.csv"
    path.write_text(events_csv(rows), encoding="utf-8")
    page.goto(server)
    expect(markers(page)).to_have_count(7)
    page.get_by_role("button", name="Your data").click()
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    expect(markers(page)).to_have_count(2)
    titles = sorted(markers(page).evaluate_all("els => els.map(e => e.title)"))
    assert titles == ["Evening in Santiago", "Talks in Lima"]
    expect(page.get_by_text("1 problem in my trip.csv")).to_be_visible()
    problems = page.get_by_test_id("stTable")
    expect(problems).to_contain_text("line 4")
    expect(problems).to_contain_text("is not a slug")
    expect(page.get_by_text("1 of 1 events without coordinates located")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Your data").click()
    page.get_by_role("button", name="Back to events.geojson").click()
    expect(markers(page)).to_have_count(7)
    assert page.traffic.other == []
