"""A folium layer for many events: compact arrays in the page, clustered in the browser.

One ``folium.Marker`` per event costs about a kilobyte of page per event and a Jinja render each.
``EventCluster`` sends coordinates as one base64 block of integers, ids as one string, and each
text column either as a table of distinct values plus an index per event, or as a plain list
when nearly every value differs. In the browser the layer builds Leaflet.markercluster's tree of
clusters itself, level by level over typed arrays (100,000 markers in about a second; the
plugin's own addLayers takes ten), and the plugin draws it, zooms and spiderfies as usual.

Click protocol: every marker carries ``feature = {type: "Feature", properties: {id: <event id>}}``,
so streamlit-folium's ``last_active_drawing`` after a click on a marker is
``{"type": "Feature", "properties": {"id": "<event id>"}, "geometry": {...}}``. Clicks on a
cluster zoom in (or spiderfy) and report nothing.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from branca.element import CssLink, Element, JavascriptLink
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

# Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
           "#000000")
DEFAULT_FIELDS = ("place", "country", "day", "category")
# 1e-5 degrees is about a metre: finer than any marker, and fits an int32.
SCALE = 100_000
_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?")
SHAPES = ("circle", "square", "diamond", "triangle")
# Markers this many screen pixels apart or closer share a cluster (the plugin's default).
RADIUS_PX = 60
# The deepest zoom the clusters are built for, when no tile layer gives the map its own.
MAX_ZOOM = 18
_JINJA_OPENERS = {"{{": "{\\u007b", "{%": "{\\u0025", "{#": "{\\u0023"}


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")


def _width(count: int) -> int:
    return 1 if count <= 1 << 8 else 2 if count <= 1 << 16 else 4


def _text(series: pd.Series) -> pd.Series:
    return series.astype("str").fillna("")


def _encode_column(name: str, label: str, values: pd.Series, *, table: bool,
                   show: bool = True) -> dict[str, object]:
    # A table pays off when values repeat (places, days, categories); titles rarely do.
    text = _text(values)
    codes, uniques = pd.factorize(text, sort=True)
    if not table and 2 * len(uniques) > len(text):
        return {"name": name, "label": label, "show": show, "list": text.tolist()}
    width = _width(len(uniques))
    dtype = {1: "<u1", 2: "<u2", 4: "<u4"}[width]
    return {"name": name, "label": label, "show": show, "values": [str(u) for u in uniques],
            "w": width, "idx": _b64(codes.astype(dtype))}


def _js_literal(payload: object) -> str:
    # The literal lands inside a <script>: no "</script>" and no JS-only line breaks. Nor any
    # Jinja delimiter: branca parses rendered fragments as templates again, where "{{ 7*7 }}"
    # in a title would run, and streamlit-folium rewrites "{{'name'}}". Compact JSON has "{"
    # followed by '"' or "}" only, so these pairs occur inside strings, where \\u escapes are
    # the same text.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    text = (text.replace("<", "\\u003c").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))
    for pair, escaped in _JINJA_OPENERS.items():
        text = text.replace(pair, escaped)
    return text


def encode_events(events: pd.DataFrame, *, fields: Sequence[str] = DEFAULT_FIELDS,
                  labels: Mapping[str, str] | None = None, title: str | None = None,
                  colour_by: str | None = "category",
                  colours: Mapping[str, str] | None = None,
                  shapes: Mapping[str, str] | None = None) -> dict[str, object]:
    """The compact, JSON-ready form of events with coordinates that ``EventCluster`` sends.

    Rows without both ``lat`` and ``lon`` are left out. ``fields`` are shown in tooltip and
    popup, in order, under ``labels`` (default: the column name, capitalized); ``title`` names
    a column shown first and used as each marker's accessible name (it costs its length per
    event). Markers take their colour and shape from their ``colour_by`` value.
    """
    missing = [c for c in ("id", "lat", "lon", *fields, *([title] if title else []),
                           *([colour_by] if colour_by else [])) if c not in events.columns]
    if missing:
        raise KeyError(f"events lack the columns {', '.join(map(repr, missing))}; "
                       "pass events as dashboard.formats.load_events returns them.")
    lat = pd.to_numeric(events["lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(events["lon"], errors="coerce").to_numpy(float)
    located = np.isfinite(lat) & np.isfinite(lon)
    # Not a copy of every column when all are located (a million events: 100s of MB).
    rows = events if located.all() else events.loc[located]
    coords = np.empty((len(rows), 2), dtype="<i4")
    coords[:, 0] = np.round(lat[located] * SCALE)
    coords[:, 1] = np.round(lon[located] * SCALE)

    ids = _text(rows["id"])
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise ValueError(f"event id {dup!r} occurs more than once; clicks could not tell the "
                         "events apart. Validate the file with dashboard.formats.load_events.")
    # One string split at spaces in the browser; validated ids (slugs) have no spaces.
    spaced = bool(ids.str.contains(" ", regex=False).any())
    id_payload: str | list[str] = ids.tolist() if spaced else " ".join(ids.tolist())

    labels = {name: name.replace("_", " ").capitalize() for name in events.columns} | dict(
        labels or {})
    columns = []
    if title:
        columns.append(_encode_column(title, labels[title], rows[title], table=False))
    for name in fields:
        columns.append(_encode_column(name, labels[name], rows[name], table=False))
    colour_column = -1
    palette: list[tuple[str, str]] = [(PALETTE[0], "circle")]
    if colour_by:
        coloured = _encode_column(colour_by, labels[colour_by], rows[colour_by], table=True,
                                  show=colour_by in fields)
        if colour_by in fields:
            columns[[c["name"] for c in columns].index(colour_by)] = coloured
        else:
            columns.append(coloured)
        colour_column = [c["name"] for c in columns].index(colour_by)
        chosen, formed = dict(colours or {}), dict(shapes or {})
        # Values without a chosen colour take the palette's colours that nobody chose.
        free = [c for c in PALETTE if c not in chosen.values()] or list(PALETTE)
        palette = []
        for value in coloured["values"]:
            colour = chosen.get(value) or free[len(palette) % len(free)]
            shape = formed.get(value, "circle")
            if not _COLOUR_RE.fullmatch(colour):
                raise ValueError(f"colour {colour!r} for {value!r} is not a hex colour; "
                                 "write it like '#0072B2'.")
            if shape not in SHAPES:
                raise ValueError(f"shape {shape!r} for {value!r} is not one of "
                                 f"{', '.join(SHAPES)}.")
            palette.append((colour, shape))
    return {"n": int(len(rows)), "ll": _b64(coords), "ids": id_payload,
            "title": 0 if title else -1, "cols": columns, "colour": colour_column,
            "palette": palette}


class _Verbatim(Element):
    """Rendered text that goes into the page as it is, never parsed as a template again."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:  # noqa: ARG002 (branca's signature)
        return self.text


