"""Hostile text through every renderer: it comes out as the text it is, and nothing runs.

The events of tests/hostile.py carry script tags, event handlers, ``javascript:`` URLs,
template syntax (Jinja, JavaScript), Markdown and LaTeX, bidirectional and zero-width
characters and a 100,000-character string in every text field. Each renderer's output is
parsed back the way its consumer would (HTML parser, JSON, iCalendar, Markdown) and compared
with the input.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard import exports, mapview, overview, timeline
from dashboard.cluster import EventCluster
from dashboard.filters import category_label
from dashboard.formats import parse_events
from dashboard.route import build_route
from tests.hostile import PAYLOADS, TEXT_FIELDS, hostile_csv, hostile_rows

ROOT = Path(__file__).resolve().parents[1]
IDS = [name for name, _ in PAYLOADS]
TEXTS = dict(PAYLOADS)


@pytest.fixture(scope="module")
def hostile():
    data = parse_events(hostile_csv(), "hostile.csv")
    assert data.problems == []
    return data.events


@pytest.fixture(scope="module")
def benign():
    """The same events with plain words in place of the payloads: the page's shape."""
    plain = [(name, f"plain text {n}") for n, (name, _) in enumerate(PAYLOADS)]
    data = parse_events(hostile_csv(plain), "plain.csv")
    assert data.problems == []
    return data.events


def test_every_payload_survives_validation_unchanged(hostile):
    rows = hostile_rows()
    assert len(hostile) == len(rows) >= 25
    for row, (_, event) in zip(rows, hostile.iterrows(), strict=True):
        for field in TEXT_FIELDS:
            assert event[field] == row[field], (row["id"], field)


# --- reading HTML back ------------------------------------------------------------------------

