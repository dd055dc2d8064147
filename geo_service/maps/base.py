"""Building blocks shared by the map pages: the one lon/lat swap, labels, safe text elements.

Conventions
-----------
* Inside geo_service every coordinate is ``(lon, lat)``. Leaflet and folium want
  ``[lat, lon]``; :func:`latlon` is the only place that swaps, and every folium call in this
  package takes its location from it. GeoJSON is handed to Leaflet as GeoJSON (lon, lat).
* Text that may come from an uploaded file or a user (unit, station and incident names,
  messages) never goes through folium's ``Tooltip``/``Popup``: folium 0.20 pastes the text
  into a JavaScript template literal (``Tooltip`` unescaped, ``Popup`` HTML-escaped but not
  for backticks or ``${``). It goes instead as JSON data (``tojson`` escapes ``<``, ``>``,
  ``&`` and ``'``) to ``maps/geo_service/layers.js``, which builds the DOM with
  ``textContent``.
* Layer names shown in the layer control are our own labels only (Leaflet renders them as HTML).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium import plugins
from folium.map import Layer
from folium.template import Template
from shapely.geometry import mapping, shape

from geo_service.errors import InvalidInput
from geo_service.maps.assets import (
    BASEMAP_JS,
    DEFAULT_ASSETS_URL,
    GEO_SERVICE_CSS,
    GEO_SERVICE_JS,
    asset_url,
    localize_html,
)
from geo_service.translations import LANGUAGES, N_, gettext

#: Default tile template and its attribution (plain text: no outbound link on the intranet).
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Bali as ``(min_lon, min_lat, max_lon, max_lat)``: the view when nothing else is known.
BALI_BOUNDS = (114.40, -8.88, 115.75, -8.03)

#: Tiles of the offline reference map (served by the web layer, see geo_service/geo/basemap.py).
BASEMAP_URL = "/basemap/{z}/{x}/{y}.json"

#: Display simplification of inlined polygons, in degrees (~20 m at Bali's latitude).
DISPLAY_TOLERANCE_DEG = 0.0002

#: Decimals kept for inlined coordinates (~0.1 m).
COORD_DECIMALS = 6

LANGS = LANGUAGES

#: Label key -> message id (English); the catalogs in geo_service/translations hold every language.
LABELS: dict[str, str] = {
    "base_map": N_("Base map"),
    "units": N_("Jurisdictions"),
    "code": N_("Code"),
    "name": N_("Name"),
    "level": N_("Level"),
    "parent_code": N_("Parent"),
    "layer_error": N_("The jurisdiction layer could not be loaded."),
    "point": N_("Incident point"),
    "point_corrected": N_("Incident point (corrected)"),
    "original": N_("Original coordinate"),
    "correction": N_("Coordinate correction"),
    "reasons": N_("Reasons"),
    "uncertainty": N_("Uncertainty"),
    "uncertainty_layer": N_("Uncertainty circle"),
    "responsible": N_("Responsible Polsek"),
    "neighbours": N_("Neighbouring units (border)"),
    "stations": N_("Nearest police stations"),
    "station": N_("Police station"),
    "distance": N_("Distance"),
    "sample": N_("SAMPLE (contoh) — not real data"),
    "status": N_("Status"),
    "match": N_("Match"),
    "candidates": N_("Candidates"),
    "share": N_("share"),
    "no_point": N_("No point to show."),
    "fullscreen": N_("Full screen"),
    "fullscreen_exit": N_("Exit full screen"),
    "mouse_prefix": N_("Lat, Lon:"),
    "mouse_empty": "—",
    "problems": N_("Boundary problems"),
    "problem_points": N_("Problem locations"),
    "severity": N_("Severity"),
    "message": N_("Message"),
    "report": N_("Check report"),
    "items": N_("findings"),
    "diff": N_("Boundary changes"),
    "change": N_("Change"),
    "incidents": N_("Incidents"),
    "heat": N_("Density (heat map)"),
    "category": N_("Category"),
    "reported_at": N_("Reported"),
    "id": "ID",
    "legend": N_("Legend"),
    "cluster_note": N_("Cluster colour = most urgent status inside"),
    "unit_type": N_("Unit type"),
    "special_area": N_("Special area (airport, port or sea sector)"),
    "approximate_area": N_("approximate area, not a surveyed boundary"),
    "set_in_force": N_("Set {id} (in force since {date})"),
}


def labels(lang: str) -> dict[str, str]:
    """The label table for ``lang`` ("id" or "en"), from the gettext catalogs."""
    if lang not in LANGS:
        raise InvalidInput(f"lang must be one of {', '.join(LANGS)}", code="UNKNOWN_LANG")
    return {key: gettext(lang, msgid) for key, msgid in LABELS.items()}


def latlon(lon: float, lat: float) -> list[float]:
    """The one place where ``(lon, lat)`` becomes Leaflet's ``[lat, lon]``."""
    return [float(lat), float(lon)]


