"""The page's ways to look at the events, run by AppTest: filters and their links, the words
for the view, timeline, playback, event times, and the downloads read back.

AppTest cannot click a chart point or start a timer: tests/test_browser.py clicks the timeline
in a real browser, and play ticks are driven here by making the next step due.
"""

from __future__ import annotations

import functools
import io
import json
import re

import icalendar
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.exports import MIME_TYPES, remote_assets
from dashboard.formats import parse_events
from tests.conftest import TRIP_ROWS, events_csv, ok

ORDER = [r["id"] for r in TRIP_ROWS]  # the trip's rows are in time order
TITLES = {r["id"]: r["title"] for r in TRIP_ROWS}


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple]:
    """What each deferred download button would send: file id -> (make, mime, file name)."""
    made: dict[str, tuple] = {}
    add = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        file_id = add(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)
        made[file_id] = (data_callable, mimetype, file_name)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


@pytest.fixture
def page(run_page):
    """The page on given rows with a query string, from trip.csv (its downloads are named trip)."""
    return functools.partial(run_page, file_name="trip.csv")


def marker_ids(at: AppTest) -> list[str]:
    (component,) = at.get("component_instance")
    script = json.loads(component.proto.json_args)["script"]
    return [json.loads(f)["properties"]["id"]
            for f in re.findall(r"\.feature = (\{.*?\});", script)]


def headline(at: AppTest) -> str:
    return at.markdown[0].value.strip("*").replace("\\", "")


def selected(at: AppTest) -> str:
    return at.session_state["view"].event


def query(at: AppTest) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def timeline_points(at: AppTest) -> pd.DataFrame:
    (chart,) = at.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
    return next(f for f in frames if "id" in f.columns)


# --- filters and their links ------------------------------------------------------------------

FILTERS = [
    ("f_countries", ["CO", "MX"], {"country": ["CO", "MX"]}, ORDER[3:],
     "4 of 7 events · 27–28 Mar 2025 · Colombia, Mexico"),
    ("f_categories", ["signing"], {"category": ["signing"]},
     ["sv-agreement-signing", "co-data-signing"], "2 of 7 events · 26–27 Mar 2025 · Signing"),
    ("f_participants", ["Claudia Sheinbaum", "Luis Gómez"],
     {"participant": ["Claudia Sheinbaum", "Luis Gómez"]},
     ["sv-president-meeting", "mx-press-conference", "mx-president-meeting"],
     "3 of 7 events · 26–28 Mar 2025 · with Claudia Sheinbaum, Luis Gómez"),
    ("f_text", "  reporters  ", {"q": ["reporters"]}, ["mx-press-conference"],
     "1 of 7 events · 28 Mar 2025 · matching “reporters”"),
    # Every word, in any case, anywhere: Petro is a president, so Bogotá's meeting counts.
    ("f_text", "MEETING president", {"q": ["MEETING president"]},
     ["sv-president-meeting", "co-officials-meeting", "mx-president-meeting"],
     "3 of 7 events · 26–28 Mar 2025 · matching “MEETING president”"),
]


@pytest.mark.parametrize(("key", "value", "link", "ids", "words"), FILTERS,
                         ids=[f"{f[0]}-{i}" for i, f in enumerate(FILTERS)])
def test_each_filter_narrows_map_list_and_link_and_the_link_restores_it(page, key, value, link,
                                                                         ids, words):
    at = page()
    widget = at.text_input(key=key) if key == "f_text" else at.multiselect(key=key)
    (widget.input(value) if key == "f_text" else widget.set_value(value)).run()
    ok(at)
    assert marker_ids(at) == ids
    assert list(at.dataframe[0].value["title"]) == [TITLES[i] for i in ids]
    assert headline(at).startswith(words + " · ")
    assert query(at) == link
    # The link opens the same view, with the widget showing the value.
    again = page(query=link)
    assert marker_ids(again) == ids and headline(again) == headline(at)
    shown = (again.text_input(key=key) if key == "f_text" else again.multiselect(key=key)).value
    assert shown == (value.strip() if key == "f_text" else value)


def test_filters_combine_and_clear_together(page):
    at = page(query={"country": ["CO", "MX"], "category": "meeting", "q": "meeting",
                     "start": "2025-03-27"})
    assert marker_ids(at) == ["co-officials-meeting", "mx-president-meeting"]
    assert headline(at) == ("2 of 7 events · from 27 Mar 2025 · Colombia, Mexico · Meeting · "
                            "matching “meeting” · 2 stops · 3,169 km")
    at.button(key="clear_filters").click().run()
    assert len(marker_ids(at)) == 7 and query(at) == {}
    assert at.multiselect(key="f_countries").value == []
    assert at.text_input(key="f_text").value == ""
    assert headline(at).startswith("All 7 events · 26–28 Mar 2025")


