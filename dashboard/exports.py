"""Downloads of the current view: CSV, GeoJSON, an iCalendar itinerary, a standalone map page."""

from __future__ import annotations

import base64
import datetime as dt
import html
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING

import branca.element
import icalendar
import pandas as pd

from dashboard.assets import ASSETS
from dashboard.countries import country_name
from dashboard.dates import format_when, parse_when
from dashboard.filters import category_label
from dashboard.formats import to_csv_text, to_geojson_text

if TYPE_CHECKING:
    import folium

PRODID = "-//eventmap//Event map dashboard//EN"
# What a download button sends with each export.
MIME_TYPES = {"csv": "text/csv", "geojson": "application/geo+json", "ics": "text/calendar",
              "html": "text/html"}
UID_DOMAIN = "eventmap"


def file_name(source: str, kind: str) -> str:
    """A download's file name, from the data's: ('data/events.geojson', 'ics') -> 'events.ics'.

    The map page is '<name>-map.html'. Characters that file systems or browsers treat
    specially become '_'.

    >>> file_name("My trip (v2).csv", "html")
    'My_trip_v2-map.html'
    """
    stem = re.sub(r"[^\w.-]+", "_", Path(source.replace("\\", "/")).stem).strip("._") or "events"
    return f"{stem}-map.html" if kind == "html" else f"{stem}.{kind}"


def to_csv_bytes(events: pd.DataFrame) -> bytes:
    """The events as a UTF-8 CSV file that loads back to the same events."""
    return to_csv_text(events).encode("utf-8")


def to_geojson_bytes(events: pd.DataFrame) -> bytes:
    """The events as a UTF-8 GeoJSON FeatureCollection that loads back to the same events."""
    return to_geojson_text(events).encode("utf-8")


# --- iCalendar -------------------------------------------------------------------------------

def to_ics_bytes(events: pd.DataFrame, calendar_name: str,
                 stamp: dt.datetime | None = None) -> bytes:
    """The events as an RFC 5545 calendar, one VEVENT each, in time order.

    A date-only event is an all-day event (``DTEND`` is the next day: the end is exclusive).
    A timed event starts at its instant in UTC and has no end, since sources rarely say how
    long something lasted; its local time as written is repeated in the description.
    ``stamp`` is the ``DTSTAMP`` (when the file was made; now by default). RFC 5545 wants at
    least one event in a calendar, so an empty view raises ValueError (offer no download then).
    """
    if events.empty:
        raise ValueError("no events to put in a calendar; widen the filters to include some.")
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", calendar_name)  # RFC 7986
    cal.add("x-wr-calname", calendar_name)  # what Google Calendar and Outlook read
    ordered = events.sort_values("instant", kind="stable") if "instant" in events else events
    for rec in ordered.to_dict("records"):
        cal.add_component(_vevent(rec, stamp))
    return cal.to_ical()


