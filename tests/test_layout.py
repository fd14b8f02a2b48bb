"""The page's layout at phone, laptop and desktop sizes: the timeline's legend and the map.

The browser part measures boxes in headless Chromium (offline) on first load; screenshots go
to test-artifacts/layout-WxH.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.headless import keep_local
from dashboard import settings
from dashboard.filters import category_label
from dashboard.formats import load_events
from dashboard.located import require_coordinates
from dashboard.timeline import (
    LEGEND_CHAR_PX,
    LEGEND_ENTRY_PX,
    LEGEND_LABEL_LIMIT,
    legend_row_widths,
    timeline_spec,
)
from tests.conftest import ROOT, streamlit_server
from tests.sample_events import make_events

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
CHART = "[data-testid='stVegaLiteChart']"


# --- The legend's columns, worked out from the labels ------------------------------------------

def _entry(label: str) -> int:
    return LEGEND_ENTRY_PX + min(len(label) * LEGEND_CHAR_PX, LEGEND_LABEL_LIMIT)


def test_legend_row_widths_take_each_columns_widest_entry():
    labels = ["Visit", "Meeting", "Signing", "Press conference"]
    widths = legend_row_widths(labels)
    assert widths[1] == _entry("Press conference")
    # Two columns: Visit and Signing in the first, Meeting and Press conference in the second.
    assert widths[2] == _entry("Signing") + _entry("Press conference")
    assert widths[4] == sum(map(_entry, labels))
    assert legend_row_widths([]) == {}


def test_a_long_label_counts_up_to_the_label_limit():
    assert legend_row_widths(["x" * 500]) == {1: LEGEND_ENTRY_PX + LEGEND_LABEL_LIMIT}


def _columns_at(expr: str, width: float) -> int:
    """Evaluates the legend's nested ``width >= N ? K : ...`` expression for one width."""
    while "?" in expr:
        test, rest = expr.split(" ? ", 1)
        chosen, expr = rest.split(" : ", 1)
        if width >= float(test.removeprefix("width >= ")):
            return int(chosen)
    return int(expr)


def _legend(spec: dict) -> dict:
    layers = spec.get("layer", [spec])
    points = next(layer for layer in layers if layer["mark"]["type"] == "point")
    return points["encoding"]["color"]["legend"]


def test_the_legend_takes_the_most_columns_that_fit_the_charts_width():
    events = make_events()
    legend = _legend(timeline_spec(events))
    labels = list(dict.fromkeys(events["category"].map(category_label)))
    widths = legend_row_widths(labels)
    expr = legend["columns"]["expr"]
    assert legend["orient"] == "bottom"
    for width in (0, 150, 285, 400, 1100, 1800):
        count = _columns_at(expr, width)
        fitting = [n for n, need in widths.items() if need <= width]
        assert count == max(fitting, default=1), width
    assert _columns_at(expr, 1e6) == len(labels)  # a wide chart: one row


def test_one_category_needs_no_columns():
    events = make_events()
    one = events.loc[events["category"] == events["category"].iloc[0]]
    assert _legend(timeline_spec(one))["columns"] == 0


# --- The page in Chromium -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def layout_context(browser):
    # One context: its HTTP cache keeps Streamlit's scripts between the sizes.
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture(scope="module")
def layout_server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def bundled():
    return require_coordinates(load_events(settings.DEFAULT_DATA)).events


# (width, height, whether the whole map must show on first load, the map's least height)
SIZES = [
    pytest.param(390, 844, False, 320, id="phone-390x844"),
    pytest.param(1280, 800, True, 400, id="laptop-1280x800"),
    pytest.param(1920, 1080, True, 600, id="desktop-1920x1080"),
]

_LEGEND_BOXES = """chart => {
    const box = e => { const r = e.getBoundingClientRect();
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
    return {chart: box(chart),
            labels: [...chart.querySelectorAll('.role-legend-label text')].map(
                t => ({text: t.textContent, ...box(t)})),
            symbols: [...chart.querySelectorAll('.role-legend-symbol path')].map(box)};
}"""

_MAP_BOXES = """() => {
    const box = e => { const r = e.getBoundingClientRect();
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
    return {map: box(map_div.getContainer()),
            zoom: box(document.querySelector('.leaflet-control-zoom')),
            markers: [...document.querySelectorAll('.em-event')].map(box)};
}"""


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height", "fits", "least"), SIZES)
def test_legend_and_map_fit_the_window(layout_context, layout_server, bundled, width, height,
                                       fits, least):
    from playwright.sync_api import expect

    page = layout_context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    try:
        outside = keep_local(page)
        page.goto(layout_server)
        expect(page.frame_locator(MAP_FRAME).locator(".em-event")).to_have_count(len(bundled),
                                                                                  timeout=30_000)
        categories = sorted({category_label(c) for c in bundled["category"]})
        labels = page.locator(f"{CHART} .role-legend-label text")
        expect(labels).to_have_count(len(categories), timeout=30_000)
        assert page.evaluate("scrollY") == 0  # what the first screen shows
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / f"layout-{width}x{height}.png"))

        # The map's frame: inside the window across, on the first screen when it should be,
        # and the map inside fills it and shows every event.
        frame = page.locator(MAP_FRAME).bounding_box()
        assert frame["x"] >= 0 and frame["x"] + frame["width"] <= width, frame
        assert frame["height"] >= least, frame
        if fits:
            assert frame["y"] + frame["height"] <= height, (frame, height)
        inner = next(f for f in page.frames if "st_folium" in f.url).evaluate(_MAP_BOXES)
        assert abs(inner["map"]["bottom"] - inner["map"]["top"] - frame["height"]) <= 1, inner
        assert abs(inner["map"]["right"] - inner["map"]["left"] - frame["width"]) <= 1, inner
        for marker in inner["markers"]:
            assert inner["map"]["left"] <= marker["left"] <= marker["right"] <= inner["map"][
                "right"], marker
            assert inner["map"]["top"] <= marker["top"] <= marker["bottom"] <= inner["map"][
                "bottom"], marker
            zoom = inner["zoom"]  # and none under the zoom buttons
            assert (marker["left"] >= zoom["right"] or marker["top"] >= zoom["bottom"]), (
                marker, zoom)

        # The timeline's legend: every entry whole, inside the chart and the window.
        boxes = page.locator(CHART).first.evaluate(_LEGEND_BOXES)
        chart = boxes["chart"]
        assert sorted(label["text"] for label in boxes["labels"]) == categories  # no ellipsis
        assert len(boxes["symbols"]) == len(categories)
        for entry in boxes["labels"] + boxes["symbols"]:
            assert 0 <= chart["left"] <= entry["left"], (entry, chart)
            assert entry["right"] <= chart["right"] <= width, (entry, chart)
            assert chart["top"] <= entry["top"] <= entry["bottom"] <= chart["bottom"], (
                entry, chart)
        rows = {round(label["top"]) for label in boxes["labels"]}
        if width >= 1280:
            assert len(rows) == 1, boxes["labels"]  # a desktop has room for one row
        print(f"\n{width}x{height}: map frame {frame}, legend rows {len(rows)}, labels "
              + ", ".join(f"{lb['text']} {lb['left']:.0f}-{lb['right']:.0f}"
                          for lb in boxes["labels"]) + f", chart {chart}")
        assert outside == []
    finally:
        page.close()
