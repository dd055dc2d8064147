"""Checks of a set of police units, of station points, and the diff between two unit sets.

A check returns a :class:`Report` of :class:`ReportItem` with a stable upper-case ``code``, a
severity and, where it applies, the units involved, an area in m² and a location
(``{"lat", "lon"}``, a point inside the problem area). **Errors block publishing; warnings and
info do not.**

Areas and lengths are measured in EPSG:6933 (WGS 84 / NSIDC EASE-Grid 2.0 Global, see
:mod:`geo_service.geo.geometry`), an
ellipsoidal *equal-area* cylindrical projection: areas are exact up to floating point, so one
CRS serves all of Indonesia (UTM would need a zone per unit). Lengths in EPSG:6933 are
distorted by under 2 % at Indonesian latitudes (|lat| < 11°); they are only used for the
sliver shape measure below, never reported.

Thresholds (all documented here, nowhere else):

* :data:`NOISE_AREA_M2` = 1 m²: overlaps, gaps and "outside parent" areas below it are
  floating-point noise along shared borders and are not reported.
* :data:`TINY_OVERLAP_M2` = 1,000 m²: overlaps below it are called *tiny* in the message.
* Special areas (``Polsek/Polres Kawasan ...``, :func:`geo.area.is_special_area`) are overlays:
  their overlap with an ordinary unit of the same level is the intended design (the special unit
  answers there), reported as info ``SPECIAL_AREA_OVERLAY``, not as an ``OVERLAP`` warning.
* :data:`LARGE_OVERLAP_M2` = 1 km²: overlaps above it are called *large*. Every overlap is a
  warning (the nationwide files have 934 overlapping pairs and must stay publishable); overlap
  items are listed largest first so the large ones are seen.
* :data:`SLIVER_MAX_AREA_M2` = 10 ha and :data:`SLIVER_MAX_COMPACTNESS` = 0.1: a gap piece
  smaller than 10 ha whose Polsby-Popper compactness 4πA/P² is below 0.1 (a thin strip between
  neighbours) is reported as ``SLIVER`` instead of ``GAP``. Both are warnings.
* :data:`CHILD_OUTSIDE_TOLERANCE_M2` = 1,000 m²: a child sticking out of its parent by less is
  summed into one info item; more is a warning; a child with no area inside its parent is an error
  (the parent code is almost certainly wrong).
* :data:`SAME_HOLE_FRACTION` = 1 %: gaps are reported at the lowest level where they show; a
  hole of a higher level (e.g. between Polda) that is covered by gaps already reported below,
  except for at most 1 % of its area (rounding of a dissolved parent), is not reported again.
* :data:`MIN_PARENT_COVERAGE` = 0.99: a parent whose children cover less of it gets
  ``LOW_PARENT_COVERAGE`` (warning).
* :data:`UNIT_VERTICES_WARN` = 50,000: a unit with more vertices gets ``TOO_MANY_VERTICES``
  (warning: lookups get slower; the hard limit is enforced when the file is read).
* Indonesia box (:data:`INDONESIA_LON`, :data:`INDONESIA_LAT`) = lon 94..142, lat -12..7 (the
  issue's 95..141 / -11..6 plus a margin: real data reach lat -11.008). Coordinates whose x all
  fall in the latitude band and y in the longitude band are ``SWAPPED_COORDINATES_SUSPECTED``.

Errors: ``EMPTY_SET``, ``NO_GEOMETRY`` (every unit empty), ``DUPLICATE_CODE``, ``MISSING_CODE``,
``INVALID_LEVEL``, ``PARENT_MISSING`` (parent code not in the merged hierarchy),
``PARENT_LEVEL_INVALID``, ``INVALID_GEOMETRY``, ``NOT_POLYGON``, ``COORDINATES_OUT_OF_RANGE``,
``SWAPPED_COORDINATES_SUSPECTED`` and ``CHILD_OUTSIDE_PARENT`` when the child is entirely outside.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo_service.geo.area import LEVELS, Unit, is_special_area
from geo_service.geo.distance import distance_to_geometry_m
from geo_service.geo.geometry import area_m2, areas_m2, polygons_of, project_to_area_crs

Severity = Literal["error", "warning", "info"]

NOISE_AREA_M2 = 1.0
TINY_OVERLAP_M2 = 1_000.0
LARGE_OVERLAP_M2 = 1_000_000.0
SLIVER_MAX_AREA_M2 = 100_000.0
SLIVER_MAX_COMPACTNESS = 0.1
CHILD_OUTSIDE_TOLERANCE_M2 = 1_000.0
MIN_PARENT_COVERAGE = 0.99
SAME_HOLE_FRACTION = 0.01
UNIT_VERTICES_WARN = 50_000
INDONESIA_LON = (94.0, 142.0)
INDONESIA_LAT = (-12.0, 7.0)
_LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
_MAX_UNITS_LISTED = 12


# --------------------------------------------------------------------------------------------
# Report


@dataclass
class ReportItem:
    """One finding: stable code, severity, message, units involved, optional area and location."""

    code: str
    severity: Severity
    message: str
    units: list[str] = field(default_factory=list)
    area_m2: float | None = None
    location: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``area_m2`` and ``location`` only when set."""
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "units": list(self.units),
        }
        if self.area_m2 is not None:
            out["area_m2"] = round(float(self.area_m2), 1)
        if self.location is not None:
            out["location"] = dict(self.location)
        return out


