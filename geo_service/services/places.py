"""Use case "find a place by name": the bundled gazetteer, its loading, and places in locate answers.

The gazetteer is read from ``boundaries/``: every desa/kelurahan of ``indonesia_desa.csv.gz``
(83,246 rows with a point inside the village and the radius of a circle of the same area) plus
the kecamatan, kabupaten/kota and provinsi of the national boundary files (point =
``representative_point()``, always inside; radius from the geodesic area). It is stored in the
``places`` table at first start (and by ``geo-service places load``), and each process builds
one in-memory :class:`~geo_service.geo.gazetteer.Gazetteer` from that table on first use.

For Bali the village polygons are bundled too: a located place there gets the exact share of
the village area in each unit instead of the shares of its equal-area circle.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import msgspec
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo_service.config import Settings
from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.geo.gazetteer import Gazetteer, Place, PlaceMatch
from geo_service.geo.geometry import geodesic_area_m2
from geo_service.geo.index import JurisdictionIndex, LeafCandidate
from geo_service.geo.messages import flag_message
from geo_service.geo.validate import ValidationResult, validate_place
from geo_service.services.answers import FlagAnswer, LocateAnswer, to_builtins
from geo_service.services.locate import unit_candidate
from geo_service.storage import places as places_repo
from geo_service.storage import repo
from geo_service.storage.db import Storage

LOGGER = logging.getLogger(__name__)
#: A locate answer, typed or as its stored dict.
A = TypeVar("A", LocateAnswer, dict[str, Any])
#: The shipped gazetteer: every desa/kelurahan of ``indonesia_desa.csv`` plus the kecamatan,
#: kabupaten/kota and provinsi of the national boundary files (rebuilt by ``geo-service places build``).
PLACES_FILE = BOUNDARIES_DIR / "indonesia_places.csv.gz"
DESA_SOURCE = "indonesia_desa.csv"
KECAMATAN_FILE = BOUNDARIES_DIR / "indonesia_kecamatan.geojson"
KABUPATEN_FILE = BOUNDARIES_DIR / "indonesia_kabupaten_kota.geojson"
PROVINSI_FILE = BOUNDARIES_DIR / "indonesia_provinsi.geojson"
BALI_DESA_FILE = BOUNDARIES_DIR / "bali_desa_kelurahan.geojson"
COLUMNS = ("kind", "kode", "nama", "kecamatan", "kabupaten_kota", "provinsi", "lat", "lon", "radius_m")
#: A unit holding less of a village polygon than this is a sliver of the data, not a split.
SPLIT_MIN_SHARE = 0.02
MAX_LIMIT = 50
RESOLVE_LIMIT = 300


def _desa_kind(code: str) -> str:
    # Kemendagri: the last segment starts with 1 for a kelurahan, 2 for a desa.
    return "kelurahan" if code.rsplit(".", 1)[-1].startswith("1") else "desa"


def _kab_kind(name: str) -> str:
    return "kota" if name.startswith("Kota ") else "kabupaten"


def _parents(code: str, kec: str, kab: str, prov: str) -> tuple[tuple[str, str, str], ...]:
    chain = [("kecamatan", code[:8], kec), (_kab_kind(kab), code[:5], kab), ("provinsi", code[:2], prov)]
    return tuple(p for p in chain if p[2] and len(p[1]) < len(code))


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_places_file(path: Path = PLACES_FILE) -> list[Place]:
    """The places of a gazetteer CSV (``COLUMNS``; gzip when it ends in ``.gz``).

    The source desa file (no ``kind`` column) is read as well: its kind follows from the code.
    """
    with _open_text(path) as fh:
        rows = list(csv.DictReader(fh))
    return [Place(r.get("kind") or _desa_kind(r["kode"]), r["kode"], r["nama"],
                  _parents(r["kode"], r.get("kecamatan", ""), r.get("kabupaten_kota", ""), r.get("provinsi", "")),
                  float(r["lon"]), float(r["lat"]), float(r["radius_m"])) for r in rows]


def _area_places(path: Path, kind_of: Callable[[dict[str, Any]], str]) -> list[Place]:
    data = json.loads(path.read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in data["features"]]
    points = shapely.point_on_surface(np.array(geoms, dtype=object))
    out = []
    for feat, geom, point in zip(data["features"], geoms, points, strict=True):
        p = feat["properties"]
        code = p["kode"]
        area_m2 = geodesic_area_m2(geom)
        parents = _parents(code, "", p.get("nama_kab", ""), p.get("nama_prov", ""))
        out.append(Place(kind_of(p), code, p["nama"], parents, round(float(point.x), 6), round(float(point.y), 6),
                         float(round(math.sqrt(area_m2 / math.pi)))))
    return out


def build_places(desa_csv: Path, directory: Path = BOUNDARIES_DIR) -> list[Place]:
    """The gazetteer from its sources: the desa CSV plus the national kecamatan, kabupaten/kota and
    provinsi files of ``directory`` (point on surface, equal-area radius from the geodesic area)."""
    places = read_places_file(desa_csv)
    places += _area_places(directory / KECAMATAN_FILE.name, lambda p: "kecamatan")
    places += _area_places(directory / KABUPATEN_FILE.name, lambda p: _kab_kind(p["nama"]))
    places += _area_places(directory / PROVINSI_FILE.name, lambda p: "provinsi")
    return places


def write_places_file(places: Sequence[Place], path: Path) -> None:
    """Write places as a gzip CSV of ``COLUMNS`` (reproducible: no timestamp in the gzip header)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in places:
        names = {k: n for k, _c, n in p.parents}
        kab = names.get("kabupaten") or names.get("kota") or ""
        writer.writerow((p.kind, p.code, p.name, names.get("kecamatan", ""), kab, names.get("provinsi", ""),
                         f"{p.lat:.6f}", f"{p.lon:.6f}", f"{p.radius_m:.0f}"))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def load_bundled_places(storage: Storage, path: Path = PLACES_FILE, *, only_if_empty: bool = False) -> int:
    """Replace the stored gazetteer with the one in ``path`` (one transaction, bulk insert).

    With ``only_if_empty`` nothing happens (0 is returned) when the table already holds places;
    the check runs under the ``app_state`` row lock, so replicas starting together load it once.
    """
    started = time.perf_counter()
    places = read_places_file(path)
    read_s = time.perf_counter() - started
    with storage.transaction() as session:
        repo.get_state(session, for_update=True)  # serialises concurrent first starts on PostGIS
        if only_if_empty and places_repo.count_places(session):
            return 0
        n = places_repo.replace_places(session, places)
    LOGGER.info("gazetteer loaded: %d places (read %.1f s, stored %.1f s)", n, read_s,
                time.perf_counter() - started - read_s)
    return n


