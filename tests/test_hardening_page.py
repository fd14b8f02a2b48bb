"""Hostile text on the page (AppTest): data and query strings show as text, never as markup.

Streamlit reads the body of st.markdown, st.caption, st.info, st.warning and the like as
Markdown with extras ($math$, :emoji:, :color[...]); raw HTML is not rendered, but links and
images are. Each such body on the page is read back with a Markdown parser: no element, link
or image may come from the data or the URL, and the payloads' text must be on the page.
"""

from __future__ import annotations

import re
import textwrap
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tests.conftest import APP
from tests.hostile import PAYLOADS, hostile_csv, hostile_rows

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# What the page's own wording uses; the data and the URL may add none.
ALLOWED_TAGS = {"p", "strong", "em", "a", "code", "ul", "ol", "li", "blockquote", "h4"}
SOURCE_URLS = {r["source_url"] for r in hostile_rows()}
LINK_TEXT = "[x](https://evil.example/) ![p](https://evil.example/p.png)"
HOSTILE_QUERY = {
    "q": f"{LINK_TEXT} <img src=x onerror=alert(1)> $x^2$ :red[red] :smile: **b**",
    "participant": [f"{LINK_TEXT} $y$", "Someone"],
    "category": ["**bold** [c](https://evil.example/c)", ":blue[x]"],
    "country": ["<script>alert(1)</script>", "[co](https://evil.example/co)"],
    "start": "[s](https://evil.example/s)",
    "end": "$$e$$",
    "event": "[e](https://evil.example/e)",
}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]

    def handle_data(self, data):
        self.text.append(data)


def _read(body: str) -> _Tags:
    parsed = _Tags()
    parsed.feed(MD.render(textwrap.dedent(body).strip()))
    parsed.close()
    return parsed


def _bodies(at: AppTest) -> list[str]:
    """Every text on the page that Streamlit reads as Markdown."""
    bodies = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                 "header", "subheader"):
        bodies += [str(e.value) for e in getattr(at, kind)]
    bodies += [str(m.label) for m in at.metric] + [str(m.value) for m in at.metric]
    return bodies


def _check(at: AppTest) -> str:
    """Assert that no body carries markup from the data or URL; return the page's text."""
    assert not at.exception, [e.value for e in at.exception]
    texts = []
    for body in _bodies(at):
        parsed = _read(body)
        assert set(parsed.tags) <= ALLOWED_TAGS, (parsed.tags, body[:300])
        for href in parsed.hrefs:
            assert href.startswith("#") or href in SOURCE_URLS or (
                href.startswith("https://example.org/")), (href, body[:300])
        # Streamlit's own extras, outside backslash escapes: math, emoji, colours.
        plain = re.sub(r"\\.", "", body)
        plain = re.sub(r"\]\(https?://[^)\s]*\)", "]()", plain)
        assert "$" not in plain, body[:300]
        assert not re.search(r":[a-z0-9_+-]+:|:[a-z-]+\[", plain), body[:300]
        texts.append("".join(parsed.text))
    return " ".join(" ".join(texts).split())


@pytest.fixture
def page(static_serving, tmp_path, monkeypatch):  # noqa: ARG001
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_csv())
    monkeypatch.setenv("EVENTMAP_DATA", str(path))

    def run(query: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        at.run()
        return at

    return run


def test_hostile_dataset_overview_shows_text_only(page):
    at = page()
    text = _check(at)
    assert f"All {len(PAYLOADS)} events" in text


@pytest.mark.parametrize("name", ["md-link", "streamlit-md", "jinja-rce"])
def test_hostile_event_details_show_text_only(page, name):
    [row] = [r for r in hostile_rows() if re.fullmatch(rf"h-\d\d-{name}", r["id"])]
    at = page({"event": row["id"]})
    text = _check(at)
    title = " ".join(row["title"].split())
    assert text.count(title) >= 2  # the details' heading and the summary's own line, at least


def test_hostile_query_string_shows_text_only(page):
    at = page(HOSTILE_QUERY)
    text = _check(at)
    # What was asked for is repeated back as text (so the reader sees what was ignored).
    assert "Ignored country=<script>alert(1)</script>" in text
    assert "[x](https://evil.example/)" in text


def test_hostile_query_string_with_no_match(page):
    # Nothing matches: the "No events match ..." message repeats the filter in words.
    at = page({"q": HOSTILE_QUERY["q"]})
    text = _check(at)
    assert "No events match" in text


def test_the_page_keeps_no_mutable_state_between_sessions():
    # Streamlit runs app.py once per rerun of every session in one process: a module-level
    # list or dict there would be shared by all users. Per-user state lives in
    # st.session_state; shared caches (st.cache_data) hand out copies.
    import ast

    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            immutable = isinstance(value, ast.Constant) or (
                isinstance(value, ast.Tuple)
                and all(isinstance(e, ast.Constant) for e in value.elts)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                and value.func.id in ("str", "int", "float", "tuple", "frozenset"))
            assert immutable, f"module-level state in app.py: {ast.unparse(node)}"
        if isinstance(node, ast.Global):
            raise AssertionError("app.py uses a global statement")
    assert "global " not in APP.read_text(encoding="utf-8")
