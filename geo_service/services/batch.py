"""Batch validate and locate (JSON list, CSV, GeoJSON), streamed in input order.

Hot path, vectorised: plain numeric points (no text, CRS, radius or hint) with enough
decimals that land inside a unit as given and are not near a suspected default location
are answered from :meth:`JurisdictionIndex.locate_many` in one numpy pass. Every other
row (text to parse, a point that needs a correction, the sea) takes the same per-point path
as ``POST /api/v1/locate``, so both paths give the same answer (an oracle test checks it).

Batch answers are *compact*: status, point, format, match, jurisdiction (code and name per
level), distance_m, flags (codes), confidence; no stations per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_service.errors import BadRequest, GeoServiceError, UnsupportedMediaType
from geo_service.geo import validate as validate_mod
from geo_service.geo.index import JurisdictionIndex
from geo_service.services.locate import locate_validated, parse_location_body

MAX_POINTS = 1_000_000
CHUNK = 20_000
#: Rows with fewer decimals than this are sent to the per-point path (COORDINATE_ROUNDED check).
FAST_MIN_DECIMALS = getattr(validate_mod, "ROUNDED_BELOW_DECIMALS", 5)
#: Rows this close (degrees, ~ 22 m) to a default point go to the per-point path.
DEFAULT_PROBE_DEG = 0.0002
LEVELS = ("polda", "polres", "polsek")
CSV_OUT_COLUMNS = ["status", "lat", "lon", "format", "match", "polda_code", "polres_code", "polsek_code",
                   "polsek_name", "distance_m", "confidence", "flags"]


def compact(answer: dict[str, Any]) -> dict[str, Any]:
    """The compact batch record of a full locate answer."""
    juris = answer.get("jurisdiction")
    return {
        "status": answer["status"],
        "point": answer.get("point"),
        "format": answer.get("format"),
        "match": answer.get("match"),
        "jurisdiction": juris,
        "distance_m": answer.get("distance_m"),
        "confidence": answer.get("confidence"),
        "flags": [f["code"] for f in answer.get("flags", [])],
    }


def _error_record(exc: GeoServiceError) -> dict[str, Any]:
    return {"status": "invalid", "point": None, "format": None, "match": "none", "jurisdiction": None,
            "distance_m": None, "confidence": 0.0, "flags": [], "error": {"code": exc.code, "detail": exc.detail,
                                                                           "errors": exc.errors}}


def _slow(body: dict[str, Any], index: JurisdictionIndex, lang: str) -> dict[str, Any]:
    try:
        result = validate_mod.validate_coordinate(**parse_location_body(body), area=index)
    except GeoServiceError as exc:
        return _error_record(exc)
    return compact(locate_validated(result, index, lang=lang, k_stations=0))


@lru_cache(maxsize=4)
def _default_tree(index: JurisdictionIndex) -> shapely.STRtree | None:
    pts = index.default_points()
    if not pts:
        return None
    return shapely.STRtree(shapely.points([p[0] for p in pts], [p[1] for p in pts]))


def _decimals(values: Sequence[str] | np.ndarray) -> np.ndarray:
    s = np.asarray(values, dtype=str)
    s = np.char.strip(s)
    dot = np.char.find(s, ".")
    length = np.char.str_len(s)
    has_exp = (np.char.find(np.char.lower(s), "e") >= 0)
    dec = np.where(dot >= 0, length - dot - 1, 0)
    return np.where(has_exp, 0, dec)


def fast_records(index: JurisdictionIndex, lons: np.ndarray, lats: np.ndarray,
                 decimals: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any] | None]]:
    """Vectorised answers for the rows that qualify; returns (mask of answered rows, records)."""
    n = len(lons)
    ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lats) <= 90) & (np.abs(lons) <= 180)
    ok &= ~((lons == 0) & (lats == 0)) & (decimals >= FAST_MIN_DECIMALS)
    pos = np.full(n, -1, dtype=np.int64)
    if ok.any():
        sel = np.flatnonzero(ok)
        pos[sel] = index.locate_many(lons[sel], lats[sel])
    ok &= pos >= 0
    tree = _default_tree(index)
    if tree is not None and ok.any():
        sel = np.flatnonzero(ok)
        hit_idx, _ = tree.query(shapely.points(lons[sel], lats[sel]), predicate="dwithin", distance=DEFAULT_PROBE_DEG)
        ok[sel[np.unique(hit_idx)]] = False
    # One jurisdiction dict per leaf, shared by every row in it.
    juris_by_leaf: dict[int, dict[str, Any]] = {}
    records: list[dict[str, Any] | None] = [None] * n
    for i in np.flatnonzero(ok).tolist():
        p = int(pos[i])
        juris = juris_by_leaf.get(p)
        if juris is None:
            chain = index.chains_for([p])[0] or {}
            juris = {lvl: ({"code": chain[lvl].code, "name": chain[lvl].name} if lvl in chain else None)
                     for lvl in LEVELS}
            juris_by_leaf[p] = juris
        records[i] = {"status": "valid", "point": {"lat": float(lats[i]), "lon": float(lons[i])},
                      "format": "decimal", "match": "inside", "jurisdiction": juris, "distance_m": 0.0,
                      "confidence": 1.0, "flags": []}
    return ok, records


def _number_items(items: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(items)
    lons = np.full(n, np.nan)
    lats = np.full(n, np.nan)
    dec = np.zeros(n, dtype=np.int64)
    plain = np.zeros(n, dtype=bool)
    for i, it in enumerate(items):
        if (isinstance(it, dict) and it.keys() <= {"lat", "lon"} and type(it.get("lat")) is float
                and type(it.get("lon")) is float):
            lats[i], lons[i] = it["lat"], it["lon"]
            plain[i] = True
    if plain.any():
        sel = np.flatnonzero(plain)
        dec[sel] = np.minimum(_decimals([repr(v) for v in lats[sel]]), _decimals([repr(v) for v in lons[sel]]))
    return lons, lats, dec, plain


def locate_items(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> Iterator[dict[str, Any]]:
    """Compact locate records for a list of location bodies, in order."""
    lons, lats, dec, plain = _number_items(items)
    ok, fast = fast_records(index, lons, lats, np.where(plain, dec, -1))
    for i, item in enumerate(items):
        rec = fast[i] if ok[i] else None
        yield rec if rec is not None else _slow(item if isinstance(item, dict) else {"_": item}, index, lang)


def validate_items(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> list[dict[str, Any]]:
    """Full validation answers for a list of bodies, in order (errors per item, not per batch)."""
    out = []
    for item in items:
        try:
            out.append(validate_mod.validate_coordinate(**parse_location_body(item), area=index).to_dict(lang=lang))
        except GeoServiceError as exc:
            out.append(_error_record(exc))
    return out


# ------------------------------------------------------------------- CSV


def read_csv_frame(data: bytes) -> pd.DataFrame:
    """Read a CSV upload as strings; needs a header with ``lat``/``lon`` or ``text``."""
    if not data.strip():
        raise BadRequest("the CSV is empty", code="CSV_EMPTY")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python") \
            if len(text) < 4096 else pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise BadRequest(f"the CSV cannot be read: {str(exc).splitlines()[0]}", code="CSV_INVALID") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    aliases = {"latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon"}
    frame = frame.rename(columns={c: aliases[c] for c in frame.columns if c in aliases})
    if "text" not in frame.columns and not {"lat", "lon"} <= set(frame.columns):
        raise BadRequest("the CSV needs a header with 'lat' and 'lon' columns or a 'text' column",
                         code="CSV_COLUMNS_MISSING")
    if len(frame) > MAX_POINTS:
        raise BadRequest(f"at most {MAX_POINTS} rows per batch", code="BATCH_TOO_LARGE")
    return frame


def _row_body(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if row.get("text", "").strip():
        body["text"] = row["text"]
    else:
        for key in ("lat", "lon"):
            raw = row.get(key, "").strip().replace(",", ".")
            try:
                body[key] = float(raw)
            except ValueError:
                body["text"] = f"{row.get('lat', '')} {row.get('lon', '')}"
                body.pop("lat", None)
                body.pop("lon", None)
                break
    for key in ("crs", "hint_unit"):
        if row.get(key, "").strip():
            body[key] = row[key].strip()
    if row.get("uncertainty_m", "").strip():
        try:
            body["uncertainty_m"] = float(row["uncertainty_m"])
        except ValueError:
            body["uncertainty_m"] = row["uncertainty_m"]
    return body


def _csv_records(frame: pd.DataFrame, index: JurisdictionIndex, lang: str) -> Iterator[dict[str, Any]]:
    n = len(frame)
    simple = np.ones(n, dtype=bool)
    for col in ("text", "crs", "hint_unit", "uncertainty_m"):
        if col in frame.columns:
            simple &= frame[col].str.strip().eq("").to_numpy()
    if {"lat", "lon"} <= set(frame.columns):
        lat_s = frame["lat"].to_numpy(dtype=str)
        lon_s = frame["lon"].to_numpy(dtype=str)
        lats = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        lons = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        dec = np.minimum(_decimals(lat_s), _decimals(lon_s))
    else:
        lats = lons = np.full(n, np.nan)
        dec = np.zeros(n, dtype=np.int64)
    ok, fast = fast_records(index, lons, lats, np.where(simple, dec, -1))
    rows = frame.to_dict("records") if (~ok).any() else None
    for i in range(n):
        if ok[i]:
            yield fast[i]  # type: ignore[misc]
        else:
            yield _slow(_row_body(rows[i]), index, lang)  # type: ignore[index]


def _csv_line(rec: dict[str, Any]) -> list[Any]:
    juris = rec.get("jurisdiction") or {}
    point = rec.get("point") or {}

    def code(level: str) -> str:
        return (juris.get(level) or {}).get("code", "")

    return [rec["status"], point.get("lat", ""), point.get("lon", ""), rec.get("format") or "", rec.get("match") or "",
            code("polda"), code("polres"), code("polsek"), (juris.get("polsek") or {}).get("name", ""),
            "" if rec.get("distance_m") is None else round(rec["distance_m"], 1), rec.get("confidence", ""),
            ";".join(rec.get("flags", []))]


def csv_output_header(frame: pd.DataFrame) -> list[str]:
    """Input columns (lat/lon renamed input_lat/input_lon) followed by the answer columns."""
    return [f"input_{c}" if c in CSV_OUT_COLUMNS else c for c in frame.columns] + CSV_OUT_COLUMNS


def locate_csv_chunks(frame: pd.DataFrame, index: JurisdictionIndex, lang: str) -> Iterator[str]:
    """CSV text chunks: header, then one line per input row in order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_output_header(frame))
    inputs = frame.to_numpy(dtype=str)
    for i, rec in enumerate(_csv_records(frame, index, lang)):
        writer.writerow([*inputs[i].tolist(), *_csv_line(rec)])
        if (i + 1) % CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def validate_csv(data: bytes, index: JurisdictionIndex, *, lang: str = "id") -> str:
    """Validate every row of a CSV; adds status, lat, lon, flags (and more) columns."""
    frame = read_csv_frame(data)
    if len(frame) > 100_000:
        raise BadRequest("at most 100000 rows per validate batch; use /api/v1/locate/batch", code="BATCH_TOO_LARGE")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    out_cols = ["status", "lat", "lon", "format", "uncertainty_m", "confidence", "flags"]
    writer.writerow([f"input_{c}" if c in out_cols else c for c in frame.columns] + out_cols)
    for row in frame.to_dict("records"):
        try:
            res = validate_mod.validate_coordinate(**parse_location_body(_row_body(row)), area=index)
            d = res.to_dict(lang=lang)
        except GeoServiceError as exc:
            d = _error_record(exc)
        point = d.get("point") or {}
        writer.writerow([*row.values(), d["status"], point.get("lat", ""), point.get("lon", ""), d.get("format") or "",
                         d.get("uncertainty_m") or "", d.get("confidence", ""),
                         ";".join(f["code"] if isinstance(f, dict) else f for f in d.get("flags", []))])
    return buf.getvalue()