@dataclass
class Report:
    """An ordered list of findings; errors block publishing, warnings and info do not."""

    items: list[ReportItem] = field(default_factory=list)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        units: Iterable[str] = (),
        area_m2: float | None = None,
        location: dict[str, float] | None = None,
    ) -> ReportItem:
        """Append one finding and return it."""
        item = ReportItem(code, severity, message, list(units), area_m2, location)
        self.items.append(item)
        return item

    def extend(self, other: Report | Iterable[ReportItem]) -> Report:
        """Append the items of another report (or any items); returns self."""
        self.items.extend(other.items if isinstance(other, Report) else other)
        return self

    @property
    def errors(self) -> list[ReportItem]:
        """Items with severity ``error``."""
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[ReportItem]:
        """Items with severity ``warning``."""
        return [i for i in self.items if i.severity == "warning"]

    @property
    def infos(self) -> list[ReportItem]:
        """Items with severity ``info``."""
        return [i for i in self.items if i.severity == "info"]

    @property
    def has_errors(self) -> bool:
        """True when publishing must be refused."""
        return any(i.severity == "error" for i in self.items)

    def codes(self, severity: Severity | None = None) -> list[str]:
        """Codes of the items (optionally of one severity), in report order."""
        return [i.code for i in self.items if severity is None or i.severity == severity]

    def by_code(self, code: str) -> list[ReportItem]:
        """Items with the given code."""
        return [i for i in self.items if i.code == code]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """``{"errors": [...], "warnings": [...], "info": [...]}`` of item dicts."""
        return {
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
            "info": [i.to_dict() for i in self.infos],
        }


# --------------------------------------------------------------------------------------------
# Measures


def _perimeters_m(geoms: np.ndarray) -> np.ndarray:
    if len(geoms) == 0:
        return np.zeros(0)
    return np.asarray(shapely.length(shapely.transform(geoms, project_to_area_crs)), dtype=float)


def location_of(geom: BaseGeometry | None) -> dict[str, float] | None:
    """A point inside ``geom`` as ``{"lat", "lon"}`` (6 decimals), or None when empty.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> location_of(box(115.0, -8.5, 115.2, -8.3))
    {'lat': -8.4, 'lon': 115.1}
    """
    if geom is None or geom.is_empty:
        return None
    polys = polygons_of(geom)
    if polys:
        # The largest part, so the marker lands on the part that matters.
        geom = max(polys, key=lambda p: p.area)
    pt = geom.representative_point()
    return {"lat": round(pt.y, 6), "lon": round(pt.x, 6)}


def looks_swapped(bounds: Sequence[float]) -> bool:
    """True when (minx, miny, maxx, maxy) fit Indonesia only with x and y exchanged.

    Examples
    --------
    >>> looks_swapped((-8.8, 114.4, -8.0, 115.7)), looks_swapped((114.4, -8.8, 115.7, -8.0))
    (True, False)
    """
    minx, miny, maxx, maxy = bounds
    return (
        INDONESIA_LAT[0] <= minx <= maxx <= INDONESIA_LAT[1]
        and INDONESIA_LON[0] <= miny <= maxy <= INDONESIA_LON[1]
    )


