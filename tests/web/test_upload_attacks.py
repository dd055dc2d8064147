"""Issue 12.1 and 12.8 as an attacker would try them, through a real ``geo-service serve``.

An admin upload must never make GDAL read another file of the server (its SQLite database with
the password hashes, the secret key that signs sessions and officer links) nor send a request
anywhere, and a GeoPackage must not hold a worker. Every attack is refused with a problem+json
422, no set is stored, and what the service answers from (/health, the published set, a locate)
is unchanged. A listener on 127.0.0.1 records whether GDAL tried to fetch anything.

Drafts are seen by admins only (a draft's units were readable by every role).
"""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import box

from tests.live import LiveServer, start_server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

KUTA = {"lon": 115.177805, "lat": -8.726433}


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections (GDAL fetching a URL would connect)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("upload-attacks"), roles=("admin", "supervisor", "dispatcher",
                                                                          "officer"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def _state(srv: LiveServer) -> dict[str, Any]:
    _s, health = srv.json("GET", "/health", role=None)
    _s, sets = srv.json("GET", "/api/v1/boundary-sets")
    _s, located = srv.json("POST", "/api/v1/locate", KUTA)
    return {"health": {k: health[k] for k in ("status", "boundary_set", "units")},
            "sets": sorted((s["id"], s["status"]) for s in sets["sets"]), "published": sets["published"],
            "polsek": located["jurisdiction"]["polsek"]["code"]}


def _vrt(src: str, sql: str | None = None, *, disguise: str = "<!-- <kml> -->") -> bytes:
    sql_el = f"<SrcSQL>{sql}</SrcSQL>" if sql else "<SrcLayer>x</SrcLayer>"
    return (f'<?xml version="1.0"?>{disguise}<OGRVRTDataSource><OGRVRTLayer name="batas">'
            f"<SrcDataSource>{src}</SrcDataSource>{sql_el}"
            '<GeometryField encoding="WKT" field="wkt"/></OGRVRTLayer></OGRVRTDataSource>').encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _gpkg(tmp: Path, name: str, evil_sql: list[str]) -> bytes:
    """A real GeoPackage with one polygon layer, then ``evil_sql`` run on it (schema writes allowed)."""
    path = tmp / f"{name}.gpkg"
    gpd.GeoDataFrame({"kode": ["51.03.99"], "nama": ["Polsek Uji"], "kode_kab": ["51.03"]},
                     geometry=[box(115.16, -8.74, 115.17, -8.73)], crs=4326).to_file(path, layer="batas", driver="GPKG")
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema = ON")
    for stmt in evil_sql:
        con.execute(stmt)
    con.commit()
    con.close()
    return path.read_bytes()


def attacks(srv: LiveServer, port: int, tmp: Path) -> dict[str, tuple[str, bytes]]:
    db = srv.data_dir / "geo_service.sqlite3"
    secret = srv.data_dir / "secret_key"
    users_sql = ("SELECT username AS nama, password_hash AS kode, '51.03' AS kode_kab, "
                 "'POLYGON((115 -8,115.1 -8,115.1 -8.1,115 -8))' AS wkt FROM users")
    url = f"http://127.0.0.1:{port}/batas.csv"
    recursive_view = ("CREATE VIEW endless AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                      "SELECT n AS fid, NULL AS geom FROM r")
    shp_stub = {"batas/batas.shx": b"\x00\x00\x27\x0a" + bytes(96), "batas/batas.dbf": b"\x03" + bytes(40)}
    return {
        "vrt_reads_service_database": ("batas.kml", _vrt(str(db), users_sql)),
        "vrt_reads_secret_key_as_csv": ("batas.kml", _vrt(f"CSV:{secret}")),
        "vrt_fetches_url": ("batas.kml", _vrt(f"/vsicurl/{url}")),
        "vrt_without_kml_disguise": ("batas.kml", _vrt(str(db), users_sql, disguise="")),
        "vrt_as_doc_kml_in_kmz": ("batas.kmz", _zip({"doc.kml": _vrt(str(db), users_sql)})),
        "vrt_as_shp_in_zip": ("batas.zip", _zip({"batas/batas.shp": _vrt(str(db), users_sql), **shp_stub})),
        "prj_is_a_path": ("batas.zip", _zip({"batas/batas.shp": b"\x00\x00\x27\x0a" + bytes(96), **shp_stub,
                                             "batas/batas.prj": str(secret).encode()})),
        "geojson_crs_link": ("batas.geojson", json.dumps({
            "type": "FeatureCollection", "crs": {"type": "link", "properties": {"href": url, "type": "proj4"}},
            "features": []}).encode()),
        "geojson_crs_file": ("batas.geojson", json.dumps({
            "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": str(secret)}},
            "features": []}).encode()),
        "geojson_vsicurl_name": ("batas.geojson", json.dumps({
            "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": f"/vsicurl/{url}"}},
            "features": []}).encode()),
        "esrijson_not_geojson": ("batas.json", json.dumps({"geometryType": "esriGeometryPolygon",
                                                           "features": []}).encode()),
        "deeply_nested_json": ("batas.geojson", b"[" * 200_000 + b"]" * 200_000),
        "gpkg_virtual_ogr_table": ("batas.gpkg", _gpkg(tmp, "virtual", [
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'evil', 'evil', 0, "
            f"'CREATE VIRTUAL TABLE evil USING VirtualOGR(''{db}'')')"])),
        "gpkg_endless_view_layer": ("batas.gpkg", _gpkg(tmp, "endless", [
            recursive_view,
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES "
            "('endless', 'features', 'endless', 4326)",
            "INSERT INTO gpkg_geometry_columns VALUES ('endless', 'geom', 'POLYGON', 4326, 0, 0)"])),
        "gpkg_contents_is_a_view": ("batas.gpkg", _gpkg(tmp, "contents", [
            "ALTER TABLE gpkg_contents RENAME TO gpkg_contents_real",
            "CREATE VIEW gpkg_contents AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT c.* FROM gpkg_contents_real c, r"])),
        "sqlite_not_geopackage": ("batas.gpkg", db.read_bytes()),
    }


