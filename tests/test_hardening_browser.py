"""The hostile-text dataset in a real browser: no dialog, no page error, text shown as written.

Every payload that could run calls alert(), so a dialog in any frame means a payload ran.
Requests outside 127.0.0.1 are blocked and counted: a Markdown image from the data would show
up there.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import streamlit_server
from tests.hostile import PAYLOADS, hostile_csv, hostile_rows
from tests.test_browser import MAP_FRAME

pytestmark = pytest.mark.browser
ROWS = hostile_rows()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    path.write_bytes(hostile_csv())
    with streamlit_server(env={"EVENTMAP_DATA": str(path)}) as url:
        yield url


@pytest.fixture
def watched(browser):
    """A page that records dialogs, script errors and requests leaving 127.0.0.1."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    seen = {"dialogs": [], "errors": [], "outside": []}
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    def route(r):
        host = urlsplit(r.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost"):
            r.continue_()
            return
        if not host.endswith("tile.openstreetmap.org"):
            seen["outside"].append(r.request.url)
        r.abort()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda err: seen["errors"].append(str(err)))
    page.on("console", lambda msg: seen["errors"].append(msg.text)
            if msg.type == "error" and "net::ERR_FAILED" not in msg.text else None)
    page.route("**/*", route)
    page.seen = seen
    yield page
    context.close()


def _clean(page) -> None:
    seen = page.seen
    assert seen["dialogs"] == [], seen["dialogs"]
    assert [u for u in seen["outside"] if "example" in u] == [], seen["outside"]
    # Streamlit logs a few console errors of its own offline (fonts, tiles): none may name a
    # payload's doing.
    assert not [e for e in seen["errors"] if "alert" in e or "Syntax" in e], seen["errors"]


def test_hostile_dataset_shows_every_title_as_written(watched, server):
    from playwright.sync_api import expect

    watched.goto(server)
    frame = watched.frame_locator(MAP_FRAME)
    expect(frame.locator(".em-event")).to_have_count(len(ROWS))
    titles = frame.locator(".em-event").evaluate_all("els => els.map(e => e.title)")
    assert sorted(titles) == sorted(r["title"] for r in ROWS)
    # Tooltips: hover a few markers, their text is the payload, not markup.
    for name in ("script", "img-onerror", "jinja-rce", "backticks"):
        [row] = [r for r in ROWS if r["id"][5:] == name]
        marker = frame.get_by_role("button", name=row["title"], exact=True)
        marker.evaluate("""el => { for (const k in map_div._layers) {
            const l = map_div._layers[k];
            if (l.getElement && l.getElement() === el) { map_div.setView(l.getLatLng(), 12,
                {animate: false}); l.openTooltip(); } } }""")
        expect(frame.locator(".leaflet-tooltip", has_text=row["title"])).to_have_count(1)
    expect(watched.get_by_text(f"All {len(ROWS)} events", exact=False)).to_be_visible()
    _clean(watched)


@pytest.mark.parametrize("name", [
    "close-script", "md-link",
    pytest.param("streamlit-md", marks=pytest.mark.xfail(strict=True, reason=(
        "Streamlit draws ':material/home:' as an icon even when its colons are escaped; "
        "harmless (no script, no request), but not the text as written"))),
])
def test_hostile_event_details_show_the_text(watched, server, name):
    from playwright.sync_api import expect

    [row] = [r for r in ROWS if r["id"][5:] == name]
    watched.goto(f"{server}/?event={row['id']}")
    title = " ".join(row["title"].split())
    heading = watched.locator("h4")
    expect(heading).to_have_count(1)
    expect(heading).to_contain_text(title[:3])
    assert " ".join(heading.inner_text().split()) == title
    # No image, and no link but to http(s) addresses: Streamlit's Markdown (GFM) turns URLs
    # in text into links whatever the escapes, so a link shows its own address; "javascript:"
    # and "data:" never become links.
    panel = heading.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
    assert panel.locator("img").count() == 0
    for link in panel.locator("a").all():
        href = link.evaluate("a => a.href")
        if href.startswith(server):
            continue  # a heading's own anchor
        assert href.startswith("https://example.org/"), href
        # The event's source link, or an address shown as itself.
        assert href == row["source_url"] or "https://example.org/" in link.inner_text(), href
    _clean(watched)



def test_uploads_of_hostile_and_broken_files_keep_the_page_up(watched, server, tmp_path):
    from playwright.sync_api import expect

    from tests.broken_files import CASES

    watched.goto(server)
    frame = watched.frame_locator(MAP_FRAME)
    expect(frame.locator(".em-event")).to_have_count(len(ROWS))

    def upload(path) -> None:
        chooser = watched.locator("input[type='file']")
        if not chooser.count():
            watched.get_by_role("button", name="Your data").click()
        chooser.set_input_files(str(path))

    # A hostile file of one's own: two events, every text field a payload.
    mine = tmp_path / "mine.csv"
    mine.write_bytes(hostile_csv(PAYLOADS[:2]))
    upload(mine)
    expect(frame.locator(".em-event")).to_have_count(2)
    titles = frame.locator(".em-event").evaluate_all("els => els.map(e => e.title)")
    assert sorted(titles) == sorted(text for _, text in PAYLOADS[:2])
    # Broken files: each is explained, its valid rows shown, and the page never fails.
    for name in ("garbage.csv", "truncated.csv", "linestring.geojson"):
        [(_, data, kept, fragments)] = [c for c in CASES if c[0] == name]
        path = tmp_path / name
        path.write_bytes(data)
        upload(path)
        expect(watched.get_by_text(fragments[-1], exact=False).first).to_be_attached()
        expect(watched.get_by_test_id("stException")).to_have_count(0)
        if kept:
            expect(frame.locator(".em-event")).to_have_count(kept)
    _clean(watched)