def looks_like_degrees(bounds: Sequence[float]) -> bool:
    """True when every x is within ±180 and every y within ±90.

    Examples
    --------
    >>> looks_like_degrees((114.4, -8.8, 115.7, -8.0)), looks_like_degrees((200000, 9020000, 3e5, 9.1e6))
    (True, False)
    """
    minx, miny, maxx, maxy = bounds
    return -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0


def _listed(codes: Iterable[str]) -> list[str]:
    return sorted(set(codes))[:_MAX_UNITS_LISTED]


def _km2(area: float) -> str:
    return f"{area / 1e6:,.3f} km²" if area >= 100_000 else f"{area:,.0f} m²"


# --------------------------------------------------------------------------------------------
# Units


def check_units(units: Sequence[Unit], *, report: Report | None = None) -> Report:
    """Check a merged set of units (all levels present) and return the report.

    Checks codes (missing, duplicate), names, levels, the hierarchy (parent present, parent
    at a higher level, child inside parent, parent coverage, gaps inside the parent),
    geometry (empty, not polygonal, invalid, vertex count, coordinate range, swapped
    coordinates), overlaps between units of the same level (siblings and cousins alike:
    a point in two Polsek is a problem whoever their Polres is) and gaps (holes in the union
    of a level). Thresholds are in the module docstring.

    Parameters
    ----------
    units : the upload's level merged with the other levels kept from the published set
    report : an existing report to append to (e.g. the one from reading the file)

    Returns
    -------
    Report

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo_service.geo.area import Unit
    >>> a = Unit("51.01", "Polres A", "polres", "51", box(115.0, -8.5, 115.1, -8.4))
    >>> b = Unit("51.02", "Polres B", "polres", "51", box(115.09, -8.5, 115.2, -8.4))
    >>> r = check_units([a, b])
    >>> r.codes("error"), "OVERLAP" in r.codes("warning")
    (['PARENT_MISSING', 'PARENT_MISSING'], True)
    """
    report = report if report is not None else Report()
    if not units:
        report.add("EMPTY_SET", "error", "The set contains no units.")
        return report
    good = _check_attributes(units, report)
    good = _check_geometries(good, report)
    if not good:
        if not {"NO_GEOMETRY", "SWAPPED_COORDINATES_SUSPECTED", "COORDINATES_OUT_OF_RANGE"} & set(report.codes()):
            report.add("NO_GEOMETRY", "error", "No unit has a usable polygon geometry.")
        return report
    # Union of the children of each (parent, level), computed once for coverage and gaps.
    unions: dict[tuple[str, str], tuple[list[str], BaseGeometry]] = {}
    _check_hierarchy(units, good, report, unions)
    by_level: dict[str, list[Unit]] = defaultdict(list)
    for u in good:
        by_level[u.level].append(u)
    reported_gaps: list[BaseGeometry] = []
    # Lowest level first: a hole between Polres is usually the same hole between their Polsek,
    # and is reported once, at the lowest level where it shows.
    for level in reversed(LEVELS):
        if by_level.get(level):
            _check_overlaps(level, by_level[level], report)
            reported_gaps.extend(_check_level_holes(level, by_level[level], report, reported_gaps, unions))
    return report


def _check_attributes(units: Sequence[Unit], report: Report) -> list[Unit]:
    """Codes, names, levels; returns the units with a code and a known level."""
    missing_code = [i for i, u in enumerate(units) if not (u.code or "").strip()]
    if missing_code:
        report.add(
            "MISSING_CODE", "error",
            f"{len(missing_code)} unit(s) have no code (positions {missing_code[:20]}).",
            units=[units[i].name for i in missing_code[:_MAX_UNITS_LISTED]],
        )
    counts = Counter(u.code for u in units if (u.code or "").strip())
    for code, n in sorted(counts.items()):
        if n > 1:
            report.add("DUPLICATE_CODE", "error", f"Code {code!r} is used by {n} units.", units=[code])
    for u in units:
        if (u.code or "").strip() and not (u.name or "").strip():
            report.add("MISSING_NAME", "warning", f"Unit {u.code} has no name.", units=[u.code])
    bad_level = [u for u in units if u.level not in _LEVEL_RANK]
    for u in bad_level:
        report.add(
            "INVALID_LEVEL", "error",
            f"Unit {u.code} has level {u.level!r}; expected one of {', '.join(LEVELS)}.",
            units=[u.code],
        )
    return [u for u in units if (u.code or "").strip() and u.level in _LEVEL_RANK]


