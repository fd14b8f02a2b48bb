"""The timeline chart: what it draws, the selection it carries, and a real click in Streamlit."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import load_schema

from bench.headless import keep_local
from dashboard.mapview import category_styles
from dashboard.timeline import (
    POINTS_VIEW,
    SELECTION,
    selection_to_id,
    timeline_data,
    timeline_spec,
)
from tests.conftest import ROOT, streamlit_server
from tests.sample_events import ROWS, make_events


@pytest.fixture
def events() -> pd.DataFrame:
    return make_events()


def _valid(spec: dict) -> dict:
    # Vega-Lite's own JSON schema (the copy Altair ships; Streamlit depends on Altair).
    jsonschema.Draft7Validator(load_schema()).validate(spec)
    return spec


def _points_layer(spec: dict) -> dict:
    layers = spec.get("layer", [spec])
    return next(layer for layer in layers if layer["mark"]["type"] == "point")


def _params(spec: dict) -> list[dict]:
    # A layer's params are declared at the top, naming the view they belong to.
    return spec.get("params", []) + _points_layer(spec).get("params", [])


def test_timeline_data_one_row_per_event_in_time_order(events):
    data = timeline_data(events.iloc[::-1])
    # By the schema's instant, as route and playback order them: a date-only event counts
    # as midday UTC of its day, so mx-press (3 Jan 23:15 -06:00 = 4 Jan 05:15 UTC) comes
    # before mx-unlocated (4 Jan).
    assert list(data["id"]) == ["sv-visit", "co-talks", "co-signing", "mx-press", "mx-unlocated"]
    row = data.set_index("id")
    # Local time as written; a date-only event at midday of its day.
    assert row.loc["co-signing", "at"] == "2025-01-02T10:30:00Z"
    assert row.loc["mx-press", "at"] == "2025-01-03T23:15:00Z"  # not 4 Jan, its UTC day
    assert row.loc["sv-visit", "at"] == "2024-12-31T12:00:00Z"
    assert row.loc["co-signing", "when"] == "Thu 2 Jan 2025, 10:30 (UTC\u221205:00)"
    assert row.loc["co-talks", "where"] == "Bogotá, Colombia"
    assert row.loc["mx-press", "category_label"] == "Press conference"
    assert row.loc["co-talks", "aria"] == ('Talks, round 2; "final", Thu 2 Jan 2025, '
                                           "Bogotá, Colombia, Meeting")


@pytest.mark.parametrize(("lane", "lanes"), [
    ("country", ["El Salvador", "Colombia", "Colombia", "Mexico", "Mexico"]),
    ("category", ["Visit", "Meeting", "Signing", "Press conference", "Tour"]),
])
def test_timeline_lanes(events, lane, lanes):
    assert list(timeline_data(events, lane=lane)["lane"]) == lanes


def test_timeline_lane_must_be_known(events):
    with pytest.raises(ValueError, match="country, category"):
        timeline_data(events, lane="place")


def test_events_of_one_day_and_lane_get_centred_slots():
    rows = [{**ROWS[0], "id": f"e{i}", "date": "2025-03-26"} for i in range(3)]
    rows.append({**ROWS[0], "id": "other-day", "date": "2025-03-27"})
    data = timeline_data(make_events(rows)).set_index("id")
    assert list(data["slot"]) == [-1.0, 0.0, 1.0, 0.0]


def test_selected_event_is_marked(events):
    assert list(timeline_data(events, "co-talks")["selected"]) == [False, True, False, False,
                                                                   False]
    assert not timeline_data(events, "hidden-by-filter")["selected"].any()
    assert not timeline_data(events)["selected"].any()


def test_chart_spec_selection_carries_the_event_id(events):
    spec = _valid(timeline_spec(events, "co-talks"))
    points = _points_layer(spec)
    (param,) = _params(spec)
    assert param["views"] == [points["name"]] == [POINTS_VIEW]
    assert param["name"] == SELECTION
    assert param["select"]["type"] == "point" and param["select"]["fields"] == ["id"]
    assert points["encoding"]["detail"]["field"] == "id"
    rows = spec["datasets"][points["data"]["name"]]
    assert [r["id"] for r in rows] == list(timeline_data(events)["id"])
    assert sum(r["selected"] for r in rows) == 1


def test_chart_uses_the_maps_colours_and_shapes(events):
    points = _points_layer(timeline_spec(events))
    styles = category_styles(events["category"])
    colour, shape = points["encoding"]["color"]["scale"], points["encoding"]["shape"]["scale"]
    assert colour["domain"] == [s.label for s in styles.values()]
    assert colour["range"] == [s.colour for s in styles.values()]
    assert shape["range"] == ["square", "circle", "diamond", "triangle-up", "circle"]


def test_selected_point_is_emphasised(events):
    enc = _points_layer(timeline_spec(events, "co-talks"))["encoding"]
    assert enc["size"]["condition"]["test"] == "datum.selected"
    assert enc["size"]["condition"]["value"] > enc["size"]["value"]
    assert enc["opacity"]["condition"]["value"] > enc["opacity"]["value"]
    plain = _points_layer(timeline_spec(events))["encoding"]
    assert plain["opacity"] == {"value": 1.0}  # nothing dimmed when nothing is selected


def test_short_spans_label_each_day_with_lines_between(events):
    spec = timeline_spec(events)
    rules, points = spec["layer"]
    axis = points["encoding"]["x"]["axis"]
    assert [v["date"] for v in axis["values"]] == [31, 1, 2, 3, 4]
    assert all(v["hours"] == 12 and v["utc"] for v in axis["values"])
    assert len(spec["datasets"][rules["data"]["name"]]) == 6  # 5 days, 6 boundaries


def test_long_spans_leave_ticks_to_vega():
    rows = [{**ROWS[0], "id": "start", "date": "2025-01-01"},
            {**ROWS[0], "id": "end", "date": "2025-06-30"}]
    spec = _valid(timeline_spec(make_events(rows), "end"))
    assert "layer" not in spec
    assert "values" not in spec["encoding"]["x"]["axis"]
    # Half a day's room at each end of the middays, as Vega-Lite DateTimes (Streamlit drops
    # epoch numbers).
    start, end = spec["encoding"]["x"]["scale"]["domain"]
    assert (start["year"], start["month"], start["date"], start["hours"]) == (2025, 1, 1, 0)
    assert (end["month"], end["date"], end["hours"], end["utc"]) == (7, 1, 0, True)
    # A single view carries its selection itself.
    assert spec["params"][0]["name"] == SELECTION and "views" not in spec["params"][0]


@pytest.mark.parametrize("view", [[], [2]], ids=["empty", "single"])
def test_chart_builds_for_small_views(events, view):
    spec = _valid(timeline_spec(events.iloc[view]))
    (rows,) = [r for r in spec["datasets"].values() if not r or "id" in r[0]]
    assert len(rows) == len(view)


def test_spec_is_plain_json_with_the_rows_as_data(events):
    spec = timeline_spec(events, "co-talks", lane="category")
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    rows = spec["datasets"][_points_layer(spec)["data"]["name"]]
    assert rows == timeline_data(events, "co-talks", lane="category").to_dict("records")
    enc = _points_layer(spec)["encoding"]
    assert enc["y"]["sort"] == ["Visit", "Meeting", "Signing", "Press conference", "Tour"]
    assert enc["y"]["field"] == "lane"
    assert enc["description"] == {"field": "aria", "type": "nominal"}


def test_datasets_are_named_by_their_content(events):
    first, again = timeline_spec(events, "co-talks"), timeline_spec(events, "co-talks")
    assert first == again
    other = timeline_spec(events, "sv-visit")
    # A new selection is new data: a new name, so Streamlit draws the chart afresh.
    assert _points_layer(first)["data"] != _points_layer(other)["data"]
    assert first["layer"][0]["data"] == other["layer"][0]["data"]  # the same day lines


def test_tooltips_name_the_fields_people_read(events):
    tooltip = _points_layer(timeline_spec(events))["encoding"]["tooltip"]
    assert [(t["field"], t["title"]) for t in tooltip] == [
        ("title", "Event"), ("when", "When"), ("where", "Where"), ("category_label", "Category")]


HOSTILE = ['</script><img src=x onerror=alert(1)>', "{{datum.id}} ${1+1} %Y",
           'datum.selected || alert("x")', "Zoë's \"quote\"\n second line"]


def test_hostile_text_stays_data(events):
    frame = events.copy()
    frame["title"] = HOSTILE + ["plain"]
    frame["place"] = HOSTILE[::-1] + ["plain"]
    frame["category"] = HOSTILE + ["tour"]
    spec = _valid(timeline_spec(frame, frame["id"].iloc[0], lane="category"))
    rows = spec["datasets"][_points_layer(spec)["data"]["name"]]
    assert sorted(r["title"] for r in rows) == sorted(frame["title"])
    # Vega evaluates only what stands under these keys; none of it comes from the data.
    code = {"test", "expr", "calculate", "filter", "format", "formatType", "labelExpr", "signal"}
    found: list[str] = []

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k != "datasets":
                    walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif key in code:
            found.append(node)

    walk(spec)
    # The legend's columns: a test of the chart's width against numbers worked out from the
    # labels' lengths, never their text.
    columns = [f for f in found if f.startswith("width >= ")]
    assert columns and all(set(f) <= set("width>=?:0123456789 ") for f in columns)
    assert set(found) - set(columns) <= {"datum.selected", "%a %-d %b"}
    assert "datum.selected" in found


@pytest.mark.parametrize(("state", "expected"), [
    ({"selection": {"event": [{"id": "co-talks"}]}}, "co-talks"),
    ({"selection": {"event": [{"id": "a"}, {"id": "b"}]}}, "b"),  # the latest click
    ({"selection": {"event": {}}}, None),  # nothing selected (Streamlit's empty state)
    ({"selection": {"event": []}}, None),
    ({"selection": {}}, None),
    ({}, None),
    (None, None),
    ("co-talks", None),
    ({"selection": {"other": [{"id": "x"}]}}, None),  # another chart's selection
    ({"selection": {"event": [{"_vgsid_": 3}]}}, None),  # a selection without fields
    ({"selection": {"event": [{"id": ""}]}}, None),
    ({"selection": {"event": [{"id": 7}]}}, None),
    ({"selection": {"event": {"id": ["co-talks"]}}}, "co-talks"),  # Vega's signal value
    ({"selection": {"event": {"vlPoint": {"or": [{"id": "co-talks"}]}}}}, "co-talks"),
    ({"event": [{"id": "co-talks"}]}, "co-talks"),  # the selection mapping alone
])
def test_selection_to_id(state, expected):
    assert selection_to_id(state) == expected


def test_selection_to_id_reads_streamlits_state_object():
    from streamlit.typing import VegaLiteState

    state = VegaLiteState({"selection": {SELECTION: [{"id": "co-talks"}]}})
    assert selection_to_id(state) == "co-talks"


# --- A click in a real browser, through Streamlit's own chart component ----------------------

APP = """
import streamlit as st
from dashboard.timeline import SELECTION, selection_to_id, timeline_spec
from tests.sample_events import make_events

