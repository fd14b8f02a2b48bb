"""The clustered events layer: what it puts in the page, and that it clusters and clicks."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster

from bench.headless import keep_local, marker_well_inside
from bench.synthetic import synthetic_events
from dashboard.cluster import PALETTE, SCALE, EventCluster, encode_events

EVIL = '<img src=x onerror="window.pwned=1">'


def _events(n: int) -> pd.DataFrame:
    events = synthetic_events(n, seed=3)
    return events.assign(day=events["date"])


def _script(layer: EventCluster) -> str:
    return layer._template.module.script(layer)


def _payload(layer: EventCluster) -> dict:
    found = re.search(r"var d = (\{.*?\});\n", _script(layer))
    assert found, "no payload literal in the script"
    return json.loads(found.group(1))


def test_payload_round_trips_ids_coordinates_and_fields():
    events = _events(300)
    data = _payload(EventCluster(events).add_to(folium.Map()))
    assert data["n"] == 300
    assert data["ids"].split(" ") == events["id"].tolist()
    ll = np.frombuffer(base64.b64decode(data["ll"]), dtype="<i4").reshape(-1, 2) / SCALE
    assert np.abs(ll[:, 0] - events["lat"]).max() <= 0.5 / SCALE + 1e-12
    assert np.abs(ll[:, 1] - events["lon"]).max() <= 0.5 / SCALE + 1e-12
    cols = {c["name"]: c for c in data["cols"]}
    assert list(cols) == ["place", "country", "day", "category"]
    for name, col in cols.items():
        if "list" in col:
            values = col["list"]
        else:
            width = {1: "<u1", 2: "<u2", 4: "<u4"}[col["w"]]
            codes = np.frombuffer(base64.b64decode(col["idx"]), dtype=width)
            values = [col["values"][i] for i in codes]
        assert values == events[name].tolist(), name
    # Repeated values travel as a table plus small indexes.
    assert "values" in cols["category"] and cols["category"]["w"] == 1
    assert data["colour"] == 3 and data["palette"] == [
        [c, "circle"] for c in PALETTE[:len(cols["category"]["values"])]]


def test_payload_is_at_most_40_bytes_per_event_at_100k():
    events = _events(100_000)
    m = folium.Map()
    layer = EventCluster(events).add_to(m)
    script = _script(layer)
    # Measured as Streamlit sends component arguments: JSON with ASCII escapes.
    per_event = len(json.dumps(script)) / len(events)
    assert per_event <= 40, f"{per_event:.1f} bytes per event"


def test_text_is_data_never_markup():
    events = _events(5)
    events.loc[0, "place"] = EVIL
    events.loc[1, "place"] = "</script><script>window.pwned=2</script>"
    events.loc[2, "place"] = "{{'map_div'}} \u2028"
    layer = EventCluster(events).add_to(folium.Map())
    script = _script(layer)
    assert "</script>" not in script.lower() and "<img" not in script
    assert "{{" not in script and "\u2028" not in script
    places = {c["name"]: c for c in _payload(layer)["cols"]}["place"]
    assert EVIL in places.get("list", places.get("values"))
    # The JavaScript puts text in through textContent only.
    assert "innerHTML" not in script and "textContent" in script


def test_template_syntax_in_event_text_is_neither_run_nor_broken():
    # branca renders fragments as Jinja templates again; event text must survive that as text.
    events = _events(4)
    events.loc[0, "place"] = "{{ 7*7 }}"
    events.loc[1, "place"] = "{% if true %}x{% endif %}"
    events.loc[2, "place"] = "{# not a comment"
    m = folium.Map()
    EventCluster(events).add_to(m)
    page = m.get_root().render()
    found = re.search(r"var d = (\{.*?\});\n", page)
    places = {c["name"]: c for c in json.loads(found.group(1))["cols"]}["place"]
    assert places["list"][:3] == ["{{ 7*7 }}", "{% if true %}x{% endif %}", "{# not a comment"]
    assert "49" not in re.sub(r'"ll":"[^"]*"', "", found.group(1))


def test_rows_without_coordinates_are_left_out_and_bounds_fit_the_rest():
    events = _events(10)
    events.loc[3, ["lat", "lon"]] = np.nan
    layer = EventCluster(events).add_to(folium.Map())
    assert layer.count == 9
    assert _payload(layer)["ids"].split(" ") == events["id"].drop(index=3).tolist()
    located = events.drop(index=3)
    assert layer.get_bounds() == [[located["lat"].min(), located["lon"].min()],
                                  [located["lat"].max(), located["lon"].max()]]


def test_empty_events_make_an_empty_layer():
    layer = EventCluster(_events(3).iloc[:0]).add_to(folium.Map())
    assert layer.count == 0 and _payload(layer)["ids"] == ""
    assert layer.get_bounds() == [[None, None], [None, None]]


def test_title_is_shown_first_and_styles_follow_the_mappings():
    events = _events(40)
    data = encode_events(events, title="title", colours={"visit": PALETTE[1]},
                         shapes={"visit": "triangle", "meeting": "square"})
    assert data["title"] == 0 and data["cols"][0]["name"] == "title"
    values = next(c for c in data["cols"] if c["name"] == "category")["values"]
    styles = dict(zip(values, map(tuple, data["palette"]), strict=True))
    assert styles["visit"] == (PALETTE[1], "triangle")
    assert styles["meeting"][1] == "square" and styles["signing"][1] == "circle"
    # Values without a chosen colour do not repeat the chosen one.
    assert [c for c, _ in styles.values()].count(PALETTE[1]) == 1


@pytest.mark.parametrize("change, message", [
    (lambda e: e.drop(columns="place"), "lack the columns 'place'"),
    (lambda e: e.assign(id="same"), "occurs more than once"),
])
def test_unusable_events_are_refused_with_a_fix(change, message):
    with pytest.raises((KeyError, ValueError), match=message):
        EventCluster(change(_events(4)))


@pytest.mark.parametrize("styles, message", [
    ({"colours": {"visit": "red;background:url(x)"}}, "not a hex colour"),
    ({"shapes": {"visit": "star\"><img>"}}, "is not one of circle, square"),
])
def test_bad_styles_are_refused(styles, message):
    events = _events(30)
    with pytest.raises(ValueError, match=message):
        encode_events(events, **styles)


def test_ids_with_spaces_travel_as_a_list():
    events = _events(3).assign(id=["a b", "c", "d"])
    assert encode_events(events)["ids"] == ["a b", "c", "d"]


def test_links_use_the_marker_cluster_names_for_local_serving():
    names = [n for n, _ in EventCluster.default_js + EventCluster.default_css]
    assert names == ["markerclusterjs", "markerclustercss", "markerclusterdefaultcss"]


# --- In a real browser -------------------------------------------------------------------------

def _standalone(m: folium.Map) -> str:
    """The map as one HTML file with Leaflet and the cluster plugin inlined: no network."""
    leaflet = Path(xstatic.pkg.leaflet.BASE_DIR)
    cluster = Path(xstatic.pkg.leaflet_markercluster.BASE_DIR)
    for element in [m, *m._children.values()]:
        if hasattr(element, "default_js"):
            element.default_js, element.default_css = [], []
    page = m.get_root().render()
    styles = "".join(f"<style>{(d / f).read_text('utf-8')}</style>" for d, f in (
        (leaflet, "leaflet.css"), (cluster, "MarkerCluster.css"),
        (cluster, "MarkerCluster.Default.css")))
    scripts = "".join(f"<script>{(d / f).read_text('utf-8')}</script>" for d, f in (
        (leaflet, "leaflet.js"), (cluster, "leaflet.markercluster.js")))
    # What streamlit-folium's frontend does after the map script: a click listener on every
    # layer of the map, recording e.layer.toGeoJSON() as last_active_drawing.
    bind = """<script>
    window.lastActive = null;
    var theMap = Object.values(window).find(v => v instanceof L.Map);
    for (const k in theMap._layers) {
        theMap._layers[k].on("click", e => {
            if (e.layer && typeof e.layer.toGeoJSON === "function") {
                window.lastActive = e.layer.toGeoJSON();
            }
        });
    }
    window.theGroup = Object.values(theMap._layers).find(l => l instanceof L.MarkerClusterGroup);
    </script>"""
    page = page.replace("<head>", "<head>" + styles + scripts, 1)
    return page.replace("</html>", bind + "</html>") if "</html>" in page else page + bind


@pytest.mark.browser
def test_10k_events_cluster_and_a_click_reports_the_event_id(browser, tmp_path):
    from playwright.sync_api import expect

    events = _events(10_000)
    events.loc[0, "place"] = EVIL
    m = folium.Map(tiles=None, location=[20, 0], zoom_start=2)
    EventCluster(events).add_to(m)
    path = tmp_path / "cluster.html"
    path.write_text(_standalone(m), encoding="utf-8")

    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    outside = keep_local(page, tiles=False, hosts=frozenset())
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(path.as_uri())
    page.wait_for_function("window.theGroup && window.theGroup.getLayers().length === 10000")
    # The tree the plugin draws (EventCluster builds it itself): each cluster counts what it
    # holds, child clusters are one zoom below their parent, and every marker is in it once.
    assert page.evaluate("""() => {
        const bad = [], seen = new Set();
        const walk = c => {
            let count = 0;
            for (const m of c._markers) {
                if (m.__parent !== c || seen.has(m)) { bad.push("marker"); }
                seen.add(m);
                count += 1;
            }
            for (const k of c._childClusters) {
                if (k.__parent !== c || k._zoom !== c._zoom + 1) { bad.push("cluster"); }
                count += walk(k);
            }
            if (count !== c._childCount) { bad.push("count"); }
            return count;
        };
        return [walk(theGroup._topClusterLevel), seen.size, bad.length];
    }""") == [10_000, 10_000, 0]
    # Each cluster's bounds and weighted centre, worked out with the tree, are those the
    # plugin's own recursive _recalculateBounds gives, to the last bit.
    assert page.evaluate("""() => {
        const all = [], walk = c => { all.push(c); c._childClusters.forEach(walk); };
        theGroup._topClusterLevel._childClusters.forEach(walk);
        const state = c => JSON.stringify([c._bounds.getSouth(), c._bounds.getNorth(),
            c._bounds.getWest(), c._bounds.getEast(), c._wLatLng.lat, c._wLatLng.lng,
            c._latlng === c._wLatLng, c._boundsNeedUpdate]);
        const ours = all.map(state);
        all.forEach(c => { c._boundsNeedUpdate = true; });
        theGroup._topClusterLevel._boundsNeedUpdate = true;
        theGroup._topClusterLevel._recalculateBounds();
        return [all.length > 100, all.filter((c, i) => state(c) !== ours[i]).length];
    }""") == [True, 0]
    clusters = page.locator(".marker-cluster")
    expect(clusters.first).to_be_visible()
    # Clustered: a handful of cluster icons stand for 10,000 events.
    assert 0 < clusters.count() < 200
    assert page.locator(".evc-pin").count() < 200

    # Zoom in by clicking clusters, as a person would, until single markers show.
    pin = marker_well_inside(page, 20, tries=20, pause_ms=400, zoom="theMap.getZoom()")
    expect(pin).to_be_visible()
    expected = pin.evaluate("""el => theGroup.getLayers().find(m => m._icon === el)
                                     .feature.properties.id""")
    assert re.fullmatch(r"ev-\d{6}", expected)
    title = pin.get_attribute("title")
    assert title and pin.get_attribute("role") == "button"
    pin.click()
    page.wait_for_function("window.lastActive !== null")
    assert page.evaluate("lastActive.properties.id") == expected
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(expected)

    # From the keyboard: focus the marker and press Enter.
    page.evaluate("window.lastActive = null")
    pin.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("window.lastActive !== null")
    assert page.evaluate("lastActive.properties.id") == expected

    # The event whose place is markup shows it as text and runs nothing.
    box = page.evaluate("""() => new Promise(done => {
        const m = theGroup.getLayers().find(l => l.feature.properties.id === "ev-000001");
        theGroup.zoomToShowLayer(m, () => setTimeout(() => {
            const r = m._icon.getBoundingClientRect();
            done({x: r.x + r.width / 2, y: r.y + r.height / 2});
        }, 400));
    })""")
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("lastActive.properties.id === 'ev-000001'")
    expect(popup).to_contain_text(EVIL)
    assert popup.locator("img").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert errors == [] and outside == []
    page.close()


@pytest.mark.browser
def test_events_at_one_place_spread_out_at_the_deepest_zoom(browser, tmp_path):
    events = _events(300)
    # 40 events at one spot (as when places are geocoded to a town's centre) and 30 at another
    # spot 100 m away (168 px at zoom 18, 42 px at zoom 16), far from the other events.
    events.loc[:39, ["lat", "lon"]] = [0.5, -30.0]
    events.loc[40:69, ["lat", "lon"]] = [0.5, -29.9991]
    m = folium.Map(tiles=None, location=[20, 0], zoom_start=2)
    EventCluster(events).add_to(m)
    path = tmp_path / "spots.html"
    path.write_text(_standalone(m), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(path.as_uri())
    page.wait_for_function("window.theGroup && window.theGroup.getLayers().length === 300")
    # At the deepest zoom the two spots are two clusters, one a zoom out they are one.
    counts = page.evaluate("""() => {
        const spot = theGroup.getLayers().find(l => l.feature.properties.id === "ev-000001");
        const byZoom = {};
        for (let c = spot.__parent; c && c._zoom >= 0; c = c.__parent) {
            byZoom[c._zoom] = c._childCount;
        }
        return byZoom;
    }""")
    assert counts["18"] == 40 and counts["17"] == 40 and counts["16"] == 70
    # Showing one of them spreads the deepest cluster out (the plugin's spiderfy).
    page.evaluate("""() => new Promise(done => {
        const spot = theGroup.getLayers().find(l => l.feature.properties.id === "ev-000001");
        theGroup.zoomToShowLayer(spot, done);
    })""")
    page.wait_for_function("document.querySelectorAll('.evc-pin').length >= 40")
    page.close()
