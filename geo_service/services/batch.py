"""Batch validate and locate (JSON list, CSV, GeoJSON), streamed in input order.

Hot path, vectorised: plain WGS 84 numbers (no text, CRS, radius or hint) that the per-point
path would answer ``valid`` inside one leaf are answered in one numpy pass; which rows qualify
is decided in the geo core, beside the scalar rules
(:func:`geo_service.geo.validate_arrays.fast_positions`). Every other row (text to parse, a
point that needs a correction, the sea, a border) takes the same per-point path as
``POST /api/v1/locate``, so both paths give the same answer; oracle tests in
tests/services/test_batch.py and tests/web/test_locate_api.py check it on thousands of points.
This module reads the rows and writes the answers.

Batch answers are *compact*: status, point, format, match, jurisdiction (code and name per
level), distance_m, flags (codes), confidence; no stations per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from geo_service.errors import BadRequest, GeoServiceError, UnsupportedMediaType
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.validate_arrays import decimals_of_floats, fast_positions
from geo_service.services.answers import (
    BatchError,
    CompactLocate,
    Jurisdiction,
    LocateAnswer,
    Point,
    ValidationAnswer,
    compact_record,
    to_builtins,
    to_json,
)
from geo_service.services.csv_cells import csv_safe, csv_safe_frame
from geo_service.services.locate import (
    jurisdiction_of,
    locate_validated,
    validate_location,
    validation_answer,
)

MAX_POINTS = 1_000_000
CHUNK = 20_000
LEVELS = ("polda", "polres", "polsek")
CSV_OUT_COLUMNS = ["status", "lat", "lon", "format", "match", "polda_code", "polres_code", "polsek_code",
                   "polsek_name", "distance_m", "confidence", "flags"]


def compact(answer: LocateAnswer | Mapping[str, Any]) -> dict[str, Any]:
    """The compact batch record of a locate answer (typed, or its stored JSON form), as JSON-ready dicts."""
    typed = answer if isinstance(answer, LocateAnswer) else msgspec.convert(answer, type=LocateAnswer)
    return to_builtins(compact_record(typed))  # type: ignore[no-any-return]


def error_record(exc: GeoServiceError) -> CompactLocate:
    """The compact record of a row whose body is malformed."""
    return CompactLocate("invalid", None, None, "none", None, None, 0.0, [],
                         error=BatchError(exc.code, exc.detail, exc.errors))


def _slow(body: Any, index: JurisdictionIndex, lang: str) -> CompactLocate:
    try:
        result = validate_location(body, index)
    except GeoServiceError as exc:
        return error_record(exc)
    return compact_record(locate_validated(result, index, lang=lang, k_stations=0))


def _leaf_jurisdictions(index: JurisdictionIndex) -> list[Jurisdiction]:
    """One jurisdiction per leaf position (shared by every row in that leaf)."""
    return [jurisdiction_of(chain or {}) for chain in index.chains_for(np.arange(len(index.leaves)))]


def fast_records(index: JurisdictionIndex, lons: np.ndarray, lats: np.ndarray,
                 decimals: np.ndarray) -> tuple[np.ndarray, list[CompactLocate | None]]:
    """Vectorised answers for the rows that qualify; returns (mask of answered rows, records)."""
    pos = fast_positions(index, lons, lats, decimals)
    ok = pos >= 0
    juris = _leaf_jurisdictions(index) if ok.any() else []
    records: list[CompactLocate | None] = [None] * len(lons)
    for i in np.flatnonzero(ok).tolist():
        # The per-point answer rounds to 7 decimals (a no-op for the 5-7 decimals of most input).
        point = Point(round(float(lats[i]), 7), round(float(lons[i]), 7))
        records[i] = CompactLocate("valid", point, "decimal", "inside", juris[int(pos[i])], 0.0, 1.0, [])
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
        dec[sel] = np.minimum(decimals_of_floats(lats[sel]), decimals_of_floats(lons[sel]))
    return lons, lats, dec, plain


def locate_items(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> Iterator[dict[str, Any]]:
    """Compact locate records for a list of location bodies, in order, as JSON-ready dicts."""
    return (to_builtins(rec) for rec in locate_records(items, index, lang=lang))


def locate_records(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> Iterator[CompactLocate]:
    """Compact locate records for a list of location bodies, in order."""
    lons, lats, dec, plain = _number_items(items)
    ok, fast = fast_records(index, lons, lats, np.where(plain, dec, -1))
    for i, item in enumerate(items):
        rec = fast[i] if ok[i] else None
        yield rec if rec is not None else _slow(item if isinstance(item, dict) else {"_": item}, index, lang)


def reject_item_at(items: list[Any]) -> None:
    """400 ``BATCH_AT_PER_ITEM`` when items carry their own ``"at"``: a batch has one moment.

    The batch endpoints answer every item with the set in force at the request's ``?at=``
    (default now), chosen once; an item's own ``at`` would be silently ignored otherwise.
    """
    pointers = [f"/{i}/at" for i, item in enumerate(items) if isinstance(item, dict) and "at" in item]
    if pointers:
        raise BadRequest(f"{len(pointers)} item(s) carry their own 'at'; a batch is answered for one moment: "
                         "give it once as the query parameter ?at= (ISO 8601 with offset) and leave it out "
                         "of the items", code="BATCH_AT_PER_ITEM",
                         errors=[{"pointer": p, "detail": "use the query parameter ?at= for the whole batch"}
                                 for p in pointers[:20]])


def validate_items(items: list[Any], index: JurisdictionIndex, *,
                   lang: str = "id") -> list[ValidationAnswer | CompactLocate]:
    """Full validation answers for a list of bodies, in order (errors per item, not per batch)."""
    out: list[ValidationAnswer | CompactLocate] = []
    for item in items:
        try:
            out.append(validation_answer(validate_location(item, index), lang))
        except GeoServiceError as exc:
            out.append(error_record(exc))
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
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:  # csv.Error: the sniffer found no delimiter
        raise BadRequest(f"the CSV cannot be read: {(str(exc).splitlines() or ['?'])[0]}", code="CSV_INVALID") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    aliases = {"latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon"}
    frame = frame.rename(columns={c: aliases[c] for c in frame.columns if c in aliases})
    if "text" not in frame.columns and not {"lat", "lon"} <= set(frame.columns):
        raise BadRequest("the CSV needs a header with 'lat' and 'lon' columns or a 'text' column",
                         code="CSV_COLUMNS_MISSING")
    if len(frame) > MAX_POINTS:
        raise BadRequest(f"at most {MAX_POINTS} rows per batch", code="BATCH_TOO_LARGE")
    return frame


def row_body(row: dict[str, str]) -> dict[str, Any]:
    """The location body of one CSV row (text, or lat/lon with comma decimals allowed; crs, hint, radius)."""
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


def _csv_floats(values: np.ndarray) -> np.ndarray:
    """Floats of CSV cells read as the per-point path reads them (comma decimals allowed); NaN if unreadable."""
    out = np.full(len(values), np.nan)
    for i, raw in enumerate(values.tolist()):
        try:
            out[i] = float(raw.strip().replace(",", "."))
        except ValueError:
            pass
    return out


def csv_fast_positions(frame: pd.DataFrame, index: JurisdictionIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                               np.ndarray]:
    """(leaf position or -1, lats, lons, decimals) of the rows the vectorised path answers."""
    n = len(frame)
    simple = np.ones(n, dtype=bool)
    for col in ("text", "crs", "hint_unit", "uncertainty_m"):
        if col in frame.columns:
            simple &= frame[col].str.strip().eq("").to_numpy(dtype=bool)
    if {"lat", "lon"} <= set(frame.columns) and simple.any():
        lats = _csv_floats(frame["lat"].to_numpy(dtype=object))
        lons = _csv_floats(frame["lon"].to_numpy(dtype=object))
        dec = np.full(n, -1, dtype=np.int64)
        finite = np.flatnonzero(simple & np.isfinite(lats) & np.isfinite(lons))
        if len(finite):
            dec[finite] = np.minimum(decimals_of_floats(lats[finite]), decimals_of_floats(lons[finite]))
    else:
        lats = lons = np.full(n, np.nan)
        dec = np.full(n, -1, dtype=np.int64)
    return fast_positions(index, lons, lats, dec), lats, lons, dec


def _codes(j: Jurisdiction | None) -> list[str]:
    """The polda, polres, polsek codes and the polsek name of a jurisdiction ("" where missing), as CSV
    cells (codes and names come from uploaded boundary files: no cell may start a formula)."""
    units = (j.polda, j.polres, j.polsek) if j is not None else (None, None, None)
    cells = [u.code if u is not None else "" for u in units] + [units[2].name if units[2] is not None else ""]
    return [csv_safe(c) for c in cells]


def csv_answer_cells(rec: CompactLocate | Mapping[str, Any]) -> list[Any]:
    """The answer cells (``CSV_OUT_COLUMNS``) of a compact record (typed, or as dicts)."""
    if not isinstance(rec, CompactLocate):
        rec = msgspec.convert(rec, type=CompactLocate)
    point = rec.point
    return [rec.status, point.lat if point else "", point.lon if point else "", rec.format or "", rec.match or "",
            *_codes(rec.jurisdiction), "" if rec.distance_m is None else round(rec.distance_m, 1), rec.confidence,
            ";".join(rec.flags)]


def csv_output_header(frame: pd.DataFrame) -> list[str]:
    """Input columns (lat/lon renamed input_lat/input_lon) followed by the answer columns."""
    return [f"input_{c}" if c in CSV_OUT_COLUMNS else c for c in frame.columns] + CSV_OUT_COLUMNS


def locate_csv_chunks(frame: pd.DataFrame, index: JurisdictionIndex, lang: str,
                      progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """CSV text chunks: header, then one line per input row in order (``progress(rows)`` after each chunk)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_output_header(frame))
    yield buf.getvalue()
    buf.seek(0)
    buf.truncate()
    n = len(frame)
    columns = list(frame.columns)
    inputs = frame.to_numpy(dtype=object)
    echo = csv_safe_frame(frame).to_numpy(dtype=object)  # the input cells as written back: no formulas
    pos, lats, lons, dec = csv_fast_positions(frame, index)
    juris: list[Jurisdiction | None] = [*_leaf_jurisdictions(index), None]
    tails = np.array([_codes(j) for j in juris], dtype=object)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        p = pos[start:stop]
        fast = p >= 0
        m = stop - start
        out = np.empty((m, len(CSV_OUT_COLUMNS)), dtype=object)
        out[:, 0], out[:, 3], out[:, 4] = "valid", "decimal", "inside"
        out[:, 5:9] = tails[p]
        out[:, 9], out[:, 10], out[:, 11] = 0.0, 1.0, ""
        out[:, 1] = [round(v, 7) for v in lats[start:stop].tolist()]
        out[:, 2] = [round(v, 7) for v in lons[start:stop].tolist()]
        for k in np.flatnonzero(~fast).tolist():
            rec = _slow(row_body(dict(zip(columns, inputs[start + k], strict=True))), index, lang)
            out[k] = csv_answer_cells(rec)
        writer.writerows(zip(*echo[start:stop].T.tolist(), *out.T.tolist(), strict=True))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
        if progress is not None:
            progress(m)