def bounds_latlon(bounds: Sequence[float]) -> list[list[float]]:
    """``(min_lon, min_lat, max_lon, max_lat)`` as Leaflet ``[[south, west], [north, east]]``."""
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in bounds)
    return [latlon(min_lon, min_lat), latlon(max_lon, max_lat)]


def bounds_of_points(points: Iterable[tuple[float, float]], pad_deg: float = 0.0) -> tuple[float, ...] | None:
    """Bounding box ``(min_lon, min_lat, max_lon, max_lat)`` of ``(lon, lat)`` points, or None."""
    pts = [(lon, lat) for lon, lat in points if math.isfinite(lon) and math.isfinite(lat)]
    if not pts:
        return None
    lons = [p[0] for p in pts]
    lats = [p[1] for p in pts]
    return (min(lons) - pad_deg, min(lats) - pad_deg, max(lons) + pad_deg, max(lats) + pad_deg)


def union_bounds(*boxes: Sequence[float] | None) -> tuple[float, ...] | None:
    """Smallest box holding every given ``(min_lon, min_lat, max_lon, max_lat)`` box."""
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return (
        min(b[0] for b in real),
        min(b[1] for b in real),
        max(b[2] for b in real),
        max(b[3] for b in real),
    )


def format_distance(distance_m: float | None, lang: str) -> str:
    """``850 m`` or ``1,2 km`` (Indonesian decimal comma) / ``1.2 km``."""
    if distance_m is None:
        return "—"
    if distance_m < 1000:
        return f"{round(distance_m):d} m"
    text = f"{distance_m / 1000:.1f} km"
    return text.replace(".", ",") if lang == "id" else text


def format_share(share: float | None) -> str:
    """A 0..1 share as a whole percentage."""
    return "—" if share is None else f"{round(float(share) * 100):d}%"


def name_of(value: Any) -> str:
    """Display text of a unit given as a ``{"code","name"}`` dict, or as a plain string."""
    if isinstance(value, dict):
        name = value.get("name")
        code = value.get("code")
        if name and code:
            return f"{name} ({code})"
        return str(name or code or "—")
    return "—" if value is None else str(value)


# --- GeoJSON preparation -------------------------------------------------------------------

def _round_coords(obj: Any, ndigits: int = COORD_DECIMALS) -> Any:
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v, ndigits) for v in obj]
    return obj


def _simplify_geometry(geometry: dict[str, Any] | None, tolerance_deg: float) -> dict[str, Any] | None:
    if not geometry:
        return None
    geom = shape(geometry)
    if tolerance_deg > 0 and geom.geom_type not in ("Point", "MultiPoint"):
        simplified = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
        if not simplified.is_empty:
            geom = simplified
    out = dict(mapping(geom))
    out["coordinates"] = _round_coords(out.get("coordinates"))
    return out


def simplify_geojson(obj: dict[str, Any] | None, tolerance_deg: float = DISPLAY_TOLERANCE_DEG) -> dict[str, Any]:
    """A FeatureCollection for display: simplified (topology kept), coordinates rounded.

    Accepts a FeatureCollection, a Feature or a bare geometry; properties are kept as they are
    (they are escaped in the browser, not here).
    """
    if not obj:
        return {"type": "FeatureCollection", "features": []}
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features") or []
    elif kind == "Feature":
        features = [obj]
    else:
        features = [{"type": "Feature", "properties": {}, "geometry": obj}]
    out = []
    for feature in features:
        out.append(
            {
                "type": "Feature",
                "properties": dict(feature.get("properties") or {}),
                "geometry": _simplify_geometry(feature.get("geometry"), tolerance_deg),
            }
        )
    return {"type": "FeatureCollection", "features": out}


