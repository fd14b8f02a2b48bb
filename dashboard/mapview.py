"""The folium map of a trip: event markers by category, numbered stops, directed route legs.

Pure functions of the events and their route. Every event marker sits in the "Events" feature
group and carries a GeoJSON ``feature`` whose ``properties.id`` is the event id, which is how
a click in the browser names its event (see dashboard/clicks.py).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from dashboard import assets, cluster
from dashboard.cluster import EventCluster
from dashboard.countries import country_name
from dashboard.dates import day_text
from dashboard.filters import category_label
from dashboard.route import Route, build_route, unwrap_near

# Okabe & Ito (2008), a palette that colour-blind readers can tell apart; each known category
# also has its own shape, so colour is never the only cue.
CATEGORY_STYLES: dict[str, tuple[str, str]] = {
    "meeting": ("#0072B2", "circle"),
    "visit": ("#E69F00", "square"),
    "signing": ("#009E73", "diamond"),
    "press_conference": ("#CC79A7", "triangle"),
}
EXTRA_COLOURS = ("#D55E00", "#56B4E9", "#F0E442", "#000000")
FALLBACK_COLOUR = "#8C8C8C"
ROUTE_COLOUR = "#202833"
SELECTED_COLOUR = "#000000"
MARKER_PX = 26
# Events sharing a spot are fanned out around it, this many pixels from the centre.
FAN_PX = 17
TILES = "OpenStreetMap"  # folium's built-in provider, attribution included
MAX_FIT_ZOOM = 11
MIN_ZOOM = 1  # the whole world in a map of a few hundred pixels
# Above this many events in view the map clusters them in the browser (EventCluster) and
# draws no route: a route through hundreds of stops is a scribble, and building its arcs and
# one folium.Marker per event takes seconds (about 6 s each at 1,000 events on 2 cores).
CLUSTER_ABOVE = 200
# Titles cost their length per event in the clustered map's page; beyond this many events
# tooltips name place, country, day and category only, keeping the page under 40 B/event.
CLUSTER_TITLES_UP_TO = 20_000


@dataclass(frozen=True)
class Style:
    """How events of one category look."""

    colour: str
    shape: str  # circle, square, diamond or triangle
    text_colour: str
    label: str


def _luminance(colour: str) -> float:
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG contrast ratio)."""
    lum = _luminance(background)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def category_styles(categories: Iterable[str]) -> dict[str, Style]:
    """A style for each category: known ones fixed, others coloured in order of appearance."""
    styles: dict[str, Style] = {}
    extra = iter(EXTRA_COLOURS)
    # A column's unique() keeps the order of appearance without a Python loop over every event.
    distinct = (categories.unique() if isinstance(categories, pd.Series | pd.Index)
                else dict.fromkeys(categories))
    for category in distinct:
        if category in CATEGORY_STYLES:
            colour, shape = CATEGORY_STYLES[category]
        else:
            colour, shape = next(extra, FALLBACK_COLOUR), "circle"
        styles[category] = Style(colour, shape, text_colour(colour), category_label(category))
    return styles


def marker_layout(events: pd.DataFrame, route: Route) -> pd.DataFrame:
    """Where each event's marker goes: id, lat, lon (unwrapped along the route), stop, dx, dy.

    dx/dy are pixel offsets: events at one spot are fanned out around it at any zoom.
    """
    stop_of = route.stop_of()
    rows = []
    for event_id, lat, lon in zip(events["id"], events["lat"], events["lon"], strict=True):
        stop = stop_of.get(event_id)
        if stop is None or pd.isna(lat) or pd.isna(lon):
            continue
        rows.append((event_id, float(lat), unwrap_near(float(lon), stop.display_lon),
                     stop.number))
    layout = pd.DataFrame(rows, columns=["id", "lat", "lon", "stop"])
    layout["dx"], layout["dy"] = 0.0, 0.0
    if layout.empty:
        return layout
    spot = layout["lat"].round(5).astype(str) + "," + layout["lon"].round(5).astype(str)
    for _, index in layout.groupby(spot, sort=False).groups.items():
        n = len(index)
        if n < 2:
            continue
        # Far enough out that neighbours on the ring do not cover each other.
        radius = max(FAN_PX, 0.9 * MARKER_PX / (2 * math.sin(math.pi / n)))
        angles = math.pi + 2 * math.pi * np.arange(n) / n  # from the left: pairs side by side
        layout.loc[index, "dx"] = np.round(radius * np.cos(angles), 1)
        layout.loc[index, "dy"] = np.round(radius * np.sin(angles), 1)
    return layout


