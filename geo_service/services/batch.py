"""Batch validate and locate (JSON list, CSV, GeoJSON), streamed in input order.

Hot path, vectorised (:func:`fast_positions`): plain WGS 84 numbers (no text, CRS, radius or
hint) with at least 3 decimals that are not rounded, covered by exactly one leaf with the
precision circle of their digits clear of every border (:class:`_Guard`), not near a default
location, and with no unwritten sign whose flip also lands inside, are answered from
:meth:`JurisdictionIndex.locate_many` in one numpy pass. Every other row (text to parse, a
point that needs a correction, the sea, a border) takes the same per-point path as
``POST /api/v1/locate``, so both paths give the same answer; oracle tests in
tests/services/test_batch.py and tests/web/test_locate_api.py check it on thousands of points.

Batch answers are *compact*: status, point, format, match, jurisdiction (code and name per
level), distance_m, flags (codes), confidence; no stations per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import shapely

from geo_service.errors import BadRequest, GeoServiceError, UnsupportedMediaType
from geo_service.geo import validate as validate_mod
from geo_service.geo.coords import M_PER_DEG
from geo_service.geo.index import JurisdictionIndex
from geo_service.services.answers import (
    BatchError,
    CompactRecord,
    Jurisdiction,
    LocateAnswer,
    Point,
    ValidationAnswer,
    compact_record,
    to_builtins,
    to_json,
)
from geo_service.services.locate import (
    jurisdiction_of,
    locate_validated,
    validate_location,
    validation_answer,
)

MAX_POINTS = 1_000_000
CHUNK = 20_000
#: Rows with fewer decimals than this, or whose digits say they are rounded to more than
#: 90 % of ``validate.ROUNDED_THRESHOLD_M``, take the per-point path (COORDINATE_ROUNDED check).
FAST_MIN_DECIMALS = 3
#: Rows this close (degrees, ~ 22 m) to a default point go to the per-point path.
DEFAULT_PROBE_DEG = 0.0002
LEVELS = ("polda", "polres", "polsek")
CSV_OUT_COLUMNS = ["status", "lat", "lon", "format", "match", "polda_code", "polres_code", "polsek_code",
                   "polsek_name", "distance_m", "confidence", "flags"]


def compact(answer: LocateAnswer | Mapping[str, Any]) -> dict[str, Any]:
    """The compact batch record of a locate answer (typed, or its stored JSON form), as JSON-ready dicts."""
    typed = answer if isinstance(answer, LocateAnswer) else msgspec.convert(answer, type=LocateAnswer)
    return to_builtins(compact_record(typed))  # type: ignore[no-any-return]


def error_record(exc: GeoServiceError) -> CompactRecord:
    """The compact record of a row whose body is malformed."""
    return CompactRecord("invalid", None, None, "none", None, None, 0.0, [],
                         error=BatchError(exc.code, exc.detail, exc.errors))


def _slow(body: Any, index: JurisdictionIndex, lang: str) -> CompactRecord:
    try:
        result = validate_location(body, index)
    except GeoServiceError as exc:
        return error_record(exc)
    return compact_record(locate_validated(result, index, lang=lang, k_stations=0))


@lru_cache(maxsize=4)
def _default_tree(index: JurisdictionIndex) -> shapely.STRtree | None:
    pts = index.default_points()
    if not pts:
        return None
    return shapely.STRtree(shapely.points([p[0] for p in pts], [p[1] for p in pts]))


def _decimals(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Decimals of each float as the per-point parser counts them (shortest repr, no trailing zeros)."""
    s = np.asarray([repr(float(v)) for v in values], dtype=str)
    dot = np.char.find(s, ".")
    length = np.char.str_len(s)
    has_exp = np.char.find(s, "e") >= 0
    dec = np.where(dot >= 0, length - dot - 1, 0)
    # "114.0" has no decimals, as Decimal("114.0").normalize() says.
    dec = np.where(np.char.endswith(s, ".0"), 0, dec)
    return np.where(has_exp, -1, dec).astype(np.int64)