# ------------------------------------------------------------------- JSON and GeoJSON


def _json_chunks(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    parts: list[str] = []
    for rec in records:
        parts.append(("" if first else ",") + json.dumps(rec, separators=(",", ":")))
        first = False
        if len(parts) >= CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("]")
    yield "".join(parts)


def _geojson_chunks(features: list[dict[str, Any]], records: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    for i, rec in enumerate(records):
        feat = features[i]
        props = dict(feat.get("properties") or {})
        props["geo_service"] = rec
        point = rec.get("point")
        geom = {"type": "Point", "coordinates": [point["lon"], point["lat"]]} if point else feat.get("geometry")
        parts.append(("," if i else "") + json.dumps({"type": "Feature", "geometry": geom, "properties": props},
                                                     separators=(",", ":")))
        if len(parts) >= CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("]}")
    yield "".join(parts)


def locate_stream(data: bytes, mimetype: str, index: JurisdictionIndex, *, lang: str = "id") -> tuple[str, Iterator[str]]:
    """Parse a batch body and return (response mimetype, chunk iterator), input format in, same format out."""
    if mimetype == "text/csv":
        frame = read_csv_frame(data)
        return "text/csv", locate_csv_chunks(frame, index, lang)
    if mimetype not in ("application/json", "application/geo+json"):
        raise UnsupportedMediaType("send JSON (a list), CSV (text/csv) or GeoJSON (application/geo+json)",
                                   code="BATCH_FORMAT_UNSUPPORTED")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON", code="JSON_INVALID") from None
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list):
            raise BadRequest("a FeatureCollection needs a features list", code="GEOJSON_INVALID")
        if len(features) > MAX_POINTS:
            raise BadRequest(f"at most {MAX_POINTS} features per batch", code="BATCH_TOO_LARGE")
        items: list[Any] = []
        for feat in features:
            geom = (feat or {}).get("geometry") if isinstance(feat, dict) else None
            coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
            if isinstance(coords, list) and len(coords) >= 2:
                # GeoJSON order is [lon, lat]: a swapped pair is detected by the validator like any other.
                items.append({"lon": coords[0], "lat": coords[1]})
            else:
                items.append({"_invalid": "feature without a Point geometry"})
        return "application/geo+json", _geojson_chunks(features, locate_items(items, index, lang=lang))
    if not isinstance(body, list):
        raise BadRequest("the body must be a JSON list, a GeoJSON FeatureCollection or CSV", code="JSON_LIST_REQUIRED")
    if len(body) > MAX_POINTS:
        raise BadRequest(f"at most {MAX_POINTS} items per batch", code="BATCH_TOO_LARGE")
    return "application/json", _json_chunks(locate_items(body, index, lang=lang))
