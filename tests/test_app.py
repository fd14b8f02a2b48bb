"""The page, run by Streamlit's AppTest: filters, URL state, details, problems.

In AppTest st_folium is an unknown component that returns its default value, so the map is
checked through the arguments the page sends it, and selection goes through the URL and
session state; tests/test_browser.py clicks the real map.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard import settings
from dashboard.filters import FilterState
from dashboard.formats import load_events
from dashboard.overview import md_escape
from dashboard.route import build_route
from tests.conftest import APP, ROOT, TRIP_ROWS

D26, D27, D28 = date(2025, 3, 26), date(2025, 3, 27), date(2025, 3, 28)
TITLES = {r["id"]: r["title"] for r in TRIP_ROWS}


def map_args(at: AppTest) -> dict:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)


def marker_ids(at: AppTest) -> list[str]:
    script = map_args(at)["script"]
    return [json.loads(f)["properties"]["id"] for f in re.findall(r"\.feature = (\{.*?\});",
                                                                   script)]


def table_titles(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["title"])


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def headline(at: AppTest) -> str:
    return at.markdown[0].value.strip("*")


def test_default_page_shows_the_bundled_trip(run_page):
    at = run_page(rows=None)
    bundled = load_events(settings.DEFAULT_DATA)
    assert not bundled.problems
    n = len(bundled.events)
    assert not at.error
    assert headline(at).startswith(f"All {n} events · ")
    assert sorted(marker_ids(at)) == sorted(bundled.events["id"])
    assert len(at.dataframe[0].value) == n
    assert [m.label for m in at.metric] == ["Days", "Stops", "Distance", "Events"]
    assert at.metric[3].value == str(n)


def test_trip_at_a_glance(run_page, trip_events):
    at = run_page()
    km = f"{build_route(trip_events).total_km:,.0f} km"
    assert headline(at) == f"All 7 events · 26–28 Mar 2025 · 4 stops · {km}"
    assert [(m.label, m.value) for m in at.metric] == [
        ("Days", "3"), ("Stops", "4"), ("Distance", km), ("Events", "7")]
    assert "2. San Salvador, El Salvador · 26 Mar 2025 · 2 events" in page_text(at)
    assert table_titles(at) == [r["title"] for r in TRIP_ROWS]
    assert dict(at.query_params) == {}


def test_map_loads_its_scripts_locally_and_returns_only_clicks(run_page):
    args = map_args(run_page())
    assert args["js_links"] == ["/app/static/vendor/leaflet-1.9.3/leaflet.js"]
    assert args["css_links"] == ["/app/static/vendor/leaflet-1.9.3/leaflet.css"]
    assert args["returned_objects"] == ["last_active_drawing"]
    assert args["feature_group"] is None  # nothing selected, nothing highlighted


def test_date_range_changes_list_map_and_url(run_page):
    at = run_page()
    at.date_input[0].set_value((D27, D27)).run()
    day = ["co-officials-meeting", "co-data-signing"]
    assert marker_ids(at) == day
    assert table_titles(at) == [TITLES[i] for i in day]
    assert headline(at) == "2 of 7 events · 27 Mar 2025 · 1 stop"
    assert dict(at.query_params) == {"start": "2025-03-27", "end": "2025-03-27"}
    assert at.pills[0].value == "2025-03-27"  # the day's button lights up
    at.date_input[0].set_value((D27, D28)).run()
    assert len(marker_ids(at)) == 4
    assert dict(at.query_params) == {"start": "2025-03-27", "end": "2025-03-28"}
    at.date_input[0].set_value((D26, D28)).run()
    assert dict(at.query_params) == {}  # the whole span is no limit


def test_day_buttons_pick_one_day_and_all_days(run_page):
    at = run_page()
    assert at.pills[0].options == ["All days", "Wed 26 Mar", "Thu 27 Mar", "Fri 28 Mar"]
    at.pills[0].set_value("2025-03-28").run()
    assert marker_ids(at) == ["mx-press-conference", "mx-president-meeting"]
    assert at.date_input[0].value == (D28, D28)
    at.pills[0].set_value("all").run()
    assert len(marker_ids(at)) == 7
    assert at.date_input[0].value == (D26, D28)


def test_query_string_restores_a_view(run_page):
    at = run_page(query={"start": "2025-03-27", "end": "2025-03-27",
                         "event": "co-data-signing"})
    assert at.date_input[0].value == (D27, D27)
    assert marker_ids(at) == ["co-officials-meeting", "co-data-signing"]
    assert "#### Data agreement signed" in page_text(at)
    assert "em-selected" in map_args(at)["feature_group"]
    assert not at.warning


def test_event_selected_in_session_state_fills_the_details(run_page):
    at = run_page()
    at.session_state["view"] = FilterState(event="sv-agreement-signing")
    at.run()
    text = page_text(at)
    assert "#### Agreement signed" in text
    assert "**Date:** Wed 26 Mar 2025 · _date inferred_" in text
    assert "**Place:** San Salvador, El Salvador · stop 2" in text
    assert "**Category:** Signing" in text
    assert "- Ana Pérez \\(Minister\\)" in text
    assert "> “They signed it\\.”" in text
    assert "[Example Wire](https://example.org/trip)" in text
    assert "**Coordinates:** 13.69290, -89.21820" in text
    assert dict(at.query_params) == {"event": "sv-agreement-signing"}
    assert not at.metric  # the details replace the trip at a glance
    at.button(key="clear_selection").click().run()
    assert "event" not in at.query_params
    assert [m.label for m in at.metric] == ["Days", "Stops", "Distance", "Events"]


def test_inferred_place_and_links_only_for_http(run_page):
    rows = [{**TRIP_ROWS[0], "source_url": ""}, *TRIP_ROWS[1:]]
    at = run_page(rows, query={"event": "sv-prison-visit"})
    text = page_text(at)
    assert "Tecoluca, El Salvador · _place inferred_ · stop 1" in text
    assert "— Example Wire" in text and "](" not in text.split("— Example Wire")[1][:5]


def test_bad_query_params_are_noted_not_fatal(run_page):
    at = run_page(query={"start": "yesterday", "end": "2025-13-01", "event": "no-such-event",
                         "country": "Narnia"})
    notes = [w.value for w in at.warning]
    assert notes == [md_escape(n) for n in [  # notes quote the URL: shown as plain text
        "Ignored start=yesterday: not a date; write YYYY-MM-DD, e.g. 2025-03-27.",
        "Ignored end=2025-13-01: not a date; write YYYY-MM-DD, e.g. 2025-03-27.",
        "Ignored country=Narnia: not an ISO 3166-1 alpha-2 country code; use two letters "
        "such as CO or MX.",
        "Ignored event=no-such-event: no event has that id."]]
    assert len(marker_ids(at)) == 7
    assert dict(at.query_params) == {}  # the link now says what is shown
    at.button(key="dismiss_notes").click().run()
    assert not at.warning


def test_out_of_range_dates_are_clamped_with_a_note(run_page):
    at = run_page(query={"start": "2025-03-28", "end": "2030-01-01"})
    assert [w.value for w in at.warning] == [md_escape(
        "end 2030-01-01 is outside the data (26–28 Mar 2025); showing until 28 Mar 2025.")]
    assert at.date_input[0].value == (D28, D28)


def test_empty_range_says_so_and_shows_an_empty_map(run_page):
    rows = [r for r in TRIP_ROWS if r["date"] != "2025-03-27"]  # a day without events
    at = run_page(rows)
    at.date_input[0].set_value((D27, D27)).run()
    assert marker_ids(at) == []
    assert len(at.dataframe[0].value) == 0
    assert at.info[0].value.startswith("No events match: 0 of 5 events · 27 Mar 2025.")
    assert headline(at) == "0 of 5 events · 27 Mar 2025"
    assert {m.label: m.value for m in at.metric}["Events"] == "0"


def test_selection_hidden_by_the_filter(run_page):
    at = run_page(query={"start": "2025-03-28", "event": "sv-prison-visit"})
    assert "#### Prison visit" in page_text(at)
    assert at.info[0].value.startswith("This event is outside the current filter")
    assert "sv-prison-visit" not in marker_ids(at)
    assert map_args(at)["feature_group"] is None
    at.button(key="show_all").click().run()
    assert len(marker_ids(at)) == 7
    assert "em-selected" in map_args(at)["feature_group"]
    assert dict(at.query_params) == {"event": "sv-prison-visit"}


def test_problems_are_listed_and_valid_rows_still_show(run_page):
    rows = [*TRIP_ROWS,
            {"id": "bad-date", "date": "26/03/2025", "title": "Bad", "place": "Bogotá",
             "country": "CO", "lat": "4.7", "lon": "-74.1"},
            {"id": "not-located", "date": "2025-03-27", "title": "Somewhere",
             "place": "Cali", "country": "CO", "lat": "", "lon": ""}]
    at = run_page(rows)
    assert len(marker_ids(at)) == 7
    assert at.warning[0].value.startswith("2 problems in events\\.csv: the rows concerned are "
                                          "left out, every other event is shown.")
    problems = at.table[0].value.reset_index().map(lambda v: v.replace("\\", ""))
    assert list(problems.columns) == ["file", "row", "field", "message"]
    assert list(problems["row"]) == ["line 9", "line 10"]
    assert list(problems["field"]) == ["date", "lat"]
    assert problems.loc[0, "message"].startswith("'26/03/2025' is not a date")
    assert "python -m dashboard.geocode" in problems.loc[1, "message"]


def test_a_file_with_no_valid_events_explains_itself(run_page, tmp_path):
    at = run_page(rows=None, data=str(tmp_path / "missing.geojson"))
    assert "No events to show" in at.error[0].value
    problems = at.table[0].value.reset_index().map(lambda v: v.replace("\\", ""))
    assert problems.loc[0, "message"].startswith("cannot read the file")
    assert not at.get("component_instance")


@pytest.mark.usefixtures("static_serving")  # restores the option afterwards
def test_static_serving_off_explains_the_fix():
    config.set_option("server.enableStaticServing", False)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "--server.enableStaticServing true" in at.error[0].value


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "env", "path", "notes"), [
    ([], {}, settings.DEFAULT_DATA, []),
    ([], {"EVENTMAP_DATA": "mine.csv"}, "mine.csv", []),
    (["--data", "a.geojson"], {"EVENTMAP_DATA": "mine.csv"}, "a.geojson", []),
    (["--data=b.csv"], {}, "b.csv", []),
    (["--data"], {}, settings.DEFAULT_DATA,
     ["--data needs a file: streamlit run dashboard/app.py -- --data PATH"]),
    (["--verbose"], {}, settings.DEFAULT_DATA,
     ["Ignored the argument '--verbose'; the page understands --data PATH."]),
])
def test_data_path(argv, env, path, notes):
    assert settings.data_path(argv, env) == (Path(path), notes)


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in settings.SETTINGS:
        assert f"`{setting.option}" in readme and f"`{setting.env}" in readme


def test_script_config_turns_static_serving_on():
    with (ROOT / "dashboard" / ".streamlit" / "config.toml").open("rb") as fh:
        conf = tomllib.load(fh)
    assert conf["server"]["enableStaticServing"] is True
    assert conf["browser"]["gatherUsageStats"] is False


def test_many_problems_scroll_in_a_grid(run_page):
    bad = [{"id": f"bad-{i}", "date": "soon", "title": "Bad", "place": "Bogotá",
            "country": "CO", "lat": "4.7", "lon": "-74.1"} for i in range(51)]
    at = run_page([*TRIP_ROWS, *bad])
    assert len(marker_ids(at)) == 7
    assert not at.table
    assert len(at.dataframe[1].value) == 51