class EventCluster(JSCSSMixin, Layer):
    """Events as clustered markers, built in the browser from compact arrays.

    Parameters
    ----------
    events : DataFrame with ``id``, ``lat``, ``lon`` and the ``fields`` columns.
    fields : columns shown in tooltip and popup, in this order.
    labels : column -> label shown in the popup (default: the column name, capitalized).
    title : a column shown first and used as each marker's accessible name; costs its text
        per event, so leave it out for very large data.
    colour_by, colours, shapes : the column that styles markers, value -> hex colour (values
        without one take the next unused colour of ``PALETTE``), and value -> shape (one of
        ``SHAPES``; default circle), so colour is not the only cue.
    popup : open a popup with the event's fields on click.
    options : extra Leaflet.markercluster options (``maxClusterRadius``, ...).

    Example
    -------
    >>> import folium, pandas as pd
    >>> events = pd.DataFrame({"id": ["a", "b"], "lat": [13.7, 4.7], "lon": [-89.2, -74.1],
    ...                        "place": ["San Salvador", "Bogotá"], "country": ["SV", "CO"],
    ...                        "day": ["2025-03-26", "2025-03-27"],
    ...                        "category": ["meeting", "visit"]})
    >>> layer = EventCluster(events).add_to(folium.Map())
    >>> layer.count
    2
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.evc-pin{background:none;border:none;}
.evc-pin span{position:relative;display:block;width:16px;height:16px;
 filter:drop-shadow(0 0 1px #fff) drop-shadow(0 0 1.5px rgba(0,0,0,.9));}
.evc-pin span::before{content:"";position:absolute;inset:2px;background:var(--c);}
.evc-circle span::before{border-radius:50%;}
.evc-square span::before{inset:3px;border-radius:2px;}
.evc-diamond span::before{inset:4px;transform:rotate(45deg);border-radius:1px;}
.evc-triangle span::before{inset:0;clip-path:polygon(50% 0,100% 92%,0 92%);}
.evc-pin:focus{outline:none;}
.evc-pin:focus-visible span{outline:3px solid #000;outline-offset:2px;border-radius:3px;}
.evc-tip .evc-title{font-weight:600;}
.evc-tip .evc-key{color:#555;}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map) {
    var d = {{ this.payload }};
    function bytes(b64) {
        var s = atob(b64), a = new Uint8Array(s.length);
        for (var i = 0; i < s.length; i++) { a[i] = s.charCodeAt(i); }
        return a.buffer;
    }
    var ll = new Int32Array(bytes(d.ll));
    var ids = typeof d.ids === "string" ? (d.n ? d.ids.split(" ") : []) : d.ids;
    var cols = d.cols.map(function (c) {
        if (c.list) { return c; }
        var b = bytes(c.idx);
        c.codes = c.w === 1 ? new Uint8Array(b) : c.w === 2 ? new Uint16Array(b)
                                                              : new Uint32Array(b);
        return c;
    });
    function value(c, i) { return c.list ? c.list[i] : c.values[c.codes[i]]; }
    function shown(i) {
        var out = [];
        cols.forEach(function (c, k) {
            if (c.show && k !== d.title && value(c, i) !== "") { out.push([c, value(c, i)]); }
        });
        return out;
    }
    function label(i) {
        if (d.title >= 0 && value(cols[d.title], i) !== "") { return value(cols[d.title], i); }
        return shown(i).map(function (p) { return p[1]; }).join(" · ");
    }
    // Text goes in through textContent only: event fields are data, never markup.
    function describe(layer, full) {
        var i = layer._evcRow, box = document.createElement("div");
        box.className = "evc-tip";
        function line(text, cls) {
            var el = document.createElement("div");
            if (cls) { el.className = cls; }
            el.textContent = text;
            box.appendChild(el);
            return el;
        }
        if (d.title >= 0) { line(value(cols[d.title], i), "evc-title"); }
        if (!full) {
            line(shown(i).map(function (p) { return p[1]; }).join(" · "));
            return box;
        }
        shown(i).forEach(function (p) {
            var el = line("");
            var key = document.createElement("span");
            key.className = "evc-key";
            key.textContent = p[0].label + ": ";
            el.appendChild(key);
            el.appendChild(document.createTextNode(p[1]));
        });
        line(ids[i], "evc-key");
        return box;
    }
    // Leaflet.markercluster adds markers one at a time, walking every zoom level for each:
    // about 10 s for 100,000 markers. tree() makes the same tree of clusters level by level
    // over typed arrays instead (greedy, as the plugin: each item not yet taken gathers the
    // items within the radius), then lets the plugin draw it: well under a second.
    // The numeric steps are small functions of their own so the JIT keeps them compiled.

    // Items at zoom 0 in tile units (Leaflet's spherical Mercator).
    function mercator(n) {
        var x = new Float64Array(n), y = new Float64Array(n);
        for (var k = 0; k < n; k++) {
            var lat = Math.max(Math.min(ll[2 * k] / {{ this.scale }}, 85.05), -85.05),
                s = Math.sin(lat * Math.PI / 180);
            x[k] = 0.5 + ll[2 * k + 1] / {{ this.scale }} / 360;
            y[k] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
        }
        return [x, y];
    }
    // Greedy clustering of m items at one zoom: seeds[] lists each group's first item, and
    // the group of seeds[g] is taken[first[g] .. first[g + 1]). Cells of the radius' size are
    // hashed into buckets of one array; taken items leave their bucket (swapped with its
    // last live item), so dense places are not scanned again and again.
    function gather(s, m, x, y, size, r) {
        var cell = size / r, r2 = r * r, mask = s.live.length - 1, k, j, h;
        var cx = s.cx, cy = s.cy, hash = s.hash, at = s.at, order = s.order, start = s.start,
            live = s.live, taken = s.taken, seeds = s.seeds, first = s.first;
        while (mask >= 4 * m + 32) { mask >>= 1; }  // about 2 buckets an item
        start.fill(0, 0, mask + 2);
        for (k = 0; k < m; k++) {
            cx[k] = Math.floor(x[k] * cell);
            cy[k] = Math.floor(y[k] * cell);
            h = hash[k] = (Math.imul(cx[k], 73856093) ^ Math.imul(cy[k], 19349663)) & mask;
            start[h + 1]++;
        }
        for (k = 0; k <= mask; k++) {
            live[k] = start[k + 1];
            start[k + 1] += start[k];
        }
        for (k = 0; k < m; k++) {
            h = hash[k];
            at[k] = start[h] + --live[h];
            order[at[k]] = k;
        }
        for (k = 0; k <= mask; k++) { live[k] = start[k + 1] - start[k]; }
        var groups = 0, count = 0;
        for (k = 0; k < m; k++) {
            if (at[k] >= start[hash[k]] + live[hash[k]]) { continue; }  // already taken
            seeds[groups] = k;
            first[groups++] = count;
            for (var a = cx[k] - 1; a <= cx[k] + 1; a++) {
                for (var b = cy[k] - 1; b <= cy[k] + 1; b++) {
                    h = (Math.imul(a, 73856093) ^ Math.imul(b, 19349663)) & mask;
                    for (j = start[h]; j < start[h] + live[h];) {
                        var o = order[j], dx = (x[o] - x[k]) * size, dy = (y[o] - y[k]) * size;
                        if (cx[o] === a && cy[o] === b && dx * dx + dy * dy <= r2) {
                            // Take o: the bucket's last live item moves to j, look again.
                            var last = start[h] + --live[h], other = order[last];
                            order[j] = other;
                            at[other] = j;
                            order[last] = o;
                            at[o] = last;
                            taken[count++] = o;
                        } else {
                            j++;
                        }
                    }
                }
            }
        }
        first[groups] = count;
        return groups;
    }
    // Group g of the next level holds items taken[from .. to) of this one (columns a, b as in
    // tree()): its events, bounds and weighted centre, summed as the plugin's
    // _recalculateBounds does (markers first, then clusters, in order).
    function sums(a, b, taken, from, to, g) {
        var total = 0, latSum = 0, lngSum = 0, so = Infinity, no = -Infinity, we = Infinity,
            ea = -Infinity, j, o;
        for (j = from; j < to; j++) {
            o = taken[j];
            total += a.count[o];
            if (a.south[o] < so) { so = a.south[o]; }
            if (a.north[o] > no) { no = a.north[o]; }
            if (a.west[o] < we) { we = a.west[o]; }
            if (a.east[o] > ea) { ea = a.east[o]; }
            if (!a.cluster[o]) {
                latSum += a.lat[o];
                lngSum += a.lng[o];
            }
        }
        for (j = from; j < to; j++) {
            o = taken[j];
            if (a.cluster[o]) {
                latSum += a.lat[o] * a.count[o];
                lngSum += a.lng[o] * a.count[o];
            }
        }
        b.cluster[g] = 1;
        b.count[g] = total;
        b.lat[g] = latSum / total;
        b.lng[g] = lngSum / total;
        b.south[g] = so;
        b.north[g] = no;
        b.west[g] = we;
        b.east[g] = ea;
    }
    // The plugin's tree, level by level; returns the top level's nodes, or null when the
    // plugin is not the version this is written for. Each cluster's bounds and weighted centre
    // are worked out here too, over typed arrays and in the plugin's own order of sums
    // (markers, then clusters), instead of by the plugin's recursive _recalculateBounds.
    function tree(group, markers) {
        var top = group._topClusterLevel, Cluster = group._markerCluster, gmap = group._map;
        if (!top || !Cluster || !top._addChild || typeof group._maxZoom !== "number"
            || !gmap || group._needsClustering.length || top._childCount) { return null; }
        var radius = group.options.maxClusterRadius, minZoom = Math.floor(gmap.getMinZoom());
        var n = markers.length, xy = mercator(n), nodes = markers;
        var bits = Math.max(4, Math.ceil(Math.log2(2 * n + 16))), s = {
            cx: new Int32Array(n), cy: new Int32Array(n), hash: new Int32Array(n),
            at: new Int32Array(n), order: new Int32Array(n), taken: new Int32Array(n),
            seeds: new Int32Array(n), first: new Int32Array(n + 1),
            start: new Int32Array((1 << bits) + 1), live: new Int32Array(1 << bits)};
        // Two sets of per-node columns, this level's and the next one's, swapped each level:
        // position at zoom 0, whether a cluster, events held, weighted centre and bounds.
        function columns() {
            var f = function () { return new Float64Array(n); };
            return {x: f(), y: f(), cluster: new Uint8Array(n), count: f(), lat: f(), lng: f(),
                    south: f(), north: f(), west: f(), east: f()};
        }
        var a = columns(), b = columns(), swap;
        a.x = xy[0];
        a.y = xy[1];
        for (var i = 0; i < n; i++) {
            // As the markers' own LatLngs, so the sums are the plugin's to the last bit.
            a.lat[i] = a.south[i] = a.north[i] = markers[i]._latlng.lat;
            a.lng[i] = a.west[i] = a.east[i] = markers[i]._latlng.lng;
            a.count[i] = 1;
        }
        for (var z = group._maxZoom; z >= minZoom; z--) {
            var r = typeof radius === "function" ? radius(z) : radius;
            var groups = gather(s, nodes.length, a.x, a.y, 256 * Math.pow(2, z), r);
            var next = new Array(groups);
            for (var g = 0; g < groups; g++) {
                var k = s.seeds[g], from = s.first[g], to = s.first[g + 1];
                b.x[g] = a.x[k];
                b.y[g] = a.y[k];
                if (to - from === 1 && !a.cluster[k]) {
                    next[g] = nodes[k];  // a lone marker waits for a lower zoom
                    b.cluster[g] = 0;
                    b.count[g] = 1;
                    b.lat[g] = b.south[g] = b.north[g] = a.lat[k];
                    b.lng[g] = b.west[g] = b.east[g] = a.lng[k];
                    continue;
                }
                // A cluster is at every zoom it spans, alone or not; the seed comes first
                // (taken first), so it sets the cluster's centre as in the plugin.
                sums(a, b, s.taken, from, to, g);
                var c = new Cluster(group, z);
                for (var j = from; j < to; j++) {
                    var child = nodes[s.taken[j]];
                    c._addChild(child);
                    child.__parent = c;
                }
                c._bounds._southWest = new L.LatLng(b.south[g], b.west[g]);
                c._bounds._northEast = new L.LatLng(b.north[g], b.east[g]);
                c._latlng = c._wLatLng = new L.LatLng(b.lat[g], b.lng[g]);
                c._boundsNeedUpdate = false;
                next[g] = c;
            }
            nodes = next;
            swap = a;
            a = b;
            b = swap;
        }
        return nodes;
    }
    // Hands the plugin the tree's top level and draws the clusters of the current view.
    function draw(group, nodes) {
        var top = group._topClusterLevel;
        for (var t = 0; t < nodes.length; t++) {
            top._addChild(nodes[t]);
            nodes[t].__parent = top;
        }
        top._recalculateBounds();  // the top level only: every cluster below is up to date
        group._refreshClustersIcons();
        top._recursivelyAddChildrenToMap(null, group._zoom, group._currentShownBounds);
    }
    // Colours and shapes were checked in Python against fixed patterns.
    var icons = d.palette.map(function (style) {
        return L.divIcon({className: "evc-pin evc-" + style[1],
                          html: '<span style="--c:' + style[0] + '"></span>', iconSize: [16, 16]});
    });
    var tint = d.colour >= 0 ? cols[d.colour].codes : null;
    // One marker class per style, its options on the prototype: 100,000 markers share them.
    // The accessible name is worked out when a marker is first drawn, not for every event.
    var Pin = L.Marker.extend({
        options: {keyboard: true, riseOnHover: true},
        _initIcon: function () {
            if (!this.options.title) {
                this.options.title = this.options.alt = label(this._evcRow);
            }
            L.Marker.prototype._initIcon.call(this);
        }
    });
    // Leaflet's toGeoJSON keeps .feature: streamlit-folium reports it on click.
    Object.defineProperty(Pin.prototype, "feature", {get: function () {
        return {type: "Feature", properties: {id: ids[this._evcRow]}};
    }});
    var pins = icons.map(function (icon) { return Pin.extend({options: {icon: icon}}); });
    var markers = new Array(d.n);
    for (var i = 0; i < d.n; i++) {
        var m = new pins[tint ? tint[i] : 0](
            [ll[2 * i] / {{ this.scale }}, ll[2 * i + 1] / {{ this.scale }}]);
        m._evcRow = i;
        markers[i] = m;
    }
    // The plugin needs the map's maximum zoom; a map without tile layers has none yet.
    if (map.getMaxZoom() === Infinity) { map.setMaxZoom({{ this.max_zoom }}); }
    var group = L.markerClusterGroup({{ this.options|tojavascript }});
    group.bindTooltip(function (layer) { return describe(layer, false); },
                      {direction: "top", offset: [0, -8]});
    {%- if this.popup %}
    group.bindPopup(function (layer) { return describe(layer, true); });
    // The popup says all the tooltip says, and more: one box at a time.
    group.on("popupopen", function () { group.closeTooltip(); });
    {%- endif %}
    // Enter or Space on a focused marker clicks it, as on any button (Leaflet alone only
    // opens the popup on Enter, which streamlit-folium does not hear).
    group.on("keydown", function (e) {
        var key = e.originalEvent.key;
        if ((key === "Enter" || key === " ") && e.layer && e.layer.feature) {
            L.DomEvent.preventDefault(e.originalEvent);  // and so no keypress follows
            e.layer.fire("click", {latlng: e.layer.getLatLng(),
                                   originalEvent: e.originalEvent}, true);
        }
    });
    map.addLayer(group);
    // After the rest of the page's script has fitted the map to the events. With tiles that
    // is an animated zoom: the tree is built while it runs, and the clusters are drawn once
    // it has ended (the plugin's zoomend handler first sets its zoom), once, at that zoom.
    setTimeout(function () {
        var began = Date.now(), nodes = tree(group, markers);
        function fill() {
            if (nodes) { draw(group, nodes); } else { group.addLayers(markers); }
        }
        if (!map._animatingZoom) {
            fill();
            return;
        }
        map.once("zoomend", fill);
        // A tree that took longer than the zoom's 0.25 s transition: end the zoom now, so the
        // clusters come before whatever else queued up meanwhile (on a Streamlit page, the
        // rest of the page, which shares this thread), not after it.
        if (Date.now() - began >= 250 && map._onZoomTransitionEnd) { map._onZoomTransitionEnd(); }
    }, 0);
    return group;
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    # The same link names as folium.plugins.MarkerCluster, so a table that maps those names to
    # locally served files (dashboard.assets) serves this layer too.
    default_js = list(MarkerCluster.default_js)
    default_css = list(MarkerCluster.default_css)

    def __init__(self, events: pd.DataFrame, *, fields: Sequence[str] = DEFAULT_FIELDS,
                 labels: Mapping[str, str] | None = None, title: str | None = None,
                 colour_by: str | None = "category", colours: Mapping[str, str] | None = None,
                 shapes: Mapping[str, str] | None = None, popup: bool = True,
                 name: str | None = "Events", control: bool = True,
                 options: Mapping[str, object] | None = None):
        super().__init__(name=name, overlay=True, control=control, show=True)
        self._name = "EventCluster"
        self.data = encode_events(events, fields=fields, labels=labels, title=title,
                                  colour_by=colour_by, colours=colours, shapes=shapes)
        self.payload = _js_literal(self.data)
        self.count = int(self.data["n"])
        self.scale = SCALE
        self.popup = popup
        self.max_zoom = MAX_ZOOM
        # chunkedLoading keeps the page responsive if the plugin's addLayers has to do the work
        # (its internals are not those of version 1.4, which the script builds the tree for).
        self.options = {"chunkedLoading": True, "showCoverageOnHover": False,
                        "maxClusterRadius": RADIUS_PX, **dict(options or {})}
        located = events.loc[pd.to_numeric(events["lat"], errors="coerce").notna()
                             & pd.to_numeric(events["lon"], errors="coerce").notna()]
        lat = pd.to_numeric(located["lat"]).to_numpy(float)
        lon = pd.to_numeric(located["lon"]).to_numpy(float)
        self._bounds = ([[float(lat.min()), float(lon.min())],
                         [float(lat.max()), float(lon.max())]] if len(lat)
                        else [[None, None], [None, None]])

    def _get_self_bounds(self) -> list[list[float | None]]:
        return self._bounds

    def render(self, **kwargs) -> None:
        """Add links, style and script to the figure.

        branca's MacroElement.render wraps each rendered fragment in a new Element, which
        compiles it as a Jinja template: megabytes of data lexed on every render, and event
        text read as template code. The fragments go in verbatim here instead. The script
        adds the layer to its map itself, so Layer.render's extra add statement is not needed.
        """
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        module = self._template.module
        figure.header.add_child(_Verbatim(module.header(self, kwargs)), name=self.get_name())
        figure.script.add_child(_Verbatim(module.script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)