NAMES = ["vrt_reads_service_database", "vrt_reads_secret_key_as_csv", "vrt_fetches_url", "vrt_without_kml_disguise",
         "vrt_as_doc_kml_in_kmz", "vrt_as_shp_in_zip", "prj_is_a_path", "geojson_crs_link", "geojson_crs_file",
         "geojson_vsicurl_name", "esrijson_not_geojson", "deeply_nested_json", "gpkg_virtual_ogr_table",
         "gpkg_endless_view_layer", "gpkg_contents_is_a_view", "sqlite_not_geopackage"]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_upload_is_refused_reads_nothing_and_changes_nothing(
        server: LiveServer, listener: Listener, tmp_path: Path, name: str) -> None:
    filename, data = attacks(server, listener.port, tmp_path)[name]
    before = _state(server)
    secret = (server.data_dir / "secret_key").read_text().strip()
    started = time.monotonic()
    status, body = server.upload("/api/v1/boundary-sets", {"file": (filename, data)},
                                 {"level": "polsek", "code_field": "kode", "name_field": "nama"})
    elapsed = time.monotonic() - started
    assert status == 422, body
    assert body["code"] in {"FILE_UNSAFE", "UNSUPPORTED_FORMAT", "FILE_UNREADABLE"}, body
    text = json.dumps(body)
    assert "argon2" not in text and secret not in text and "geo-upload-" not in text
    assert elapsed < 20, f"the upload held a worker for {elapsed:.1f} s"
    assert listener.connections == 0, "GDAL made an outbound request"
    assert _state(server) == before
    # The server still answers every worker's requests.
    assert all(server.json("GET", "/health", role=None)[0] == 200 for _ in range(4))


def test_drafts_are_seen_by_admins_only(server: LiveServer) -> None:
    features = [{"type": "Feature", "properties": {"kode": "51.03.98", "nama": "Polsek Rahasia", "kode_kab": "51.03"},
                 "geometry": box(115.16, -8.74, 115.17, -8.73).__geo_interface__}]
    status, body = server.upload("/api/v1/boundary-sets", {"file": ("draft.geojson", json.dumps(
        {"type": "FeatureCollection", "features": features}).encode())}, {"level": "polsek"})
    assert status == 201, body
    draft = body["id"]
    for role in ("dispatcher", "supervisor", "officer"):
        status, problem = server.json("GET", f"/api/v1/units?set={draft}", role=role)
        assert status == 404 and problem["code"] == "NOT_FOUND", (role, problem)
        assert "Rahasia" not in json.dumps(problem)
    status, fc = server.json("GET", f"/api/v1/units?set={draft}&level=polsek")
    assert status == 200 and "Polsek Rahasia" in {f["properties"]["name"] for f in fc["features"]}
    # The published set stays readable by every role.
    _s, health = server.json("GET", "/health", role=None)
    status, fc = server.json("GET", f"/api/v1/units?set={health['boundary_set']}&level=polda", role="officer")
    assert status == 200 and fc["features"]
