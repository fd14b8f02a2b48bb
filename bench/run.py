"""Benchmark the dashboard against a naive folium page and a pydeck page on the same data.

Usage::

    python -m bench.run                      # 1,000, 10,000 and 100,000 events, every page
    python -m bench.run --sizes 1000,10000   # some sizes
    python -m bench.run --skip-naive-100k    # the naive page takes minutes at 100,000
    python -m bench.run --quick              # 1,000 and 10,000 events, naive page at 1,000 only

Each page runs through ``streamlit.testing.v1.AppTest`` in a fresh Python process per page and
size, so peak memory is that page's own. Measured per page:

- first run: the script's first run in the process (cold caches, libraries already imported);
- new session: a second AppTest session in the same process (what the next visitor waits for;
  ``st.cache_data`` is warm);
- rerun after select: our app with an event selected through session state, as a click does;
  the baselines have no selection, and a click reruns their whole script, so theirs is a
  plain rerun;
- payload: bytes of what the page sends the browser for the map (the component's JSON
  arguments for folium, the deck's JSON for pydeck), per event;
- peak RSS of the process (``ru_maxrss``).

It prints a Markdown table with ratios to the baselines and asserts nothing.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "app": ROOT / "dashboard" / "app.py",
    "cluster": ROOT / "bench" / "pages" / "cluster_page.py",
    "naive": ROOT / "bench" / "pages" / "naive.py",
    "pydeck": ROOT / "bench" / "pages" / "pydeck_page.py",
}
LABELS = {"app": "our app (dashboard/app.py)", "cluster": "EventCluster alone",
          "naive": "naive folium.Marker", "pydeck": "st.pydeck_chart"}
DEFAULT_SIZES = (1_000, 10_000, 100_000)


@dataclass
class Result:
    """One page at one size."""

    page: str
    size: int
    first_s: float | None = None
    session_s: float | None = None
    rerun_s: float | None = None
    payload_bytes: int | None = None
    peak_rss_mb: float | None = None
    selected_shown: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


# --- the child: one page, one size, in its own process ----------------------------------------

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _payload(at) -> int | None:
    for component in at.get("component_instance"):
        args = component.proto.json_args
        if '"script"' in args:
            return len(args.encode("utf-8"))
    charts = at.get("deck_gl_json_chart")
    if charts:
        return len(charts[0].proto.json.encode("utf-8"))
    return None


def _text(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


# Imported on first use, not at the top of a module: scipy's KD-tree (the country check),
# Streamlit's emoji table (an emoji page icon), the timeline's and loader's Arrow kernels.
FIRST_USE_IMPORTS = ("scipy.spatial", "streamlit.emojis", "pyarrow.compute", "pyarrow.csv")


def _page_imports() -> list[str]:
    """Every module the pages import at their top, and those they import on first use."""
    names: list[str] = []
    for path in PAGES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names
                                          if node.module == "dashboard"]
    return [n for n in dict.fromkeys([*names, *FIRST_USE_IMPORTS]) if n != "__future__"]


def child(page: str, data: str, size: int, select: str, title: str, timeout: float) -> Result:
    """Measure one page on one data file; runs in a fresh process."""
    os.environ["EVENTMAP_DATA"] = data
    sys.path.insert(0, str(ROOT))
    # Import what every page uses first: the page runs are timed, interpreter start is not.
    import folium  # noqa: F401
    import pandas  # noqa: F401
    import pydeck  # noqa: F401
    import streamlit as st
    import streamlit_folium  # noqa: F401
    from streamlit import config
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.testing.v1 import AppTest

    from dashboard.filters import FilterState

    # A server imports once per process, before its first visitor's page is done: what every
    # page imports (our app's modules and what they import, the modules imported on first use)
    # is imported before the clock, for every page alike.
    for module in _page_imports():
        importlib.import_module(module)

    # Every page runs with the settings `streamlit run dashboard/app.py` reads (static serving,
    # no garbage collection after each run): the same server for all, as AppTest reads none.
    settings = tomllib.loads((ROOT / "dashboard" / ".streamlit" / "config.toml").read_text())
    for section, options in settings.items():
        for name, value in options.items():
            config.set_option(f"{section}.{name}", value)
    # The server scans the installed packages for Streamlit components once, when it starts;
    # AppTest scans again for each new session (0.3 s with 140 packages here). Scan once before
    # the clock, for every page alike, and give each session the result, as the server does.
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)

    def session() -> AppTest:
        at = AppTest.from_file(str(PAGES[page]), default_timeout=timeout)
        if hasattr(at, "_bidi_component_manager"):  # AppTest of Streamlit 1.5x: private
            at._bidi_component_manager = components
        return at

    result = Result(page, size)
    result.extra["rss_before_mb"] = round(_rss_mb(), 1)
    at = session()
    start = time.perf_counter()
    at.run()
    result.first_s = time.perf_counter() - start
    if at.exception:
        result.note = "error: " + "; ".join(str(e.value)[:200] for e in at.exception)
        result.peak_rss_mb = _rss_mb()
        return result
    result.payload_bytes = _payload(at)

    if page == "app":
        at.session_state["view"] = FilterState(event=select)
    start = time.perf_counter()
    at.run()
    result.rerun_s = time.perf_counter() - start
    if page == "app":
        result.selected_shown = title in _text(at)

    again = session()
    start = time.perf_counter()
    again.run()
    result.session_s = time.perf_counter() - start
    result.peak_rss_mb = _rss_mb()
    st.cache_data.clear()
    return result


# --- the parent: data, processes, table ---------------------------------------------------------

def _measure(page: str, data: Path, size: int, select: str, title: str,
             timeout: float) -> Result:
    cmd = [sys.executable, "-m", "bench.run", "--child", page, str(data), str(size), select,
           title, str(timeout)]
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(page, size, note=f"timed out after {timeout:.0f} s")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return Result(page, size, note="failed: " + " | ".join(tail))
    return Result(**json.loads(lines[-1]))


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.3g}×"


def table(results: list[Result], skipped: list[tuple[str, int, str]]) -> str:
    """The Markdown table of results, with ratios to the two baselines."""
    head = ("| events | page | first run s | new session s | rerun after select s | "
            "payload B/event | peak RSS MB | first run vs pydeck | first run vs naive | "
            "new session vs pydeck |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    by = {(r.page, r.size): r for r in results}
    for r in results:
        pydeck, naive = by.get(("pydeck", r.size)), by.get(("naive", r.size))
        per_event = None if r.payload_bytes is None else r.payload_bytes / r.size
        rerun = _fmt(r.rerun_s, 3) + ("" if r.page == "app" or r.rerun_s is None
                                      else " (whole rerun)")
        if r.selected_shown is False:
            rerun += " (selection not shown!)"
        lines.append(
            f"| {r.size:,} | {LABELS[r.page]} | {_fmt(r.first_s)} | {_fmt(r.session_s)} | "
            f"{rerun} | {_fmt(per_event, 1)} | {_fmt(r.peak_rss_mb, 0)} | "
            f"{_ratio(r.first_s, pydeck and pydeck.first_s)} | "
            f"{_ratio(r.first_s, naive and naive.first_s)} | "
            f"{_ratio(r.session_s, pydeck and pydeck.session_s)} |")
        if r.note:
            lines[-1] = lines[-1][:-1] + f" {r.note} |"
    for page, size, why in skipped:
        lines.append(f"| {size:,} | {LABELS[page]} | skipped: {why} |" + " |" * 7)
    return "\n".join(lines)


def targets(results: list[Result]) -> list[str]:
    """Issue 5's targets, each with the measured value."""
    by = {(r.page, r.size): r for r in results}
    out = []

    def line(text: str, value: float | None, limit: float, unit: str = "") -> None:
        if value is None:
            out.append(f"- {text}: not measured")
        else:
            verdict = "met" if value <= limit else "NOT met"
            out.append(f"- {text}: {value:.3g}{unit} (target ≤ {limit:g}{unit}) {verdict}")

    app100, app10 = by.get(("app", 100_000)), by.get(("app", 10_000))
    deck100, naive10 = by.get(("pydeck", 100_000)), by.get(("naive", 10_000))
    if app100 and deck100 and app100.first_s and deck100.first_s:
        line("100,000 events, first run, app / pydeck", app100.first_s / deck100.first_s, 1.0)
    if app100 and deck100 and app100.session_s and deck100.session_s:
        line("100,000 events, new session, app / pydeck",
             app100.session_s / deck100.session_s, 1.0)
    if app10 and naive10 and app10.first_s and naive10.first_s:
        line("10,000 events, first run, app / naive", app10.first_s / naive10.first_s, 0.02)
    if app100:
        line("100,000 events, rerun after selecting an event", app100.rerun_s, 0.3, " s")
        line("100,000 events, map payload per event",
             None if app100.payload_bytes is None else app100.payload_bytes / 100_000, 40, " B")
        line("100,000 events, peak RSS of the page process", app100.peak_rss_mb, 600, " MB")
    return out


