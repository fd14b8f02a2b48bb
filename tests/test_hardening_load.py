"""Many users at once against one server on 127.0.0.1, each with their own view.

Twenty sessions speak Streamlit's own protocol (a WebSocket each, as a browser tab does) and
open their own link (a day and a selected event) all at once, then rerun; a few real browser
tabs do the same and click. No session may show another's selection or filter. Page-ready
times (link opened to the script's run finished, on a server that has served one visitor) and
the server's CPU are measured and printed (the issue asks for a 95th percentile under 5 s);
they are not asserted, since a timed assertion on a shared 2-core machine would be noise.
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
from tests.conftest import CHROMIUM_ARGS as ARGS
from tests.conftest import streamlit_server
from tests.test_browser import MAP_FRAME

pytestmark = pytest.mark.slow
SESSIONS = 20
TABS = 6
# Several tabs in one headless browser: none of them may be throttled as a background tab.
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


async def _protocol_session(server: str, plan: dict, start: asyncio.Event) -> tuple[
        float, list[str], list[str]]:
    """Open the plan's link over Streamlit's WebSocket, then rerun without it.

    Returns the seconds until the first run finished and the Markdown of both runs.
    """
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def run(ws, query: str) -> list[str]:
        back = BackMsg()
        back.rerun_script.query_string = query
        await ws.send(back.SerializeToString())
        bodies = []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await ws.recv())
            if msg.WhichOneof("type") == "script_finished":
                return bodies
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof(
                    "type") == "new_element" and msg.delta.new_element.WhichOneof(
                    "type") == "markdown":
                bodies.append(msg.delta.new_element.markdown.body)

    await start.wait()
    began = time.monotonic()
    async with websockets.connect("ws" + server[4:] + "/_stcore/stream", origin=server,
                                  subprotocols=["streamlit"], max_size=None) as ws:
        first = await run(ws, f"start={plan['day']}&end={plan['day']}&event={plan['id']}")
        ready = time.monotonic() - began
        # The same session again with no link: its own state (st.session_state) decides.
        second = await run(ws, "")
    return ready, first, second


@pytest.mark.timeout(300)
def test_twenty_sessions_keep_their_own_views(server, capsys):
    from dashboard.overview import md_escape

    events = require_coordinates(load_events(settings.DEFAULT_DATA)).events
    plans = _plan(events)

    async def scenario(plans):
        start = asyncio.Event()
        runs = [asyncio.create_task(_protocol_session(server, p, start)) for p in plans]
        start.set()  # all at once
        return await asyncio.gather(*runs)

    # One visitor first: the server's first run imports the libraries and loads the file,
    # once per process; what is measured is a running server under load.
    asyncio.run(scenario(plans[:1]))
    cpu_before = _server_cpu(server)
    results = asyncio.run(scenario(plans))
    server_cpu = _server_cpu(server) - cpu_before
    for plan, (_, first, second) in zip(plans, results, strict=True):
        for bodies in (first, second):
            headings = [b.split("\n", 1)[0] for b in bodies if b.startswith("#### ")]
            assert headings == [f"#### {md_escape(plan['title'])}"], (plan["id"], headings)
            headline = next(b for b in bodies if b.startswith("**") and " events" in b)
            assert headline.startswith(f"**{plan['count']} of {len(events)} events"), headline
    ready = sorted(r for r, _, _ in results)
    p95 = ready[max(0, int(round(0.95 * len(ready))) - 1)]
    with capsys.disabled():
        print(f"\n  {SESSIONS} concurrent sessions (protocol clients): page ready median "
              f"{statistics.median(ready):.1f} s, p95 {p95:.1f} s, max {ready[-1]:.1f} s; "
              f"server CPU {server_cpu:.1f} s ({server_cpu / SESSIONS:.2f} s a session, two "
              "runs each)")


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_browser_tabs_keep_their_own_views(server, chromium, capsys):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    events = require_coordinates(load_events(settings.DEFAULT_DATA)).events
    plans = _plan(events)[:TABS]

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
    assert len(ready) == TABS
    ordered = sorted(ready)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    with capsys.disabled():
        print(f"\n  {TABS} concurrent browser tabs: page ready median "
              f"{statistics.median(ready):.1f} s, p95 {p95:.1f} s, max {ordered[-1]:.1f} s; "
              f"server CPU {server_cpu:.1f} s in all")


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