VALIDATE_CSV_COLUMNS = ["status", "lat", "lon", "format", "uncertainty_m", "confidence", "flags"]
MAX_VALIDATE_ROWS = 100_000


def validate_csv_chunks(frame: pd.DataFrame, index: JurisdictionIndex, lang: str = "id",
                        progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """CSV text chunks of the validation of every row: input columns, then status, lat, lon, ..., flags."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([f"input_{c}" if c in VALIDATE_CSV_COLUMNS else c for c in frame.columns] + VALIDATE_CSV_COLUMNS)
    columns = list(frame.columns)
    inputs = frame.to_numpy(dtype=object)
    echo = csv_safe_frame(frame).to_numpy(dtype=object).tolist()  # the input cells as written back: no formulas
    for i, values in enumerate(inputs.tolist()):
        row = dict(zip(columns, values, strict=True))
        try:
            d: ValidationAnswer | CompactLocate = validation_answer(validate_location(row_body(row), index), lang)
        except GeoServiceError as exc:
            d = error_record(exc)
        point, unc = d.point, getattr(d, "uncertainty_m", None)
        writer.writerow([*echo[i], d.status, point.lat if point else "", point.lon if point else "", d.format or "",
                         "" if unc is None else unc, d.confidence,
                         ";".join(f if isinstance(f, str) else f.code for f in d.flags)])
        if (i + 1) % CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if progress is not None:
                progress(CHUNK)
    yield buf.getvalue()
    if progress is not None and len(inputs) % CHUNK:
        progress(len(inputs) % CHUNK)


def validate_csv(data: bytes, index: JurisdictionIndex, *, lang: str = "id") -> str:
    """Validate every row of a CSV (at most ``MAX_VALIDATE_ROWS``); adds status, lat, lon, flags (and more) columns."""
    frame = read_csv_frame(data)
    if len(frame) > MAX_VALIDATE_ROWS:
        raise BadRequest(f"at most {MAX_VALIDATE_ROWS} rows per validate batch; use /api/v1/locate/batch",
                         code="BATCH_TOO_LARGE")
    return "".join(validate_csv_chunks(frame, index, lang))


# ------------------------------------------------------------------- JSON and GeoJSON


def _json_chunks(records: Iterator[CompactLocate]) -> Iterator[str]:
    yield "["
    first = True
    parts: list[str] = []
    for rec in records:
        parts.append(("" if first else ",") + to_json(rec).decode())
        first = False
        if len(parts) >= CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("]")
    yield "".join(parts)


def _geojson_chunks(features: list[dict[str, Any]], records: Iterator[CompactLocate]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    for i, rec in enumerate(records):
        feat = features[i] if isinstance(features[i], dict) else {}  # a null feature is answered, not a 500
        props = dict(feat["properties"]) if isinstance(feat.get("properties"), dict) else {}
        props["geo_service"] = rec
        point = rec.point
        geom = {"type": "Point", "coordinates": [point.lon, point.lat]} if point else feat.get("geometry")
        parts.append(("," if i else "") + to_json({"type": "Feature", "geometry": geom, "properties": props}).decode())
        if len(parts) >= CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("]}")
    yield "".join(parts)


def check_batch_mimetype(mimetype: str) -> None:
    """415 unless the batch body type is one we read (checked before the body is read)."""
    if mimetype not in ("text/csv", "application/json", "application/geo+json"):
        raise UnsupportedMediaType("send JSON (a list), CSV (text/csv) or GeoJSON (application/geo+json)",
                                   code="BATCH_FORMAT_UNSUPPORTED")


def locate_stream(data: bytes, mimetype: str, index: JurisdictionIndex, *, lang: str = "id") -> tuple[str, Iterator[str]]:
    """Parse a batch body and return (response mimetype, chunk iterator), input format in, same format out."""
    check_batch_mimetype(mimetype)
    if mimetype == "text/csv":
        frame = read_csv_frame(data)
        return "text/csv", locate_csv_chunks(frame, index, lang)
    try:
        body = json.loads(data)
    except RecursionError:  # thousands of nested '[': a malformed body, not a server error
        raise BadRequest("the JSON body is nested too deeply", code="JSON_TOO_DEEP") from None
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
        return "application/geo+json", _geojson_chunks(features, locate_records(items, index, lang=lang))
    if not isinstance(body, list):
        raise BadRequest("the body must be a JSON list, a GeoJSON FeatureCollection or CSV", code="JSON_LIST_REQUIRED")
    if len(body) > MAX_POINTS:
        raise BadRequest(f"at most {MAX_POINTS} items per batch", code="BATCH_TOO_LARGE")
    reject_item_at(body)
    return "application/json", _json_chunks(locate_records(body, index, lang=lang))