def _check_geometries(units: list[Unit], report: Report) -> list[Unit]:
    """Per-unit geometry checks; returns the units with a usable polygon."""
    usable: list[Unit] = []
    empties: list[str] = []
    for u in units:
        g = u.geometry
        if g is None or g.is_empty:
            empties.append(u.code)
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            report.add("NOT_POLYGON", "error", f"Unit {u.code} has a {g.geom_type}, not an area.",
                       units=[u.code], location=location_of(g))
            continue
        if not g.is_valid:
            report.add(
                "INVALID_GEOMETRY", "error",
                f"Unit {u.code} has an invalid geometry: {shapely.is_valid_reason(g)}.",
                units=[u.code], location=location_of(g),
            )
            continue
        n = int(shapely.get_num_coordinates(g))
        if n > UNIT_VERTICES_WARN:
            report.add(
                "TOO_MANY_VERTICES", "warning",
                f"Unit {u.code} has {n:,} vertices (over {UNIT_VERTICES_WARN:,}); lookups will be slower.",
                units=[u.code],
            )
        usable.append(u)
    if empties:
        report.add(
            "EMPTY_GEOMETRY", "warning" if usable else "error",
            f"{len(empties)} unit(s) have an empty geometry.", units=_listed(empties),
        )
    if not usable:
        report.add("NO_GEOMETRY", "error", "No unit has a usable polygon geometry.")
        return usable
    bounds = shapely.total_bounds([u.geometry for u in usable])
    if looks_swapped(bounds):
        report.add(
            "SWAPPED_COORDINATES_SUSPECTED", "error",
            "All x values look like Indonesian latitudes and all y values like longitudes: "
            "the coordinates seem to be stored as (lat, lon).",
            units=_listed(u.code for u in usable),
        )
        return []
    if not looks_like_degrees(bounds):
        report.add(
            "COORDINATES_OUT_OF_RANGE", "error",
            f"Coordinates outside lon ±180 / lat ±90 (bounds {tuple(round(b, 3) for b in bounds)}); "
            "the geometry is not in EPSG:4326.",
            units=_listed(u.code for u in usable),
        )
        return []
    outside = [
        u.code for u in usable
        if not _bounds_within(u.geometry.bounds, INDONESIA_LON, INDONESIA_LAT)
    ]
    if outside:
        report.add(
            "OUTSIDE_INDONESIA", "warning",
            f"{len(outside)} unit(s) extend outside lon {INDONESIA_LON} / lat {INDONESIA_LAT}.",
            units=_listed(outside),
        )
    return usable


def _bounds_within(b: Sequence[float], lon: tuple[float, float], lat: tuple[float, float]) -> bool:
    return lon[0] <= b[0] <= b[2] <= lon[1] and lat[0] <= b[1] <= b[3] <= lat[1]


