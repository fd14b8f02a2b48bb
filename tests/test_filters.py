"""The filter state: query strings in and out, filtering, and its description in words."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.filters import (
    FilterState,
    category_label,
    choices,
    participant_name,
    participant_names,
)

D26, D27, D28 = date(2025, 3, 26), date(2025, 3, 27), date(2025, 3, 28)


@pytest.mark.parametrize(("pairs", "state", "notes"), [
    ([], FilterState(), []),
    ([("start", "2025-03-27"), ("end", "2025-03-27"), ("event", "co-data-signing")],
     FilterState(start=D27, end=D27, event="co-data-signing"), []),
    ([("country", "co"), ("country", "MX"), ("country", "CO")],
     FilterState(countries=("CO", "MX")), []),
    ([("category", "meeting"), ("category", "signing"), ("participant", "Gustavo Petro"),
      ("q", " press  ")],
     FilterState(categories=("meeting", "signing"), participants=("Gustavo Petro",),
                 text="press"), []),
    ([("start", "2025-02-30")], FilterState(),
     ["Ignored start=2025-02-30: not a date; write YYYY-MM-DD, e.g. 2025-03-27."]),
    ([("end", "27/03/2025")], FilterState(),
     ["Ignored end=27/03/2025: not a date; write YYYY-MM-DD, e.g. 2025-03-27."]),
    ([("start", "20250327")], FilterState(),
     ["Ignored start=20250327: not a date; write YYYY-MM-DD, e.g. 2025-03-27."]),
    ([("start", "2025-03-28"), ("end", "2025-03-26")], FilterState(start=D26, end=D28),
     ["start (2025-03-28) was after end (2025-03-26); swapped them."]),
    ([("start", "2025-03-26"), ("start", "2025-03-27")], FilterState(start=D27),
     ["start was given 2 times; used the last one (2025-03-27)."]),
    ([("country", "Colombia"), ("country", "ZZ")], FilterState(),
     ["Ignored country=Colombia: not an ISO 3166-1 alpha-2 country code; use two letters "
      "such as CO or MX.",
      "Ignored country=ZZ: not an ISO 3166-1 alpha-2 country code; use two letters such as "
      "CO or MX."]),
    ([("event", "<script>")], FilterState(),
     ["Ignored event=<script>: not an event id (lowercase letters, digits, '-' or '_')."]),
    ([("start", ""), ("event", "  "), ("page", "2"), ("utm_source", "x")], FilterState(), []),
])
def test_from_pairs(pairs, state, notes):
    assert FilterState.from_pairs(pairs) == (state, notes)


@pytest.mark.parametrize("state", [
    FilterState(),
    FilterState(start=D26),
    FilterState(start=D27, end=D28, event="co-data-signing"),
    FilterState(countries=("CO", "MX"), categories=("meeting",), participants=("Ana Pérez",),
                text="data & more", event="x"),
])
def test_query_round_trip(state):
    assert FilterState.from_pairs(state.to_pairs()) == (state, [])


def test_to_query_repeats_multi_valued_names():
    state = FilterState(start=D27, countries=("CO", "MX"), event="e")
    assert state.to_query() == {"start": "2025-03-27", "country": ["CO", "MX"], "event": "e"}
    assert state.to_pairs() == [("start", "2025-03-27"), ("country", "CO"), ("country", "MX"),
                                ("event", "e")]


@pytest.mark.parametrize(("state", "ids"), [
    (FilterState(), "all"),
    (FilterState(event="co-data-signing"), "all"),  # selecting does not filter
    (FilterState(start=D27, end=D27), ["co-officials-meeting", "co-data-signing"]),
    (FilterState(start=D28), ["mx-press-conference", "mx-president-meeting"]),
    (FilterState(end=D26), ["sv-prison-visit", "sv-president-meeting", "sv-agreement-signing"]),
    (FilterState(countries=("CO", "MX")), ["co-officials-meeting", "co-data-signing",
                                           "mx-press-conference", "mx-president-meeting"]),
    (FilterState(categories=("Signing",)), ["sv-agreement-signing", "co-data-signing"]),
    (FilterState(participants=("gustavo petro",)), ["co-officials-meeting"]),
    (FilterState(participants=("Claudia Sheinbaum", "Luis Gómez")),
     ["sv-president-meeting", "mx-press-conference", "mx-president-meeting"]),
    (FilterState(participants=("President",)), []),  # roles are not names
    (FilterState(text="AGREEMENT"), ["sv-agreement-signing", "co-data-signing"]),
    (FilterState(text="meeting bogotá"), ["co-officials-meeting"]),  # every word, any field
    (FilterState(text="sheinbaum"), ["mx-press-conference", "mx-president-meeting"]),
    (FilterState(text="(minister"), "all_but_mx_press"),  # regex characters are plain text
    (FilterState(start=D27, countries=("SV",)), []),
])
def test_apply(trip_events, state, ids):
    got = list(state.apply(trip_events)["id"])
    if ids == "all":
        ids = list(trip_events["id"])
    elif ids == "all_but_mx_press":
        ids = [i for i in trip_events["id"] if i != "mx-press-conference"]
    assert got == ids


def test_mask_is_positional_on_any_index(trip_events):
    shuffled = trip_events.sample(frac=1, random_state=3).set_index(
        pd.Index(range(100, 100 + len(trip_events))))
    state = FilterState(participants=("Gustavo Petro",), text="officials")
    assert list(shuffled.loc[state.mask(shuffled), "id"]) == ["co-officials-meeting"]


def test_apply_on_many_events_is_vectorized():
    n = 100_000
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=365).strftime("%Y-%m-%d").to_numpy()
    events = pd.DataFrame({
        "id": [f"e{i}" for i in range(n)], "day": rng.choice(days, n),
        "country": rng.choice(["CO", "MX", "SV"], n), "category": "meeting",
        "title": "t", "summary": "s", "place": "p",
        "participants": rng.choice(["A (x); B", "C", ""], n)})
    state = FilterState(start=date(2024, 3, 1), end=date(2024, 3, 31), countries=("CO",),
                        participants=("B",), text="t")
    got = state.apply(events)
    expected = ((events["day"] >= "2024-03-01") & (events["day"] <= "2024-03-31")
                & (events["country"] == "CO") & (events["participants"] == "A (x); B"))
    assert got["id"].tolist() == events.loc[expected, "id"].tolist()


@pytest.mark.parametrize(("state", "shown", "total", "words"), [
    (FilterState(), 7, 7, "All 7 events"),
    (FilterState(), 1, 1, "1 event"),
    (FilterState(start=D27, end=D28, countries=("CO", "MX")), 5, 7,
     "5 of 7 events · 27–28 Mar 2025 · Colombia, Mexico"),
    (FilterState(start=D27, end=D27), 2, 7, "2 of 7 events · 27 Mar 2025"),
    (FilterState(start=D27), 4, 7, "4 of 7 events · from 27 Mar 2025"),
    (FilterState(end=D27), 5, 7, "5 of 7 events · until 27 Mar 2025"),
    (FilterState(categories=("press_conference",), participants=("Claudia Sheinbaum",),
                 text="morning"), 1, 7,
     "1 of 7 events · Press conference · with Claudia Sheinbaum · matching “morning”"),
    (FilterState(start=D27, end=D27, event="x"), 0, 7, "0 of 7 events · 27 Mar 2025"),
])
def test_describe(state, shown, total, words):
    assert state.describe(shown, total) == words


@pytest.mark.parametrize(("state", "fitted", "notes"), [
    (FilterState(start=D27, end=D27), FilterState(start=D27, end=D27), []),
    # The data's whole span is no limit: the URL stays short. Part of it stays explicit, so
    # a shared link means the same days when the data grows.
    (FilterState(start=D26, end=D28), FilterState(), []),
    (FilterState(start=D26, end=D26), FilterState(start=D26, end=D26), []),
    (FilterState(end=D28), FilterState(), []),
    (FilterState(start=date(2025, 1, 1), end=D27), FilterState(start=D26, end=D27),
     ["start 2025-01-01 is outside the data (26–28 Mar 2025); showing from 26 Mar 2025."]),
    (FilterState(start=date(2030, 1, 1)), FilterState(start=D28),
     ["start 2030-01-01 is outside the data (26–28 Mar 2025); showing from 28 Mar 2025."]),
    (FilterState(end=date(2026, 1, 1)), FilterState(),
     ["end 2026-01-01 is outside the data (26–28 Mar 2025); showing until 28 Mar 2025."]),
    (FilterState(event="no-such-event"), FilterState(),
     ["Ignored event=no-such-event: no event has that id."]),
    (FilterState(event="co-data-signing"), FilterState(event="co-data-signing"), []),
])
def test_fit(trip_events, state, fitted, notes):
    assert state.fit(trip_events) == (fitted, notes)


def test_fit_to_no_events(trip_events):
    state = FilterState(start=D27, event="co-data-signing", countries=("CO",))
    assert state.fit(trip_events.iloc[0:0]) == (FilterState(countries=("CO",)), [])


@pytest.mark.parametrize(("state", "filtered"), [
    (FilterState(), False), (FilterState(event="x"), False), (FilterState(end=D27), True),
    (FilterState(text="x"), True), (FilterState(countries=("CO",)), True),
])
def test_filtered(state, filtered):
    assert state.filtered is filtered


def test_participant_names(trip_events):
    assert participant_names(trip_events) == [
        "Ana Pérez", "Claudia Sheinbaum", "Gustavo Petro", "Luis Gómez"]
    assert participant_name(" Gustavo Petro (President of Colombia) ") == "Gustavo Petro"
    assert participant_name("@laurisarabia") == "@laurisarabia"


@pytest.mark.parametrize(("category", "label"), [
    ("press_conference", "Press conference"), ("meeting", "Meeting"), ("", "Uncategorized"),
    ("site visit", "Site visit"),
])
def test_category_label(category, label):
    assert category_label(category) == label


def test_choices_offer_the_events_values_sorted_by_what_people_read(trip_events):
    assert choices(trip_events, FilterState()) == {
        "countries": ["CO", "SV", "MX"],  # Colombia, El Salvador, Mexico
        "categories": ["meeting", "press_conference", "signing", "visit"],
        "participants": ["Ana Pérez", "Claudia Sheinbaum", "Gustavo Petro", "Luis Gómez"],
    }


def test_choices_keep_what_a_link_names_that_the_events_lack(trip_events):
    state = FilterState(countries=("AR",), categories=("protest",), participants=("Nobody",))
    options = choices(trip_events, state)
    assert options["countries"] == ["AR", "CO", "SV", "MX"]  # Argentina first
    assert "protest" in options["categories"] and "Nobody" in options["participants"]


def test_choices_leave_out_an_empty_category(trip_events):
    events = trip_events.assign(category=["", *trip_events["category"].iloc[1:]])
    assert "" not in choices(events, FilterState())["categories"]


def test_apply_hands_back_the_events_themselves_when_all_pass():
    events = pd.DataFrame({"id": ["a", "b"], "date": ["2025-03-26", "2025-03-27"],
                           "day": ["2025-03-26", "2025-03-27"], "country": ["SV", "CO"],
                           "category": ["visit", "meeting"], "participants": ["", ""],
                           "title": ["A", "B"], "place": ["x", "y"], "summary": ["", ""]})
    assert FilterState().apply(events) is events  # no copy of a million rows to show them all
    one = FilterState(countries=("CO",)).apply(events)
    assert list(one["id"]) == ["b"] and one is not events
