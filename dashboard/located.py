"""Keep the events that have coordinates; the others become problems saying how to fix them."""

from __future__ import annotations

from dataclasses import replace

from dashboard.formats import Dataset
from dashboard.schema import Problem

GEOCODE_HINT = ("no coordinates yet; run `python -m dashboard.geocode FILE --output "
                "FILE.geojson` to look the place up, or give lat and lon.")


def require_coordinates(dataset: Dataset) -> Dataset:
    """The dataset with unlocated events moved from ``events`` to ``problems``."""
    events = dataset.events
    missing = events["lat"].isna() | events["lon"].isna()
    if not missing.any():
        return dataset
    problems = [Problem(dataset.source, row, "lat", GEOCODE_HINT)
                for row in events.loc[missing, "row"]]
    return replace(dataset, events=events.loc[~missing].reset_index(drop=True),
                   problems=[*dataset.problems, *problems])
