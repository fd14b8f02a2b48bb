"""What the page shows, as a state that reads from and writes to the URL query string.

``FilterState.from_pairs`` turns query pairs (``start``, ``end``, ``country``, ``category``,
``participant``, ``q``, ``event``) into a state and notes on what was ignored; ``to_pairs`` turns
it back; ``apply`` filters the events (vectorized); ``describe`` says in words what is shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.countries import country_name, country_names
from dashboard.dates import day_text, parse_day, span_text
from dashboard.schema import ID_RE

# Query-string names, in the order links are written.
SINGLE = ("start", "end", "q", "event")
MULTI = ("country", "category", "participant")
PARAMS = ("start", "end", "country", "category", "participant", "q", "event")
_ROLE = re.compile(r"\s*\(.*\)\s*$")  # a trailing "(role)"


@dataclass(frozen=True)
class FilterState:
    """The filter and the selected event; empty fields mean "no limit" and "nothing selected"."""

    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    text: str = ""
    event: str = ""

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> tuple[FilterState, list[str]]:
        """Read query-string pairs; malformed values are left out and explained in notes.

        >>> state, notes = FilterState.from_pairs([("start", "2025-03-27"), ("end", "soon")])
        >>> state.start, state.end
        (datetime.date(2025, 3, 27), None)
        >>> notes
        ['Ignored end=soon: not a date; write YYYY-MM-DD, e.g. 2025-03-27.']
        """
        values: dict[str, list[str]] = {name: [] for name in PARAMS}
        for name, value in pairs:
            if name in values and value.strip():
                values[name].append(value.strip())
        notes: list[str] = []

        def single(name: str) -> str:
            given = values[name]
            if len(given) > 1:
                notes.append(f"{name} was given {len(given)} times; used the last one "
                             f"({given[-1]}).")
            return given[-1] if given else ""

        days: dict[str, date | None] = {}
        for name in ("start", "end"):
            text = single(name)
            days[name] = parse_day(text) if text else None
            if text and days[name] is None:
                notes.append(f"Ignored {name}={text}: not a date; write YYYY-MM-DD, "
                             "e.g. 2025-03-27.")
        start, end = days["start"], days["end"]
        if start and end and start > end:
            notes.append(f"start ({start}) was after end ({end}); swapped them.")
            start, end = end, start

        countries = []
        for code in values["country"]:
            if code.upper() in country_names():
                countries.append(code.upper())
            else:
                notes.append(f"Ignored country={code}: not an ISO 3166-1 alpha-2 country code; "
                             "use two letters such as CO or MX.")
        event = single("event")
        if event and not re.fullmatch(ID_RE, event):
            notes.append(f"Ignored event={event}: not an event id (lowercase letters, digits, "
                         "'-' or '_').")
            event = ""
        state = cls(start, end, _unique(countries), _unique(values["category"]),
                    _unique(values["participant"]), single("q"), event)
        return state, notes

    def to_pairs(self) -> list[tuple[str, str]]:
        """Query-string pairs, multi-valued fields repeated; empty fields left out."""
        pairs: list[tuple[str, str]] = []
        if self.start:
            pairs.append(("start", self.start.isoformat()))
        if self.end:
            pairs.append(("end", self.end.isoformat()))
        pairs += [("country", c) for c in self.countries]
        pairs += [("category", c) for c in self.categories]
        pairs += [("participant", p) for p in self.participants]
        if self.text:
            pairs.append(("q", self.text))
        if self.event:
            pairs.append(("event", self.event))
        return pairs

    def to_query(self) -> dict[str, str | list[str]]:
        """The pairs as a dict for ``st.query_params.from_dict`` (lists for repeated names)."""
        query: dict[str, str | list[str]] = {}
        for name, value in self.to_pairs():
            if name in MULTI:
                query.setdefault(name, [])
                query[name].append(value)  # type: ignore[union-attr]
            else:
                query[name] = value
        return query

    @property
    def filtered(self) -> bool:
        """Does the state leave any event out?"""
        return bool(self.start or self.end or self.countries or self.categories
                    or self.participants or self.text)

    def fit(self, events: pd.DataFrame) -> tuple[FilterState, list[str]]:
        """Fit the state to a dataset: dates within its span, a selected event that exists."""
        notes: list[str] = []
        state = self
        if events.empty:
            return replace(state, start=None, end=None, event=""), notes
        first, last = date.fromisoformat(events["day"].min()), date.fromisoformat(
            events["day"].max())
        if state.start and not first <= state.start <= last:
            clamped = min(max(state.start, first), last)
            notes.append(f"start {state.start} is outside the data ({span_text(first, last)}); "
                         f"showing from {day_text(clamped)}.")
            state = replace(state, start=clamped)
        if state.end and not first <= state.end <= last:
            clamped = min(max(state.end, first), last)
            notes.append(f"end {state.end} is outside the data ({span_text(first, last)}); "
                         f"showing until {day_text(clamped)}.")
            state = replace(state, end=clamped)
        if (state.start or first) == first and (state.end or last) == last:
            state = replace(state, start=None, end=None)  # the whole span is no limit
        if state.event and not (events["id"] == state.event).any():
            notes.append(f"Ignored event={state.event}: no event has that id.")
            state = replace(state, event="")
        return state, notes

    def mask(self, events: pd.DataFrame) -> np.ndarray:
        """Boolean array: which events pass the filter."""
        keep = np.ones(len(events), dtype=bool)
        if self.start:
            keep &= (events["day"] >= self.start.isoformat()).to_numpy()
        if self.end:
            keep &= (events["day"] <= self.end.isoformat()).to_numpy()
        if self.countries:
            keep &= events["country"].str.upper().isin(self.countries).to_numpy()
        if self.categories:
            wanted = {c.casefold() for c in self.categories}
            keep &= events["category"].str.casefold().isin(wanted).to_numpy()
        if self.participants:
            keep &= _has_participant(events["participants"], self.participants)
        if self.text:
            haystack = (events["title"] + "\n" + events["summary"] + "\n"
                        + events["participants"] + "\n" + events["place"]).str.casefold()
            for word in self.text.casefold().split():
                keep &= haystack.str.contains(word, regex=False).to_numpy()
        return keep

    def apply(self, events: pd.DataFrame) -> pd.DataFrame:
        """The events that pass the filter, in their original order (``events`` itself when
        all pass: the caller must not change what it gets)."""
        mask = self.mask(events)
        # No copy of a million events to show them all.
        return events if bool(mask.all()) else events.loc[mask]

    def describe(self, shown: int, total: int) -> str:
        """What is shown, in words: "5 of 7 events · 27–28 Mar 2025 · Colombia, Mexico"."""
        noun = "event" if total == 1 else "events"
        parts = [f"{shown} of {total} {noun}" if self.filtered else f"All {total} {noun}"
                 if total != 1 else "1 event"]
        if self.start or self.end:
            if self.start and self.end:
                parts.append(span_text(self.start, self.end))
            elif self.start:
                parts.append(f"from {day_text(self.start)}")
            elif self.end:
                parts.append(f"until {day_text(self.end)}")
        if self.countries:
            parts.append(", ".join(country_name(c) for c in self.countries))
        if self.categories:
            parts.append(", ".join(category_label(c) for c in self.categories))
        if self.participants:
            parts.append("with " + ", ".join(self.participants))
        if self.text:
            parts.append(f"matching “{self.text}”")
        return " · ".join(parts)


def choices(events: pd.DataFrame, state: FilterState) -> dict[str, list[str]]:
    """What each multi-valued filter offers: the events' values, and any the state names.

    Countries are sorted by name, categories by label, participants by name; values the state
    names that the events lack (from a link) stay choosable, so they can be seen and removed.
    """
    # unique() first: iterating 100,000 values in Python takes longer than everything else here.
    countries = set(events["country"].unique()) | set(state.countries)
    categories = (set(events["category"].unique()) - {""}) | set(state.categories)
    return {
        "countries": sorted(countries, key=lambda c: (country_name(c).casefold(), c)),
        "categories": sorted(categories, key=lambda c: (category_label(c).casefold(), c)),
        "participants": sorted(set(participant_names(events)) | set(state.participants),
                               key=_by_name),
    }


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def category_label(category: str) -> str:
    """A category as people write it: 'press_conference' -> 'Press conference'."""
    text = category.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Uncategorized"


def participant_name(entry: str) -> str:
    """A participant without the role: 'Gustavo Petro (President)' -> 'Gustavo Petro'."""
    return _ROLE.sub("", entry).strip()


def participant_names(events: pd.DataFrame) -> list[str]:
    """Every participant named in the events, without roles, sorted."""
    names = {participant_name(entry) for entry in _entries(events["participants"])}
    names.discard("")
    return sorted(names, key=_by_name)


def _by_name(name: str) -> tuple[str, str]:
    # The name itself breaks ties ("ana" and "Ana"), so the order never depends on a set's.
    return name.casefold(), name


def _entries(participants: pd.Series) -> list[str]:
    """The distinct ';'-separated entries of a participants column (a missing cell gives none)."""
    # In Arrow: 100,000 events name a few thousand people at most, so the Python work that
    # follows (participant_name) runs once per distinct entry, not once per event.
    return pc.unique(pc.list_flatten(pc.split_pattern(pc.unique(_cells(participants)), ";"))
                     ).to_pylist()


def _cells(participants: pd.Series) -> pa.Array:
    return pa.array(participants, type=pa.large_string(), from_pandas=True)


def _has_participant(participants: pd.Series, wanted: Iterable[str]) -> np.ndarray:
    wanted = {w.casefold() for w in wanted}
    lists = pc.split_pattern(pc.fill_null(_cells(participants), ""), ";")
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    entries = pc.list_flatten(lists)
    matching = [entry for entry in pc.unique(entries).to_pylist()
                if participant_name(entry).casefold() in wanted]
    hit = pc.is_in(entries, value_set=pa.array(matching, type=pa.large_string()))
    keep = np.zeros(len(participants), dtype=bool)
    keep[pc.list_parent_indices(lists).to_numpy()[hit.to_numpy(zero_copy_only=False)]] = True
    return keep