events = make_events()

def picked():
    st.session_state["picked"] = selection_to_id(st.session_state["timeline"])

st.vega_lite_chart(timeline_spec(events, st.session_state.get("picked")), on_select=picked,
                   selection_mode=SELECTION, key="timeline", width="stretch")
st.markdown(f"Picked: [{st.session_state.get('picked')}]")
"""


@pytest.fixture(scope="module")
def timeline_app(tmp_path_factory):
    app = tmp_path_factory.mktemp("timeline") / "app.py"
    app.write_text(textwrap.dedent(APP), encoding="utf-8")
    # The script imports tests.sample_events, which is not installed.
    with streamlit_server({"PYTHONPATH": str(ROOT)}, script=app,
                          options=("--browser.gatherUsageStats", "false")) as url:
        yield f"{url}/"


@pytest.mark.browser
def test_clicking_a_point_names_its_event(browser, timeline_app):
    from playwright.sync_api import expect

    events = make_events()
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    outside = keep_local(page, tiles=False)  # a chart alone asks for no tiles either
    page.goto(timeline_app)
    expect(page.get_by_text("Picked: [None]")).to_be_visible(timeout=30_000)
    points = page.locator("[data-testid='stVegaLiteChart'] g.mark-symbol.role-mark path")
    expect(points).to_have_count(len(events))
    labels = points.evaluate_all("ps => ps.map(p => p.getAttribute('aria-label'))")
    for target in ("co-signing", "sv-visit", "mx-press"):
        title = events.set_index("id").loc[target, "title"]
        index = next(i for i, label in enumerate(labels) if label.startswith(title))
        page.locator("[data-testid='stVegaLiteChart'] g.mark-symbol.role-mark path"
                     ).nth(index).click()
        expect(page.get_by_text(f"Picked: [{target}]")).to_be_visible()
    assert outside == []
    page.close()
