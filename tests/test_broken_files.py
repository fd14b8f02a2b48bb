"""Every malformed file gets a clear report, and its valid rows survive."""

import pytest

from dashboard.formats import parse_events
from tests.broken_files import CASES


@pytest.mark.parametrize(("name", "data", "kept", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_is_reported(name, data, kept, fragments):
    result = parse_events(data, name)
    report = "\n".join(str(p) for p in result.problems)
    assert len(result.events) == kept, report
    assert result.problems, f"{name} passed validation"
    assert all(str(p).startswith(name + ", ") for p in result.problems), report
    for fragment in fragments:
        assert fragment in report


def test_corpus_is_large_enough():
    assert len(CASES) >= 20
