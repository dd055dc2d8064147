"""The offline reference map: unit outlines and names cut into slippy-map tiles (pure core).

When no tile server is configured or reachable (a police intranet), every map still needs a
picture of the ground: where the land is, the Polda/Polres/Polsek lines and their names, and
for Bali the villages when zoomed in. This module cuts those into the same ``z/x/y`` tiles
Leaflet asks for, so the browser draws each tile on a canvas (``maps/geo_service/basemap.js``).

A tile is a small JSON document in *tile pixels* (0..256 from the top-left corner, one
decimal), already clipped and simplified for its zoom, so the browser does no projection:

``{"land": [[[x, y, x, y, ...], <hole>...], ...], "lines": {"polda": [...], "polres": [...], "polsek": [...],
"desa": [...]}, "labels": [[x, y, text, level], ...]}``

Rules (zoom = Leaflet zoom):

* land: the leaf units' polygons (filled, no stroke) at every zoom;
* lines: Polda always, Polres from :data:`POLRES_FROM_Z`, Polsek from :data:`POLSEK_FROM_Z`,
  villages (when given) from :data:`DESA_FROM_Z`; outlines are the polygon boundaries clipped
  to the tile plus a margin, so no line is drawn along a tile edge;
* labels: the names of the finest level drawn at that zoom (villages only from
  :data:`DESA_LABEL_FROM_Z`), at a point inside the polygon; a label near an edge is in both
  tiles, so it is drawn whole; a tile (even x and y) with no such label names the finest area
  covering its centre there, so a close-up still says where it is;
* simplification: :data:`TOLERANCE_PX` pixels at the tile's zoom, topology kept.

Web Mercator (EPSG:3857) tile arithmetic as in the OSM slippy-map convention.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from geo_service.geo.geometry import polygons_of

TILE_PX = 256
MAX_Z = 18
POLRES_FROM_Z = 8
POLSEK_FROM_Z = 10
DESA_FROM_Z = 13
DESA_LABEL_FROM_Z = 14
#: Label levels from the finest to the coarsest.
LABEL_ORDER = ("desa", "polsek", "polres", "polda")
#: Simplification tolerance, in pixels of the tile's zoom.
TOLERANCE_PX = 0.75
#: Outlines and labels are taken from this many pixels around the tile.
MARGIN_PX = 48
MAX_LAT = 85.05112878
#: Simplified geometries kept (per outline and zoom) before the cache starts again.
SIMPLIFIED_CACHE = 200_000


@dataclass(frozen=True)
class Outline:
    """One polygon of the reference map: its level, label and geometry (EPSG:4326)."""

    level: str  # "polda" | "polres" | "polsek" | "desa"
    name: str
    geometry: BaseGeometry
    land: bool = False  # filled as land (leaf units)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` of tile ``z/x/y``.

    Examples
    --------
    >>> [round(v, 4) for v in tile_bounds(0, 0, 0)]
    [-180.0, -85.0511, 180.0, 85.0511]
    >>> [round(v, 3) for v in tile_bounds(10, 839, 536)]
    [114.961, -8.755, 115.312, -8.407]
    """
    n = 2.0 ** z
    lon0 = x / n * 360.0 - 180.0
    lon1 = (x + 1) / n * 360.0 - 180.0
    lat0 = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
    lat1 = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lon0, lat0, lon1, lat1


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The ``(x, y)`` of the tile holding ``(lon, lat)`` at zoom ``z``.

    Examples
    --------
    >>> tile_of(115.2, -8.6, 10)
    (839, 536)
    """
    n = 2 ** z
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _tile_centre_lat(z: int, y: int) -> float:
    """Latitude of the pixel centre of tile row ``y`` (Web Mercator: not the mean of its bounds)."""
    n = 2.0 ** z
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))


def valid_tile(z: int, x: int, y: int) -> bool:
    """True for a tile address Leaflet can ask for (zoom 0..:data:`MAX_Z`)."""
    return 0 <= z <= MAX_Z and 0 <= x < 2 ** z and 0 <= y < 2 ** z


def _to_pixels(coords: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """``(lon, lat)`` rows -> tile pixels (Web Mercator), rounded to 0.1 px."""
    scale = TILE_PX * 2.0 ** z
    lat = np.clip(coords[:, 1], -MAX_LAT, MAX_LAT)
    px = (coords[:, 0] + 180.0) / 360.0 * scale - x * TILE_PX
    py = (1 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2 * scale - y * TILE_PX
    return np.round(np.column_stack([px, py]), 1)


class ReferenceMap:
    """The outlines of one published set (and optional villages), cut into tiles on demand.

    Immutable after construction; :meth:`tile` is safe to call from several threads.
    """

    def __init__(self, outlines: Sequence[Outline]) -> None:
        self._outlines = list(outlines)
        # (outline, zoom) -> (simplified polygon, simplified boundary); filled lazily, bounded.
        self._simple: dict[tuple[int, int], tuple[BaseGeometry, BaseGeometry]] = {}
        self._lock = threading.Lock()
        geoms = np.array([o.geometry for o in self._outlines], dtype=object)
        self._tree = STRtree(geoms) if len(geoms) else None
        self._label_points = [o.geometry.representative_point() if not o.geometry.is_empty else None
                              for o in self._outlines]

    def __len__(self) -> int:
        return len(self._outlines)

    def _levels(self, z: int) -> set[str]:
        levels = {"polda"}
        if z >= POLRES_FROM_Z:
            levels.add("polres")
        if z >= POLSEK_FROM_Z:
            levels.add("polsek")
        if z >= DESA_FROM_Z:
            levels.add("desa")
        return levels

    @staticmethod
    def _label_level(levels: set[str], z: int) -> str:
        if "desa" in levels and z >= DESA_LABEL_FROM_Z:
            return "desa"
        for level in ("polsek", "polres"):
            if level in levels:
                return level
        return "polda"

    def tile(self, z: int, x: int, y: int) -> dict[str, Any]:
        """The content of tile ``z/x/y`` (see the module docstring)."""
        out: dict[str, Any] = {"land": [], "lines": {}, "labels": []}
        if self._tree is None or not valid_tile(z, x, y):
            return out
        min_lon, min_lat, max_lon, max_lat = tile_bounds(z, x, y)
        deg_per_px = 360.0 / (TILE_PX * 2.0 ** z)
        pad = MARGIN_PX * deg_per_px
        box = (min_lon - pad, min_lat - pad, max_lon + pad, max_lat + pad)
        tolerance = TOLERANCE_PX * deg_per_px
        levels = self._levels(z)
        label_level = self._label_level(levels, z)
        centre = ((min_lon + max_lon) / 2, _tile_centre_lat(z, y))
        around: dict[str, str] = {}  # level -> the unit covering the tile's centre (even tiles only)
        lines: dict[str, list[list[float]]] = {}
        for i in self._tree.query(shapely.box(*box)):
            outline = self._outlines[int(i)]
            if outline.level not in levels and not outline.land:
                continue
            polygon, outline_lines = self._simplified(int(i), z, tolerance)
            if polygon is None:
                continue  # smaller than a pixel at this zoom
            if outline.land:
                out["land"].extend(_polygons_px(shapely.clip_by_rect(polygon, *box), z, x, y))
            if outline.level in levels:
                lines.setdefault(outline.level, []).extend(
                    _lines_px(shapely.clip_by_rect(outline_lines, *box), z, x, y))
            point = self._label_points[int(i)]
            if outline.level == label_level and point is not None and outline.name:
                if box[0] <= point.x <= box[2] and box[1] <= point.y <= box[3]:
                    px, py = _to_pixels(np.array([[point.x, point.y]]), z, x, y)[0]
                    out["labels"].append([float(px), float(py), outline.name, outline.level])
            if (x % 2 == 0 and y % 2 == 0 and outline.level in levels and outline.name
                    and outline.level not in around and shapely.intersects_xy(outline.geometry, *centre)):
                around[outline.level] = outline.name
        out["lines"] = lines
        if around and not any(label[3] == label_level for label in out["labels"]):
            # Zoomed in far from every label point: name the finest area this tile shows at its
            # centre (every other tile), so a close-up map (the officer's) still says where it is.
            for level in LABEL_ORDER[LABEL_ORDER.index(label_level):]:
                if level in around:
                    out["labels"].append([TILE_PX / 2, TILE_PX / 2, around[level], level])
                    break
        out["labels"].sort(key=lambda item: (item[1], item[0], item[2]))
        return out

    def _simplified(self, i: int, z: int, tolerance: float) -> tuple[BaseGeometry | None, BaseGeometry | None]:
        """The outline at zoom ``z``: parts under about a pixel dropped (islets), then simplified."""
        key = (i, z)
        hit = self._simple.get(key)
        if hit is None:
            parts = shapely.get_parts(self._outlines[i].geometry)
            parts = parts[shapely.area(parts) >= (2 * tolerance) ** 2]
            if len(parts) == 0:
                hit = (None, None)
            else:
                kept = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
                hit = (shapely.simplify(kept, tolerance, preserve_topology=True),
                       shapely.simplify(shapely.boundary(kept), tolerance))
            with self._lock:
                if len(self._simple) > SIMPLIFIED_CACHE:
                    self._simple.clear()
                self._simple[key] = hit
        return hit


def _split_px(geoms: np.ndarray, z: int, x: int, y: int) -> list[list[float]]:
    """Each geometry (rings or lines) as flat tile pixels, converted in one vectorised pass."""
    if len(geoms) == 0:
        return []
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return []
    px = _to_pixels(coords, z, x, y).ravel().tolist()
    counts = np.bincount(owner, minlength=len(geoms))
    out, start = [], 0
    for n in counts.tolist():
        if n >= 2:
            out.append(px[2 * start: 2 * (start + n)])
        start += n
    return out


def _polygons_px(geom: BaseGeometry, z: int, x: int, y: int) -> list[list[list[float]]]:
    """Each polygon part as its rings in pixels (exterior first, then holes: filled even-odd)."""
    parts = np.array(polygons_of(geom), dtype=object)
    if len(parts) == 0:
        return []
    rings, owner = shapely.get_rings(parts, return_index=True)
    flat = _split_px(rings, z, x, y)
    if len(flat) != len(rings):  # a degenerate ring was dropped: fall back to one polygon per ring
        return [[ring] for ring in flat]
    grouped: list[list[list[float]]] = [[] for _ in range(len(parts))]
    for ring, part in zip(flat, owner.tolist(), strict=True):
        grouped[part].append(ring)
    return [g for g in grouped if g]


def _lines_px(geom: BaseGeometry, z: int, x: int, y: int) -> list[list[float]]:
    parts = shapely.get_parts(geom)
    return _split_px(parts[np.isin(shapely.get_type_id(parts), (1, 2))], z, x, y)
