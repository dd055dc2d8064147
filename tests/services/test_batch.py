"""Batch locate: the vectorised fast path must answer exactly as the per-point path (oracle tests)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pytest
import shapely

from geo_service.geo.bundled import load_bali_units
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.stations import load_stations_geojson
from geo_service.services import batch
from geo_service.services.locate import locate_location

BALI_BOX = (114.43, -8.85, 115.72, -8.06)


@pytest.fixture(scope="module")
def index() -> JurisdictionIndex:
    """The bundled Bali set with the sample stations (as the app builds it)."""
    return JurisdictionIndex.build(load_bali_units(), set_id=1, stations=load_stations_geojson())


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def oracle_points(index: JurisdictionIndex, n: int, seed: int) -> list[dict[str, float]]:
    """Random plain points: inside with 6 decimals, mixed decimals, sea, rounded, swapped, on borders."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BALI_BOX[0], BALI_BOX[2], 4 * n)
    lat = rng.uniform(BALI_BOX[1], BALI_BOX[3], 4 * n)
    land = index.locate_many(lon, lat) >= 0
    items: list[dict[str, float]] = []
    inside = np.flatnonzero(land)[: n // 2]
    items += [{"lat": round(float(lat[i]), 6), "lon": round(float(lon[i]), 6)} for i in inside]
    sea = np.flatnonzero(~land)[: n // 8]
    items += [{"lat": round(float(lat[i]), 6), "lon": round(float(lon[i]), 6)} for i in sea]
    mixed = np.flatnonzero(land)[n // 2: n // 2 + n // 8]
    items += [{"lat": round(float(lat[i]), int(d)), "lon": round(float(lon[i]), int(d))}
              for i, d in zip(mixed, rng.integers(1, 10, len(mixed)), strict=True)]
    swapped = np.flatnonzero(land)[-(n // 8):]
    items += [{"lat": round(float(lon[i]), 6), "lon": round(float(lat[i]), 6)} for i in swapped]
    # Points on the shared borders (vertices) and a hair beside them.
    xy = shapely.get_coordinates(shapely.boundary(np.array([u.geometry for u in index.leaves], dtype=object)))
    pick = xy[rng.choice(len(xy), n // 8)]
    items += [{"lat": float(y), "lon": float(x)} for x, y in pick]
    items += [{"lat": float(y), "lon": round(float(x) + 2e-6, 7)} for x, y in pick[: n // 16]]
    # Default points (sample stations, unit reference points) and their neighbours.
    for lon0, lat0, _label in index.default_points()[:20]:
        items += [{"lat": lat0, "lon": lon0}, {"lat": round(lat0 + 0.00005, 6), "lon": lon0}]
    order = rng.permutation(len(items))
    return [items[i] for i in order]


def test_fast_path_equals_per_point_path(index: JurisdictionIndex) -> None:
    items = oracle_points(index, 3000, seed=110)
    lons, lats, dec, plain = batch._number_items(items)  # noqa: SLF001 - the fast path's own reading
    fast = batch.fast_positions(index, lons, lats, np.where(plain, dec, -1)) >= 0
    assert fast.sum() > 0.4 * len(items)  # the oracle covers the fast path, not just the fallback
    got = list(batch.locate_items(items, index))
    assert len(got) == len(items)
    for i, item in enumerate(items):
        want = batch.compact(locate_location(item, index))
        assert _same(got[i], want), (i, item, bool(fast[i]), got[i], want)


def test_fast_path_csv_equals_per_point_path(index: JurisdictionIndex) -> None:
    items = oracle_points(index, 1200, seed=7)
    text_rows = ["id,lat,lon", *(f"{k},{it['lat']!r},{it['lon']!r}" for k, it in enumerate(items))]
    text_rows.append(f"{len(items)},\"-8,3582\",\"114,6225\"")  # comma decimals, as the per-point reader takes them
    frame = batch.read_csv_frame(("\n".join(text_rows) + "\n").encode())
    out = list(csv.reader(io.StringIO("".join(batch.locate_csv_chunks(frame, index, "id")))))
    assert out[0] == ["id", "input_lat", "input_lon", *batch.CSV_OUT_COLUMNS]
    assert len(out) == len(items) + 2
    bodies = [*items, {"lat": -8.3582, "lon": 114.6225}]
    for k, body in enumerate(bodies):
        want = batch.csv_answer_cells(batch.compact(locate_location(body, index)))
        assert out[k + 1][0] == str(k)
        assert out[k + 1][3:] == [str(v) for v in want], (k, body)


def test_border_vertex_takes_the_per_point_path(index: JurisdictionIndex) -> None:
    # A vertex shared by Ubud (51.04.05) and Payangan (51.04.07): covered by both.
    body = {"lat": -8.463477, "lon": 115.250243}
    rec = next(batch.locate_items([body], index))
    assert rec["match"] == "border" and "ON_BORDER" in rec["flags"]
    assert rec["jurisdiction"]["polsek"]["code"] == "51.04.05"  # lowest code wins
    assert _same(rec, batch.compact(locate_location(body, index)))


def test_unwritten_sign_near_the_equator_is_not_fast() -> None:
    from shapely.geometry import box

    from geo_service.geo.area import Unit

    units = [Unit("61", "Polda Kalbar", "polda", None, box(109.2, -0.2, 109.5, 0.2))]
    idx = JurisdictionIndex.build(units, set_id=9)
    items = [{"lat": 0.031234, "lon": 109.334512}, {"lat": -0.031234, "lon": 109.334512}]
    got = list(batch.locate_items(items, idx))
    assert got[0]["status"] == "suspect" and "AMBIGUOUS_COORDINATE" in got[0]["flags"]
    assert got[1]["status"] == "valid"  # a written minus is not in doubt
    for item, rec in zip(items, got, strict=True):
        assert _same(rec, batch.compact(locate_location(item, idx)))


def test_locate_stream_formats_keep_order(index: JurisdictionIndex) -> None:
    items = [{"lat": -8.3582, "lon": 114.6225}, {"text": "garbage"}, {"lat": 114.6225, "lon": -8.3582}, 5]
    fmt, chunks = batch.locate_stream(json.dumps(items).encode(), "application/json", index)
    out = json.loads("".join(chunks))
    assert fmt == "application/json" and [r["status"] for r in out] == ["valid", "invalid", "corrected", "invalid"]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [115.55, -8.73]}},
        {"type": "Feature", "properties": {"id": "b"}, "geometry": None}]}
    fmt, chunks = batch.locate_stream(json.dumps(fc).encode(), "application/geo+json", index)
    out = json.loads("".join(chunks))
    assert fmt == "application/geo+json"
    props = [f["properties"] for f in out["features"]]
    assert [p["id"] for p in props] == ["a", "b"]
    assert props[0]["geo_service"]["jurisdiction"]["polsek"]["name"] == "Polsek Nusa Penida"
    assert props[1]["geo_service"]["status"] == "invalid"


def test_validate_csv_chunks_reports_progress(index: JurisdictionIndex) -> None:
    rows = ["text"] + ["-8.3582 114.6225"] * (batch.CHUNK + 5) + ["nonsense"]
    frame = batch.read_csv_frame(("\n".join(rows) + "\n").encode())
    seen: list[int] = []
    out = list(csv.reader(io.StringIO("".join(batch.validate_csv_chunks(frame, index, progress=seen.append)))))
    assert sum(seen) == len(rows) - 1
    assert out[0] == ["text", *batch.VALIDATE_CSV_COLUMNS]
    assert out[1][1] == "valid" and out[-1][1] == "invalid" and out[-1][-1] == "COORDINATE_INVALID"
