"""Stepping through events in time order: previous, next, and play."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.playback import Playlist, play_order
from tests.sample_events import ROWS, make_events

# sample_events in the schema's time order (see test_timeline for why mx-press is 4th).
ORDER = ["sv-visit", "co-talks", "co-signing", "mx-press", "mx-unlocated"]


@pytest.fixture
def playlist() -> Playlist:
    return Playlist.from_events(make_events().iloc[::-1])  # any view order


def test_play_order_is_by_instant_whatever_the_view_order():
    events = make_events()
    assert play_order(events) == ORDER
    assert play_order(events.sample(frac=1, random_state=3)) == ORDER


def test_same_instant_keeps_file_order():
    rows = [{**ROWS[0], "id": name, "date": "2025-03-26"} for name in ("c", "a", "b")]
    rows.insert(0, {**ROWS[0], "id": "later", "date": "2025-03-27"})
    assert play_order(make_events(rows)) == ["c", "a", "b", "later"]


@pytest.mark.parametrize(("current", "after", "before"), [
    ("sv-visit", "co-talks", "sv-visit"),  # the first stays the first going back
    ("co-talks", "co-signing", "sv-visit"),
    ("mx-press", "mx-unlocated", "co-signing"),
    ("mx-unlocated", "mx-unlocated", "mx-press"),  # the last stays the last going on
    (None, "sv-visit", "mx-unlocated"),  # nothing selected: next starts, previous ends
    ("not-in-view", "sv-visit", "mx-unlocated"),  # a hidden event, no instant known
])
def test_next_and_previous(playlist, current, after, before):
    assert playlist.next(current) == after
    assert playlist.previous(current) == before


@pytest.mark.parametrize(("at", "after", "before"), [
    # A selected event the filter hides: stepping goes on from its instant.
    ("2025-01-01T00:00Z", "co-talks", "sv-visit"),
    ("2025-01-02T12:00Z", "co-signing", "sv-visit"),  # at co-talks' own instant (midday UTC)
    ("2025-01-02T13:00Z", "co-signing", "co-talks"),
    ("2024-01-01T00:00Z", "sv-visit", "sv-visit"),  # before everything
    ("2026-01-01T00:00Z", "mx-unlocated", "mx-unlocated"),  # after everything
])
def test_stepping_from_a_hidden_event(playlist, at, after, before):
    instant = pd.Timestamp(at)
    assert playlist.next("hidden", at=instant) == after
    assert playlist.previous("hidden", at=instant) == before


def test_ends(playlist):
    assert playlist.is_first("sv-visit") and not playlist.is_first("co-talks")
    assert playlist.is_last("mx-unlocated") and not playlist.is_last("mx-press")
    assert not playlist.is_first(None) and not playlist.is_last(None)


@pytest.mark.parametrize(("current", "sequence"), [
    (None, ORDER),
    ("hidden", ORDER),
    ("sv-visit", ORDER[1:]),  # goes on after the selected event
    ("co-signing", ORDER[3:]),
    ("mx-unlocated", ORDER),  # at the end: starts over
])
def test_play_sequence(playlist, current, sequence):
    assert playlist.sequence(current) == sequence
    assert playlist.play_start(current) == sequence[0]


def test_play_ticks_walk_the_sequence_and_pause_at_the_end(playlist):
    shown = [playlist.play_start("co-talks")]
    playing = True
    while playing:
        nxt, playing = playlist.play_step(shown[-1])
        shown.append(nxt)
    # The last tick shows the last event and says stop; no extra tick repeats it.
    assert shown == ["co-signing", "mx-press", "mx-unlocated"]
    assert playlist.play_step("mx-unlocated") == ("mx-unlocated", False)
    assert playlist.play_step(None) == ("sv-visit", True)


@pytest.mark.parametrize("rows", [[], [ROWS[0]]], ids=["empty", "one"])
def test_small_playlists(rows):
    playlist = Playlist.from_events(make_events(rows)) if rows else Playlist(())
    only = rows[0]["id"] if rows else None
    assert playlist.next(None) == only and playlist.previous(None) == only
    assert playlist.next(only) == only and playlist.previous(only) == only
    assert playlist.play_step(only) == (only, False)
    assert playlist.sequence(None) == ([only] if rows else [])
    assert len(playlist) == len(rows)


def test_empty_view_frame():
    assert Playlist.from_events(make_events().iloc[[]]).ids == ()


@pytest.mark.parametrize(("current", "label"), [
    ("sv-visit", "1 of 5"), ("mx-unlocated", "5 of 5"), (None, "5 events"), ("hidden", "5 events"),
])
def test_position_label(playlist, current, label):
    assert playlist.position_label(current) == label


def test_position_label_singular():
    assert Playlist(("a",)).position_label(None) == "1 event"


def test_instants_must_match_ids():
    with pytest.raises(ValueError, match="one instant per id"):
        Playlist(("a", "b"), (pd.Timestamp("2025-01-01", tz="UTC"),))
