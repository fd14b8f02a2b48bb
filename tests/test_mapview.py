"""The folium map: markers, stops, legs, legend, highlight, and no CDN links."""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from dashboard import assets, mapview
from dashboard.route import build_route
from tests.conftest import make_dataset


def groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.FeatureGroup)}


def markers(group: folium.FeatureGroup) -> list[folium.Marker]:
    return [c for c in group._children.values() if isinstance(c, folium.Marker)]


def icon_of(marker: folium.Marker) -> folium.DivIcon:
    return next(c for c in marker._children.values() if isinstance(c, folium.DivIcon))


def feature_of(marker: folium.Marker) -> dict | None:
    found = [c.feature for c in marker._children.values() if type(c).__name__ == "_Feature"]
    return found[0] if found else None


def event_markers(m: folium.Map) -> list[folium.Marker]:
    return [mk for mk in markers(groups(m)["Events"]) if feature_of(mk)]


@pytest.fixture
def trip_map(trip_events) -> folium.Map:
    return mapview.build_map(trip_events, build_route(trip_events))


def test_one_focusable_marker_per_event_named_by_its_title(trip_events, trip_map):
    found = event_markers(trip_map)
    assert len(found) == len(trip_events)
    by_id = trip_events.set_index("id")
    for marker in found:
        event_id = feature_of(marker)["properties"]["id"]
        # JavaScript string literals (see mapview._js_text), read back as JSON.
        title, alt = (json.loads(marker.options[k].js_code) for k in ("title", "alt"))
        assert title == alt == by_id.loc[event_id, "title"]
        assert marker.options["keyboard"] is True
        assert "em-event" in icon_of(marker).options["class_name"]
    assert sorted(feature_of(mk)["properties"]["id"] for mk in found) == sorted(
        trip_events["id"])


def test_clicks_name_the_event_through_a_geojson_feature(trip_map):
    # dashboard/clicks.py relies on this exact shape reaching the browser.
    marker = event_markers(trip_map)[0]
    assert feature_of(marker) == {"type": "Feature",
                                  "properties": {"id": feature_of(marker)["properties"]["id"]}}
    html = trip_map.get_root().render()
    found = re.search(re.escape(marker.get_name()) + r"\.feature = (\{.*?\});", html)
    assert found and json.loads(found.group(1)) == feature_of(marker)


def test_markers_show_stop_numbers_in_route_order(trip_events, trip_map):
    numbering = build_route(trip_events).numbering()
    for marker in event_markers(trip_map):
        number = numbering[feature_of(marker)["properties"]["id"]]
        assert f'<span aria-hidden="true">{number}</span>' in icon_of(marker).options["html"]


def test_markers_are_styled_by_category_with_a_legend(trip_events, trip_map):
    styles = mapview.category_styles(trip_events["category"])
    by_id = trip_events.set_index("id")
    for marker in event_markers(trip_map):
        style = styles[by_id.loc[feature_of(marker)["properties"]["id"], "category"]]
        html = icon_of(marker).options["html"]
        assert f"em-{style.shape}" in html and f"--c:{style.colour}" in html
    legend = next(c for c in trip_map._children.values() if type(c).__name__ == "_Legend")
    for label in ("Visit", "Meeting", "Signing", "Press conference", "Route"):
        assert label in legend.html


def test_events_at_one_spot_fan_out_around_it(trip_events):
    layout = mapview.marker_layout(trip_events, build_route(trip_events)).set_index("id")
    pair = layout.loc[["co-officials-meeting", "co-data-signing"]]
    assert pair[["lat", "lon"]].nunique().tolist() == [1, 1]
    offsets = set(zip(pair["dx"], pair["dy"], strict=True))
    assert len(offsets) == 2
    assert all(round((dx**2 + dy**2) ** 0.5) == mapview.FAN_PX for dx, dy in offsets)
    assert tuple(layout.loc["sv-prison-visit", ["dx", "dy"]]) == (0.0, 0.0)


def test_many_events_at_one_spot_stay_apart():
    rows = [{"id": f"e{i}", "date": "2025-03-26", "title": f"E{i}", "place": "San Salvador",
             "country": "SV", "lat": "13.6929", "lon": "-89.2182"} for i in range(9)]
    events = make_dataset(rows).events
    layout = mapview.marker_layout(events, build_route(events))
    points = list(zip(layout["dx"], layout["dy"], strict=True))
    closest = min(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
                  for i, a in enumerate(points) for b in points[i + 1:])
    assert closest >= mapview.MARKER_PX * 0.8