def _js_html(text: str) -> str:
    # folium pastes tooltip text into a JavaScript template literal as HTML. No "{" either:
    # branca parses every rendered script as a Jinja template once more, where "{{ ... }}"
    # in an event's text would run Python on the server.
    return (html.escape(text).replace("\\", "&#92;").replace("`", "&#96;")
            .replace("$", "&#36;").replace("{", "&#123;"))


def _js_text(text: str) -> JsCode:
    """A JavaScript string literal of the text, inert in HTML and in a Jinja template."""
    literal = json.dumps(text)  # ASCII only: U+2028 and its kin arrive escaped too
    for char in "<>&'{":
        literal = literal.replace(char, f"\\u{ord(char):04x}")
    return JsCode(literal)


class _Feature(MacroElement):
    """Gives its parent layer a GeoJSON feature, which Leaflet's toGeoJSON() keeps."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.feature = {{ this.feature|tojson }};
        {% endmacro %}
    """)

    def __init__(self, properties: dict[str, str]):
        super().__init__()
        self._name = "Feature"
        self.feature = {"type": "Feature", "properties": properties}


class _KeyboardClick(MacroElement):
    """Enter or Space on a focused marker clicks it, as on any button.

    Leaflet 1.9 only opens popups on Enter; the click reaches streamlit-folium like a mouse
    click (propagated to the marker's group, so it names the event).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.on("keydown", function (e) {
                var key = e.originalEvent.key;
                if (key === "Enter" || key === " ") {
                    L.DomEvent.preventDefault(e.originalEvent);
                    this.fire("click", {latlng: this.getLatLng(),
                                        originalEvent: e.originalEvent}, true);
                }
            });
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "KeyboardClick"


class _IconPath(MacroElement):
    """Sets Leaflet's default marker image folder (its guess fails when CSS loads late)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.Icon.Default.imagePath = {{ this.path|tojson }};
        {% endmacro %}
    """)

    def __init__(self, path: str):
        super().__init__()
        self._name = "IconPath"
        self.path = path


class _Legend(MacroElement):
    """A Leaflet control listing the categories and how to read the route."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: "topright"});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create("div", "em-legend");
                div.innerHTML = {{ this.html_js }};
                // Folded on a narrow map (a phone), where it would cover the markers.
                div.querySelector("details").open = map.getSize().x >= 480;
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.html_js = _js_text(html_text).js_code  # category names are data: see _js_text


CSS = f"""
<style>
/* Offline the tiles stay blank: a light ground keeps markers and route easy to read. */
.leaflet-container {{ background: #eef1f4; }}
.em-icon {{ background: none; border: none; }}
.em-marker {{ position: relative; width: {MARKER_PX}px; height: {MARKER_PX}px;
  display: flex; align-items: center; justify-content: center;
  font: 700 12px/1 system-ui, sans-serif; color: var(--t);
  filter: drop-shadow(0 0 1px #fff) drop-shadow(0 0 1.5px rgba(0,0,0,.9)); }}
.em-marker::before {{ content: ""; position: absolute; inset: 2px; background: var(--c); }}
.em-marker span {{ position: relative; }}
.em-circle::before {{ border-radius: 50%; }}
.em-square::before {{ border-radius: 3px; inset: 3px; }}
.em-diamond::before {{ transform: rotate(45deg); inset: 4px; border-radius: 2px; }}
.em-triangle::before {{ clip-path: polygon(50% 0, 100% 92%, 0 92%); inset: 0; }}
.em-triangle span {{ top: 3px; font-size: 11px; }}
.em-icon:focus {{ outline: none; }}
.em-icon:focus-visible .em-marker {{ outline: 3px solid #000; outline-offset: 3px;
  border-radius: 4px; }}
.em-ring {{ width: 100%; height: 100%; box-sizing: border-box; border-radius: 50%;
  border: 4px solid {SELECTED_COLOUR}; box-shadow: 0 0 0 2px #fff, inset 0 0 0 2px #fff; }}
.em-hub {{ width: 6px; height: 6px; border-radius: 50%; background: {ROUTE_COLOUR};
  box-shadow: 0 0 0 1.5px #fff; }}
@media (max-width: 480px) {{ .leaflet-control-scale {{ display: none; }} }}
.em-legend {{ background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 6px;
  font: 12px/1.4 system-ui, sans-serif; color: #111; box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
.em-legend summary {{ cursor: pointer; font-weight: 600; }}
.em-legend ul {{ list-style: none; margin: 4px 0 0; padding: 0; }}
.em-legend li {{ display: flex; align-items: center; gap: 6px; margin: 2px 0; }}
.em-legend .em-marker {{ width: 18px; height: 18px; font-size: 9px; }}
.em-legend .em-triangle span {{ top: 2px; font-size: 8px; }}
</style>
"""


