"""Units from a read layer: fields, CRS checked against the numbers, reprojection, repairs."""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from geo_service.errors import UnknownCRS
from geo_service.geo.area import LEVELS, Level, Unit
from geo_service.geo.boundary_files.archive import file_error
from geo_service.geo.boundary_files.fields import as_text, guess_fields
from geo_service.geo.boundary_files.reading import RawLayer, crs_label
from geo_service.geo.checks import Report, location_of, looks_like_degrees, looks_swapped
from geo_service.geo.geometry import area_m2, polygonal_part

_WGS84 = pyproj.CRS.from_epsg(4326)


def units_from_layer(
    raw: RawLayer,
    *,
    level: str,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    source_crs: str | None = None,
) -> tuple[list[Unit], Report]:
    """Turn a read layer into units in EPSG:4326, repairing what can be repaired and saying so.

    Fields left as None are guessed (:func:`guess_fields`, reported as ``FIELDS_GUESSED``).
    The CRS is the file's, or ``source_crs`` when the admin names one. A missing CRS with
    lon/lat-looking numbers is a warning (EPSG:4326 assumed); with projected-looking numbers
    it is an error and no units are returned, as for coordinates that look swapped or a
    CRS that does not fit the numbers. Invalid geometries are repaired with
    ``make_valid(method="structure")`` (nested shells absorbed, not turned into holes);
    empty and non-polygon features are skipped; features without a code are errors.
    Duplicates, hierarchy, overlaps and gaps are left to :func:`checks.check_units` on the
    merged set.

    Parameters
    ----------
    raw : from :func:`read_boundary_file`
    level : ``"polda"``, ``"polres"`` or ``"polsek"``
    code_field, name_field, parent_field : attribute names (guessed when None)
    source_crs : a CRS for a file that has none (e.g. ``"EPSG:32750"``)

    Returns
    -------
    (list of Unit, Report)

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"kode": ["51.01"], "nama": ["Polres Jembrana"], "kode_prov": ["51"]},
    ...                        geometry=[box(114.4, -8.5, 114.9, -8.1)], crs=4326)
    >>> units, report = units_from_layer(RawLayer(gdf, "EPSG:4326", "geojson", list(gdf.columns[:3])),
    ...                                  level="polres")
    >>> units[0].code, units[0].parent_code, report.has_errors
    ('51.01', '51', False)
    """
    if level not in LEVELS:
        raise file_error("INVALID_LEVEL", f"Level {level!r} is not one of {', '.join(LEVELS)}.")
    lvl: Level = level  # type: ignore[assignment]
    report = Report(list(raw.notes))
    if code_field is None or name_field is None or (parent_field is None and lvl != "polda"):
        guess = guess_fields(raw)
        code_field = code_field or guess.code_field
        name_field = name_field or guess.name_field
        if lvl != "polda":
            parent_field = parent_field or guess.parent_field
        report.add(
            "FIELDS_GUESSED", "info",
            f"Fields used: code={code_field!r}, name={name_field!r}, parent={parent_field!r} (please confirm).",
        )
    for label, fname in (("code", code_field), ("name", name_field), ("parent", parent_field)):
        if fname is not None and fname not in raw.fields:
            raise file_error("FIELD_NOT_FOUND", f"The {label} field {fname!r} is not in the file.", fields=raw.fields)
    if code_field is None:
        raise file_error("FIELD_NOT_FOUND", "No code field could be guessed; name one.", fields=raw.fields)

    gdf = raw.gdf
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if shapely.has_z(geoms[present]).any():
        geoms = shapely.force_2d(geoms)
        report.add("Z_DROPPED", "info", "Z values were dropped.")
    reprojected = _to_wgs84(geoms, present, raw, source_crs, report)
    if reprojected is None:
        return [], report
    geoms = reprojected

    units: list[Unit] = []
    no_code: list[int] = []
    no_name: list[str] = []
    empty: list[str] = []
    not_poly: list[str] = []
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for row, (rec, geom) in enumerate(zip(records, geoms, strict=True), start=1):
        code = as_text(rec.get(code_field))
        if code is None:
            no_code.append(row)
            continue
        name = as_text(rec.get(name_field)) if name_field else None
        if name is None:
            no_name.append(code)
            name = code
        parent = as_text(rec.get(parent_field)) if parent_field and lvl != "polda" else None
        if geom is None or geom.is_empty:
            empty.append(code)
            continue
        poly = polygonal_part(geom, dissolve=True)
        if poly.is_empty:
            not_poly.append(f"{code} ({geom.geom_type})")
            continue
        if poly is not geom:
            report.add("NON_POLYGON_PARTS_DROPPED", "warning",
                       f"Feature {code}: the non-polygon parts of a {geom.geom_type} were dropped.", units=[code])
        if not poly.is_valid:
            reason = shapely.is_valid_reason(poly)
            fixed = polygonal_part(shapely.make_valid(poly, method="structure", keep_collapsed=False), dissolve=True)
            if fixed.is_empty:
                empty.append(code)
                continue
            before = area_m2(shapely.make_valid(poly))
            after = area_m2(fixed)
            report.add(
                "INVALID_GEOMETRY_REPAIRED", "warning",
                f"Feature {code} was invalid ({reason}) and was repaired; area {before:,.0f} m² -> {after:,.0f} m².",
                units=[code], area_m2=abs(after - before), location=location_of(fixed),
            )
            poly = fixed
        units.append(Unit(code=code, name=name, level=lvl, parent_code=parent, geometry=poly))
    if no_code:
        report.add("MISSING_CODE", "error",
                   f"{len(no_code)} feature(s) have no value in {code_field!r} (rows {no_code[:20]}).")
    if no_name:
        report.add("MISSING_NAME", "warning",
                   f"{len(no_name)} feature(s) have no name; the code is used as name.", units=no_name[:12])
    if empty:
        report.add("EMPTY_GEOMETRY", "warning", f"{len(empty)} feature(s) have no geometry and were skipped.",
                   units=empty[:12])
    if not_poly:
        report.add("NOT_POLYGON", "warning",
                   f"{len(not_poly)} feature(s) are not areas and were skipped: {', '.join(not_poly[:12])}.",
                   units=[s.split(" ")[0] for s in not_poly[:12]])
    if not units:
        report.add("NO_USABLE_FEATURES", "error", "The file has no feature with a code and a polygon.")
    return units, report