def test_legs_are_arcs_with_tooltips_and_arrows(trip_events, trip_map):
    route = build_route(trip_events)
    route_group = groups(trip_map)["Route"]
    lines = [c for c in route_group._children.values() if isinstance(c, folium.PolyLine)]
    arrows = [mk for mk in markers(route_group) if "em-arrow" in icon_of(mk).options["class_name"]]
    assert len(lines) == len(arrows) == len(route.legs)
    for line, arrow, leg in zip(lines, arrows, route.legs, strict=True):
        assert len(line.locations) == len(leg.points)
        tooltip = next(c for c in line._children.values() if isinstance(c, folium.Tooltip))
        assert tooltip.text == leg.tooltip
        assert f"rotate({leg.heading:.1f}deg)" in icon_of(arrow).options["html"]
        assert arrow.options["interactive"] is False and arrow.options["keyboard"] is False


def test_map_fits_the_markers_and_arcs(trip_events, trip_map):
    fit = next(c for c in trip_map._children.values() if isinstance(c, folium.map.FitBounds))
    (south, west), (north, east) = fit.bounds
    layout = mapview.marker_layout(trip_events, build_route(trip_events))
    assert south == layout["lat"].min() and north == layout["lat"].max()
    assert west == layout["lon"].min() and east == layout["lon"].max()
    assert fit.options["maxZoom"] == mapview.MAX_FIT_ZOOM


def test_tiles_carry_their_attribution(trip_map):
    tiles = [c for c in trip_map._children.values() if isinstance(c, folium.TileLayer)]
    assert len(tiles) == 1 and "OpenStreetMap" in tiles[0].options["attribution"]


def test_empty_map_has_no_markers_and_no_fit(trip_events):
    m = mapview.build_map(trip_events.iloc[0:0], build_route(trip_events.iloc[0:0]))
    assert event_markers(m) == []
    assert not any(isinstance(c, folium.map.FitBounds) for c in m._children.values())
    m.get_root().render()


def test_highlight_rings_the_selected_marker(trip_events):
    route = build_route(trip_events)
    layout = mapview.marker_layout(trip_events, route).set_index("id")
    ring = mapview.highlight_layer(trip_events, route, "co-data-signing")
    (marker,) = markers(ring)
    icon = icon_of(marker)
    size = icon.options["icon_size"][0]
    dx, dy = layout.loc["co-data-signing", ["dx", "dy"]]
    assert icon.options["icon_anchor"] == (size / 2 - dx, size / 2 - dy)
    assert marker.location == [layout.loc["co-data-signing", "lat"],
                               layout.loc["co-data-signing", "lon"]]
    assert marker.options["interactive"] is False  # clicks reach the marker underneath
    assert mapview.highlight_layer(trip_events, route, "no-such-event") is None
    hidden = trip_events.loc[trip_events["day"] == "2025-03-27"]
    assert mapview.highlight_layer(hidden, build_route(hidden), "sv-prison-visit") is None


def test_standalone_map_can_carry_the_highlight(trip_events):
    m = mapview.build_map(trip_events, build_route(trip_events), selected="co-data-signing")
    assert "Selected" in groups(m)


def test_markers_follow_the_route_across_the_antimeridian():
    rows = [{"id": "fiji", "date": "2025-03-26", "title": "Suva", "place": "Suva",
             "country": "FJ", "lat": "-18.1416", "lon": "178.4419"},
            {"id": "samoa", "date": "2025-03-27", "title": "Apia", "place": "Apia",
             "country": "WS", "lat": "-13.8333", "lon": "-171.7667"}]
    events = make_dataset(rows).events
    layout = mapview.marker_layout(events, build_route(events)).set_index("id")
    assert layout.loc["samoa", "lon"] == pytest.approx(188.2333)
    m = mapview.build_map(events, build_route(events))
    fit = next(c for c in m._children.values() if isinstance(c, folium.map.FitBounds))
    assert fit.bounds[1][1] - fit.bounds[0][1] < 15  # a small box, not the whole world