def test_filter_choices_come_from_the_data(page):
    at = page()
    assert at.multiselect(key="f_countries").options == ["Colombia", "El Salvador", "Mexico"]
    assert at.multiselect(key="f_categories").options == [
        "Meeting", "Press conference", "Signing", "Visit"]
    assert at.multiselect(key="f_participants").options == [
        "Ana Pérez", "Claudia Sheinbaum", "Gustavo Petro", "Luis Gómez"]


def test_no_match_says_which_filters_to_loosen(page):
    at = page(query={"q": "nothing like this"})
    assert marker_ids(at) == []
    assert at.info[0].value.replace("\\", "").startswith(
        "No events match: 0 of 7 events · matching “nothing like this”. Loosen the filters")


# --- times -------------------------------------------------------------------------------------

TIMED = [  # filed out of time order: 09:30 at UTC-6 is after 10:00 at UTC-5
    {**TRIP_ROWS[3], "id": "co-late", "date": "2025-03-27T09:30-06:00", "title": "Late"},
    {**TRIP_ROWS[3], "id": "co-early", "date": "2025-03-27T10:00-05:00", "title": "Early"},
    {**TRIP_ROWS[5], "id": "mx-evening", "date": "2025-03-27T23:15-06:00", "title": "Evening"},
    {**TRIP_ROWS[0], "date": "2025-03-28"},
]
TIMED_ORDER = ["co-early", "co-late", "mx-evening", "sv-prison-visit"]


def test_times_show_in_local_time_and_order_by_instant(page):
    at = page(TIMED)
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Early", "Late", "Evening", "Prison visit"]
    assert list(table["when"]) == ["Thu 27 Mar 2025, 10:00 (UTC−05:00)",
                                   "Thu 27 Mar 2025, 09:30 (UTC−06:00)",
                                   "Thu 27 Mar 2025, 23:15 (UTC−06:00)", "Fri 28 Mar 2025"]
    points = timeline_points(at)
    assert list(points["id"]) == TIMED_ORDER
    assert list(points["when"]) == list(table["when"])
    at.button(key="next").click().run()
    assert selected(at) == "co-early"
    assert "**Date:** Thu 27 Mar 2025, 10:00 (UTC−05:00)" in "\n".join(
        m.value for m in at.markdown)


# --- timeline ----------------------------------------------------------------------------------

def test_timeline_shows_the_view_and_marks_the_selection(page):
    at = page(query={"country": "CO", "event": "co-data-signing"})
    points = timeline_points(at)
    assert list(points["id"]) == ["co-officials-meeting", "co-data-signing"]
    assert list(points["selected"]) == [False, True]
    assert "one lane per category" in "\n".join(c.value for c in at.caption)  # one country


# --- playback ----------------------------------------------------------------------------------

def test_previous_and_next_step_in_time_order_and_stop_at_the_ends(page):
    at = page(TIMED)
    assert at.button(key="previous").disabled is False
    assert [m.value for m in at.markdown if m.value == "4 events"]
    seen = []
    for _ in range(len(TIMED_ORDER)):
        at.button(key="next").click().run()
        seen.append(selected(at))
    assert seen == TIMED_ORDER
    assert at.button(key="next").disabled and not at.button(key="previous").disabled
    assert "4 of 4" in [m.value for m in at.markdown]
    assert query(at) == {"event": ["sv-prison-visit"]}
    back = []
    for _ in range(len(TIMED_ORDER) - 1):
        at.button(key="previous").click().run()
        back.append(selected(at))
    assert back == TIMED_ORDER[-2::-1]
    assert at.button(key="previous").disabled


def test_previous_with_nothing_selected_starts_at_the_last(page):
    at = page()
    at.button(key="previous").click().run()
    assert selected(at) == ORDER[-1]


def test_next_goes_on_from_an_event_the_filter_hides(page):
    at = page(query={"event": "co-officials-meeting", "country": ["SV", "MX"]})
    at.button(key="next").click().run()
    assert selected(at) == "mx-press-conference"  # the first shown event after it in time
    at.button(key="previous").click().run()
    assert selected(at) == "sv-agreement-signing"


def tick(at: AppTest) -> AppTest:
    """One step of play: the timer's rerun, with the step due."""
    at.session_state["play_due"] = 0.0
    return ok(at.run())