def _check_hierarchy(
    all_units: Sequence[Unit],
    good: list[Unit],
    report: Report,
    unions: dict[tuple[str, str], tuple[list[str], BaseGeometry]],
) -> None:
    """Parents present and higher; children inside parents; parent coverage and gaps."""
    by_code: dict[str, Unit] = {}
    for u in all_units:
        by_code.setdefault(u.code, u)
    usable_codes = {u.code for u in good}
    children: dict[str, list[Unit]] = defaultdict(list)
    no_parent: list[str] = []
    for u in good:
        if u.parent_code is None or not str(u.parent_code).strip():
            if u.level != "polda":
                no_parent.append(u.code)
            continue
        parent = by_code.get(u.parent_code)
        if parent is None:
            report.add(
                "PARENT_MISSING", "error",
                f"Unit {u.code} names parent {u.parent_code!r}, which is not in the hierarchy.",
                units=[u.code],
            )
            continue
        if parent.level not in _LEVEL_RANK or _LEVEL_RANK[parent.level] >= _LEVEL_RANK[u.level]:
            report.add(
                "PARENT_LEVEL_INVALID", "error",
                f"Unit {u.code} ({u.level}) has parent {parent.code} ({parent.level}), "
                "which is not a higher level.",
                units=[u.code, parent.code],
            )
            continue
        if _LEVEL_RANK[u.level] - _LEVEL_RANK[parent.level] > 1:
            report.add(
                "PARENT_LEVEL_SKIPPED", "info",
                f"Unit {u.code} ({u.level}) sits directly under {parent.code} ({parent.level}).",
                units=[u.code, parent.code],
            )
        if parent.code in usable_codes:
            children[parent.code].append(u)
    if no_parent:
        report.add(
            "NO_PARENT", "warning",
            f"{len(no_parent)} unit(s) below Polda level name no parent.", units=_listed(no_parent),
        )
    if not children:
        return
    pairs = [(by_code[p], c) for p, kids in sorted(children.items()) for c in kids]
    parent_geoms = np.array([p.geometry for p, _ in pairs], dtype=object)
    child_geoms = np.array([c.geometry for _, c in pairs], dtype=object)
    outside = shapely.difference(child_geoms, parent_geoms)
    out_area = areas_m2(outside)
    child_area = areas_m2(child_geoms)
    small: list[tuple[str, float]] = []
    for (parent, child), geom, a_out, a_child in zip(pairs, outside, out_area, child_area, strict=True):
        if a_out < NOISE_AREA_M2:
            continue
        if a_child - a_out < NOISE_AREA_M2:
            report.add(
                "CHILD_OUTSIDE_PARENT", "error",
                f"Unit {child.code} lies entirely outside its parent {parent.code}; "
                "the parent code is probably wrong.",
                units=[child.code, parent.code], area_m2=float(a_out), location=location_of(geom),
            )
        else:
            if a_out < CHILD_OUTSIDE_TOLERANCE_M2:
                small.append((child.code, float(a_out)))
                continue
            report.add(
                "CHILD_OUTSIDE_PARENT", "warning",
                f"{_km2(a_out)} of unit {child.code} ({100 * a_out / a_child:.2f} %) lies outside "
                f"its parent {parent.code}.",
                units=[child.code, parent.code], area_m2=float(a_out), location=location_of(geom),
            )
    if small:
        report.add(
            "CHILD_OUTSIDE_PARENT", "info",
            f"{len(small)} unit(s) stick out of their parent by less than {_km2(CHILD_OUTSIDE_TOLERANCE_M2)} "
            f"each ({_km2(sum(a for _, a in small))} in all): border rounding.",
            units=_listed(c for c, _ in small), area_m2=sum(a for _, a in small),
        )
    for parent_code, kids in sorted(children.items()):
        by_kid_level: dict[str, list[Unit]] = defaultdict(list)
        for k in kids:
            by_kid_level[k.level].append(k)
        for kid_level, same in by_kid_level.items():
            covered = shapely.union_all([k.geometry for k in same])
            unions[(parent_code, kid_level)] = ([k.code for k in same], covered)
            _check_parent_coverage(by_code[parent_code], same, covered, report)


def _check_parent_coverage(parent: Unit, kids: list[Unit], covered: BaseGeometry, report: Report) -> None:
    """Coverage of a parent by its children (of one level) and the uncovered pieces inside it."""
    uncovered = shapely.difference(parent.geometry, covered)
    parent_area = area_m2(parent.geometry)
    if parent_area <= 0:
        return
    uncovered_area = area_m2(uncovered)
    coverage = 1.0 - uncovered_area / parent_area
    if coverage < MIN_PARENT_COVERAGE:
        report.add(
            "LOW_PARENT_COVERAGE", "warning",
            f"The {len(kids)} {kids[0].level} unit(s) under {parent.code} cover {100 * coverage:.2f} % "
            f"of it ({_km2(uncovered_area)} uncovered).",
            units=[parent.code], area_m2=uncovered_area, location=location_of(uncovered),
        )
    # Holes of the children's union are reported per level (_check_level_holes); here only the
    # uncovered pieces that are not such holes, i.e. the parent's own area left to no child.
    holes = _holes_of(covered)
    if holes:
        uncovered = shapely.difference(uncovered, shapely.union_all(holes))
    _report_gap_pieces(
        uncovered, report,
        lambda area: f"{_km2(area)} inside {parent.code} is covered by none of its {kids[0].level} units.",
        units=[parent.code],
        tree_units=kids,
    )


def _holes_of(geom: BaseGeometry) -> list[Polygon]:
    return [Polygon(r) for p in polygons_of(geom) for r in p.interiors]


