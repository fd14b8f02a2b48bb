"""The vectorized helpers give what the per-event Python loops they replaced gave.

Each ``_old_*`` function is the earlier implementation, kept here as the reference: the new ones
must agree with it on tricky text (empty cells, separators, duplicates, roles, hostile payloads)
and only differ where the old result depended on a set's order (ties now sort by the name).
"""

from __future__ import annotations

import bisect
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_events
from dashboard import mapview
from dashboard.countries import country_name
from dashboard.filters import (
    FilterState,
    _has_participant,
    category_label,
    choices,
    participant_names,
)
from dashboard.overview import md_escape
from dashboard.playback import Playlist
from dashboard.route import in_route_order
from tests.conftest import APP
from tests.hostile import PAYLOADS

CELLS = [
    "", ";", ";;", " ; ", "A (x); B", "A(x)", "a (x); A (y)", "Ana; ana; ANA", "E (a) F (b)",
    "G (a) H", "D (x\ny)", "C\u00a0(y)\u00a0", "(only a role)", "Name (unclosed", "x) (y",
    "Zoë; zoe; Zoe; ZOË", "İstanbul; i̇stanbul", "  Padded  (Role)  ;Padded", "Tab\t(x)\t",
    "Trail (x)\n", "Gustavo Petro (President); Gustavo Petro", "Ünïcödé (Röle); ünïcödé",
    "a; b; a; b", "ß; SS; ss", "名前 (役職); 名前",
] + [text for _, text in PAYLOADS] + [f"{a}; {b} (role)" for (_, a), (_, b)
                                      in pairwise(PAYLOADS)]


def _old_names(participants: pd.Series) -> pd.Series:
    exploded = participants.str.split(";").explode().fillna("")
    return exploded.str.replace(r"\s*\(.*\)\s*$", "", regex=True).str.strip()


def _old_participant_names(events: pd.DataFrame) -> list[str]:
    names = _old_names(events["participants"])
    return sorted(set(names[names != ""]), key=str.casefold)


def _old_has_participant(participants: pd.Series, wanted) -> np.ndarray:
    names = _old_names(participants.reset_index(drop=True))
    hit = names.str.casefold().isin({w.casefold() for w in wanted})
    return hit.groupby(level=0).any().reindex(range(len(participants)),
                                              fill_value=False).to_numpy()


def _by_name(name: str) -> tuple[str, str]:
    return name.casefold(), name


def _columns(cells: list[str]) -> list[pd.Series]:
    """The cells as the loader makes them (Arrow strings), as plain objects, and filtered."""
    arrow = pd.Series(cells, dtype="str")
    mixed = pd.Series([*cells, None], dtype=object)  # a missing cell, as a hand-made frame has
    sliced = pd.Series(cells * 3, dtype="str").iloc[5::2]  # an index that is not 0..n-1
    return [arrow, mixed, sliced]


@pytest.mark.parametrize("column", _columns(CELLS), ids=["arrow", "object", "sliced"])
def test_participant_names_match_the_loop_they_replaced(column):
    events = pd.DataFrame({"participants": column})
    new = participant_names(events)
    old = _old_participant_names(events)
    assert new == sorted(old, key=_by_name)  # the same names; ties ordered by the name
    assert "" not in new and len(set(new)) == len(new)


def test_participant_ties_sort_the_same_way_every_time():
    events = pd.DataFrame({"participants": ["ana; Ana; ANA", "Ana (x); ana"]})
    assert participant_names(events) == ["ANA", "Ana", "ana"]
    state = FilterState(participants=("aNa",))
    assert choices(events.assign(country="CO", category=""), state)["participants"] == [
        "ANA", "Ana", "aNa", "ana"]


@pytest.mark.parametrize("column", _columns(CELLS), ids=["arrow", "object", "sliced"])
def test_participant_filter_matches_the_loop_it_replaced(column):
    names = participant_names(pd.DataFrame({"participants": column}))
    wanted_sets = [[n] for n in names[:40]] + [
        ["ana"], ["ZOE", "b"], ["x"], ["role"], ["(x)"], ["nobody"], [""], ["Padded"],
        ["A (x)"], [PAYLOADS[0][1]], ["ss"], ["i̇stanbul"]]
    for wanted in wanted_sets:
        new = _has_participant(column, wanted)
        assert new.dtype == bool and len(new) == len(column)
        assert new.tolist() == _old_has_participant(column, wanted).tolist(), wanted
    assert _has_participant(column.iloc[:0], ["A"]).tolist() == []


def _old_choices(events: pd.DataFrame, state: FilterState) -> dict[str, list[str]]:
    countries = set(events["country"]) | set(state.countries)
    categories = (set(events["category"]) - {""}) | set(state.categories)
    return {
        "countries": sorted(countries, key=lambda c: (country_name(c).casefold(), c)),
        "categories": sorted(categories, key=lambda c: (category_label(c).casefold(), c)),
        "participants": sorted(set(_old_participant_names(events)) | set(state.participants),
                               key=str.casefold),
    }


def test_choices_match_the_loop_they_replaced():
    rng = np.random.default_rng(5)
    n = 400
    events = pd.DataFrame({
        "country": rng.choice(["CO", "MX", "SV", "US", "AR"], n),
        "category": rng.choice(["", "meeting", "press_conference", "Meeting", "x_y", "zz"], n),
        "participants": rng.choice(CELLS, n),
    }).astype("str")
    for state in (FilterState(), FilterState(countries=("BR",), categories=("protest",),
                                              participants=("Nobody", "ana"))):
        new, old = choices(events, state), _old_choices(events, state)
        assert new["countries"] == old["countries"]
        assert new["categories"] == old["categories"]
        assert new["participants"] == sorted(old["participants"], key=_by_name)