def ensure_places(storage: Storage, settings: Settings) -> bool:
    """Load the bundled gazetteer when the table is empty (first start); True when it loaded."""
    if not settings.load_places:
        return False
    with storage.session() as session:
        if places_repo.count_places(session):
            return False
    return load_bundled_places(storage, only_if_empty=True) > 0


def _feature_collection(geom: BaseGeometry, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}]}


class PlaceService:
    """The gazetteer of this process (built once, on first use) and the bundled village polygons."""

    def __init__(self, storage: Storage, polygons_file: Path = BALI_DESA_FILE) -> None:
        self.storage = storage
        self._polygons_file = polygons_file
        self._gazetteer: Gazetteer | None = None
        self._polygons: dict[str, BaseGeometry] | None = None
        self._lock = threading.Lock()

    def gazetteer(self) -> Gazetteer:
        """The in-memory search structure (read from the ``places`` table once per process)."""
        if self._gazetteer is None:
            with self._lock:
                if self._gazetteer is None:
                    started = time.perf_counter()
                    with self.storage.session() as session:
                        places = places_repo.load_places(session)
                    self._gazetteer = Gazetteer(places)
                    LOGGER.info("gazetteer built: %d places, %.0f ms", len(places),
                                (time.perf_counter() - started) * 1000)
        return self._gazetteer

    def forget(self) -> None:
        """Drop the in-memory gazetteer (rebuilt from the table on next use)."""
        self._gazetteer = None

    def polygon(self, code: str) -> BaseGeometry | None:
        """The bundled polygon of a village (Bali), or None."""
        if self._polygons is None:
            polygons: dict[str, BaseGeometry] = {}
            if self._polygons_file.exists():
                data = json.loads(self._polygons_file.read_text(encoding="utf-8"))
                for feat in data["features"]:
                    polygons[feat["properties"]["kode"]] = shapely.make_valid(shape(feat["geometry"]))
            self._polygons = polygons
        return self._polygons.get(code)

    def place_geojson(self, code: str) -> dict[str, Any] | None:
        """The village polygon as a FeatureCollection (for the console map), or None."""
        geom = self.polygon(code)
        if geom is None:
            return None
        try:
            place = self.gazetteer().place(code)
            props = {"code": code, "name": place.name, "kind": place.kind}
        except KeyError:
            props = {"code": code}
        return _feature_collection(geom, props)

    # ------------------------------------------------------------------ queries
    @staticmethod
    def prefer(index: JurisdictionIndex | None, unit_code: str | None
               ) -> Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]] | None:
        """``prefer(lons, lats)``: inside the unit ``unit_code`` of the index (None when unknown)."""
        if index is None or not unit_code:
            return None
        try:
            geom = index.unit(unit_code).geometry
        except KeyError:
            return None
        shapely.prepare(geom)
        return lambda lons, lats: shapely.intersects_xy(geom, lons, lats)

    def search(self, text: str, *, index: JurisdictionIndex | None, hint_unit: str | None = None,
               limit: int = 10) -> list[PlaceMatch]:
        """Ranked places for ``text``; places in ``hint_unit`` first."""
        return self.gazetteer().search(text, limit=max(1, min(limit, MAX_LIMIT)),
                                       prefer=self.prefer(index, hint_unit))

    def validate_text(self, text: str, *, index: JurisdictionIndex | None,
                      hint_unit: str | None = None) -> ValidationResult | None:
        """The place result for text no coordinate format reads, or None when it names no place."""
        if not text.strip() or len(text) > 200:
            return None
        # A generous limit, so that AMBIGUOUS_PLACE counts every namesake (120 places are called Sukamaju or Suka Maju).
        matches = self.gazetteer().search(text, limit=RESOLVE_LIMIT, prefer=self.prefer(index, hint_unit))
        return validate_place(text, matches, index)

    def refine_answer(self, answer: A, place: Place, index: JurisdictionIndex, *, lang: str = "id") -> A:
        """Replace circle shares by the exact shares of the village polygon, where one is bundled.

        Units holding less than :data:`SPLIT_MIN_SHARE` of the village are slivers of the data and
        are dropped; when two or more units remain the answer gets ``PLACE_SPLIT``. A typed answer
        comes back as a new value; a stored (dict) answer is changed in place and returned.
        """
        match: str | None
        flags: list[Any]
        if isinstance(answer, LocateAnswer):
            match, flags = answer.match, list(answer.flags)
        else:
            match, flags = answer.get("match"), list(answer.get("flags", []))
        changes: dict[str, Any] = {"shares_from": "circle"}
        geom = self.polygon(place.code)
        shares = [] if geom is None or match in (None, "none") else [
            (u, s) for u, s in index.area_shares(geom) if s >= SPLIT_MIN_SHARE]
        if shares:
            kept = [f for f in flags if (f.code if isinstance(f, FlagAnswer) else f["code"]) != "CIRCLE_CROSSES_BORDER"]
            if len(shares) > 1:
                params: dict[str, Any] = {"name": place.name, "count": len(shares)}
                kept.append(FlagAnswer("PLACE_SPLIT", flag_message("PLACE_SPLIT", params, lang=lang), params))
            changes.update(shares_from="polygon", flags=kept, candidates=[
                unit_candidate(LeafCandidate(u, dict(index.chain(u.code)), s, 0.0)) for u, s in shares])
            if match in ("inside", "border"):
                changes["match"] = "border" if shares[0][1] < index.border_share else "inside"
        if isinstance(answer, LocateAnswer):
            return msgspec.structs.replace(answer, **changes)
        answer.update(to_builtins(changes))
        return answer
