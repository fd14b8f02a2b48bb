"""Many users at once: 20 browser sessions against one server, each with its own view.

Each session opens its own link (a day and a selected event), then half of them change their
view. No session may show another's selection or filter. Page-ready times are measured and
printed (the issue asks for a 95th percentile under 5 s); they are not asserted, since a
timed assertion on a shared 2-core machine would be noise.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard import settings
from dashboard.formats import load_events
from dashboard.located import require_coordinates
from tests.conftest import streamlit_server
from tests.test_browser import ARGS, MAP_FRAME, chromium  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SESSIONS = 20
# Twenty tabs in one headless browser: none of them may be throttled as a background tab.
TAB_ARGS = [*ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"]


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def _plan(events) -> list[dict[str, str]]:
    """Session n's view: one day and one event of it, cycling through the trip."""
    plans = []
    for n in range(SESSIONS):
        event = events.iloc[n % len(events)]
        plans.append({"id": event["id"], "title": event["title"], "day": event["day"],
                      "count": int((events["day"] == event["day"]).sum())})
    return plans


async def _open(context, server, plan, ready, expect):
    # Tabs of one browser context share its HTTP cache (Streamlit's scripts load once), not
    # their Streamlit sessions: each tab's WebSocket is a session of its own.
    page = await context.new_page()

    async def local_only(route):
        host = urlsplit(route.request.url).hostname or ""
        await (route.continue_() if host in ("127.0.0.1", "localhost") else route.abort())

    await page.route("**/*", local_only)
    start = time.monotonic()
    await page.goto(f"{server}/?start={plan['day']}&end={plan['day']}&event={plan['id']}",
                    wait_until="commit", timeout=120_000)
    await expect(page.locator("h4")).to_have_text(plan["title"])
    await expect(page.frame_locator(MAP_FRAME).locator(".em-event")).to_have_count(
        plan["count"])
    ready.append(time.monotonic() - start)
    return page


async def _check(page, plan, expect, *, selected: bool):
    if selected:
        await expect(page.locator("h4")).to_have_text(plan["title"])
        await expect(page).to_have_url(re.compile(rf"[?&]event={plan['id']}(&|$)"))
    else:
        await expect(page.get_by_role("heading", name="At a glance")).to_be_visible()
        await expect(page).not_to_have_url(re.compile(r"[?&]event="))
    await expect(page).to_have_url(re.compile(rf"start={plan['day']}&end={plan['day']}"))
    await expect(page.frame_locator(MAP_FRAME).locator(".em-event")).to_have_count(
        plan["count"])


@pytest.mark.timeout(420)
def test_twenty_sessions_keep_their_own_views(server, chromium, capsys):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    events = require_coordinates(load_events(settings.DEFAULT_DATA)).events
    plans = _plan(events)

    async def scenario():
        expect.set_options(timeout=150_000)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=TAB_ARGS)
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            ready: list[float] = []
            pages = await asyncio.gather(*(_open(context, server, p, ready, expect)
                                           for p in plans))
            # Every other session goes back to the overview, all at once.
            await asyncio.gather(*(page.get_by_role("button", name="Back to the overview")
                                   .click() for page in pages[::2]))
            await asyncio.gather(*(_check(page, plan, expect, selected=n % 2 == 1)
                                   for n, (page, plan) in enumerate(zip(pages, plans,
                                                                        strict=True))))
            # A fresh load of each link still shows that link's view (nothing leaked into
            # the server's state from the others).
            await asyncio.gather(*(page.reload(wait_until="commit") for page in pages[1::2]))
            await asyncio.gather(*(_check(page, plan, expect, selected=True)
                                   for page, plan in zip(pages[1::2], plans[1::2],
                                                         strict=True)))
            await context.close()
            await browser.close()
            return ready

    cpu_before = _server_cpu(server)
    ready = asyncio.run(scenario())
    server_cpu = _server_cpu(server) - cpu_before
    assert len(ready) == SESSIONS
    ordered = sorted(ready)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    with capsys.disabled():
        print(f"\n  {SESSIONS} concurrent sessions: page ready median "
              f"{statistics.median(ready):.1f} s, p95 {p95:.1f} s, max {ordered[-1]:.1f} s; "
              f"server CPU {server_cpu:.1f} s in all ({server_cpu / SESSIONS:.2f} s a session)")


def _server_cpu(url: str) -> float:
    """CPU seconds used so far by the streamlit process serving ``url`` (Linux /proc)."""
    port = url.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(command) and port.encode() in command:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")