def _to_wgs84(
    geoms: np.ndarray, present: np.ndarray, raw: RawLayer, source_crs: str | None, report: Report
) -> np.ndarray | None:
    """Reproject to EPSG:4326 after checking the CRS against the numbers; None when refused."""
    if not present.any():
        return geoms
    bounds = tuple(float(b) for b in shapely.total_bounds(geoms[present]))
    shown = tuple(round(b, 3) for b in bounds)
    crs: pyproj.CRS | None = None
    if source_crs is not None:
        try:
            crs = pyproj.CRS.from_user_input(source_crs)
        except pyproj.exceptions.CRSError:
            raise UnknownCRS(f"{source_crs!r} is not a CRS pyproj knows.") from None
        report.add("CRS_GIVEN", "info", f"CRS {source_crs} was given for the file (found: {raw.crs_found}).")
    elif raw.gdf.crs is not None:
        crs = pyproj.CRS.from_user_input(raw.gdf.crs)
    if crs is None:
        if looks_swapped(bounds):
            report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                       f"No CRS, and the numbers {shown} look like (lat, lon) instead of (lon, lat).")
            return None
        if looks_like_degrees(bounds):
            report.add("MISSING_CRS", "warning",
                       f"The file has no CRS; its numbers {shown} look like lon/lat, so EPSG:4326 was assumed.")
            return geoms
        hint = " (northings above 9,000,000 suggest UTM south, e.g. EPSG:32750 for Bali)" if bounds[1] > 9e6 else ""
        report.add("MISSING_CRS", "error",
                   f"The file has no CRS and its numbers {shown} are not degrees{hint}; add the .prj or name "
                   "the CRS.")
        return None
    if crs.is_geographic and looks_swapped(bounds):
        report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                   f"The coordinates {shown} look like (lat, lon) instead of (lon, lat).")
        return None
    if crs.is_geographic and not looks_like_degrees(bounds):
        report.add("CRS_MISMATCH", "error",
                   f"The CRS {raw.crs_found or crs.name} is lon/lat but the numbers {shown} are not degrees.")
        return None
    if crs.is_projected and looks_like_degrees(bounds):
        report.add("CRS_MISMATCH", "error",
                   f"The CRS {crs_label(crs)} is projected (metres) but the numbers {shown} look like degrees.")
        return None
    if not crs.equals(_WGS84, ignore_axis_order=True):
        transformer = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)

        def to_lonlat(xy: np.ndarray) -> np.ndarray:
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        geoms = geoms.copy()
        geoms[present] = shapely.transform(geoms[present], to_lonlat)
        report.add("REPROJECTED", "info", f"Reprojected from {crs_label(crs)} to EPSG:4326.")
        bounds = tuple(float(b) for b in shapely.total_bounds(geoms[present]))
    if looks_swapped(bounds):
        report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                   f"The coordinates {tuple(round(b, 3) for b in bounds)} look like (lat, lon) instead of (lon, lat).")
        return None
    return geoms