def geojson_bounds(obj: dict[str, Any] | None) -> tuple[float, ...] | None:
    """``(min_lon, min_lat, max_lon, max_lat)`` of a FeatureCollection, or None when empty."""
    if not obj:
        return None
    geoms = [shape(f["geometry"]) for f in obj.get("features", []) if f.get("geometry")]
    geoms = [g for g in geoms if not g.is_empty]
    if not geoms:
        return None
    return tuple(float(v) for v in shapely.total_bounds(geoms))


# --- elements ------------------------------------------------------------------------------

class _LocalAssets(MacroElement):
    """Links our helper script and style sheet (served from ``assets_url``) into the header."""

    def __init__(self, assets_url: str) -> None:
        super().__init__()
        self._name = "GeoServiceAssets"
        self.assets_url = assets_url

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.header.add_child(
            JavascriptLink(asset_url(GEO_SERVICE_JS, self.assets_url)), name="geo_service_js"
        )
        figure.header.add_child(CssLink(asset_url(GEO_SERVICE_CSS, self.assets_url)), name="geo_service_css")
        figure.header.add_child(JavascriptLink(asset_url(BASEMAP_JS, self.assets_url)), name="geo_service_basemap")
        return super().render(**kwargs)


class ReferenceMap(MacroElement):
    """The offline reference map (``maps/geo_service/basemap.js``): outlines and names drawn from
    ``/basemap/{z}/{x}/{y}.json``, at once when ``tiles`` is None, else when the tiles fail to load."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoServiceBasemap.attach({{ this._parent.get_name() }},
                {{ this.tiles.get_name() if this.tiles is not none else "null" }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, tiles: Layer | None) -> None:
        super().__init__()
        self._name = "ReferenceMap"
        self.tiles = tiles
        self.options = {"url": url}


class GeoJsonLayer(Layer):
    """A GeoJSON overlay, fetched from ``url`` at page load or inlined from ``data``.

    ``options`` go to ``GeoServiceMaps.geoJsonOptions`` in ``maps/geo_service/layers.js``:
    ``style``, ``styleField`` + ``styles`` (per property value), ``titleField``, ``fields``
    (``[[property, label], ...]``), ``valueLabels``, ``popup``, ``fit``, ``errorText``.
    Must be added to the map itself.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }}_options = {{ this.options|tojson }};
            var {{ this.get_name() }} = L.geoJSON(null, GeoServiceMaps.geoJsonOptions({{ this.get_name() }}_options));
            {% if this.url is not none %}
            GeoServiceMaps.loadGeoJson({{ this.get_name() }}, {{ this._parent.get_name() }},
                {{ this.url|tojson }}, {{ this.get_name() }}_options);
            {% else %}
            GeoServiceMaps.addGeoJson({{ this.get_name() }}, {{ this._parent.get_name() }},
                {{ this.data|tojson }}, {{ this.get_name() }}_options);
            {% endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        name: str,
        options: dict[str, Any],
        url: str | None = None,
        data: dict[str, Any] | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoServiceGeoJson"
        if (url is None) == (data is None):
            raise ValueError("give exactly one of url and data")
        self.url = url
        self.data = data
        self.options = options


class SafeText(MacroElement):
    """Binds a text-only popup or tooltip (lines of text) to the parent layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoServiceMaps.bindText({{ this._parent.get_name() }}, {{ this.lines|tojson }},
                {{ this.kind|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, lines: list[Any], kind: str = "popup", options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._name = "SafeText"
        self.lines = lines
        self.kind = kind
        self.options = options or {}


class InfoBox(MacroElement):
    """A fixed box of text lines on the map (legend, summary, notices)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoServiceMaps.infoControl({{ this._parent.get_name() }}, {{ this.lines|tojson }},
                {{ this.position|tojson }}, {{ this.class_name|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, lines: list[Any], position: str = "bottomleft", class_name: str = "") -> None:
        super().__init__()
        self._name = "InfoBox"
        self.lines = lines
        self.position = position
        self.class_name = class_name


class PointSet(MacroElement):
    """Many circle markers from one JSON array (compact for hundreds of incidents).

    Each point is ``{"latlng": [lat, lon], "color", "radius", "lines"}``; build it with
    :func:`point_entry` so the coordinate order comes from :func:`latlon`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoServiceMaps.addPoints({{ this._parent.get_name() }}, {{ this.points|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, points: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "PointSet"
        self.points = points


def point_entry(
    lon: float, lat: float, *, color: str, lines: list[Any], radius: int = 7, rank: int = 0
) -> dict[str, Any]:
    """One :class:`PointSet` entry for ``(lon, lat)``; ``rank`` orders urgency in clusters."""
    return {"latlng": latlon(lon, lat), "color": color, "radius": radius, "lines": lines, "rank": rank}


def add_text(element: Element, lines: list[Any], *, tooltip: bool = True) -> Element:
    """Give ``element`` a text-only popup and, unless disabled, a one-line tooltip."""
    element.add_child(SafeText(lines, "popup"))
    if tooltip and lines:
        element.add_child(SafeText([lines[0]], "tooltip"))
    return element


# --- map frame -----------------------------------------------------------------------------

def new_map(
    *,
    tile_url: str | None,
    assets_url: str,
    lang: str,
    center: tuple[float, float] | None = None,
    zoom: int = 11,
    attribution: str | None = None,
    controls: bool = True,
    basemap_url: str | None = BASEMAP_URL,
) -> folium.Map:
    """A folium map with our assets, a tile layer from ``tile_url`` (none when empty), the
    offline reference map from ``basemap_url`` (shown when there are no tiles or they fail) and,
    with ``controls``, Fullscreen and MousePosition (no MeasureControl: it needs eval)."""
    text = labels(lang)
    lon, lat = center if center is not None else (
        (BALI_BOUNDS[0] + BALI_BOUNDS[2]) / 2,
        (BALI_BOUNDS[1] + BALI_BOUNDS[3]) / 2,
    )
    fmap = folium.Map(
        location=latlon(lon, lat),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
    )
    fmap.add_child(_LocalAssets(assets_url or DEFAULT_ASSETS_URL), name="geo_service_assets")
    tiles = None
    if tile_url:
        tiles = folium.TileLayer(
            tiles=tile_url,
            attr=attribution or (OSM_ATTRIBUTION if "openstreetmap" in tile_url else text["base_map"]),
            name=text["base_map"],
            max_zoom=19,
            max_native_zoom=19,
        ).add_to(fmap)
    if basemap_url:
        fmap.add_child(ReferenceMap(basemap_url, tiles), name="reference_map")
    if controls:
        plugins.Fullscreen(
            position="topleft", title=text["fullscreen"], title_cancel=text["fullscreen_exit"]
        ).add_to(fmap)
        # No MeasureControl: leaflet-measure compiles lodash templates with eval, which our CSP
        # (no 'unsafe-eval') refuses; measured in a real browser. Distances are in the side panel.
        plugins.MousePosition(
            position="bottomright",
            separator=", ",
            num_digits=6,
            prefix=text["mouse_prefix"],
            empty_string=text["mouse_empty"],
        ).add_to(fmap)
    return fmap


def fit(fmap: folium.Map, bounds: Sequence[float] | None, max_zoom: int = 16) -> None:
    """Fit the view to ``(min_lon, min_lat, max_lon, max_lat)`` (nothing when None)."""
    if bounds is not None:
        fmap.fit_bounds(bounds_latlon(bounds), max_zoom=max_zoom)


def finish(fmap: folium.Map, *, tile_url: str | None, assets_url: str, lang: str) -> str:
    """Render the full HTML document with every asset served locally."""
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element('<meta name="referrer" content="same-origin">'), name="referrer")
    html = root.render()
    html = html.replace("<html>", f'<html lang="{"en" if lang == "en" else "id"}">', 1)
    allowed = [tile_url] if tile_url else []
    return localize_html(html, assets_url=assets_url or DEFAULT_ASSETS_URL, allowed=allowed)
