"""10,000 clustered events in a real browser: a selection from the list or the URL brings the
event's own marker into view; a click on a marker leaves the map where it is.

Offline like tests/test_browser.py: every request but to the local server is blocked.
"""

from __future__ import annotations

import re

import pytest

from bench.headless import keep_local
from bench.synthetic import synthetic_events
from dashboard.formats import load_events, write_events
from dashboard.route import route_order
from tests.conftest import streamlit_server
from tests.test_browser import ARTIFACTS, MAP_FRAME

pytestmark = pytest.mark.browser

SIZE = 10_000
GROUP = "Object.values(map_div._layers).find(l => l instanceof L.MarkerClusterGroup)"
# Whether the event is drawn as its own marker (not inside a cluster) inside the map's view,
# with the selection ring on it.
SHOWN = """(_, id) => {
    const group = @GROUP;
    const m = group && group.getLayers().find(m => m.feature.properties.id === id);
    const ring = document.querySelector(".em-selected");
    if (!m || !m._icon || group.getVisibleParent(m) !== m || !ring) return false;
    const view = map_div.getContainer().getBoundingClientRect();
    const r = m._icon.getBoundingClientRect(), o = ring.getBoundingClientRect();
    const inside = b => b.width > 0 && b.left >= view.left && b.right <= view.right
        && b.top >= view.top && b.bottom <= view.bottom;
    return inside(r) && inside(o) && Math.abs((r.left + r.right) - (o.left + o.right)) < 2
        && Math.abs((r.top + r.bottom) - (o.top + o.bottom)) < 2;
}""".replace("@GROUP", GROUP)
HIDDEN = """(_, id) => {
    const group = @GROUP;
    const m = group && group.getLayers().find(m => m.feature.properties.id === id);
    return !!m && group.getVisibleParent(m) !== m;
}""".replace("@GROUP", GROUP)
# The id of the own marker drawn nearest the map's centre, other than the one given.
NEAREST_PIN = """(_, id) => {
    const group = @GROUP, c = map_div.getSize().divideBy(2);
    let best = null, gap = Infinity;
    group.getLayers().forEach(m => {
        if (!m._icon || m.feature.properties.id === id) return;
        const d = map_div.latLngToContainerPoint(m.getLatLng()).distanceTo(c);
        if (d < gap) { gap = d; best = m.feature.properties.id; }
    });
    return best;
}""".replace("@GROUP", GROUP)
VIEW = "() => [map_div.getCenter().lat, map_div.getCenter().lng, map_div.getZoom()]"
CLICK_PIN = """(_, id) => {
    const m = @GROUP.getLayers().find(m => m.feature.properties.id === id);
    m._icon.click();
}""".replace("@GROUP", GROUP)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    path = tmp_path_factory.mktemp("focus") / "events-10k.csv"
    write_events(synthetic_events(SIZE, seed=11), path)
    return path


def shown(page, event_id: str) -> bool:
    """SHOWN in the map's current frame (a selection may have replaced the map's iframe)."""
    try:
        return bool(page.frame_locator(MAP_FRAME).locator("body").evaluate(SHOWN, event_id,
                                                                            timeout=5_000))
    except Exception:  # noqa: BLE001 (the frame went away while being asked: ask again)
        return False


def wait_shown(page, event_id: str, attempts: int = 80) -> None:
    """Wait until the event's own marker is in view (up to ~20 s on this 2-core machine)."""
    for _ in range(attempts):
        if shown(page, event_id):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{event_id} never showed as its own marker in the map's view")


def test_list_and_url_selections_show_the_events_own_marker_and_a_map_click_stays(
        browser, many):
    from playwright.sync_api import expect

    events = load_events(many).events
    first, second = events["id"].iloc[route_order(events)[:2]]  # the list's first rows
    with streamlit_server({"EVENTMAP_DATA": str(many)}) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            outside = keep_local(page)
            page.goto(url)
            frame = page.frame_locator(MAP_FRAME)
            expect(frame.locator(".marker-cluster").first).to_be_visible(timeout=20_000)
            body = frame.locator("body")
            zoomed_out = body.evaluate(VIEW)

            # The list's first row: at the fitted, zoomed-out view its event is in a cluster.
            grid = page.get_by_test_id("stDataFrame")
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            assert body.evaluate(HIDDEN, first)
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 + 17)
            expect(page).to_have_url(re.compile(rf"[?&]event={first}(&|$)"), timeout=20_000)
            wait_shown(page, first)
            focused = body.evaluate(VIEW)
            assert focused[2] > zoomed_out[2]
            page.locator(MAP_FRAME).scroll_into_view_if_needed()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "focus-list.png"))

            # A click on another marker in view selects it and leaves the map where it is.
            other = body.evaluate(NEAREST_PIN, first)
            assert other
            body.evaluate(CLICK_PIN, other)
            expect(page).to_have_url(re.compile(rf"[?&]event={re.escape(other)}(&|$)"),
                                     timeout=20_000)
            wait_shown(page, other)
            assert body.evaluate(VIEW) == pytest.approx(focused, abs=1e-9)

            # The list after a map click mounts a new map (see app._set_view): it opens on
            # the second row's event too.
            assert not shown(page, second)
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 35 * 2 + 17)
            expect(page).to_have_url(re.compile(rf"[?&]event={second}(&|$)"), timeout=20_000)
            wait_shown(page, second)

            # A link: the page opens on the event's own marker.
            page.goto(f"{url}/?event={first}")
            expect(frame.locator(".evc-pin").first).to_be_attached(timeout=20_000)
            wait_shown(page, first)
            page.locator(MAP_FRAME).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "focus-url.png"))
            assert outside == []
        finally:
            page.close()