def machine() -> str:
    """Date, machine and versions, for quoting the table."""
    cpu = platform.processor() or platform.machine()
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in (
        "streamlit", "folium", "streamlit-folium", "pydeck", "pandas"))
    return (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {cpu} · {os.cpu_count()} CPUs · "
            f"Python {platform.python_version()} · {versions}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated event counts (default 1000,10000,100000)")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"comma-separated pages among {', '.join(PAGES)}")
    parser.add_argument("--skip-naive-100k", action="store_true",
                        help="do not run the naive page at 100,000 events or more")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 and 10,000 events; the naive page at 1,000 only")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds allowed for one page at one size (default 900)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", help="keep the synthetic files here (default: a temp dir)")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        page, data, size, select, title, timeout = args.child
        result = child(page, data, int(size), select, title, float(timeout))
        print(json.dumps(asdict(result)))
        return 0

    from bench.synthetic import synthetic_events
    from dashboard.formats import write_events

    sizes = [1_000, 10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        parser.error(f"unknown page {unknown[0]!r}; choose among {', '.join(PAGES)}")
    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="eventmap-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(machine(), flush=True)
    results: list[Result] = []
    skipped: list[tuple[str, int, str]] = []
    for size in sizes:
        events = synthetic_events(size, seed=args.seed)
        data = folder / f"events-{size}-seed{args.seed}.csv"
        if not data.exists():
            write_events(events, data)
        chosen = events.iloc[size // 2]
        for page in pages:
            if page == "naive" and ((args.skip_naive_100k and size >= 100_000)
                                    or (args.quick and size > 1_000)):
                why = "--quick" if args.quick else "--skip-naive-100k"
                skipped.append((page, size, f"{why} (takes minutes)"))
                continue
            print(f"… {size:,} events, {page}", file=sys.stderr, flush=True)
            results.append(_measure(page, data, size, chosen["id"], chosen["title"],
                                    args.timeout))
    print()
    print(table(results, skipped))
    print()
    print("\n".join(targets(results)))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": [
            asdict(r) for r in results]}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