class _Page(HTMLParser):
    """Every element of an HTML document or fragment, as a browser's tokenizer sees it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attrs: Counter[tuple[str, str]] = Counter()
        self.handlers: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        for name, value in attrs:
            self.attrs[(tag, name)] += 1
            if name.startswith("on") or re.match(r"\s*(javascript|data|vbscript):",
                                                  value or "", re.IGNORECASE):
                self.handlers.append((tag, name, value or ""))

    def handle_data(self, data):
        self.text.append(data)


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _tooltips(page: str) -> list[str]:
    """The text of each folium tooltip, as Leaflet shows it (HTML inside a JS template)."""
    found = []
    for raw in re.findall(r"\.bindTooltip\(\s*`<div>(.*?)</div>`", page, re.DOTALL):
        content = raw.strip()
        # Inside a JavaScript template literal: nothing that ends or interpolates it.
        assert "`" not in content and "${" not in content and "\\" not in content
        fragment = _page(content)
        assert set(fragment.tags) <= {"br"} and not fragment.handlers, content[:200]
        found.append(html.unescape(content.replace("<br>", "\n")))
    return found


def _marker_options(page: str, key: str) -> list[str]:
    return [json.loads(s) for s in re.findall(rf'"{key}": ("(?:[^"\\]|\\.)*")', page)]


def _structure(page: str) -> tuple[Counter, Counter]:
    parsed = _page(page)
    assert parsed.handlers == [], parsed.handlers[:3]
    return parsed.tags, parsed.attrs


def test_map_shows_every_payload_literally(hostile, benign):
    route = build_route(hostile)
    page = mapview.build_map(hostile, route).get_root().render()
    # The same elements, attributes and scripts as a map of plain words: no payload adds any.
    plain = mapview.build_map(benign, build_route(benign)).get_root().render()
    assert _structure(page) == _structure(plain)

    tips = _tooltips(page)
    titles = _marker_options(page, "title")
    alts = _marker_options(page, "alt")
    # Template syntax in the data stays text: were it evaluated (by Jinja, on the server),
    # "{{ 7*7 }}" would read "49" and the "jinja-rce" payload would be this folder's name.
    for name, text in PAYLOADS:
        # The event marker: accessible name and tooltip.
        assert titles.count(text) == 1, name
        assert alts.count(text) == 1, name
        [tip] = [t for t in tips if t.startswith(text + "\n")]
        assert f" · {text}, " in tip, name
    # Route legs read "A → B · 1,937 km · 1–2 Mar 2025" with the places as written.
    assert len(route.legs) == len(PAYLOADS) - 1
    for leg in route.legs:
        assert leg.tooltip in tips

    [legend_json] = re.findall(r'div\.innerHTML = ("(?:[^"\\]|\\.)*");', page)
    legend = _page(json.loads(legend_json))
    assert set(legend.tags) <= {"details", "summary", "ul", "li", "div", "span", "svg",
                                "line", "b"}
    assert legend.handlers == []
    legend_text = "".join(legend.text)
    for _, text in PAYLOADS:
        assert category_label(text) in legend_text


def test_clustered_map_carries_every_payload_as_data(hostile, benign):
    def render(events):
        m = mapview.folium.Map(tiles=None)
        EventCluster(events, title="title", fields=("place", "category", "summary")).add_to(m)
        return m.get_root().render()

    page = render(hostile)
    assert _structure(page) == _structure(render(benign))
    [payload] = re.findall(r"var d = (\{.*?\});\n", page)
    assert "</" not in payload and "{{" not in payload and "{%" not in payload
    data = json.loads(payload)
    columns = {c["name"]: c for c in data["cols"]}
    for name in ("title", "place", "summary"):
        col = columns[name]
        values = col["list"] if "list" in col else col["values"]
        for _, text in PAYLOADS:
            assert text in values, (name, text[:40])
    # The browser side puts text in with textContent only, never innerHTML.
    script = page[page.index("var d = "):]
    assert "innerHTML" not in script and ".html(" not in script


# --- exports ---------------------------------------------------------------------------------

TEXT_COLUMNS = [*TEXT_FIELDS, "source_url"]


def test_csv_and_geojson_exports_round_trip_exactly(hostile):
    for data, name in ((exports.to_csv_bytes(hostile), "back.csv"),
                       (exports.to_geojson_bytes(hostile), "back.geojson")):
        back = parse_events(data, name)
        assert back.problems == []
        assert back.events[["id", *TEXT_COLUMNS]].equals(hostile[["id", *TEXT_COLUMNS]])


def test_calendar_export_parses_back_to_the_text(hostile):
    cal = icalendar.Calendar.from_ical(exports.to_ics_bytes(hostile, TEXTS["script"]))
    assert str(cal["x-wr-calname"]) == TEXTS["script"]
    by_uid = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(by_uid) == len(hostile)
    for rec in hostile.to_dict("records"):
        event = by_uid[f"{rec['id']}@{exports.UID_DOMAIN}"]
        assert str(event["summary"]) == rec["title"].strip()
        assert str(event["location"]).startswith(rec["place"].strip())
        description = str(event["description"])
        assert rec["summary"].strip() in description
        assert rec["source_quote"] in description
    assert str(by_uid[f"{hostile['id'][0]}@{exports.UID_DOMAIN}"]["url"]) == (
        hostile["source_url"][0])


def test_standalone_map_page_runs_nothing_from_the_data(hostile, benign):
    page = exports.standalone_html(mapview.build_map(hostile, build_route(hostile)),
                                   title=TEXTS["close-script"]).decode()
    plain = exports.standalone_html(mapview.build_map(benign, build_route(benign)),
                                    title="plain").decode()
    assert _structure(page) == _structure(plain)
    assert exports.remote_assets(page) == []
    [title] = re.findall(r"<title>(.*?)</title>", page, re.DOTALL)
    assert html.unescape(title) == TEXTS["close-script"]
    for _, text in PAYLOADS:
        assert _marker_options(page, "title").count(text) == 1


@pytest.mark.parametrize("text", [
    "@import url(https://example.org/x.css)", "@import 'https://example.org/x.css';",
    '<link rel="stylesheet" href="https://example.org/x.css">',
    '<script src="https://example.org/x.js"></script>',
], ids=["import-url", "import-string", "link", "script-src"])
def test_standalone_map_page_takes_text_that_looks_like_a_remote_asset(text):
    # Text in the data is not the page loading anything: the export must not refuse it.
    rows = hostile_rows([("asset", text), ("other", "plain")])
    events = parse_events(hostile_csv([("asset", text), ("other", "plain")]), "a.csv").events
    assert len(events) == len(rows)
    page = exports.standalone_html(mapview.build_map(events, build_route(events)),
                                   title=text).decode()
    assert exports.remote_assets(page) == []
    assert _marker_options(page, "title").count(text) == 1


# --- the timeline chart ---------------------------------------------------------------------

def test_timeline_spec_carries_the_text_as_data(hostile):
    spec = timeline.timeline_spec(hostile, selected_id=hostile["id"][0])
    datasets = spec["datasets"]
    rows = [r for values in datasets.values() for r in values if "title" in r]
    assert sorted(r["title"] for r in rows) == sorted(hostile["title"])
    for _, text in PAYLOADS:
        row = next(r for r in rows if r["title"] == text)
        assert row["where"].startswith(text + ", ")
        assert row["category_label"] == category_label(text)
    # Tooltips name data fields, which Vega shows as text (never a format or an expression).
    tooltips = [t for layer in spec.get("layer", [spec])
                for t in layer.get("encoding", {}).get("tooltip", [])]
    assert {t["field"] for t in tooltips} == {"title", "when", "where", "category_label"}
    assert all(set(t) <= {"field", "type", "title"} for t in tooltips)


# --- the details panel (Markdown) -----------------------------------------------------------

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
ALLOWED_MD_TAGS = {"h4", "p", "strong", "em", "ul", "li", "blockquote", "a"}


def _markdown(text: str) -> _Page:
    # html=True: what a renderer that passed raw HTML through would do; escaped text must
    # not contain any. Streamlit dedents and strips a Markdown body first.
    return _page(MD.render(textwrap.dedent(text).strip()))


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", IDS)
def test_details_panel_shows_the_payload_as_text(hostile, name):
    event = hostile.loc[hostile["title"] == TEXTS[name]].iloc[0].to_dict()
    source = overview.details_markdown(event, None)
    page = _markdown(source)
    assert set(page.tags) <= ALLOWED_MD_TAGS, page.tags
    assert page.handlers == []
    links = re.findall(r'<a href="([^"]*)"', MD.render(source))
    assert all(link.startswith("https://") for link in links), links
    text = _squash("".join(page.text))
    for field in ("title", "place", "summary", "source_quote", "geocode_match"):
        assert _squash(event[field]) in text, field
    # Streamlit's Markdown also reads $math$, :emoji: and :color[...]: every such character
    # of the data is escaped.
    unescaped = _unescaped(source)
    for char in "$:[]`*_<>&{}":
        assert unescaped.count(char) <= _template_count(char), char


def _template_count(char: str) -> int:
    """How often the panel's own wording uses a character (labels like "**Date:**")."""
    event = {"id": "e", "date": "2025-03-01", "title": "t", "place": "p", "country": "SV",
             "category": "c", "participants": "a; b", "summary": "s", "source_name": "n",
             "source_url": "https://example.org/source", "source_quote": "q",
             "lat": 1.0, "lon": 2.0, "geocode_source": "g", "geocode_match": "m"}
    return _unescaped(overview.details_markdown(event, None)).count(char)