def test_play_steps_through_the_view_in_time_order_and_pauses_at_the_end(page):
    at = page(TIMED)
    at.button(key="play").click().run()
    assert selected(at) == TIMED_ORDER[0]
    assert at.button(key="play").label == "Pause"
    at.run()  # a rerun before the next step is due changes nothing
    assert selected(at) == TIMED_ORDER[0]
    seen = [selected(tick(at)) for _ in range(len(TIMED_ORDER) - 1)]
    assert seen == TIMED_ORDER[1:]
    assert at.button(key="play").label == "Play"  # paused on the last event by itself
    assert selected(tick(at)) == TIMED_ORDER[-1]
    at.button(key="play").click().run()  # play again from the last starts over
    assert selected(at) == TIMED_ORDER[0]


def test_pause_and_stepping_by_hand_stop_play(page):
    at = page()
    at.button(key="play").click().run()
    tick(at)
    assert selected(at) == ORDER[1]
    at.button(key="play").click().run()  # pause
    assert at.button(key="play").label == "Play"
    assert selected(tick(at)) == ORDER[1]
    at.button(key="play").click().run()  # play goes on after the current event
    assert selected(at) == ORDER[2]
    at.button(key="next").click().run()
    assert selected(at) == ORDER[3] and at.button(key="play").label == "Play"
    assert selected(tick(at)) == ORDER[3]


def test_play_follows_the_filter(page):
    at = page(query={"country": "MX"})
    at.button(key="play").click().run()
    assert selected(at) == "mx-press-conference"
    assert selected(tick(at)) == "mx-president-meeting"
    assert at.button(key="play").label == "Play"


def test_playback_buttons_are_labelled_and_have_keys(page):
    at = page()
    buttons = {b.key: b for b in at.button if b.key in ("previous", "play", "next")}
    assert [(k, b.label, b.proto.shortcut.upper()) for k, b in buttons.items()] == [
        ("previous", "Previous", "J"), ("play", "Play", "K"), ("next", "Next", "L")]
    empty = page(query={"q": "nothing like this"})
    assert all(empty.button(key=k).disabled for k in ("previous", "play", "next"))
    assert "0 events" in [m.value for m in empty.markdown]


# --- downloads ---------------------------------------------------------------------------------

def download(at: AppTest, downloads: dict, kind: str) -> tuple[bytes, str, str]:
    button = at.download_button(key=f"download_{kind}")
    make, mime, name = downloads[button.proto.deferred_file_id]
    data = make()
    return (data.encode() if isinstance(data, str) else data), mime, name


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="row").sort_index(axis=1).reset_index(drop=True)


def test_downloads_hold_the_view_and_load_back(page, downloads):
    at = page(TIMED, query={"country": "CO", "event": "co-late"})
    shown = parse_events(events_csv(TIMED).encode(), "trip.csv").events
    shown = shown.loc[shown["country"] == "CO"]
    labels = [b.label for b in at.download_button]
    assert labels == ["Events as CSV", "Events as GeoJSON", "Itinerary as a calendar (.ics)",
                      "Map as a web page (.html)"]
    for kind, reader_name in (("csv", "back.csv"), ("geojson", "back.geojson")):
        data, mime, name = download(at, downloads, kind)
        assert (mime, name) == (MIME_TYPES[kind], f"trip.{kind}")
        back = parse_events(data, reader_name)
        assert back.problems == []
        pd.testing.assert_frame_equal(comparable(back.events), comparable(shown))

    data, mime, name = download(at, downloads, "ics")
    assert (mime, name) == ("text/calendar", "trip.ics")
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["X-WR-CALNAME"] == "Event map: 2 of 4 events · Colombia"
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["co-early@eventmap", "co-late@eventmap"]
    assert [e.decoded("DTSTART").isoformat() for e in events] == [
        "2025-03-27T15:00:00+00:00", "2025-03-27T15:30:00+00:00"]

    data, mime, name = download(at, downloads, "html")
    assert (mime, name) == ("text/html", "trip-map.html")
    html = data.decode()
    assert html.startswith("<!DOCTYPE html>") and remote_assets(html) == []
    assert "<title>Event map: 2 of 4 events · Colombia</title>" in html
    assert html.count('"properties": {"id": "co-') == 2 and "em-selected" in html


def test_an_empty_view_has_no_calendar(page, downloads):
    at = page(query={"q": "nothing like this"})
    assert at.download_button(key="download_ics").disabled
    assert not at.download_button(key="download_ics").proto.deferred_file_id
    data, _, _ = download(at, downloads, "csv")
    assert parse_events(data, "empty.csv").events.empty
    assert pd.read_csv(io.BytesIO(data)).empty