def _report_gap_pieces(
    geom: BaseGeometry,
    report: Report,
    describe: Any,
    *,
    units: list[str],
    tree_units: list[Unit],
    pieces: list[BaseGeometry] | None = None,
) -> list[BaseGeometry]:
    """Report each polygon piece of ``geom`` as GAP or SLIVER (noise ignored); return them."""
    parts = np.array(pieces if pieces is not None else polygons_of(geom), dtype=object)
    if len(parts) == 0:
        return []
    areas = areas_m2(parts)
    keep = areas >= NOISE_AREA_M2
    parts, areas = parts[keep], areas[keep]
    if len(parts) == 0:
        return []
    perims = _perimeters_m(parts)
    compact = 4 * math.pi * areas / np.maximum(perims, 1e-9) ** 2
    tree = STRtree([u.geometry for u in tree_units])
    touch_idx, touch_unit = tree.query(parts, predicate="intersects")
    touching: dict[int, list[str]] = defaultdict(list)
    for i, j in zip(touch_idx, touch_unit, strict=True):
        touching[int(i)].append(tree_units[int(j)].code)
    order = np.argsort(-areas, kind="stable")
    for i in order:
        area = float(areas[i])
        sliver = area < SLIVER_MAX_AREA_M2 and compact[i] < SLIVER_MAX_COMPACTNESS
        report.add(
            "SLIVER" if sliver else "GAP", "warning",
            describe(area) + (" (a thin sliver)" if sliver else ""),
            units=_listed(units + touching.get(int(i), [])), area_m2=area, location=location_of(parts[i]),
        )
    return list(parts)


def _check_level_holes(
    level: str,
    units: list[Unit],
    report: Report,
    already: list[BaseGeometry],
    unions: dict[tuple[str, str], tuple[list[str], BaseGeometry]],
) -> list[BaseGeometry]:
    """Gaps: holes in the union of all units of one level (land enclosed but in no unit).

    Parts already reported at a lower level (``already``) are left out; returns the pieces
    reported here.
    """
    # Reuse the per-parent unions: a union of unions is much cheaper than one of all units.
    parts: list[BaseGeometry] = []
    done: set[str] = set()
    for (_, kid_level), (codes, covered) in unions.items():
        if kid_level == level:
            parts.append(covered)
            done.update(codes)
    parts.extend(u.geometry for u in units if u.code not in done)
    union = shapely.union_all(parts)
    holes = _holes_of(union)
    if holes and already:
        tree = STRtree(already)
        hole_idx, prev_idx = tree.query(holes, predicate="intersects")
        # Reported pieces are disjoint, so the summed intersection areas say how much of a hole
        # was already reported; only holes with a real remainder are cut (union_all is costly).
        shared = areas_m2(shapely.intersection(
            np.array(holes, dtype=object)[hole_idx], np.array(already, dtype=object)[prev_idx]
        ))
        reported = np.zeros(len(holes))
        np.add.at(reported, hole_idx, shared)
        hole_areas = areas_m2(holes)
        remaining = hole_areas - reported
        near: list[list[int]] = [[] for _ in holes]
        for i, j in zip(hole_idx, prev_idx, strict=True):
            near[int(i)].append(int(j))
        fresh: list[BaseGeometry] = []
        for k, hole in enumerate(holes):
            if remaining[k] < max(NOISE_AREA_M2, SAME_HOLE_FRACTION * hole_areas[k]):
                continue
            if near[k]:
                rest = shapely.difference(hole, shapely.union_all([already[j] for j in near[k]]))
                fresh.extend(polygons_of(rest))
            else:
                fresh.append(hole)
        holes = fresh
    return _report_gap_pieces(
        union, report,
        lambda area: f"Gap of {_km2(area)} enclosed by {level} units but in none of them.",
        units=[], tree_units=units, pieces=holes,
    )