def _vevent(rec: dict, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{rec['id']}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    when = parse_when(str(rec["date"]))
    if isinstance(when, dt.datetime):
        event.add("dtstart", when.astimezone(dt.UTC))
    else:
        event.add("dtstart", when)
        event.add("dtend", when + dt.timedelta(days=1))
    event.add("summary", _text(rec.get("title")))
    location = ", ".join(p for p in (_text(rec.get("place")), _country(rec)) if p)
    if location:
        event.add("location", location)
    description = _description(rec, when)
    if description:
        event.add("description", description)
    url = _text(rec.get("source_url"))
    if re.match(r"(?i)https?://\S+$", url):
        event.add("url", url)
    lat, lon = rec.get("lat"), rec.get("lon")
    if not (pd.isna(lat) or pd.isna(lon)):
        event.add("geo", (float(lat), float(lon)))
    category = _text(rec.get("category"))
    if category:
        event.add("categories", [category_label(category)])  # calendars show it as a tag
    return event


def _description(rec: dict, when: dt.date | dt.datetime) -> str:
    parts = []
    summary = _text(rec.get("summary"))
    if summary:
        parts.append(summary)
    if isinstance(when, dt.datetime):
        parts.append(f"Local time: {format_when(when)}")
    notes = [f"{what} inferred, not stated by the source"
             for what, field in (("Date", "date_basis"), ("Place", "place_basis"))
             if _text(rec.get(field)) == "inferred"]
    if notes:
        parts.append("; ".join(notes) + ".")
    people = [p.strip() for p in _text(rec.get("participants")).split(";") if p.strip()]
    if people:
        parts.append("Participants:\n" + "\n".join(f"- {p}" for p in people))
    quote, source, url = (_text(rec.get(k)) for k in ("source_quote", "source_name", "source_url"))
    if quote:
        parts.append(f"\u201c{quote}\u201d" + (f" \u2014 {source}" if source else ""))
    elif source:
        parts.append(f"Source: {source}")
    if url:
        parts.append(url)
    return "\n\n".join(parts)


def _country(rec: dict) -> str:
    code = _text(rec.get("country"))
    return country_name(code) if code else ""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


# --- Standalone map page ---------------------------------------------------------------------

_SCRIPT_TAG = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*>\s*</script\s*>", re.IGNORECASE)
_LINK_TAG = re.compile(r"<link\b[^>]*?\bhref\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*?/?>",
                       re.IGNORECASE)
_SOURCE_MAP = re.compile(r"^\s*/[/*]# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^'\")]+)\1\)")


FILL_WINDOW_CSS = ("html, body { height: 100%; margin: 0; } "
                   ".folium-map { height: 100% !important; }")


class StandaloneMapError(ValueError):
    """The map needs a script or stylesheet that has no local copy to inline."""


def standalone_html(folium_map: folium.Map, title: str = "") -> bytes:
    """The map as one self-contained HTML file that works offline (only tiles need a network).

    Every script and stylesheet the map links is looked up by its folium name in
    ``dashboard.assets.ASSETS``: files from the XStatic packages are inlined (images as
    ``data:`` URIs), the ones our maps do not use are left out. Works on a map with folium's
    CDN links and on one that ``assets.localize`` pointed at the app's own URLs; the map
    itself is not changed.
    """
    figure = folium_map.get_root()
    page = figure.render()
    # Rendering put one Link per folium name into the page's header: the URL tells the name.
    names = {child.url: name for name, child in figure.header._children.items()
             if isinstance(child, branca.element.Link)}
    leaflet = ASSETS["leaflet"]

    def inline(match: re.Match[str], kind: str) -> str:
        url = match["url"]
        if url not in names or names[url] not in ASSETS:
            raise StandaloneMapError(
                f"the map links {url} (folium name {names.get(url, 'unknown')!r}), which has "
                "no local copy; add it to dashboard.assets.ASSETS with the XStatic package "
                "that ships it, or build the map without it.")
        asset = ASSETS[names[url]]
        if asset is None:
            return ""  # a file folium lists that our maps never use
        if kind == "css":
            return f"<style>{_inline_css(asset.source())}</style>"
        code = _SOURCE_MAP.sub("", asset.source().read_text(encoding="utf-8"))
        if asset == leaflet:
            code += "\n" + _default_icon_js()
        return f"<script>{_escape_script(code)}</script>"

    def link(match: re.Match[str]) -> str:
        if re.search(r"\brel\s*=\s*([\"'])stylesheet\1", match[0], re.IGNORECASE):
            return inline(match, "css")
        return match[0]  # not a file the page needs; remote ones are caught below

    page = _SCRIPT_TAG.sub(lambda m: inline(m, "js"), page)
    page = _LINK_TAG.sub(link, page)
    head = f"<title>{html.escape(title)}</title>\n" if title else ""
    # A page of its own: the map fills the window whatever height the dashboard gave it.
    head += f"<style>{FILL_WINDOW_CSS}</style>\n"
    page = re.sub(r"</head>", lambda m: head + m[0], page, count=1, flags=re.IGNORECASE)
    remaining = remote_assets(page)
    if remaining:
        raise StandaloneMapError(f"the map still loads {', '.join(remaining)} from the network; "
                                 "add a local copy to dashboard.assets.ASSETS.")
    return page.encode("utf-8")


def remote_assets(page: str) -> list[str]:
    """URLs of scripts and stylesheets a page loads from the network."""
    found = [m["url"] for m in _SCRIPT_TAG.finditer(page)]
    found += [m["url"] for m in _LINK_TAG.finditer(page)]
    # Only in stylesheets: the same words in an event's text load nothing.
    for css in re.findall(r"<style\b[^>]*>(.*?)</style\s*>", page, re.DOTALL | re.IGNORECASE):
        found += re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)", css)
    return [u for u in found if re.match(r"\s*(?:https?:)?//", u, re.IGNORECASE)]


def _escape_script(code: str) -> str:
    # Inside <script>, "</script" ends the element and "<!--" changes how the parser reads
    # what follows; "\x3C" is the same "<" to JavaScript inside strings and regex literals,
    # which is where such text occurs in library code.
    return re.sub(r"<(?=/?script|!--)", r"\\x3C", code, flags=re.IGNORECASE)


def _inline_css(path: Path) -> str:
    css = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    css = _CSS_URL.sub(lambda m: f'url("{_data_uri(path.parent / m[2])}")', css)
    return re.sub(r"</(?=style)", r"<\\/", css, flags=re.IGNORECASE)


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _default_icon_js() -> str:
    # Leaflet prefixes its marker image names with a folder it reads from the stylesheet (or
    # that the page sets); inlined images have no folder, so the prefix is skipped outright.
    images = ASSETS["leaflet"].source().parent / "images"
    options = ", ".join(f'{key}: "{_data_uri(images / name)}"' for key, name in (
        ("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
        ("shadowUrl", "marker-shadow.png")))
    return (f"L.Icon.Default.mergeOptions({{{options}}});\n"
            "L.Icon.Default.include({_getIconUrl: function (name) {\n"
            "  return L.Icon.prototype._getIconUrl.call(this, name);\n}});")
