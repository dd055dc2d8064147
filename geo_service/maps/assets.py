"""Local copies of every script, style sheet and image the maps need.

folium 0.20 links Leaflet, jQuery, Bootstrap, Font Awesome, Leaflet.awesome-markers and its
plugins from public CDNs. The police intranet has no internet, so every rendered page is
post-processed: each CDN URL is replaced by the vendored copy under the top-level ``maps/``
folder, served by the web layer under a prefix (``assets_url``, default ``/maps/``). A page
that still names an unmapped ``http(s)`` URL (other than the tile URL template) is refused.
See ``maps/README.md`` for versions and licences, ``scripts/fetch_map_assets.sh`` for provenance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from geo_service.errors import GeoServiceError

#: The top-level ``maps/`` folder of the repository (served as static files).
ASSETS_DIR = Path(__file__).resolve().parents[2] / "maps"

#: Default URL prefix under which the web layer serves ``ASSETS_DIR``.
DEFAULT_ASSETS_URL = "/maps/"

#: Our own helpers (text-only labels, GeoJSON loading); relative to ``ASSETS_DIR``.
GEO_SERVICE_JS = "geo_service/layers.js"
GEO_SERVICE_CSS = "geo_service/layers.css"
#: The offline reference map drawn on canvas tiles.
BASEMAP_JS = "geo_service/basemap.js"

# CDN URL as folium 0.20.0 writes it -> file under maps/ (same package and version).
_CDN_TO_LOCAL: dict[str, str] = {
    # folium.Map default_js / default_css
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        "bootstrap-5.2.2/js/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css":
        "bootstrap-5.2.2/css/bootstrap.min.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css":
        "bootstrap-glyphicons-3.4.1/css/bootstrap-glyphicons.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "fontawesome-free-6.2.0/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        "folium-0.20.0/leaflet.awesome.rotate.css",
    # plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen-3.0.0/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen-3.0.0/Control.FullScreen.css",
    # plugins.MeasureControl
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js":
        "leaflet-measure-2.1.7/leaflet-measure.min.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css":
        "leaflet-measure-2.1.7/leaflet-measure.css",
    # plugins.MousePosition
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.js":
        "leaflet-mouse-position-1.2.0/L.Control.MousePosition.js",
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.css":
        "leaflet-mouse-position-1.2.0/L.Control.MousePosition.css",
    # plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
    # plugins.HeatMap (folium's patched copy of Leaflet.heat 0.2.0)
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js":
        "folium-0.20.0/leaflet_heat.min.js",
}

# Text in folium's templates that names a URL without loading it (a JS comment).
_TEXT_REPLACEMENTS: dict[str, str] = {
    "// https://github.com/ljagis/leaflet-measure/issues/171": "// see leaflet-measure issue 171",
}

_URL_RE = re.compile(r"""https?://[^\s"'`<>()\\]+""", re.IGNORECASE)


def asset_manifest() -> dict[str, str]:
    """Map each CDN URL that folium writes to the local file (relative to ``maps/``) replacing it."""
    return dict(_CDN_TO_LOCAL)


def asset_url(relative_path: str, assets_url: str = DEFAULT_ASSETS_URL) -> str:
    """URL of a file under ``maps/`` when the folder is served at ``assets_url``."""
    return _prefix(assets_url) + relative_path


def _prefix(assets_url: str) -> str:
    return assets_url if assets_url.endswith("/") else assets_url + "/"


def external_urls(html: str, allowed: Iterable[str] = ()) -> list[str]:
    """Every ``http(s)`` URL in ``html`` that is not in ``allowed``, in order of appearance.

    JSON escapes of ``&`` (``\\u0026``) and HTML ``&amp;`` are undone first, so an allowed
    tile URL with a query string still matches.
    """
    allowed_set = set(allowed)
    text = html.replace("\\u0026", "&").replace("&amp;", "&").replace("\\/", "/")
    found: list[str] = []
    for match in _URL_RE.finditer(text):
        url = match.group(0)
        if url in allowed_set:
            continue
        found.append(url)
    return found


def localize_html(html: str, *, assets_url: str = DEFAULT_ASSETS_URL, allowed: Iterable[str] = ()) -> str:
    """Replace every CDN URL by its local copy under ``assets_url``; refuse leftovers.

    Raises
    ------
    GeoServiceError
        (code ``MAP_ASSET_MISSING``) when an ``http(s)`` URL outside ``allowed`` remains: a
        folium element whose files we do not vendor was used.
    """
    prefix = _prefix(assets_url)
    for cdn_url, relative in _CDN_TO_LOCAL.items():
        html = html.replace(cdn_url, prefix + relative)
    for old, new in _TEXT_REPLACEMENTS.items():
        html = html.replace(old, new)
    leftovers = external_urls(html, allowed)
    if leftovers:
        raise GeoServiceError(
            "map page would load files from outside the service: " + ", ".join(sorted(set(leftovers))),
            code="MAP_ASSET_MISSING",
        )
    return html


def referenced_assets(html: str, assets_url: str = DEFAULT_ASSETS_URL) -> list[str]:
    """Paths (relative to ``maps/``) of the local files that ``html`` links under ``assets_url``."""
    prefix = re.escape(_prefix(assets_url))
    return re.findall(prefix + r"""([^"'\s?#]+)""", html)