def _check_overlaps(level: str, units: list[Unit], report: Report) -> None:
    """Overlaps between units of one level: STRtree candidate pairs, then exact intersections."""
    geoms = np.array([u.geometry for u in units], dtype=object)
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return
    inter = shapely.intersection(geoms[left], geoms[right])
    areas = areas_m2(inter)
    found = [(float(a), int(i), int(j), g) for a, i, j, g in zip(areas, left, right, inter, strict=True)
             if a >= NOISE_AREA_M2]
    overlays = [f for f in found if is_special_area(units[f[1]].name) or is_special_area(units[f[2]].name)]
    for a, i, j, g in overlays:
        special, under = (units[i], units[j]) if is_special_area(units[i].name) else (units[j], units[i])
        report.add(
            "SPECIAL_AREA_OVERLAY", "info",
            f"Special area {special.code} ({special.name}) lies over {under.code} for {_km2(a)}: intended "
            "overlay, the special unit answers there.",
            units=[special.code, under.code], area_m2=a, location=location_of(g),
        )
    found = [f for f in found if not (is_special_area(units[f[1]].name) or is_special_area(units[f[2]].name))]
    found.sort(key=lambda t: (-t[0], units[t[1]].code, units[t[2]].code))
    total = sum(a for a, *_ in found)
    large = sum(1 for a, *_ in found if a >= LARGE_OVERLAP_M2)
    for a, i, j, g in found:
        size = "Large overlap" if a >= LARGE_OVERLAP_M2 else ("Tiny overlap" if a < TINY_OVERLAP_M2 else "Overlap")
        report.add(
            "OVERLAP", "warning",
            f"{size} of {_km2(a)} between {level} units {units[i].code} and {units[j].code}: "
            "points there fall in both.",
            units=sorted([units[i].code, units[j].code]), area_m2=a, location=location_of(g),
        )
    if found:
        report.add(
            "OVERLAP_SUMMARY", "info",
            f"{len(found)} overlapping {level} pair(s), {_km2(total)} in all; {large} larger than "
            f"{_km2(LARGE_OVERLAP_M2)}.",
            area_m2=total,
        )


# --------------------------------------------------------------------------------------------
# Stations


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def check_stations(
    stations: Sequence[Any], units: Sequence[Unit] | Mapping[str, BaseGeometry]
) -> Report:
    """Check station points against units: codes, coordinates, point inside its unit.

    ``stations`` are ``geo.stations.Station`` objects or dicts with keys ``code``, ``name``,
    ``unit_code``, ``lon``, ``lat``; ``units`` is a sequence of :class:`Unit` or a mapping
    code -> geometry (EPSG:4326). A station outside its unit is a warning (with the distance
    in geodesic metres and the unit that does cover it); unknown unit codes, duplicate or
    missing codes and impossible or swapped coordinates are errors.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> r = check_stations([{"code": "S1", "name": "Pos", "unit_code": "A", "lon": 115.05, "lat": -8.45}],
    ...                    {"A": box(115.0, -8.5, 115.1, -8.4)})
    >>> r.items
    []
    """
    report = Report()
    geoms: dict[str, BaseGeometry] = (
        dict(units) if isinstance(units, Mapping) else {u.code: u.geometry for u in units}
    )
    codes_sorted = sorted(geoms)
    tree = STRtree([geoms[c] for c in codes_sorted]) if codes_sorted else None
    counts = Counter(str(_get(s, "code") or "").strip() for s in stations)
    for code, n in sorted(counts.items()):
        if code and n > 1:
            report.add("DUPLICATE_CODE", "error", f"Station code {code!r} is used {n} times.", units=[code])
    for idx, s in enumerate(stations):
        code = str(_get(s, "code") or "").strip()
        label = code or f"row {idx + 1}"
        if not code:
            report.add("MISSING_CODE", "error", f"Station at position {idx + 1} has no code.")
        if not str(_get(s, "name") or "").strip():
            report.add("MISSING_NAME", "warning", f"Station {label} has no name.", units=[label])
        lon, lat = _get(s, "lon"), _get(s, "lat")
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            report.add("STATION_COORDINATES_MISSING", "error", f"Station {label} has no usable lon/lat.",
                       units=[label])
            continue
        if not (math.isfinite(lon) and math.isfinite(lat)):
            report.add("STATION_COORDINATES_MISSING", "error", f"Station {label} has no usable lon/lat.",
                       units=[label])
            continue
        if lon == 0.0 and lat == 0.0:
            report.add("NULL_ISLAND", "error", f"Station {label} is at (0, 0): a missing position.",
                       units=[label])
            continue
        unit_code = str(_get(s, "unit_code") or "").strip()
        if _in_box(lat, lon, INDONESIA_LON, INDONESIA_LAT) and not _in_box(lon, lat, INDONESIA_LON, INDONESIA_LAT):
            fits = unit_code in geoms and geoms[unit_code].covers(Point(lat, lon))
            report.add(
                "SWAPPED_COORDINATES_SUSPECTED", "error",
                f"Station {label}: lon {lon} / lat {lat} look exchanged"
                + (f"; exchanged, the point falls in its unit {unit_code}." if fits else "."),
                units=[label], location={"lat": round(lon, 6), "lon": round(lat, 6)},
            )
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            report.add("COORDINATES_OUT_OF_RANGE", "error",
                       f"Station {label}: lon {lon} / lat {lat} are not degrees.", units=[label])
            continue
        loc = {"lat": round(lat, 6), "lon": round(lon, 6)}
        if not unit_code:
            report.add("STATION_UNIT_MISSING", "error", f"Station {label} names no unit.", units=[label],
                       location=loc)
            continue
        if unit_code not in geoms:
            report.add("STATION_UNIT_UNKNOWN", "error",
                       f"Station {label} names unit {unit_code!r}, which is not in the set.",
                       units=[label, unit_code], location=loc)
            continue
        pt = Point(lon, lat)
        unit_geom = geoms[unit_code]
        if unit_geom.covers(pt):
            continue
        distance_m = distance_to_geometry_m(lon, lat, unit_geom)
        covering = []
        if tree is not None:
            covering = [codes_sorted[int(i)] for i in tree.query(pt, predicate="covered_by")]
        where = f"; it falls in {', '.join(sorted(covering))}" if covering else "; it falls in no unit"
        report.add(
            "STATION_OUTSIDE_UNIT", "warning",
            f"Station {label} is {distance_m:,.0f} m outside its unit {unit_code}{where}.",
            units=[label, unit_code, *sorted(covering)], location=loc,
        )
    return report


