"""Station files: police stations from a CSV or GeoJSON upload."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from geo_service.geo.boundary_files.archive import FileLimits, file_error
from geo_service.geo.boundary_files.fields import as_text
from geo_service.geo.boundary_files.reading import decode_text, detect_format, read_csv_rows
from geo_service.geo.checks import Report, ReportItem
from geo_service.geo.stations import Station

_STATION_KEYS: dict[str, tuple[str, ...]] = {
    "code": ("code", "kode", "station_code", "kode_pos", "id"),
    "name": ("name", "nama", "station_name", "nama_pos"),
    "unit_code": ("unit_code", "kode_unit", "unit", "kode_satuan", "parent_code"),
    "lat": ("lat", "latitude", "lintang", "y"),
    "lon": ("lon", "lng", "long", "longitude", "bujur", "x"),
    "phone": ("phone", "telepon", "telp", "no_telp", "tel", "telephone"),
    "sample": ("sample", "contoh", "is_sample"),
}


def _number(text: Any) -> float | None:
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    t = str(text).strip().replace(" ", "")
    if not t:
        return None
    if "," in t and "." not in t:
        t = t.replace(",", ".")  # Indonesian decimal comma
    try:
        return float(t)
    except ValueError:
        return None


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "ya", "y", "t")


def read_station_file(data: bytes, filename: str) -> tuple[list[Station], Report]:
    """Read police stations from a CSV or GeoJSON file.

    Columns/properties (Indonesian names accepted): ``code``, ``name``, ``unit_code``,
    ``lat``/``lon`` (CSV; a decimal comma is accepted) or a Point geometry (GeoJSON),
    ``phone``, ``sample``. Rows without usable coordinates are reported as errors and left
    out. Coordinate range, swaps and "inside its unit" are checked by
    :func:`checks.check_stations`. Returns :class:`geo.stations.Station` objects.

    Examples
    --------
    >>> stations, report = read_station_file(b"kode;nama;kode_unit;lat;lon\\nS1;Pos Kuta;51.03.01;-8,72;115,17\\n",
    ...                                      "pos.csv")
    >>> stations[0].lat, stations[0].unit_code, report.has_errors
    (-8.72, '51.03.01', False)
    """
    fmt = detect_format(filename, data[:512])
    report = Report()
    notes: list[ReportItem] = []
    limits = FileLimits()
    records: list[tuple[int, dict[str, Any], tuple[float | None, float | None] | None]] = []
    if fmt == "csv":
        header, rows = read_csv_rows(data, limits, notes, "The station CSV")
        cols = _station_columns(header)
        for line, r in enumerate(rows, start=2):
            records.append((line, {k: r.get(c, "") for k, c in cols.items()}, None))
    elif fmt == "geojson":
        try:
            doc = json.loads(decode_text(data, notes, "The station GeoJSON"))
        except ValueError as exc:
            raise file_error("FILE_UNREADABLE", f"The GeoJSON cannot be parsed: {exc}") from None
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise file_error("FILE_UNREADABLE", "The GeoJSON is not a FeatureCollection.")
        if len(feats) > limits.max_rows:
            raise file_error("TOO_MANY_FEATURES", f"The file has more than {limits.max_rows:,} features.")
        for n, f in enumerate(feats, start=1):
            props = (f.get("properties") or {}) if isinstance(f, dict) else {}
            cols = _station_columns(list(props))
            geom = f.get("geometry") if isinstance(f, dict) else None
            xy: tuple[float | None, float | None] | None = None
            if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(geom.get("coordinates"), list):
                c = geom["coordinates"]
                xy = (_number(c[0]), _number(c[1])) if len(c) >= 2 else (None, None)
            elif geom is not None:
                report.add("NOT_POINT", "error", f"Feature {n} is a {geom.get('type')!r}, not a Point.")
                continue
            records.append((n, {k: props.get(c) for k, c in cols.items()}, xy))
    else:
        raise file_error("UNSUPPORTED_FORMAT", "Station files must be CSV or GeoJSON.")
    report.extend(notes)
    stations: list[Station] = []
    for where, rec, xy in records:
        lon, lat = xy if xy is not None else (_number(rec.get("lon")), _number(rec.get("lat")))
        code = as_text(rec.get("code")) or ""
        if lon is None or lat is None:
            report.add("STATION_COORDINATES_MISSING", "error",
                       f"Station {code or '?'} ({'line' if fmt == 'csv' else 'feature'} {where}) has no usable lon/lat.",
                       units=[code] if code else [])
            continue
        stations.append(Station(
            code=code,
            name=as_text(rec.get("name")) or "",
            unit_code=as_text(rec.get("unit_code")) or "",
            lon=lon,
            lat=lat,
            phone=as_text(rec.get("phone")),
            sample=_truthy(rec.get("sample")) if rec.get("sample") not in (None, "") else False,
        ))
    return stations, report


def _station_columns(header: Sequence[str]) -> dict[str, str]:
    lower = {h.lower().strip(): h for h in header}
    out: dict[str, str] = {}
    for key, names in _STATION_KEYS.items():
        hit = next((lower[n] for n in names if n in lower), None)
        if hit is not None:
            out[key] = hit
    return out
