"""Stepping through events in time order: previous, next, and what play shows.

The steps stop at the ends instead of wrapping: a trip has a first and a last event, and jumping
from the last back to the first would read as one more leg. Play pauses after the last event;
pressing play again from there starts over at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Playlist:
    """Event ids in play order (by instant; file order breaks ties), with their instants.

    ``instants`` may be any sequence of UTC timestamps; it is kept as a ``pd.DatetimeIndex``
    (searched in one step, and made from a column without a Python object per event). Two
    playlists are equal when their ids are: the instants only say where a hidden event falls.
    """

    ids: tuple[str, ...]
    instants: pd.DatetimeIndex | tuple[pd.Timestamp, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if len(self.instants) and len(self.instants) != len(self.ids):
            raise ValueError("give one instant per id, or none.")
        if not isinstance(self.instants, pd.DatetimeIndex):
            object.__setattr__(self, "instants", pd.DatetimeIndex(list(self.instants)))

    @classmethod
    def from_events(cls, events: pd.DataFrame) -> Playlist:
        """The events' play order, from a validated frame (needs ``id`` and ``instant``)."""
        if events.empty:
            return cls(())
        # A stable sort keeps the file's order among events at the same instant (several
        # date-only events of one day), so stepping follows the order the author wrote.
        ordered = events.sort_values("instant", kind="stable")
        return cls(tuple(ordered["id"].astype(str).tolist()),
                   pd.DatetimeIndex(ordered["instant"]))

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, current: str | None) -> int | None:
        """Position of ``current`` (0-based), or None when it is not in the list."""
        try:
            return self.ids.index(current) if current is not None else None
        except ValueError:
            return None

    def next(self, current: str | None, at: pd.Timestamp | None = None) -> str | None:
        """The event after ``current``; the last stays the last; nothing selected gives the first.

        ``at`` is the instant of a ``current`` that the filter hides, so stepping goes on from
        where it was instead of starting over.
        """
        if not self.ids:
            return None
        pos = self.index(current)
        if pos is not None:
            return self.ids[min(pos + 1, len(self.ids) - 1)]
        if at is not None and len(self.instants):
            after = int(self.instants.searchsorted(at, side="right"))
            return self.ids[min(after, len(self.ids) - 1)]
        return self.ids[0]

    def previous(self, current: str | None, at: pd.Timestamp | None = None) -> str | None:
        """The event before ``current``; the first stays the first; nothing selected gives the last.

        ``at`` works as in :meth:`next`.
        """
        if not self.ids:
            return None
        pos = self.index(current)
        if pos is not None:
            return self.ids[max(pos - 1, 0)]
        if at is not None and len(self.instants):
            before = int(self.instants.searchsorted(at, side="left"))
            return self.ids[max(before - 1, 0)]
        return self.ids[-1]

    def is_first(self, current: str | None) -> bool:
        """True when ``current`` is the first event (the page disables "previous")."""
        return bool(self.ids) and current == self.ids[0]

    def is_last(self, current: str | None) -> bool:
        """True when ``current`` is the last event (the page disables "next")."""
        return bool(self.ids) and current == self.ids[-1]

    def play_start(self, current: str | None) -> str | None:
        """The first event play shows when pressed with ``current`` selected.

        Play goes on after ``current``; with nothing selected, a hidden event, or the last
        one selected, it starts over at the first event.
        """
        pos = self.index(current)
        if not self.ids:
            return None
        if pos is None or pos == len(self.ids) - 1:
            return self.ids[0]
        return self.ids[pos + 1]

    def play_step(self, current: str | None) -> tuple[str | None, bool]:
        """One tick of play: (event to show now, whether play goes on after it).

        Play stops on the last event, so the page pauses there by itself.
        """
        if not self.ids:
            return None, False
        shown = self.next(current) if self.index(current) is not None else self.ids[0]
        return shown, not self.is_last(shown)

    def sequence(self, current: str | None) -> list[str]:
        """Every id play shows, in order, when pressed with ``current`` selected."""
        first = self.play_start(current)
        if first is None:
            return []
        return list(self.ids[self.ids.index(first):])

    def position_label(self, current: str | None) -> str:
        """Where ``current`` is, for the page: "3 of 7", or "7 events" when none is selected."""
        pos = self.index(current)
        if pos is None:
            return f"{len(self.ids)} event" + ("" if len(self.ids) == 1 else "s")
        return f"{pos + 1} of {len(self.ids)}"


def play_order(events: pd.DataFrame) -> list[str]:
    """Event ids in time order; see :class:`Playlist`."""
    return list(Playlist.from_events(events).ids)