def _unescaped(markdown: str) -> str:
    """Markdown without its backslash escapes and link targets (percent-encoded URLs)."""
    return re.sub(r"\]\(https?://[^)\s]*\)", "]()", re.sub(r"\\.", "", markdown))


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=60))
@example("a\r\r    indented code")
@example("a\r\n\r\n- item\r1) item\r===")
@example("&lt; &#60; &amp; <b>bold</b> <!-- c --> \\*")
def test_md_escape_shows_any_text_as_itself(text):
    page = _markdown(overview.md_escape(text))
    assert set(page.tags) <= {"p"}, (text, page.tags)
    shown = "".join(page.text).strip("\n")
    # Markdown folds whitespace runs and trims the ends; every other character stays.
    assert _squash(shown) == _squash(text.replace("\x00", "\ufffd"))


@pytest.mark.parametrize(("url", "linked"), [
    ("https://example.org/a", True), ("HTTP://example.org/a", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False), ("//example.org/a", False),
    ("https://example.org/a)](javascript:alert(1)", True), ("ftp://example.org", False),
    ("https://example.org/a b", False), ("", False),
])
def test_source_is_a_link_only_for_http_urls(url, linked):
    rendered = MD.render(overview.source_link("Source <b>name</b>", url))
    links = re.findall(r'<a href="([^"]*)"', rendered)
    if linked:
        [href] = links
        assert href.lower().startswith(url.lower()[:len("https://example.org/")])
    else:
        assert links == []
    assert "Source &lt;b&gt;name&lt;/b&gt;" in rendered
