"""10,000 events in a real browser through the app: clusters, and a marker click selects.

Offline like tests/test_browser.py: every request but to the local server is blocked.
"""

from __future__ import annotations

import re

import pytest

from bench.headless import keep_local, marker_well_inside
from bench.synthetic import synthetic_events
from dashboard.formats import load_events, write_events
from tests.conftest import streamlit_server
from tests.test_browser import MAP_FRAME

pytestmark = pytest.mark.browser

SIZE = 10_000


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "events-10k.csv"
    write_events(synthetic_events(SIZE, seed=11), path)
    return path


def test_clusters_appear_and_a_marker_in_a_cluster_selects_its_event(browser, many):
    from playwright.sync_api import expect

    events = load_events(many).events
    titles = dict(zip(events["id"], events["title"], strict=True))
    with streamlit_server({"EVENTMAP_DATA": str(many)}) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            outside = keep_local(page)
            page.goto(url)
            frame = page.frame_locator(MAP_FRAME)
            clusters, pins = frame.locator(".marker-cluster"), frame.locator(".evc-pin")
            expect(clusters.first).to_be_visible(timeout=20_000)
            # No folium marker per event: the page holds clusters, not 10,000 pins.
            assert frame.locator(".em-event").count() == 0
            assert pins.count() < 1_000
            page.locator(MAP_FRAME).scroll_into_view_if_needed()
            frame.locator(".em-legend summary").click()  # fold the legend, as on a phone
            # Into the clusters, as a person would: click one until single markers show, well
            # clear of the controls at the map's edges.
            pin = marker_well_inside(frame, 60, tries=25, pause_ms=700)
            event_id = pin.evaluate(
                "el => Object.values(map_div._layers)"
                ".find(l => l instanceof L.MarkerClusterGroup)"
                ".getLayers().find(m => m._icon === el).feature.properties.id")
            pin.click()
            expect(page.get_by_role("heading", name=titles[event_id], exact=True)
                   ).to_be_visible(timeout=20_000)
            expect(page).to_have_url(re.compile(rf"[?&]event={re.escape(event_id)}(&|$)"))
            expect(frame.locator(".em-selected")).to_have_count(1)
            assert outside == []
        finally:
            page.close()
