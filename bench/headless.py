"""Headless Chromium on the map: its flags, and clicking clusters down to one marker.

Shared by the browser benchmark and the browser tests (which import it as ``bench.headless``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import FrameLocator, Locator, Page

# Flags for Debian's chromium on a closed network: without the background-networking ones it
# keeps trying to reach Google's services.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Index of the first element matching a selector that lies wholly inside the map's view, at least
# `margin` px from its edges, or -1: Leaflet also keeps markers just outside the view in the page,
# and the map's controls sit at its edges.
INSIDE = """(body, [selector, margin]) => {
    const view = document.querySelector(".leaflet-container").getBoundingClientRect();
    return Array.from(document.querySelectorAll(selector)).findIndex(el => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.left >= view.left + margin && r.right <= view.right - margin
            && r.top >= view.top + margin && r.bottom <= view.bottom - margin;
    });
}"""
CLUSTER, PIN = ".marker-cluster", ".evc-pin"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
TILE_HOSTS = re.compile(r"^([abc]\.)?tile\.openstreetmap\.org$")


def keep_local(page: Page, *, tiles: bool = True, hosts: frozenset[str] = LOCAL_HOSTS
               ) -> list[str]:
    """Let the page reach only `hosts` (and data:, blob: and file: URLs); block the rest.

    Returns the blocked requests' URLs, filled in as the page runs: a CDN or a leak. With
    `tiles`, OpenStreetMap's tiles, which the map asks for and goes without, are not listed.
    """
    blocked: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "file") or (parts.hostname or "") in hosts:
            request_route.continue_()
            return
        if not (tiles and TILE_HOSTS.match(parts.hostname or "")):
            blocked.append(url)
        request_route.abort()

    page.route("**/*", route)
    return blocked


def inside_index(scope: Page | FrameLocator, selector: str, margin: int) -> int:
    """Index of the first `selector` element `margin` px inside the map's view, or -1."""
    return scope.locator("body").evaluate(INSIDE, [selector, margin])


def marker_well_inside(scope: Page | FrameLocator, margin: int, *, tries: int, pause_ms: int,
                       zoom: str | None = None) -> Locator:
    """Click clusters, as a person would, until a single marker is well inside the view; return it.

    `scope` is the page or frame holding the map. After each click the page waits `pause_ms`
    (the cluster plugin animates after zooming); with `zoom`, a JavaScript expression for the
    map's zoom in the top page, it first waits for the zoom to grow or a marker to show.
    """
    page = scope.locator("body").page
    for _ in range(tries):
        if inside_index(scope, PIN, margin) >= 0:
            break
        before = page.evaluate(zoom) if zoom else None
        scope.locator(CLUSTER).nth(max(0, inside_index(scope, CLUSTER, margin))).click()
        if zoom:
            page.wait_for_function(f"{zoom} > {before} || "
                                   f"document.querySelector('{PIN}') !== null")
        page.wait_for_timeout(pause_ms)
    return scope.locator(PIN).nth(inside_index(scope, PIN, margin))
