"""Use case "draw the reference map": the published units (and Bali's villages) as map tiles.

One :class:`~geo_service.geo.basemap.ReferenceMap` per published index, built on the first
tile asked for, and the gzipped JSON of recent tiles, so a console load costs a few
kilobytes per tile and a repeated one nothing but a dictionary look-up.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections import OrderedDict
from functools import lru_cache

import geopandas as gpd

from geo_service.geo.basemap import Outline, ReferenceMap
from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.geo.index import JurisdictionIndex

LOGGER = logging.getLogger(__name__)

#: Bundled village polygons drawn when zoomed in where the published set covers Bali.
BALI_DESA_FILE = BOUNDARIES_DIR / "bali_desa_kelurahan.geojson"
BALI_PROVINCE = "51"
#: Gzipped tiles kept per process.
TILE_CACHE = 4096


@lru_cache(maxsize=1)
def bali_villages() -> tuple[Outline, ...]:
    """The Bali desa/kelurahan as outlines (read once per process; empty when the file is absent)."""
    if not BALI_DESA_FILE.exists():
        return ()
    gdf = gpd.read_file(BALI_DESA_FILE, columns=["nama"])
    return tuple(Outline("desa", str(name or ""), geom) for name, geom in zip(gdf["nama"], gdf.geometry, strict=True)
                 if geom is not None and not geom.is_empty)


def reference_outlines(index: JurisdictionIndex) -> list[Outline]:
    """The outlines of a published set: Polda filled as land, every unit as a line, villages for Bali."""
    units = list(index.units.values())
    has_polda = any(u.level == "polda" for u in units)
    leaves = set(index.leaf_codes)
    outlines = []
    for unit in units:
        if unit.level not in ("polda", "polres", "polsek") or unit.geometry is None or unit.geometry.is_empty:
            continue
        land = unit.level == "polda" if has_polda else unit.code in leaves
        outlines.append(Outline(unit.level, unit.name, unit.geometry, land=land))
    if any(code == BALI_PROVINCE or code.startswith(BALI_PROVINCE + ".") for code in index.units):
        outlines.extend(bali_villages())
    return outlines


class BasemapTiles:
    """Tiles of the reference map for whichever index is published now (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: JurisdictionIndex | None = None
        self._map: ReferenceMap | None = None
        self._tiles: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()

    def _reference(self, index: JurisdictionIndex) -> ReferenceMap:
        with self._lock:
            if self._index is index and self._map is not None:
                return self._map
        built = ReferenceMap(reference_outlines(index))
        with self._lock:
            if self._index is not index:
                self._index, self._map = index, built
                self._tiles.clear()
            return self._map  # type: ignore[return-value]

    def tile_gzip(self, index: JurisdictionIndex, z: int, x: int, y: int) -> bytes:
        """The gzipped JSON of tile ``z/x/y`` (see :mod:`geo_service.geo.basemap`)."""
        reference = self._reference(index)
        key = (z, x, y)
        with self._lock:
            if self._index is index and key in self._tiles:
                self._tiles.move_to_end(key)
                return self._tiles[key]
        body = json.dumps(reference.tile(z, x, y), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        with self._lock:
            if self._index is index:
                self._tiles[key] = packed
                while len(self._tiles) > TILE_CACHE:
                    self._tiles.popitem(last=False)
        return packed


TILES = BasemapTiles()