def _marker_html(style: Style, number: str = "") -> str:
    return (f'<div class="em-marker em-{style.shape}" style="--c:{style.colour};'
            f'--t:{style.text_colour}"><span aria-hidden="true">{number}</span></div>')


def _arrow_html(heading: float) -> str:
    return (f'<svg width="20" height="20" viewBox="-8 -8 16 16" aria-hidden="true" '
            f'style="transform: rotate({heading:.1f}deg)"><path d="M0,-7 L6,6 L0,3 L-6,6 Z" '
            f'fill="{ROUTE_COLOUR}" stroke="#fff" stroke-width="1.2"/></svg>')


def legend_html(styles: dict[str, Style], with_route: bool) -> str:
    """The legend's HTML: one line per category, then the route."""
    items = [f"<li>{_marker_html(s)}{html.escape(s.label)}</li>" for s in styles.values()]
    if with_route:
        items.append(f'<li><svg width="18" height="10" aria-hidden="true"><line x1="0" y1="5" '
                     f'x2="18" y2="5" stroke="{ROUTE_COLOUR}" stroke-width="3"/></svg>'
                     "Route; arrows point onward</li>")
        items.append("<li><b>1, 2…</b>&nbsp;stop numbers in time order</li>")
    return f"<details><summary>Legend</summary><ul>{''.join(items)}</ul></details>"


def bounds(layout: pd.DataFrame, route: Route) -> list[list[float]] | None:
    """[[south, west], [north, east]] around the markers and the route's arcs."""
    lats = list(layout["lat"])
    lons = list(layout["lon"])
    for leg in route.legs:
        lats += [p[0] for p in leg.points]
        lons += [p[1] for p in leg.points]
    if not lats:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _tooltip(row: pd.Series, stop: int) -> str:
    place = f"{row['place']}, {country_name(row['country'])}"
    return f"{row['title']}\n{day_text(date.fromisoformat(row['day']))} · {place} · stop {stop}"


def _fit(m: folium.Map, box: list[list[float]]) -> None:
    # More room on the left: the zoom buttons stand in the top left corner, and a marker
    # fitted 40 px from the edge (the stop's point; its markers spread further) hid under them.
    fit = folium.map.FitBounds(box, padding_top_left=(80, 40), padding_bottom_right=(40, 40),
                               max_zoom=MAX_FIT_ZOOM)
    # At once, not animated: Leaflet ignores a setView made while a zoom animates, and the
    # page moves a new map to a selected event (focus_view) right after this script runs.
    fit.options["animate"] = False
    m.add_child(fit)