def test_text_from_the_data_cannot_break_out(trip_events):
    events = trip_events.copy()
    events.loc[0, "title"] = "</script><img src=x onerror=alert(1)> `${x}` \\ & 'q'"
    m = mapview.build_map(events, build_route(events))
    html = m.get_root().render()
    assert "<img src=x" not in html and "</script><img" not in html
    # Tooltips are JavaScript template literals: no ${...} may reach one.
    tooltips = re.findall(r"bindTooltip\(\s*`(.*?)`", html, flags=re.DOTALL)
    assert tooltips and not any("${" in t for t in tooltips)
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &#96;&#36;&#123;x}&#96;" in html


@pytest.mark.parametrize("background", [*(c for c, _ in mapview.CATEGORY_STYLES.values()),
                                        *mapview.EXTRA_COLOURS, mapview.FALLBACK_COLOUR])
def test_marker_numbers_are_readable_on_every_colour(background):
    def contrast(a: str, b: str) -> float:
        la, lb = sorted((mapview._luminance(a), mapview._luminance(b)), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    assert contrast(background, mapview.text_colour(background)) >= 4.5


def test_category_styles_tell_categories_apart():
    styles = mapview.category_styles(["meeting", "visit", "signing", "press_conference",
                                      "tour", "rally", "party", "vigil", "march", "meeting"])
    known = [styles[c] for c in ("meeting", "visit", "signing", "press_conference")]
    assert len({s.colour for s in known}) == len({s.shape for s in known}) == 4
    extra = [styles[c].colour for c in ("tour", "rally", "party", "vigil")]
    assert extra == list(mapview.EXTRA_COLOURS)
    assert styles["march"].colour == mapview.FALLBACK_COLOUR
    assert styles["press_conference"].label == "Press conference"


# --- no CDN ----------------------------------------------------------------------------------


def test_every_script_and_style_is_served_locally(trip_map):
    links = assets.links(trip_map)
    assert links == ["/app/static/vendor/leaflet-1.9.3/leaflet.js",
                     "/app/static/vendor/leaflet-1.9.3/leaflet.css"]
    html = trip_map.get_root().render()
    urls = set(re.findall(r"https?://[^\s\"'\\]+", html))
    assert urls == {"https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "https://www.openstreetmap.org/copyright"}


@pytest.mark.usefixtures("trip_map")  # a map was built and localized before the check
def test_localize_leaves_folium_defaults_alone():
    assert folium.Map.default_js[0][1].startswith("https://")
    assert folium.Map().default_js[0][1].startswith("https://")


def test_leaflet_default_icons_come_from_the_local_copy(trip_map):
    html = trip_map.get_root().render()
    assert 'L.Icon.Default.imagePath = "/app/static/vendor/leaflet-1.9.3/images/";' in html


def test_plugins_in_the_table_are_served_locally():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    assets.localize(m)
    assert assets.links(m) == [
        "/app/static/vendor/leaflet-1.9.3/leaflet.js",
        "/app/static/vendor/leaflet-1.9.3/leaflet.css",
        "/app/static/vendor/leaflet_markercluster-1.4.1/leaflet.markercluster.js",
        "/app/static/vendor/leaflet_markercluster-1.4.1/MarkerCluster.css",
        "/app/static/vendor/leaflet_markercluster-1.4.1/MarkerCluster.Default.css"]


def test_a_plugin_missing_from_the_table_is_an_error_not_a_cdn_link():
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(assets.UnknownAssetError, match="add it to dashboard.assets.ASSETS"):
        assets.localize(m)


def test_install_copies_every_linked_file_once(tmp_path):
    folders = assets.install(tmp_path)
    assert [f.name for f in folders] == ["leaflet-1.9.3", "leaflet_markercluster-1.4.1"]
    for asset in (a for a in assets.ASSETS.values() if a is not None):
        copy = tmp_path / asset.folder() / asset.file
        assert filecmp.cmp(copy, asset.source(), shallow=False)
        assert not copy.is_symlink()  # Streamlit refuses to serve links out of static/
    assert (tmp_path / "leaflet-1.9.3" / "images" / "marker-icon.png").is_file()
    stamp = (tmp_path / "leaflet-1.9.3" / "leaflet.js").stat().st_mtime_ns
    assert assets.install(tmp_path) == folders  # idempotent: nothing copied again
    assert (tmp_path / "leaflet-1.9.3" / "leaflet.js").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in folders]


def test_install_target_is_the_served_static_folder():
    assert Path(mapview.__file__).parent / "static" / "vendor" == assets.VENDOR_DIR
    assert assets.URL_ROOT == "/app/static/vendor"
