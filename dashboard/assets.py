"""Leaflet and its plugins, served by the app itself instead of folium's CDN links.

The files come from the XStatic packages on PyPI. ``install`` copies them under
``dashboard/static/vendor/<package>-<version>/``, which Streamlit serves at
``/app/static/vendor/...`` (``server.enableStaticServing`` in ``dashboard/.streamlit/config.toml``).
``localize`` rewrites a folium map's script and style links to those URLs.

To use another folium plugin, add its link names (the first item of the plugin class's
``default_js`` / ``default_css`` pairs) to ``ASSETS``, with the XStatic package that ships the file.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import branca
import folium
import folium.elements

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
URL_ROOT = "/app/static/vendor"


@dataclass(frozen=True)
class Asset:
    """One file of an XStatic package."""

    package: str  # importable module, e.g. "xstatic.pkg.leaflet"
    file: str  # path inside the package's BASE_DIR

    def folder(self) -> str:
        """The versioned folder name, e.g. 'leaflet-1.9.3'."""
        module = importlib.import_module(self.package)
        return f"{module.NAME}-{module.VERSION}"

    def source(self) -> Path:
        """Where the file is in the installed package."""
        return Path(importlib.import_module(self.package).BASE_DIR) / self.file

    def url(self, root: str = URL_ROOT) -> str:
        """Where the app serves the file."""
        return f"{root}/{self.folder()}/{self.file}"


_LEAFLET = "xstatic.pkg.leaflet"
_CLUSTER = "xstatic.pkg.leaflet_markercluster"

# folium link name -> the local file, or None for links our maps do not use and drop.
# folium.Map lists jQuery, Bootstrap and awesome-markers for folium.Icon; our markers are
# DivIcons and circles, so they are dropped rather than served (streamlit-folium stops
# loading scripts at the first one that fails).
ASSETS: dict[str, Asset | None] = {
    "leaflet": Asset(_LEAFLET, "leaflet.js"),
    "leaflet_css": Asset(_LEAFLET, "leaflet.css"),
    "markerclusterjs": Asset(_CLUSTER, "leaflet.markercluster.js"),
    "markerclustercss": Asset(_CLUSTER, "MarkerCluster.css"),
    "markerclusterdefaultcss": Asset(_CLUSTER, "MarkerCluster.Default.css"),
    "jquery": None,
    "bootstrap": None,
    "awesome_markers": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
}


class UnknownAssetError(KeyError):
    """A map element links a file that ASSETS does not know, so it would come from a CDN."""


def packages() -> list[str]:
    """The XStatic packages that ASSETS uses."""
    return sorted({a.package for a in ASSETS.values() if a is not None})


def install(vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy each package's files to vendor_dir/<name>-<version>/; return the folders.

    Idempotent, and safe when several processes start at once: each folder is copied to a
    temporary name first and renamed into place. Files are copied, not linked, because
    Streamlit refuses to serve a static path that resolves outside its static folder.
    """
    vendor_dir.mkdir(parents=True, exist_ok=True)
    folders = []
    for package in packages():
        module = importlib.import_module(package)
        target = vendor_dir / f"{module.NAME}-{module.VERSION}"
        folders.append(target)
        if target.is_dir():
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=vendor_dir))
        try:
            shutil.copytree(module.BASE_DIR, tmp, dirs_exist_ok=True)
            try:
                os.rename(tmp, target)
            except OSError:
                if not target.is_dir():  # another process did not win the race: a real error
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folders


def _elements(root: branca.element.Element) -> Iterator[branca.element.Element]:
    yield root
    for child in root._children.values():
        yield from _elements(child)


def localize(m: folium.Map, root: str = URL_ROOT) -> folium.Map:
    """Point every script and style link of the map's elements at the local copies.

    Each element gets its own lists, so folium's class-level defaults stay untouched.
    Raises UnknownAssetError naming the link when an element needs a file ASSETS lacks.
    """
    for element in _elements(m):
        if not isinstance(element, folium.elements.JSCSSMixin):
            continue
        for attr in ("default_js", "default_css"):
            links = []
            for name, url in getattr(element, attr):
                if name not in ASSETS:
                    raise UnknownAssetError(
                        f"{type(element).__name__} needs {name!r} ({url}); add it to "
                        "dashboard.assets.ASSETS with the XStatic package that ships it, so "
                        "the page does not depend on a CDN.")
                asset = ASSETS[name]
                if asset is not None:
                    links.append((name, asset.url(root)))
            setattr(element, attr, links)
    return m


def links(m: folium.Map) -> list[str]:
    """Every script and style URL the map's elements will load, in order."""
    found = []
    for element in _elements(m):
        if isinstance(element, folium.elements.JSCSSMixin):
            found += [url for _, url in (*element.default_js, *element.default_css)]
    return list(dict.fromkeys(found))


def leaflet_images_url(root: str = URL_ROOT) -> str:
    """Folder of Leaflet's default marker images, for L.Icon.Default.imagePath."""
    leaflet = ASSETS["leaflet"]
    assert leaflet is not None
    return f"{root}/{leaflet.folder()}/images/"