def build_map(events: pd.DataFrame, route: Route, *, tiles: str | None = TILES,
              selected: str = "", height: int = 560) -> folium.Map:
    """A folium map of the events and their route, fitted to them, with local asset links.

    ``selected`` draws the highlight into the map itself (for a standalone map); the page
    passes ``highlight_layer`` to st_folium instead, so selecting does not rebuild the map.
    """
    layout = marker_layout(events, route)
    box = bounds(layout, route)
    center = [(box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2] if box else [15, 0]
    m = folium.Map(location=center, zoom_start=4 if box else 2, tiles=tiles,
                   control_scale=True, height=height, min_zoom=MIN_ZOOM)
    # First child, so it runs before anything could create a default icon.
    m.add_child(_IconPath(assets.leaflet_images_url()))
    m.get_root().header.add_child(Element(CSS), name="eventmap_css")
    styles = category_styles(events["category"])

    route_group = folium.FeatureGroup(name="Route", control=False)
    for leg in route.legs:
        folium.PolyLine([(round(a, 5), round(b, 5)) for a, b in leg.points],
                        color=ROUTE_COLOUR, weight=3, opacity=0.85,
                        tooltip=folium.Tooltip(_js_html(leg.tooltip), sticky=True)
                        ).add_to(route_group)
        folium.Marker(
            [round(leg.middle[0], 5), round(leg.middle[1], 5)],
            icon=folium.DivIcon(html=_arrow_html(leg.heading), icon_size=(20, 20),
                                icon_anchor=(10, 10), class_name="em-icon em-arrow"),
            interactive=False, keyboard=False,
        ).add_to(route_group)
    route_group.add_to(m)

    event_group = folium.FeatureGroup(name="Events", control=False)
    by_id = events.set_index("id")
    hubs = layout.loc[(layout["dx"] != 0) | (layout["dy"] != 0), ["lat", "lon"]]
    for lat, lon in hubs.drop_duplicates().itertuples(index=False):
        folium.Marker([lat, lon], icon=folium.DivIcon(
            html='<div class="em-hub"></div>', icon_size=(6, 6), icon_anchor=(3, 3),
            class_name="em-icon em-hub-icon"), interactive=False, keyboard=False,
        ).add_to(event_group)
    for item in layout.itertuples(index=False):
        row = by_id.loc[item.id]
        style = styles[row["category"]]
        half = MARKER_PX / 2
        icon = folium.DivIcon(html=_marker_html(style, str(item.stop)),
                              icon_size=(MARKER_PX, MARKER_PX),
                              icon_anchor=(half - item.dx, half - item.dy),
                              class_name="em-icon em-event")
        icon.options["tooltip_anchor"] = [item.dx, item.dy - half]
        name = _js_text(row["title"])
        marker = folium.Marker([item.lat, item.lon], icon=icon, title=name, alt=name,
                               keyboard=True, rise_on_hover=True)
        marker.add_child(folium.Tooltip(_js_html(_tooltip(row, item.stop)).replace("\n", "<br>"),
                                        sticky=False, direction="top"))
        marker.add_child(_Feature({"id": str(item.id)}))
        marker.add_child(_KeyboardClick())
        marker.add_to(event_group)
    event_group.add_to(m)

    if styles:
        m.add_child(_Legend(legend_html(styles, bool(route.legs))))
    if box:
        _fit(m, box)
    if selected:
        ring = highlight_layer(events, route, selected)
        if ring is not None:
            ring.add_to(m)
    return assets.localize(m)


def highlight_layer(events: pd.DataFrame, route: Route, selected: str
                    ) -> folium.FeatureGroup | None:
    """A ring around the selected event's marker, or None when it is not on the map."""
    layout = marker_layout(events, route)
    hit = layout.loc[layout["id"] == selected]
    if hit.empty:
        return None
    item = hit.iloc[0]
    size = MARKER_PX + 14
    group = folium.FeatureGroup(name="Selected", control=False)
    folium.Marker([item["lat"], item["lon"]], icon=folium.DivIcon(
        html='<div class="em-ring"></div>', icon_size=(size, size),
        icon_anchor=(size / 2 - item["dx"], size / 2 - item["dy"]),
        class_name="em-icon em-selected"), interactive=False, keyboard=False,
        z_index_offset=1000).add_to(group)
    return group



def clustered(count: int) -> bool:
    """Whether a view of this many events is drawn as clusters rather than routed markers.

    >>> clustered(7), clustered(CLUSTER_ABOVE), clustered(CLUSTER_ABOVE + 1)
    (False, False, True)
    """
    return count > CLUSTER_ABOVE


def view_route(events: pd.DataFrame, shown: pd.DataFrame) -> Route:
    """The route the map draws for the events shown: none when they are clustered.

    Stops keep the whole data's numbers when a filter hides some; when the whole data is too
    big for a route, a small view numbers its own stops from 1.
    """
    if clustered(len(shown)):
        return Route()
    numbering = None if clustered(len(events)) else build_route(events).numbering()
    return build_route(shown, numbering)


def build_cluster_map(events: pd.DataFrame, *, tiles: str | None = TILES,
                      height: int = 560) -> folium.Map:
    """A folium map of many events, clustered in the browser, fitted to them, local assets.

    Each marker carries the event id as ``feature.properties.id``, as build_map's do, so a
    click selects its event the same way (dashboard/clicks.py).
    """
    styles = category_styles(events["category"])
    frame = pd.DataFrame({
        "id": events["id"], "lat": events["lat"], "lon": events["lon"],
        "title": events["title"], "place": events["place"],
        "country": events["country"].map({c: country_name(c)
                                          for c in events["country"].unique()}),
        "day": events["day"],
        "category": events["category"].map({c: s.label for c, s in styles.items()}),
    })
    layer = EventCluster(
        frame, fields=("place", "country", "day", "category"),
        title="title" if len(frame) <= CLUSTER_TITLES_UP_TO else None,
        colours={s.label: s.colour for s in styles.values()},
        shapes={s.label: s.shape for s in styles.values()})
    box = layer.get_bounds() if layer.count else None
    center = [(box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2] if box else [15, 0]
    m = folium.Map(location=center, zoom_start=4 if box else 2, tiles=tiles,
                   control_scale=True, height=height, min_zoom=MIN_ZOOM)
    m.add_child(_IconPath(assets.leaflet_images_url()))
    m.get_root().header.add_child(Element(CSS), name="eventmap_css")
    layer.add_to(m)
    if styles:
        m.add_child(_Legend(legend_html(styles, False)))
    if box:
        _fit(m, box)
    return assets.localize(m)


def cluster_highlight_layer(events: pd.DataFrame, selected: str
                            ) -> folium.FeatureGroup | None:
    """A ring at the selected event's place on a clustered map, or None when it is not there."""
    hit = events.loc[events["id"] == selected, ["lat", "lon"]].dropna()
    if hit.empty:
        return None
    lat, lon = (float(v) for v in hit.iloc[0])
    size = 16 + 14  # EventCluster's pins are 16 px
    group = folium.FeatureGroup(name="Selected", control=False)
    folium.Marker([lat, lon], icon=folium.DivIcon(
        html='<div class="em-ring"></div>', icon_size=(size, size),
        icon_anchor=(size / 2, size / 2), class_name="em-icon em-selected"),
        interactive=False, keyboard=False, z_index_offset=1000).add_to(group)
    return group


# --- bringing a selection into view -------------------------------------------------------------
# Where a selection came from: a click on the map itself, or one of the page's other ways.
FOCUS_SOURCES = ("map", "list", "timeline", "player", "url")
# Screen pixels to spare beyond the cluster radius: the browser rounds coordinates to 1e-5
# degrees and clamps latitudes slightly differently.
_FOCUS_SLACK_PX = 1.0


@dataclass(frozen=True)
class Focus:
    """Where the map moves to show a selected event: a centre, and a zoom (None: keep the zoom)."""

    lat: float
    lon: float
    zoom: int | None


class _PanInside(MacroElement):
    """Pans the map of its layer just enough to show a point, when the point is out of view."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent._parent.get_name() }}.panInside(
                {{ this.point|tojson }}, {padding: [{{ this.padding }}, {{ this.padding }}]});
        {% endmacro %}
    """)

    def __init__(self, lat: float, lon: float, padding: int):
        super().__init__()
        self._name = "PanInside"
        self.point, self.padding = [float(lat), float(lon)], int(padding)


def bring_into_view(ring: folium.FeatureGroup, target: Focus, padding: int = 60) -> None:
    """Make the routed map's ring pan the map just enough to show ``target``.

    Leaflet's panInside leaves a map that already shows the point as it is: a shared link
    opens on the whole trip, and a zoom or pan the person chose is kept where it can be.
    """
    _PanInside(target.lat, target.lon, padding).add_to(ring)


def deepest_zoom(tiles: str | None = TILES) -> int:
    """The map's maximum zoom with these tiles: the deepest level EventCluster builds."""
    if not tiles:
        return cluster.MAX_ZOOM
    return int(folium.TileLayer(tiles).options.get("max_zoom") or cluster.MAX_ZOOM)


def _world_px(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Spherical Mercator at zoom 0 (256 px for the world), from the coordinates as the browser
    # gets them (EventCluster rounds to 1e-5 degrees).
    lat = np.clip(np.round(lat * cluster.SCALE) / cluster.SCALE, -85.0511, 85.0511)
    lon = np.round(lon * cluster.SCALE) / cluster.SCALE
    s = np.sin(np.radians(lat))
    return 256 * (0.5 + lon / 360), 256 * (0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi))


def own_marker_zoom(lat: np.ndarray, lon: np.ndarray, index: int, *,
                    radius_px: float = cluster.RADIUS_PX, max_zoom: int | None = None) -> int:
    """The lowest zoom at which event ``index`` is its own marker on EventCluster's map.

    Every cluster sits at one of its events' places and gathers what lies within
    ``radius_px`` of it, so an event with no other event that close at a zoom (nor, since
    distances double, at any deeper one) is never gathered from that zoom on. Events closer
    than that at ``max_zoom`` (the same spot) share a cluster at every zoom: ``max_zoom``.

    >>> own_marker_zoom(np.array([0.0, 0.0]), np.array([0.0, 10.0]), 0)  # 7.1 px at zoom 0
    4
    """
    deepest = deepest_zoom() if max_zoom is None else max_zoom
    x, y = _world_px(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
    located = np.isfinite(x) & np.isfinite(y)
    located[index] = False
    if not located.any():
        return MIN_ZOOM
    gap = float(np.sqrt(np.min((x[located] - x[index]) ** 2 + (y[located] - y[index]) ** 2)))
    need = radius_px + _FOCUS_SLACK_PX
    if gap * 2.0 ** deepest <= need:
        return deepest
    # The first whole zoom where gap * 2**zoom > need; checked, not trusted to the logarithm.
    zoom = max(MIN_ZOOM, math.floor(math.log2(need / gap)) if gap > 0 else deepest)
    while zoom > MIN_ZOOM and gap * 2.0 ** (zoom - 1) > need:
        zoom -= 1
    while gap * 2.0 ** zoom <= need:
        zoom += 1
    return zoom


def focus(events: pd.DataFrame, route: Route, selected: str, source: str) -> Focus | None:
    """Where the map should move for a selection from ``source``, or None to leave it be.

    A click on the map (``"map"``) never moves it: the person is looking at that marker.
    Any other source brings the selected event into view. On a clustered map (over
    CLUSTER_ABOVE events) the map centres it at the lowest zoom at which it is its own marker,
    not inside a cluster (``focus_view``); on the routed map, whose markers are never hidden,
    the zoom is left as the person chose (None) and the map pans only as far as it must
    (``bring_into_view``).
    """
    if source not in FOCUS_SOURCES:
        raise ValueError(f"unknown selection source {source!r}; use one of "
                         f"{', '.join(FOCUS_SOURCES)}.")
    if source == "map" or not selected:
        return None
    if clustered(len(events)):
        rows = np.flatnonzero((events["id"] == selected).to_numpy())
        if not len(rows):
            return None
        lat = pd.to_numeric(events["lat"], errors="coerce").to_numpy(float)
        lon = pd.to_numeric(events["lon"], errors="coerce").to_numpy(float)
        at = int(rows[0])
        if not (np.isfinite(lat[at]) and np.isfinite(lon[at])):
            return None
        return Focus(float(lat[at]), float(lon[at]), own_marker_zoom(lat, lon, at))
    layout = marker_layout(events, route)
    hit = layout.loc[layout["id"] == selected]
    if hit.empty:
        return None
    # The marker's own place: its longitude unwrapped along the route, as it is drawn.
    return Focus(float(hit["lat"].iloc[0]), float(hit["lon"].iloc[0]), None)


def focus_view(target: Focus | None, request: int) -> tuple[dict[str, float] | None,
                                                            float | None]:
    """streamlit-folium's ``center`` and ``zoom`` arguments for a focus, request number ``request``.

    Its frontend (0.27) calls ``map.setView(center, zoom)`` only when ``center`` differs
    from the last one it was sent, and takes ``zoom`` only when that differs from the last
    zoom; otherwise it keeps the map's current zoom. The same event brought into view twice,
    or two events at the same zoom, would not move the map. So the centre carries the request
    number (Leaflet reads only lat and lng), and the zoom a fraction of it that Leaflet's
    whole-zoom snapping rounds off. (None, None) leaves the map where it is.

    >>> focus_view(Focus(4.7, -74.1, 9), 3)
    ({'lat': 4.7, 'lng': -74.1, 'request': 3}, 9.0000003)
    >>> focus_view(None, 4)
    (None, None)
    """
    if target is None:
        return None, None
    center = {"lat": target.lat, "lng": target.lon, "request": int(request)}
    if target.zoom is None:
        return center, None
    return center, round(target.zoom + int(request) % 100_000 * 1e-7, 9)