def _old_playlist(events: pd.DataFrame) -> tuple[tuple[str, ...], tuple[pd.Timestamp, ...]]:
    ordered = events.sort_values("instant", kind="stable")
    return tuple(ordered["id"].astype(str)), tuple(ordered["instant"])


def _old_next(ids, instants, at) -> str:
    return ids[min(bisect.bisect_right(instants, at), len(ids) - 1)]


def _old_previous(ids, instants, at) -> str:
    return ids[max(bisect.bisect_left(instants, at) - 1, 0)]


def _tied_events() -> pd.DataFrame:
    # Ties (several events at one instant), file order unlike time order, ids that look numeric.
    stamps = ["2025-03-27 10:00", "2025-03-26", "2025-03-27 10:00", "2025-03-26",
              "2025-03-28 23:59", "2025-03-27 10:00", "2025-03-25"]
    return pd.DataFrame({"id": ["7", "b", "a", "01", "z", "m", "q"],
                         "instant": pd.to_datetime(stamps, format="ISO8601").tz_localize("UTC")})


def test_playlist_matches_the_loop_it_replaced():
    events = _tied_events()
    playlist = Playlist.from_events(events)
    ids, instants = _old_playlist(events)
    assert playlist.ids == ids == ("q", "b", "01", "7", "a", "m", "z")
    assert list(playlist.instants) == list(instants)
    probes = [*instants, *(pd.Timestamp(t, tz="UTC") for t in (
        "2025-01-01", "2025-03-27 09:59", "2025-03-27 10:01", "2026-01-01"))]
    for at in probes:  # an event the filter hides, at each of these instants
        assert playlist.next("hidden", at) == _old_next(ids, instants, at), at
        assert playlist.previous("hidden", at) == _old_previous(ids, instants, at), at


def test_a_playlist_made_from_timestamps_equals_one_made_from_a_frame():
    events = _tied_events()
    made = Playlist(*_old_playlist(events))
    assert made == Playlist.from_events(events)
    assert hash(made) == hash(Playlist.from_events(events))
    assert made.next(None, pd.Timestamp("2025-03-26 12:00", tz="UTC")) == "7"
    assert Playlist.from_events(events.iloc[:0]) == Playlist(())
    with pytest.raises(ValueError, match="one instant per id"):
        Playlist(("a", "b"), pd.DatetimeIndex(["2025-01-01"], tz="UTC"))


def test_category_styles_of_a_column_match_those_of_a_list():
    categories = ["visit", "", "riot", "meeting", "riot", "a", "b", "c", "d", "e", "visit", ""]
    column = pd.Series(categories * 50, dtype="str")
    from_column = mapview.category_styles(column)
    assert from_column == mapview.category_styles(list(column))
    assert list(from_column) == ["visit", "", "riot", "meeting", "a", "b", "c", "d", "e"]
    assert mapview.category_styles(column.iloc[:0]) == {}


# --- the list on the page ---------------------------------------------------------------------

LIST_CAP = 2000  # app.MAX_LIST_ROWS (app.py runs a page when imported, so it is not imported)


@pytest.fixture(scope="module")
def many_events(tmp_path_factory):
    """More events than the list shows, in a file order unlike their time order."""
    events = synthetic_events(LIST_CAP + 150, seed=11).sample(frac=1.0, random_state=3)
    path = tmp_path_factory.mktemp("many") / "events.csv"
    events.to_csv(path, index=False)
    return path


def _run(path, query: dict[str, str] | None = None) -> AppTest:
    before = config.get_option("server.enableStaticServing")
    config.set_option("server.enableStaticServing", True)
    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EVENTMAP_DATA", str(path))
            at.run()
    finally:
        config.set_option("server.enableStaticServing", before)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_long_list_shows_its_first_events_in_time_order_and_says_so(many_events):
    from dashboard.formats import load_events

    events = load_events(many_events).events
    ordered = in_route_order(events)
    chosen, beyond = ordered["id"].iloc[7], ordered["id"].iloc[LIST_CAP + 3]
    at = _run(many_events, {"event": chosen})
    table = at.dataframe[0].value
    assert len(table) == LIST_CAP
    assert list(table["title"]) == list(ordered["title"].iloc[:LIST_CAP])
    assert table["stop"].isna().all()  # a clustered view draws no route, so no stops
    assert list(table["place"].iloc[:3]) == [
        f"{p}, {country_name(c)}" for p, c in zip(ordered["place"].iloc[:3],
                                                  ordered["country"].iloc[:3], strict=True)]
    captions = [c.value for c in at.caption]
    assert any(f"first {LIST_CAP:,} of {len(events):,} events in time order" in c
               for c in captions), captions
    assert at.session_state["table"]["selection"]["rows"] == [7]
    # An event past the listed ones is selected on the map and in the details, not the list.
    at = _run(many_events, {"event": beyond})
    assert at.session_state["table"]["selection"]["rows"] == []
    assert at.query_params["event"] == beyond
    title = events.loc[events["id"] == beyond, "title"].iloc[0]
    assert any(md_escape(title) in m.value for m in at.markdown)
    assert f"{LIST_CAP + 4} of {len(events)}" in [m.value for m in at.markdown]  # the player


def test_a_short_list_shows_every_event_without_a_note(run_short):
    at = run_short
    assert len(at.dataframe[0].value) == 40
    assert not any("in time order. Narrow" in c.value for c in at.caption)


@pytest.fixture
def run_short(tmp_path):
    path = tmp_path / "events.csv"
    synthetic_events(40, seed=2).to_csv(path, index=False)
    return _run(path)