class _Guard:
    """Where the vectorised answer of a plain point equals the per-point answer.

    The per-point path draws the precision circle of the digits (radius under 1 m from
    5 decimals up) and says ``border`` / ``CIRCLE_CROSSES_BORDER`` / ``ON_BORDER`` /
    ``OVERLAP`` when that circle reaches the edge of its leaf or another leaf covers the
    point. A point is safe when exactly one leaf covers it and no leaf border lies within
    twice its radius. A grid of cells 2+ cells away from every border vertex (borders
    densified to half a cell) answers most points; the rest are measured against the
    border segments.
    """

    def __init__(self, index: JurisdictionIndex, max_cells: int = 2_000_000, min_cell_deg: float = 0.001) -> None:
        geoms = []
        for u in index.leaves:
            g = u.geometry
            if u.code in index.repaired or not g.is_valid:
                parts = shapely.get_parts(shapely.make_valid(g))
                g = shapely.multipolygons([q for q in parts if q.geom_type == "Polygon"])
            geoms.append(g)
        self.geoms = np.array(geoms, dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        bounds = shapely.total_bounds(self.geoms) if len(geoms) else np.array([0.0, 0.0, 0.0, 0.0])
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        w, h = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        cs = max(float(np.sqrt(w * h / max_cells)), min_cell_deg)
        self.x0, self.y0, self.inv, self.cell_deg = xmin - 3 * cs, ymin - 3 * cs, 1.0 / cs, cs
        self.nx, self.ny = int(np.ceil(w / cs)) + 7, int(np.ceil(h / cs)) + 7
        lines = shapely.boundary(self.geoms)
        xy = shapely.get_coordinates(shapely.segmentize(lines, cs / 2)) if len(geoms) else np.zeros((0, 2))
        ci = np.floor((xy[:, 0] - self.x0) * self.inv).astype(np.int64)
        cj = np.floor((xy[:, 1] - self.y0) * self.inv).astype(np.int64)
        near = np.zeros(self.nx * self.ny, dtype=bool)
        # A border crossing a cell has a vertex within a quarter cell; marking 5x5 around every
        # vertex keeps the safe cells at least one whole cell away from every border.
        for dj in range(-2, 3):
            for di in range(-2, 3):
                near[(cj + dj) * self.nx + (ci + di)] = True
        # No border crosses a run of free cells along a row: one test at the run's first cell.
        free = ~near
        start = free.copy()
        start[1:] &= near[:-1]
        start[:: self.nx] = free[:: self.nx]
        run = np.cumsum(start) - 1
        first = np.flatnonzero(start)
        cx = self.x0 + (first % self.nx + 0.5) * cs
        cy = self.y0 + (first // self.nx + 0.5) * cs
        one = self._cover_counts(cx, cy) == 1 if len(first) else np.zeros(0, dtype=bool)
        self.safe = free & one[np.clip(run, 0, None)] if len(first) else np.zeros(self.nx * self.ny, dtype=bool)
        parts, _ = shapely.get_parts(lines, return_index=True)
        coords, ring = shapely.get_coordinates(parts, return_index=True)
        keep = ring[1:] == ring[:-1]
        segs = shapely.linestrings(np.stack([coords[:-1][keep], coords[1:][keep]], axis=1)) if len(coords) else []
        self.segments = shapely.STRtree(segs)

    def _cover_counts(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        in_idx, tree_idx = self.tree.query(shapely.points(x, y))
        hit = shapely.intersects_xy(self.geoms[tree_idx], x[in_idx], y[in_idx])
        return np.bincount(in_idx[hit], minlength=len(x))

    def safe_mask(self, x: np.ndarray, y: np.ndarray, radius_deg: np.ndarray) -> np.ndarray:
        """True where one leaf covers the point and no border is within ``radius_deg``."""
        fi = (x - self.x0) * self.inv
        fj = (y - self.y0) * self.inv
        inside = (fi >= 0) & (fi < self.nx) & (fj >= 0) & (fj < self.ny)
        out = np.zeros(len(x), dtype=bool)
        k = fj[inside].astype(np.int64) * self.nx + fi[inside].astype(np.int64)
        # Safe cells are at least one cell from every border: enough for radii below a cell.
        out[inside] = self.safe[k] & (radius_deg[inside] < self.cell_deg)
        rest = np.flatnonzero(~out)
        if len(rest):
            ok = self._cover_counts(x[rest], y[rest]) == 1
            near_idx, _ = self.segments.query(shapely.points(x[rest], y[rest]), predicate="dwithin",
                                              distance=radius_deg[rest])
            ok[near_idx] = False
            out[rest] = ok
        return out


@lru_cache(maxsize=4)
def _guard(index: JurisdictionIndex) -> _Guard:
    return _Guard(index)


def fast_positions(index: JurisdictionIndex, lons: np.ndarray, lats: np.ndarray,
                   decimals: np.ndarray) -> np.ndarray:
    """Leaf position of every row the vectorised path answers exactly as the per-point path; -1 elsewhere.

    A row qualifies when it is a plain WGS 84 point (the caller passes ``decimals < 0`` for
    anything else) with at least ``FAST_MIN_DECIMALS`` decimals, inside exactly one leaf with
    its precision circle clear of every border, not near a default point, and no unwritten
    sign whose flip would also land inside (the per-point path calls that ambiguous).
    """
    n = len(lons)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lats) <= 60) & (np.abs(lons) <= 180)
    ok &= ~((lons == 0) & (lats == 0)) & (decimals >= FAST_MIN_DECIMALS)
    pos = np.full(n, -1, dtype=np.int64)
    if not ok.any():
        return pos
    sel = np.flatnonzero(ok)
    pos[sel] = index.locate_many(lons[sel], lats[sel])
    ok &= pos >= 0
    # Unwritten signs (positive numbers) near zero: the per-point path also tries the flip.
    for flip_lat in (True, False):
        v = lats if flip_lat else lons
        doubt = np.flatnonzero(ok & (v > 0) & (2 * v <= validate_mod.MAX_AREA_SPAN_DEG))
        if len(doubt):
            fx = lons[doubt] if flip_lat else -lons[doubt]
            fy = -lats[doubt] if flip_lat else lats[doubt]
            ok[doubt[index.locate_many(fx, fy) >= 0]] = False
    tree = _default_tree(index)
    if tree is not None and ok.any():
        sel = np.flatnonzero(ok)
        hit_idx, _ = tree.query(shapely.points(lons[sel], lats[sel]), predicate="dwithin", distance=DEFAULT_PROBE_DEG)
        ok[sel[np.unique(hit_idx)]] = False
    if ok.any():
        sel = np.flatnonzero(ok)
        step = 10.0 ** -decimals[sel].astype(float)
        coslat = np.cos(np.radians(lats[sel]))
        radius_m = 0.5 * np.hypot(step * M_PER_DEG * coslat, step * M_PER_DEG)
        radius_deg = 2.0 * radius_m / (M_PER_DEG * coslat) + 1e-9
        unrounded = radius_m <= 0.9 * validate_mod.ROUNDED_THRESHOLD_M
        ok[sel] = unrounded & _guard(index).safe_mask(lons[sel], lats[sel], radius_deg)
    pos[~ok] = -1
    return pos


def _leaf_jurisdictions(index: JurisdictionIndex) -> list[Jurisdiction]:
    """One jurisdiction per leaf position (shared by every row in that leaf)."""
    return [jurisdiction_of(chain or {}) for chain in index.chains_for(np.arange(len(index.leaves)))]


def fast_records(index: JurisdictionIndex, lons: np.ndarray, lats: np.ndarray,
                 decimals: np.ndarray) -> tuple[np.ndarray, list[CompactRecord | None]]:
    """Vectorised answers for the rows that qualify; returns (mask of answered rows, records)."""
    pos = fast_positions(index, lons, lats, decimals)
    ok = pos >= 0
    juris = _leaf_jurisdictions(index) if ok.any() else []
    records: list[CompactRecord | None] = [None] * len(lons)
    for i in np.flatnonzero(ok).tolist():
        # The per-point answer rounds to 7 decimals (a no-op for the 5-7 decimals of most input).
        point = Point(round(float(lats[i]), 7), round(float(lons[i]), 7))
        records[i] = CompactRecord("valid", point, "decimal", "inside", juris[int(pos[i])], 0.0, 1.0, [])
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
        dec[sel] = np.minimum(_decimals(lats[sel]), _decimals(lons[sel]))
    return lons, lats, dec, plain


def locate_items(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> Iterator[dict[str, Any]]:
    """Compact locate records for a list of location bodies, in order, as JSON-ready dicts."""
    return (to_builtins(rec) for rec in locate_records(items, index, lang=lang))


def locate_records(items: list[Any], index: JurisdictionIndex, *, lang: str = "id") -> Iterator[CompactRecord]:
    """Compact locate records for a list of location bodies, in order."""
    lons, lats, dec, plain = _number_items(items)
    ok, fast = fast_records(index, lons, lats, np.where(plain, dec, -1))
    for i, item in enumerate(items):
        rec = fast[i] if ok[i] else None
        yield rec if rec is not None else _slow(item if isinstance(item, dict) else {"_": item}, index, lang)


def validate_items(items: list[Any], index: JurisdictionIndex, *,
                   lang: str = "id") -> list[ValidationAnswer | CompactRecord]:
    """Full validation answers for a list of bodies, in order (errors per item, not per batch)."""
    out: list[ValidationAnswer | CompactRecord] = []
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
            dec[finite] = np.minimum(_decimals(lats[finite]), _decimals(lons[finite]))
    else:
        lats = lons = np.full(n, np.nan)
        dec = np.full(n, -1, dtype=np.int64)
    return fast_positions(index, lons, lats, dec), lats, lons, dec


def _codes(j: Jurisdiction | None) -> list[str]:
    """The polda, polres, polsek codes and the polsek name of a jurisdiction ("" where missing)."""
    units = (j.polda, j.polres, j.polsek) if j is not None else (None, None, None)
    return [u.code if u is not None else "" for u in units] + [units[2].name if units[2] is not None else ""]


def csv_answer_cells(rec: CompactRecord | Mapping[str, Any]) -> list[Any]:
    """The answer cells (``CSV_OUT_COLUMNS``) of a compact record (typed, or as dicts)."""
    if not isinstance(rec, CompactRecord):
        rec = msgspec.convert(rec, type=CompactRecord)
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
        writer.writerows(zip(*inputs[start:stop].T.tolist(), *out.T.tolist(), strict=True))
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
    for i, values in enumerate(inputs.tolist()):
        row = dict(zip(columns, values, strict=True))
        try:
            d: ValidationAnswer | CompactRecord = validation_answer(validate_location(row_body(row), index), lang)
        except GeoServiceError as exc:
            d = error_record(exc)
        point, unc = d.point, getattr(d, "uncertainty_m", None)
        writer.writerow([*values, d.status, point.lat if point else "", point.lon if point else "", d.format or "",
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


def _json_chunks(records: Iterator[CompactRecord]) -> Iterator[str]:
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


def _geojson_chunks(features: list[dict[str, Any]], records: Iterator[CompactRecord]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    for i, rec in enumerate(records):
        feat = features[i]
        props = dict(feat.get("properties") or {})
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
    return "application/json", _json_chunks(locate_records(body, index, lang=lang))