def _in_box(lon: float, lat: float, lon_box: tuple[float, float], lat_box: tuple[float, float]) -> bool:
    return lon_box[0] <= lon <= lon_box[1] and lat_box[0] <= lat <= lat_box[1]


# --------------------------------------------------------------------------------------------
# Diff


def diff_units(old: Sequence[Unit], new: Sequence[Unit]) -> list[dict[str, Any]]:
    """Units added, removed and changed between two sets, sorted by code.

    A unit is keyed by its code. "Changed" lists the changed ``fields`` among ``geometry``,
    ``name``, ``parent_code`` and ``level``; the geometry counts as changed when the
    symmetric difference is at least :data:`NOISE_AREA_M2`. Areas in m² (EPSG:6933).

    Returns
    -------
    list of dict
        ``{"code", "change", "name", "area_m2_old", "area_m2_new", "changed_area_m2", "fields"}``
        plus ``name_old`` / ``parent_code_old`` / ``parent_code_new`` / ``level_old`` /
        ``level_new`` when those changed.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo_service.geo.area import Unit
    >>> a = Unit("1", "A", "polda", None, box(115.0, -8.5, 115.1, -8.4))
    >>> [d["change"] for d in diff_units([a], [])]
    ['removed']
    """
    old_by = {u.code: u for u in old}
    new_by = {u.code: u for u in new}
    common = sorted(set(old_by) & set(new_by))
    old_area = dict(zip(old_by, areas_m2([u.geometry for u in old_by.values()]), strict=True))
    new_area = dict(zip(new_by, areas_m2([u.geometry for u in new_by.values()]), strict=True))
    sym = dict(zip(common, areas_m2(shapely.symmetric_difference(
        np.array([old_by[c].geometry for c in common], dtype=object),
        np.array([new_by[c].geometry for c in common], dtype=object),
    )) if common else [], strict=True))
    out: list[dict[str, Any]] = []
    for code in sorted(set(old_by) | set(new_by)):
        o, n = old_by.get(code), new_by.get(code)
        item: dict[str, Any] = {
            "code": code,
            "name": (n or o).name,  # type: ignore[union-attr]
            "area_m2_old": round(float(old_area[code]), 1) if o else None,
            "area_m2_new": round(float(new_area[code]), 1) if n else None,
            "changed_area_m2": None,
            "fields": [],
        }
        if o is None:
            item.update(change="added", changed_area_m2=item["area_m2_new"])
        elif n is None:
            item.update(change="removed", changed_area_m2=item["area_m2_old"])
        else:
            fields: list[str] = []
            if float(sym[code]) >= NOISE_AREA_M2:
                fields.append("geometry")
            if o.name != n.name:
                fields.append("name")
                item["name_old"] = o.name
            if o.parent_code != n.parent_code:
                fields.append("parent_code")
                item.update(parent_code_old=o.parent_code, parent_code_new=n.parent_code)
            if o.level != n.level:
                fields.append("level")
                item.update(level_old=o.level, level_new=n.level)
            if not fields:
                continue
            item.update(change="changed", fields=fields, changed_area_m2=round(float(sym[code]), 1))
        out.append(item)
    return out
