"""The mapping table: police units dissolved from administrative areas, and the bundled layers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.geo.area import LEVELS, Unit
from geo_service.geo.boundary_files.archive import FileLimits, file_error
from geo_service.geo.boundary_files.reading import read_csv_rows
from geo_service.geo.checks import Report, ReportItem
from geo_service.geo.geometry import areas_m2
from geo_service.geo.upload_safety import harden_gdal, require_driver


def units_from_mapping(areas: Sequence[Any], mapping_csv: bytes) -> tuple[list[Unit], Report]:
    """Build police units by dissolving administrative areas named in a mapping CSV.

    The CSV has columns ``unit_code, unit_name, level, parent_code, area_code``; one row per
    (unit, area), or several area codes in one cell separated by ``;``. ``areas`` are
    :class:`Unit` objects, objects with ``code`` and ``geometry``, or ``(code, geometry)``
    pairs (EPSG:4326). Unknown area codes, conflicting rows for one unit and bad levels are
    errors; an area used by two units of one level and a non-contiguous result are warnings.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = [("51.03.01", box(115.1, -8.8, 115.2, -8.7)), ("51.03.05", box(115.1, -8.9, 115.2, -8.8))]
    >>> csv_text = b"unit_code,unit_name,level,parent_code,area_code\\nP1,Polsek Kuta Raya,polsek,51.03,51.03.01\\n" \\
    ...            b"P1,Polsek Kuta Raya,polsek,51.03,51.03.05\\n"
    >>> units, report = units_from_mapping(areas, csv_text)
    >>> units[0].code, units[0].geometry.geom_type, report.has_errors
    ('P1', 'Polygon', False)
    """
    report = Report()
    notes: list[ReportItem] = []
    header, rows = read_csv_rows(mapping_csv, FileLimits(), notes, "The mapping CSV")
    report.extend(notes)
    lower = {h.lower(): h for h in header}
    missing = [c for c in ("unit_code", "unit_name", "level", "parent_code", "area_code") if c not in lower]
    if missing:
        raise file_error("FIELD_NOT_FOUND", f"The mapping CSV lacks column(s) {', '.join(missing)}.", fields=header)
    geom_by_code: dict[str, BaseGeometry] = {}
    for a in areas:
        code, geom = (a[0], a[1]) if isinstance(a, tuple) else (a.code, a.geometry)
        geom_by_code[str(code)] = geom
    spec: dict[str, dict[str, Any]] = {}
    for line, r in enumerate(rows, start=2):
        code = r[lower["unit_code"]].strip()
        if not code:
            report.add("MISSING_CODE", "error", f"Mapping line {line} has no unit_code.")
            continue
        level = r[lower["level"]].strip().lower()
        name = r[lower["unit_name"]].strip()
        parent = r[lower["parent_code"]].strip() or None
        area_codes = [c.strip() for c in r[lower["area_code"]].split(";") if c.strip()]
        s = spec.setdefault(code, {"name": name, "level": level, "parent": parent, "areas": [], "line": line})
        if (s["name"], s["level"], s["parent"]) != (name, level, parent):
            report.add("MAPPING_CONFLICT", "error",
                       f"Unit {code}: line {line} gives name/level/parent {name!r}/{level!r}/{parent!r}, "
                       f"line {s['line']} gave {s['name']!r}/{s['level']!r}/{s['parent']!r}.", units=[code])
        if not area_codes:
            report.add("MISSING_AREA", "error", f"Mapping line {line} (unit {code}) names no area_code.", units=[code])
        s["areas"].extend(area_codes)
    units: list[Unit] = []
    dissolved: list[ReportItem] = []
    used: dict[tuple[str, str], list[str]] = {}
    for code, s in sorted(spec.items()):
        if s["level"] not in LEVELS:
            report.add("INVALID_LEVEL", "error",
                       f"Unit {code} has level {s['level']!r}; expected one of {', '.join(LEVELS)}.", units=[code])
            continue
        geoms = []
        for a in dict.fromkeys(s["areas"]):
            if a not in geom_by_code:
                report.add("AREA_NOT_FOUND", "error", f"Unit {code} names area {a!r}, which is not known.",
                           units=[code])
                continue
            geoms.append(geom_by_code[a])
            used.setdefault((s["level"], a), []).append(code)
        if not geoms:
            continue
        geom = shapely.union_all(geoms, grid_size=1e-6) if len(geoms) > 1 else geoms[0]
        n_parts = int(shapely.get_num_geometries(geom))
        if len(geoms) > 1 and n_parts == sum(int(shapely.get_num_geometries(g)) for g in geoms):
            # No part merged with another: the areas do not touch.
            report.add("UNIT_NOT_CONTIGUOUS", "warning",
                       f"Unit {code} is made of areas that do not touch ({n_parts} parts).", units=[code])
        if not s["name"]:
            report.add("MISSING_NAME", "warning", f"Unit {code} has no unit_name; the code is used.", units=[code])
        units.append(Unit(code=code, name=s["name"] or code, level=s["level"], parent_code=s["parent"],
                          geometry=geom))
        report.add("UNIT_DISSOLVED", "info", f"Unit {code} was built from {len(geoms)} area(s).", units=[code])
        dissolved.append(report.items[-1])
    # the areas of all units in one vectorised projection (one call per unit cost 0.6 s nationally)
    for item, area in zip(dissolved, areas_m2([u.geometry for u in units]), strict=True):
        item.area_m2 = float(area)
    for (level, a), codes in sorted(used.items()):
        if len(codes) > 1:
            report.add("AREA_IN_TWO_UNITS", "warning",
                       f"Area {a} is part of {len(codes)} {level} units: {', '.join(codes)}.", units=codes)
    return units, report


def read_bundled_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON file the product ships (``boundaries/``) with pyogrio, in place.

    These files are ours, not uploads: the upload vetting (a full ``json.loads`` of a 100 MB
    national file just to look at its ``type`` and ``crs``) and the temp copy are skipped, but
    GDAL must still read it with the GeoJSON driver and nothing else.
    """
    harden_gdal()
    path = Path(path)
    require_driver(pyogrio.read_info(path), "geojson")
    return pyogrio.read_dataframe(path, on_invalid="ignore")
