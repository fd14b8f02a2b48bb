"""Time a page in a real browser: from page load to clustered markers, and click to selection.

Usage: ``python -m bench.browser [--sizes 10000,100000] [--page cluster|app]``

Starts ``streamlit run`` on a local port with ``EVENTMAP_DATA`` set to synthetic events, opens
the page in headless Chromium (``/usr/bin/chromium``) with every request beyond 127.0.0.1
blocked, and reports: seconds from navigation to the map's frame, to the first cluster icon,
until every event is in a cluster (later only with the plugin's addLayers), from a click on a
single marker (reached by clicking clusters, as a person would) to the page showing that event, and
for a second visit (a new session, the server's caches warm) to the first cluster icon; and,
for both visits, when the map's arguments arrived over the websocket (the server's part), when
the frontend asked for the map's iframe, and when the iframe asked for leaflet.js; and, for both
visits, the seconds from the document's load event (the navigation entry's ``loadEventEnd``) to
the first cluster icon, the other honest reading of "after page load". The first cluster icon
is looked for at every animation frame of the page, not at Playwright's expect intervals.
The "cluster" page is bench/pages/cluster_page.py, served from a temporary folder with the
vendored Leaflet files; "app" is dashboard/app.py. Asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME = "iframe[title='streamlit_folium.st_folium']"


# Checked at every animation frame of the page (Playwright's expect polls at up to 1 s
# intervals): once the map's frame shows a cluster icon, the seconds from the top document's
# load event to then, in the page's own clock (NaN before the load event).
FIRST_CLUSTER = """() => {
    const frame = document.querySelector("iframe[title='streamlit_folium.st_folium']");
    const doc = frame && frame.contentDocument;
    if (!doc || !doc.querySelector(".marker-cluster")) { return false; }
    const end = performance.getEntriesByType("navigation")[0].loadEventEnd;
    return {since_load: end > 0 ? (performance.now() - end) / 1000 : NaN};
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _page_script(page: str, folder: Path) -> Path:
    if page == "app":
        return ROOT / "dashboard" / "app.py"
    sys.path.insert(0, str(ROOT))
    from dashboard import assets

    # Streamlit serves static/ beside the main script: give the page its own copy.
    script = folder / "cluster_page.py"
    shutil.copy(ROOT / "bench" / "pages" / "cluster_page.py", script)
    text = script.read_text(encoding="utf-8").replace(
        "ROOT = str(Path(__file__).resolve().parents[2])", f"ROOT = {str(ROOT)!r}")
    script.write_text(text, encoding="utf-8")
    assets.install(folder / "static" / "vendor")
    return script


class _Milestones:
    """When, after navigation, the map's arguments arrived and its frame and Leaflet were asked for.

    Read from the DevTools protocol: the websocket message that carries st_folium's arguments
    (server time), the component's index.html (the frontend made the iframe) and leaflet.js
    (the iframe runs). What is left to the first cluster is the map script in the frame.
    """

    def __init__(self, tab):
        self.start: float | None = None
        self.seen: dict[str, float] = {}
        cdp = tab.context.new_cdp_session(tab)
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.send("Network.enable")

    def _request(self, params: dict) -> None:
        url = params["request"]["url"]
        if self.start is None:
            self.start = params["timestamp"]
        for name, part in (("iframe", "streamlit_folium.st_folium/index.html"),
                           ("leaflet", "/leaflet.js")):
            if part in url and name not in self.seen:
                self.seen[name] = params["timestamp"]

    def _frame(self, params: dict) -> None:
        payload = params["response"]["payloadData"]
        if "args" not in self.seen and len(payload) > 1000:
            data = base64.b64decode(payload) if params["response"].get("opcode") == 2 else b""
            if b"markerClusterGroup" in data or b"L.map(" in data:
                self.seen["args"] = params["timestamp"]

    def after(self, name: str) -> float:
        """Seconds from navigation to a milestone, or NaN when it was not seen."""
        if self.start is None or name not in self.seen:
            return float("nan")
        return self.seen[name] - self.start


def measure(page: str, data: Path, titles: dict[str, str], wait_s: float) -> dict[str, object]:
    """Seconds to the map frame, to clusters, and from a marker click to its selection."""
    from playwright.sync_api import expect, sync_playwright

    from bench.headless import CHROMIUM_ARGS, keep_local, marker_well_inside

    folder = Path(tempfile.mkdtemp(prefix="eventmap-browser-"))
    port = _port()
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(_page_script(page, folder)),
         "--server.headless", "true", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.fileWatcherType", "none", "--server.enableStaticServing",
         "true", "--browser.gatherUsageStats", "false"],
        cwd=folder, env=dict(os.environ, EVENTMAP_DATA=str(data)), stdout=log,
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    out: dict[str, object] = {}
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            outside = keep_local(tab)
            milestones = _Milestones(tab)
            start = time.perf_counter()
            tab.goto(url)
            tab.locator(FRAME).wait_for(timeout=wait_s * 1000)
            out["frame_s"] = time.perf_counter() - start
            frame = tab.frame_locator(FRAME)
            clusters = frame.locator(".marker-cluster")
            seen = tab.wait_for_function(FIRST_CLUSTER, polling="raf", timeout=wait_s * 1000)
            out["clusters_s"] = time.perf_counter() - start
            out["load_to_clusters_s"] = seen.json_value()["since_load"]
            expect(clusters.first).to_be_visible(timeout=wait_s * 1000)
            out["cluster_icons"] = clusters.count()
            out["args_s"], out["iframe_s"], out["leaflet_s"] = (
                milestones.after(name) for name in ("args", "iframe", "leaflet"))
            # With the plugin's chunked addLayers (the fallback), clusters show before all are in.
            frame.locator("body").evaluate(
                """(body, n) => new Promise(done => { const check = () => {
                    const g = Object.values(window.map._layers)
                        .find(l => l instanceof L.MarkerClusterGroup);
                    if (g && g._topClusterLevel.getChildCount() === n) { done(); }
                    else { setTimeout(check, 50); } }; check(); })""", len(titles))
            out["all_clustered_s"] = time.perf_counter() - start
            pin = marker_well_inside(frame, 20, tries=25, pause_ms=800)
            event_id = pin.evaluate(
                "el => Object.values(window.map._layers)"
                ".find(l => l instanceof L.MarkerClusterGroup)"
                ".getLayers().find(m => m._icon === el).feature.properties.id")
            shown = titles[event_id] if page == "app" else event_id
            start = time.perf_counter()
            pin.click()
            expect(tab.get_by_text(re.compile(re.escape(shown))).first).to_be_visible(
                timeout=wait_s * 1000)
            out["click_to_selection_s"] = time.perf_counter() - start
            out["requests_beyond_localhost"] = len(outside)
            # The next visitor: a new session, with the server's caches warm.
            second = browser.new_page(viewport={"width": 1280, "height": 900})
            keep_local(second)
            milestones = _Milestones(second)
            start = time.perf_counter()
            second.goto(url)
            seen = second.wait_for_function(FIRST_CLUSTER, polling="raf", timeout=wait_s * 1000)
            out["next_visit_clusters_s"] = time.perf_counter() - start
            out["next_load_to_clusters_s"] = seen.json_value()["since_load"]
            expect(second.frame_locator(FRAME).locator(".marker-cluster").first).to_be_visible(
                timeout=wait_s * 1000)
            out["next_args_s"], out["next_iframe_s"], out["next_leaflet_s"] = (
                milestones.after(name) for name in ("args", "iframe", "leaflet"))
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--page", choices=("cluster", "app"), default="cluster")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for a step")
    parser.add_argument("--data-dir", help="keep the synthetic files here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.synthetic import synthetic_events
    from dashboard.formats import write_events

    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="eventmap-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| events | page | to map frame s | to clusters s | from load event to clusters s | "
          "all clustered s | cluster icons | click to selection s | next visit: to clusters s | "
          "next visit: from load event to clusters s | map args / iframe / leaflet.js at s "
          "(first; next visit) | non-tile requests beyond localhost |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",") if s):
        events = synthetic_events(size, seed=args.seed)
        data = folder / f"events-{size}-seed{args.seed}.csv"
        if not data.exists():
            write_events(events, data)
        r = measure(args.page, data, dict(zip(events["id"], events["title"], strict=True)),
                    args.wait)
        print(f"| {size:,} | {args.page} | {r['frame_s']:.1f} | {r['clusters_s']:.1f} | "
              f"{r['load_to_clusters_s']:.1f} | {r['all_clustered_s']:.1f} | "
              f"{r['cluster_icons']} | {r['click_to_selection_s']:.2f} | "
              f"{r['next_visit_clusters_s']:.1f} | {r['next_load_to_clusters_s']:.1f} | "
              f"{r['args_s']:.1f} / {r['iframe_s']:.1f} / {r['leaflet_s']:.1f}; "
              f"{r['next_args_s']:.1f} / {r['next_iframe_s']:.1f} / {r['next_leaflet_s']:.1f} | "
              f"{r['requests_beyond_localhost']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
