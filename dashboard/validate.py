"""Check events files from the command line: ``python -m dashboard.validate FILE...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dashboard.formats import load_events


def main(argv: Sequence[str] | None = None) -> int:
    """Print every problem of every file, one per line; return 1 if there is any, else 0."""
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.validate",
        description="Check CSV or GeoJSON events files against the event schema (see README). "
                    "Prints every problem, one per line; exits 1 if there is any.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="events file (.csv or .geojson)")
    args = parser.parse_args(argv)
    total = 0
    events = 0
    for name in args.files:
        data = load_events(name)
        for problem in data.problems:
            print(problem)
        total += len(data.problems)
        events += len(data.events)
    files = f"{len(args.files)} file{'s' if len(args.files) != 1 else ''}"
    if total:
        print(f"{total} problem{'s' if total != 1 else ''} in {files}.", file=sys.stderr)
        return 1
    print(f"OK: {events} event{'s' if events != 1 else ''} in {files}, no problems.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
