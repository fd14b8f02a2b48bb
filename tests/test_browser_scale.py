"""10,000 events in a real browser through the app: clusters, and a marker click selects.

Offline like tests/test_browser.py: every request but to the local server is blocked.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from bench.synthetic import synthetic_events
from dashboard.formats import load_events, write_events
from tests.conftest import streamlit_server
from tests.test_browser import ARGS, LOCAL_HOSTS, MAP_FRAME, chromium  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

SIZE = 10_000
# Index of the first element matching a selector well inside the map's view (clear of the
# controls at its edges), or -1.
INSIDE = """(body, selector) => {
    const view = document.querySelector(".leaflet-container").getBoundingClientRect();
    return Array.from(document.querySelectorAll(selector)).findIndex(el => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.left >= view.left + 60 && r.right <= view.right - 60
            && r.top >= view.top + 60 && r.bottom <= view.bottom - 60;
    });
}"""


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "events-10k.csv"
    write_events(synthetic_events(SIZE, seed=11), path)
    return path


def test_clusters_appear_and_a_marker_in_a_cluster_selects_its_event(chromium, many):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    events = load_events(many).events
    titles = dict(zip(events["id"], events["title"], strict=True))
    outside: list[str] = []

    def route(r):
        if (urlsplit(r.request.url).hostname or "") in LOCAL_HOSTS:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with streamlit_server({"EVENTMAP_DATA": str(many)}) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.goto(url)
            frame = page.frame_locator(MAP_FRAME)
            clusters, pins = frame.locator(".marker-cluster"), frame.locator(".evc-pin")
            expect(clusters.first).to_be_visible(timeout=20_000)
            # No folium marker per event: the page holds clusters, not 10,000 pins.
            assert frame.locator(".em-event").count() == 0
            assert pins.count() < 1_000
            page.locator(MAP_FRAME).scroll_into_view_if_needed()
            frame.locator(".em-legend summary").click()  # fold the legend, as on a phone
            # Into the clusters, as a person would: click one until single markers show.
            for _ in range(25):
                if frame.locator("body").evaluate(INSIDE, ".evc-pin") >= 0:
                    break
                clusters.nth(max(0, frame.locator("body").evaluate(INSIDE, ".marker-cluster"))
                             ).click()
                page.wait_for_timeout(700)
            pin = pins.nth(frame.locator("body").evaluate(INSIDE, ".evc-pin"))
            event_id = pin.evaluate(
                "el => Object.values(map_div._layers)"
                ".find(l => l instanceof L.MarkerClusterGroup)"
                ".getLayers().find(m => m._icon === el).feature.properties.id")
            pin.click()
            expect(page.get_by_role("heading", name=titles[event_id], exact=True)
                   ).to_be_visible(timeout=20_000)
            expect(page).to_have_url(re.compile(rf"[?&]event={re.escape(event_id)}(&|$)"))
            expect(frame.locator(".em-selected")).to_have_count(1)
            assert outside == [] or all("tile.openstreetmap.org" in u for u in outside)
        finally:
            browser.close()
