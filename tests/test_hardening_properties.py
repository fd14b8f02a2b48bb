"""Property tests for the query-string parser: any query gives a state and notes, nothing else.

``FilterState.from_pairs`` documents no exception: malformed values are left out and explained
in notes. So for any pairs of strings it must return a valid state (one that writes itself back
to the same pairs) and a list of notes; and every valid state survives a trip through a real
URL query string unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.countries import country_names
from dashboard.filters import MULTI, PARAMS, FilterState
from dashboard.overview import headline
from dashboard.route import build_route
from dashboard.schema import ID_RE
from tests.sample_events import make_events

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
EVENTS = make_events().dropna(subset=["lat", "lon"]).reset_index(drop=True)  # as the page gets them

# Any text, surrogates and controls included: a query string can carry anything.
ANY_TEXT = st.text(st.characters(codec=None), max_size=30)
NAMES = st.sampled_from([*PARAMS, "page", "utm_source", "", "Start", "country[]"]) | ANY_TEXT
VALUES = st.one_of(
    ANY_TEXT,
    st.dates().map(date.isoformat),
    st.sampled_from(["2025-03-27", " 2025-03-27 ", "2025-02-30", "20250327", "2025-W13-4",
                     "2025-03-27T10:00", "co", "CO", "ZZ", "ǲ", "sv-visit", "<script>", "",
                     " ", "\u202e", "\x00", "1e999", "javascript:alert(1)", "%2F", "+"]),
)
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=12)


def _valid(state: FilterState) -> None:
    """What every state from the parser satisfies."""
    assert isinstance(state, FilterState)
    for day in (state.start, state.end):
        assert day is None or type(day) is date
    if state.start and state.end:
        assert state.start <= state.end
    for group in (state.countries, state.categories, state.participants):
        assert isinstance(group, tuple) and len(set(group)) == len(group)
        assert all(isinstance(v, str) and v and v == v.strip() for v in group)
    assert set(state.countries) <= set(country_names())
    assert state.text == state.text.strip()
    assert state.event == "" or re.fullmatch(ID_RE, state.event)


@SETTINGS
@given(PAIRS)
def test_any_pairs_give_a_valid_state_and_notes(pairs):
    state, notes = FilterState.from_pairs(pairs)
    _valid(state)
    assert isinstance(notes, list) and all(isinstance(n, str) and n for n in notes)
    # A state read from a URL writes itself back to a URL that reads the same, silently.
    assert FilterState.from_pairs(state.to_pairs()) == (state, [])


@SETTINGS
@given(st.dictionaries(NAMES, st.lists(VALUES, max_size=4), max_size=8))
def test_any_dict_of_lists_gives_a_valid_state(params):
    # The page reads st.query_params this way: every value of every name.
    pairs = [(name, value) for name in params for value in params[name]]
    state, notes = FilterState.from_pairs(pairs)
    _valid(state)
    assert all(isinstance(n, str) for n in notes)


@SETTINGS
@given(PAIRS)
def test_parsed_state_filters_and_describes_any_events(pairs):
    state, _ = FilterState.from_pairs(pairs)
    fitted, notes = state.fit(EVENTS)
    _valid(fitted)
    assert all(isinstance(n, str) for n in notes)
    shown = fitted.apply(EVENTS)
    assert set(shown["id"]) <= set(EVENTS["id"])
    assert (state.apply(EVENTS)["id"].tolist() == shown["id"].tolist()
            or state.start or state.end)  # fitting moves only the dates
    text = headline(fitted, shown, len(EVENTS), build_route(shown))
    assert isinstance(text, str) and text


PLAIN = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(str.strip).filter(bool)
ISO = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@st.composite
def valid_states(draw) -> FilterState:
    days = sorted(draw(st.lists(ISO, min_size=2, max_size=2)))
    start = draw(st.sampled_from([None, days[0]]))
    end = draw(st.sampled_from([None, days[1]]))
    return FilterState(
        start=start, end=end,
        countries=tuple(draw(st.lists(st.sampled_from(sorted(country_names())), unique=True,
                                      max_size=4))),
        categories=tuple(draw(st.lists(PLAIN, unique=True, max_size=3))),
        participants=tuple(draw(st.lists(PLAIN, unique=True, max_size=3))),
        text=draw(st.just("") | PLAIN),
        event=draw(st.just("") | st.from_regex(rf"\A{ID_RE}\Z")),
    )


@SETTINGS
@given(valid_states())
def test_valid_state_round_trips_through_pairs(state):
    assert FilterState.from_pairs(state.to_pairs()) == (state, [])


@SETTINGS
@given(valid_states())
def test_valid_state_round_trips_through_a_real_query_string(state):
    query = urlencode(state.to_pairs())
    assert FilterState.from_pairs(parse_qsl(query, keep_blank_values=True)) == (state, [])
    # ... and through the dict of lists handed to st.query_params.from_dict.
    as_dict = state.to_query()
    pairs = [(k, v) for k, vs in as_dict.items()
             for v in (vs if k in MULTI else [vs])]
    assert FilterState.from_pairs(pairs) == (state, [])
