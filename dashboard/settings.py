"""Where the page reads its events from: ``-- --data PATH``, ``EVENTMAP_DATA``, or the trip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "data" / "events.geojson"


@dataclass(frozen=True)
class Setting:
    """One way to configure the page: a command-line option and the variable that backs it."""

    option: str
    env: str
    default: str
    help: str


# README's "Running the dashboard" section documents each of these (a test checks it).
SETTINGS: tuple[Setting, ...] = (
    Setting("--data", "EVENTMAP_DATA", "data/events.geojson",
            "Events file to show: CSV or GeoJSON in the event schema, with coordinates."),
)


def data_path(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Path, list[str]]:
    """The events file to show, and notes on arguments that were not understood.

    ``argv`` is what follows ``--`` in ``streamlit run dashboard/app.py -- --data PATH``.
    The option wins over ``EVENTMAP_DATA``, which wins over the bundled trip.
    """
    notes: list[str] = []
    chosen: str | None = None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--data":
            if i + 1 < len(args) and args[i + 1].strip():
                chosen = args[i + 1]
                i += 1
            else:
                notes.append("--data needs a file: streamlit run dashboard/app.py -- "
                             "--data PATH")
        elif arg.startswith("--data="):
            chosen = arg.split("=", 1)[1] or None
        else:
            notes.append(f"Ignored the argument {arg!r}; the page understands --data PATH.")
        i += 1
    if chosen is None and environ.get("EVENTMAP_DATA", "").strip():
        chosen = environ["EVENTMAP_DATA"].strip()
    path = Path(chosen).expanduser() if chosen else DEFAULT_DATA
    return path, notes
