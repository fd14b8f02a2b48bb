"""eventmap: a geographic event map dashboard."""
