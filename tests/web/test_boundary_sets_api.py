"""Issue 5 acceptance over HTTP: boundary and station sets are uploaded, checked, published and rolled back.

Every file is made in the test from boundaries/ (the shipped copies of the reference data) (Bali kecamatan, Indonesian regencies) or
by hand (hostile files). Apps are fresh per test (both backends) because the tests publish.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import select

from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.storage.models import AuditLog
from tests.conftest import dispose_app, make_app, make_token

DATA = BOUNDARIES_DIR  # the reference files ship in boundaries/ (see boundaries/SOURCES.md)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

# Points well inside kecamatan (representative points of the source polygons, rounded to 1e-6 degree).
KUTA = (115.177805, -8.726433)  # 51.03.01 Kuta
KUTA_SELATAN_CODE = "51.03.05"
DENPASAR_SELATAN = (115.227086, -8.701521)  # 51.71.01


# ---------------------------------------------------------------- helpers


class Api:
    """The test client with an admin token and the few calls every test makes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {make_token(app, 'admin')}"}

    def upload(self, data: bytes, filename: str, url: str = "/api/v1/boundary-sets",
               mapping: bytes | None = None, **form: str) -> Any:
        body: dict[str, Any] = {"file": (io.BytesIO(data), filename), **form}
        if mapping is not None:
            body["mapping"] = (io.BytesIO(mapping), "mapping.csv")
        return self.client.post(url, data=body, headers=self.headers, content_type="multipart/form-data")

    def get(self, url: str) -> Any:
        r = self.client.get(url, headers=self.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def publish(self, set_id: int, kind: str = "boundary-sets") -> Any:
        return self.client.post(f"/api/v1/{kind}/{set_id}/publish", headers=self.headers)

    def locate(self, lon_lat: tuple[float, float]) -> dict[str, Any]:
        r = self.client.post("/api/v1/locate", json={"lon": lon_lat[0], "lat": lon_lat[1]}, headers=self.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def state(self) -> dict[str, Any]:
        """What the service answers from: /health, a locate answer and the sets with their unit counts."""
        sets = self.get("/api/v1/boundary-sets")
        return {
            "health_set": self.client.get("/health").get_json()["boundary_set"],
            "locate": self.locate(KUTA),
            "published": sets["published"],
            "published_statuses": sorted(s["id"] for s in sets["sets"] if s["status"] == "published"),
            "units": {s["id"]: s["units"] for s in sets["sets"]},
            "station_set": self.get("/api/v1/station-sets")["published"],
        }

    def audit(self, action: str, target_id: int) -> list[AuditLog]:
        storage = self.app.extensions["geo_service"].storage
        with storage.session() as session:
            rows = session.execute(select(AuditLog).where(AuditLog.action == action,
                                                          AuditLog.target_id == str(target_id))).scalars().all()
            session.expunge_all()
        return list(rows)


def assert_problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == code and body["status"] == status and body["detail"], body
    assert {"type", "title"} <= set(body)
    return body


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(zipfile.ZipInfo(name), content)
    return buf.getvalue()


def shapefile_zip(gdf: gpd.GeoDataFrame, folder: Path, *, drop: tuple[str, ...] = (), **kw: Any) -> bytes:
    """A zipped Shapefile (in a sub-folder of the archive, as people send them) without the ``drop`` parts."""
    folder.mkdir(parents=True)
    gdf.to_file(folder / "kecamatan.shp", **kw)
    return zip_bytes({f"batas/{f.name}": f.read_bytes() for f in sorted(folder.iterdir()) if f.suffix not in drop})


def feature_collection(rows: list[tuple[dict[str, Any], Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__} for props, geom in rows
    ]}, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- files made from the real data


@pytest.fixture(scope="module")
def kec() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "bali_kecamatan.geojson")


@pytest.fixture(scope="module")
def bali_files(kec: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, str]]:
    """The Bali kecamatan as zipped Shapefile (with .prj), GeoPackage and KML."""
    tmp = tmp_path_factory.mktemp("bali-files")
    kec.to_file(tmp / "kecamatan.gpkg", driver="GPKG", layer="kecamatan")
    kec.to_file(tmp / "kecamatan.kml", driver="KML")
    return {
        "shapefile_zip": (shapefile_zip(kec, tmp / "shp"), "kecamatan_bali.zip"),
        "gpkg": ((tmp / "kecamatan.gpkg").read_bytes(), "kecamatan_bali.gpkg"),
        "kml": ((tmp / "kecamatan.kml").read_bytes(), "kecamatan_bali.kml"),
    }


# These upload tests send administrative kecamatan files whose parents are the regency codes: they run
# against the administrative bundled set (GEO_SERVICE_BUNDLED_SET=admin), the one the files match.
# The default Polri structure (Kuta under Polresta Denpasar) is tested in tests/services/test_structure.py.
@pytest.fixture()
def fresh_app(backend: str, tmp_path: Path) -> Iterator[Any]:
    application = make_app(backend, tmp_path, bundled_set="admin")
    yield application
    dispose_app(application)


@pytest.fixture()
def sqlite_app(tmp_path: Path) -> Iterator[Any]:
    application = make_app("sqlite", tmp_path, bundled_set="admin")
    yield application
    dispose_app(application)


@pytest.fixture()
def api(fresh_app: Any) -> Api:
    return Api(fresh_app)


# ---------------------------------------------------------------- real files: upload, publish, roll back


def test_real_files_upload_publish_and_roll_back(api: Api, kec: gpd.GeoDataFrame,
                                                 bali_files: dict[str, tuple[bytes, str]]) -> None:
    before = api.state()
    original = before["published"]
    assert before["locate"]["jurisdiction"]["polsek"] == {"code": "51.03.01", "name": "Polsek Kuta"}
    names = dict(zip(kec["kode"], kec["nama"], strict=True))
    drafts: dict[int, int] = {}
    for fmt, (data, filename) in bali_files.items():
        r = api.upload(data, filename, level="polsek")
        assert r.status_code == 201, (fmt, r.get_data(as_text=True))
        body = r.get_json()
        # 57 polsek from the file plus the published polda and polres it does not bring.
        assert (body["status"], body["units"], body["has_errors"], body["level"]) == ("draft", 67, False, "polsek"), fmt
        report = body["report"]
        assert report["errors"] == [], (fmt, report["errors"])
        assert report["source"]["format"] == fmt and report["source"]["features"] == 57
        assert report["fields"]["used"] == {"code_field": "kode", "name_field": "nama", "parent_field": "kode_kab"}
        assert body["file_sha256"] == hashlib.sha256(data).hexdigest()
        set_id = body["id"]
        drafts[set_id] = body["units"]
        # A draft does not answer.
        assert api.locate(KUTA)["boundary_set"] == original
        diff = api.get(f"/api/v1/boundary-sets/{set_id}/diff")
        assert diff["against"] == original and diff["summary"]["added"] == diff["summary"]["removed"] == 0
        renamed = {c["code"]: c for c in diff["changes"] if "name" in c["fields"]}
        assert len(renamed) == 57 and renamed["51.03.01"]["name_old"] == "Polsek Kuta"

        r = api.publish(set_id)
        assert r.status_code == 200 and r.get_json()["published"] == set_id
        answer = api.locate(KUTA)
        assert answer["boundary_set"] == set_id, fmt
        assert answer["jurisdiction"]["polsek"] == {"code": "51.03.01", "name": names["51.03.01"]}
        assert answer["jurisdiction"]["polres"] == {"code": "51.03", "name": "Polres Badung"}  # kept level
        assert api.locate(DENPASAR_SELATAN)["jurisdiction"]["polsek"]["name"] == names["51.71.01"]
        assert api.client.get("/health").get_json()["boundary_set"] == set_id

        # Roll back: re-publishing the old set gives the old answers, word for word.
        assert api.publish(original).status_code == 200
        assert api.locate(KUTA) == before["locate"], fmt
        assert api.client.get("/health").get_json()["boundary_set"] == original

        sha = hashlib.sha256(data).hexdigest()
        (imported,) = api.audit("boundary_set.import", set_id)
        (published,) = api.audit("boundary_set.publish", set_id)
        for row in (imported, published):
            assert row.actor == "token:test-admin" and row.at is not None and row.detail["file_sha256"] == sha
        assert imported.detail["file_name"] == filename and imported.request_id
    # Nothing was deleted: every set still holds its units.
    after = api.state()
    assert after["units"] == {**before["units"], **drafts}
    assert after["published_statuses"] == [original]
    rollbacks = [r for r in api.audit("boundary_set.publish", original) if r.actor == "token:test-admin"]
    assert len(rollbacks) == 3 and all(r.detail["previous"] in drafts for r in rollbacks)


def test_mapping_csv_builds_polsek_from_kecamatan(api: Api, kec: gpd.GeoDataFrame) -> None:
    before = api.state()
    lines = ["unit_code,unit_name,level,parent_code,area_code",
             f"51.03.01,Polsek Kuta Raya,polsek,51.03,51.03.01;{KUTA_SELATAN_CODE}"]
    for code, name, parent in zip(kec["kode"], kec["nama"], kec["kode_kab"], strict=True):
        if code not in ("51.03.01", KUTA_SELATAN_CODE):
            lines.append(f"{code},Polsek {name},polsek,{parent},{code}")
    mapping = ("\n".join(lines) + "\n").encode()
    r = api.upload((DATA / "bali_kecamatan.geojson").read_bytes(), "kecamatan.geojson", mapping=mapping)
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["errors"] == 0 and not body["has_errors"] and body["units"] == 1 + 9 + 56
    dissolved = [i for i in body["report"]["info"] if i["code"] == "UNIT_DISSOLVED" and i["units"] == ["51.03.01"]]
    assert dissolved and "2 area(s)" in dissolved[0]["message"]
    diff = api.get(f"/api/v1/boundary-sets/{body['id']}/diff")
    by_code = {c["code"]: c for c in diff["changes"]}
    assert by_code[KUTA_SELATAN_CODE]["change"] == "removed"
    assert set(by_code["51.03.01"]["fields"]) == {"geometry", "name"}
    assert by_code["51.03.01"]["area_m2_new"] > by_code["51.03.01"]["area_m2_old"] * 2

    kuta_selatan = kec.set_index("kode").geometry.representative_point()[KUTA_SELATAN_CODE]
    point_selatan = (round(kuta_selatan.x, 6), round(kuta_selatan.y, 6))
    assert api.locate(point_selatan)["jurisdiction"]["polsek"]["code"] == KUTA_SELATAN_CODE
    assert api.publish(body["id"]).status_code == 200
    for point in (KUTA, point_selatan):
        answer = api.locate(point)
        assert answer["boundary_set"] == body["id"]
        assert answer["jurisdiction"]["polsek"] == {"code": "51.03.01", "name": "Polsek Kuta Raya"}
        assert answer["jurisdiction"]["polres"]["code"] == "51.03"
    assert api.locate(DENPASAR_SELATAN)["jurisdiction"]["polsek"]["name"] == "Polsek Denpasar Selatan"
    assert api.publish(before["published"]).status_code == 200
    assert api.locate(KUTA) == before["locate"]
    assert api.locate(point_selatan)["jurisdiction"]["polsek"]["code"] == KUTA_SELATAN_CODE


def test_shapefile_without_prj(api: Api, kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    before = api.state()
    # UTM numbers without a .prj: refused with MISSING_CRS, and the draft cannot be published.
    utm = shapefile_zip(kec.to_crs(32750), tmp_path / "utm", drop=(".prj",))
    r = api.upload(utm, "kecamatan_utm.zip", level="polsek")
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["has_errors"]
    (missing,) = [e for e in body["report"]["errors"] if e["code"] == "MISSING_CRS"]
    assert "EPSG:32750" in missing["message"]
    # The refused level is not filled from the published set: only polda and polres remain.
    assert body["units"] == 1 + 9
    assert_problem(api.publish(body["id"]), 409, "SET_HAS_ERRORS")
    assert api.state() == {**before, "units": {**before["units"], body["id"]: 10}}

    # The same file with the CRS named by the admin is reprojected and publishable.
    r = api.upload(utm, "kecamatan_utm.zip", level="polsek", crs="EPSG:32750")
    named = r.get_json()
    assert r.status_code == 201 and not named["has_errors"] and named["units"] == 67
    assert {"CRS_GIVEN", "REPROJECTED"} <= {i["code"] for i in named["report"]["info"]}

    # Degrees without a .prj: EPSG:4326 assumed with a warning; publishable.
    deg = shapefile_zip(kec, tmp_path / "deg", drop=(".prj",))
    r = api.upload(deg, "kecamatan_deg.zip", level="polsek")
    body = r.get_json()
    assert r.status_code == 201 and not body["has_errors"] and body["units"] == 67
    assert "MISSING_CRS" in {w["code"] for w in body["report"]["warnings"]}
    assert api.publish(body["id"]).status_code == 200
    answer = api.locate(KUTA)
    assert answer["boundary_set"] == body["id"] and answer["jurisdiction"]["polsek"]["name"] == "Kuta"


def test_indonesian_regencies_report_overlaps_gaps_and_missing_parents(sqlite_app: Any) -> None:
    api = Api(sqlite_app)
    before = api.state()
    data = (DATA / "indonesia_kabupaten_kota.geojson").read_bytes()
    r = api.upload(data, "indonesia_kabupaten_kota.geojson", level="polres")
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    report = body["report"]
    assert body["has_errors"] and body["units"] == 1 + 514 + 57
    # The published set brings Polda Bali only: the 505 regencies outside Bali have no polda parent.
    regencies = json.loads(data)["features"]
    outside_bali = {f["properties"]["kode"] for f in regencies if f["properties"]["kode_prov"] != "51"}
    assert len(outside_bali) == 505
    assert {e["code"] for e in report["errors"]} == {"PARENT_MISSING"}
    assert {u for e in report["errors"] for u in e["units"]} == outside_bali

    overlaps = {tuple(w["units"]): w for w in report["warnings"] if w["code"] == "OVERLAP"}
    sorong_tambrauw = overlaps[("96.01", "96.04")]
    assert 4.95e9 < sorong_tambrauw["area_m2"] < 5.05e9  # ~5,009 km²
    loc = sorong_tambrauw["location"]
    assert 131.0 < loc["lon"] < 133.5 and -1.5 < loc["lat"] < 0.0
    (summary,) = [i for i in report["info"] if i["code"] == "OVERLAP_SUMMARY"]
    assert 6.5e9 < summary["area_m2"] < 6.7e9 and len(overlaps) > 900
    gaps = [w for w in report["warnings"] if w["code"] == "GAP"]
    assert len(gaps) > 1000
    assert all(g["area_m2"] > 0 and {"lat", "lon"} <= set(g["location"]) for g in gaps)
    # The Bali polsek kept from the published set now sit in the new (coarser) Bali regencies.
    assert all(not u.startswith("51.") for e in report["errors"] for u in e["units"])

    assert_problem(api.publish(body["id"]), 409, "SET_HAS_ERRORS")
    assert api.state() == {**before, "units": {**before["units"], body["id"]: 572}}


# ---------------------------------------------------------------- hostile files


def _thousand_layer_gpkg(path: Path) -> bytes:
    gpd.GeoDataFrame({"kode": ["1"]}, geometry=[box(115, -8.5, 115.1, -8.4)], crs=4326).to_file(
        path, layer="l0", driver="GPKG")
    con = sqlite3.connect(path)
    with con:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'l0'").fetchone()[0]
        for i in range(1, 1000):
            con.execute(sql.replace('"l0"', f'"l{i}"', 1))
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                        "VALUES (?, 'features', ?, 4326)", (f"l{i}", f"l{i}"))
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', 4326, 0, 0)", (f"l{i}",))
    con.close()
    return path.read_bytes()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb/units.dbf", "w", force_zip64=True) as fh:
            zeros = bytes(1 << 20)
            for _ in range(300):
                fh.write(zeros)
        zf.writestr("bomb/units.shp", b"x")
        zf.writestr("bomb/units.shx", b"x")
    return buf.getvalue()


TRAVERSAL_TARGET = Path(tempfile.gettempdir()) / f"geo_service_evil_{uuid.uuid4().hex}.shp"
HTML_NAMES = ['<script>alert("x")</script><b>Polsek</b> & Co', "<img src=x onerror=alert(1)> Kuta"]
CP1252_NAMES = ["Polsek Café ‘Kuta’ – Selatan", "Pos Jimbaran Ütara"]


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    t = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = np.column_stack([115.2 + 0.05 * np.cos(t), -8.6 + 0.05 * np.sin(t)])
    gpd.GeoDataFrame({"kode": ["51.03.99"], "nama": ["Besar"], "kode_kab": ["51.03"]},
                     geometry=[Polygon(ring)], crs=4326).to_file(tmp / "big.gpkg", driver="GPKG")
    two = [box(115.16, -8.74, 115.17, -8.73), box(115.17, -8.74, 115.18, -8.73)]
    cp1252 = shapefile_zip(
        gpd.GeoDataFrame({"kode": ["51.03.91", "51.03.92"], "nama": CP1252_NAMES, "kode_kab": ["51.03"] * 2},
                         geometry=two, crs=4326),
        tmp / "cp1252", drop=(".cpg",), encoding="cp1252",
    )
    laughs = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&b;</name></Document></kml>')
    return {
        "zip_bomb": (_zip_bomb(), "bomb.zip"),
        "path_traversal": (zip_bytes({"../../../../../../../.." + str(TRAVERSAL_TARGET): b"x",
                                      "units.shx": b"x", "units.dbf": b"x"}), "evil.zip"),
        "thousand_layers": (_thousand_layer_gpkg(tmp / "many.gpkg"), "many.gpkg"),
        "million_vertices": ((tmp / "big.gpkg").read_bytes(), "big.gpkg"),
        "cp1252_dbf": (cp1252, "pos_cp1252.zip"),
        "html_names": (feature_collection([({"kode": c, "nama": n, "kode_kab": "51.03"}, g)
                                           for c, n, g in zip(("51.03.93", "51.03.94"), HTML_NAMES, two,
                                                              strict=True)]), "html.geojson"),
        "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "batas.pdf"),
        "bare_shp": (b"\x00\x00\x27\x0a" + bytes(96), "kecamatan.shp"),
        "kml_entities": (laughs.encode(), "laughs.kml"),
        "corrupt_gpkg": (b"SQLite format 3\x00" + bytes(200), "broken.gpkg"),
    }


@pytest.fixture(scope="module")
def hostile_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app per backend for the hostile files: none of them may publish anything."""
    application = make_app(backend, tmp_path_factory.mktemp(f"hostile-{backend}"), bundled_set="admin")
    yield Api(application)
    dispose_app(application)


REFUSED = [
    ("zip_bomb", 422, "ZIP_BOMB"),
    ("path_traversal", 422, "ARCHIVE_UNSAFE"),
    ("thousand_layers", 422, "TOO_MANY_LAYERS"),
    ("million_vertices", 422, "TOO_MANY_VERTICES"),
    ("pdf", 422, "UNSUPPORTED_FORMAT"),
    ("bare_shp", 422, "UNSUPPORTED_FORMAT"),
    ("kml_entities", 422, "FILE_UNSAFE"),
    ("corrupt_gpkg", 422, "FILE_UNREADABLE"),
]


@pytest.mark.parametrize(("name", "status", "code"), REFUSED, ids=[c[0] for c in REFUSED])
def test_hostile_file_is_refused_and_changes_nothing(hostile_app: Api, hostile_files: dict[str, tuple[bytes, str]],
                                                    name: str, status: int, code: str) -> None:
    before = hostile_app.state()
    data, filename = hostile_files[name]
    body = assert_problem(hostile_app.upload(data, filename, level="polsek"), status, code)
    assert "geo-upload-" not in body["detail"]  # no server paths in the message
    assert hostile_app.state() == before
    assert not TRAVERSAL_TARGET.exists()


@pytest.mark.parametrize("name", ["cp1252_dbf", "html_names"])
def test_hostile_names_are_kept_verbatim_in_a_draft(hostile_app: Api, hostile_files: dict[str, tuple[bytes, str]],
                                                    name: str) -> None:
    before = hostile_app.state()
    data, filename = hostile_files[name]
    r = hostile_app.upload(data, filename, level="polsek")
    assert r.status_code == 201 and r.mimetype == "application/json", r.get_data(as_text=True)
    body = r.get_json()
    assert body["status"] == "draft"
    expected = CP1252_NAMES if name == "cp1252_dbf" else HTML_NAMES
    units = hostile_app.get(f"/api/v1/units?set={body['id']}&level=polsek")
    assert sorted(f["properties"]["name"] for f in units["features"]) == sorted(expected)
    diff = hostile_app.get(f"/api/v1/boundary-sets/{body['id']}/diff")
    assert sorted(c["name"] for c in diff["changes"] if c["change"] == "added") == sorted(expected)
    if name == "cp1252_dbf":
        assert "ENCODING_ASSUMED" in {w["code"] for w in body["report"]["warnings"]}
    # The draft is only a draft: nothing the service answers from has changed.
    after = hostile_app.state()
    assert after == {**before, "units": {**before["units"], body["id"]: body["units"]}}


def _square(lon: float) -> Any:
    return box(lon, -8.74, lon + 0.01, -8.73)


def test_repeated_and_clashing_codes_make_an_unpublishable_draft(hostile_app: Api) -> None:
    before = hostile_app.state()
    data = feature_collection([
        ({"kode": "51.03.91", "nama": "Satu", "kode_kab": "51.03"}, _square(115.16)),
        ({"kode": "51.03.91", "nama": "Dua", "kode_kab": "51.03"}, _square(115.17)),
        ({"kode": "51.03", "nama": "Sama dengan Polres Badung", "kode_kab": "51.03"}, _square(115.18)),
    ])
    r = hostile_app.upload(data, "duplikat.geojson", level="polsek")
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    duplicates = {u for e in body["report"]["errors"] if e["code"] == "DUPLICATE_CODE" for u in e["units"]}
    assert duplicates == {"51.03.91", "51.03"} and body["has_errors"]
    assert "DUPLICATE_NOT_STORED" in {i["code"] for i in body["report"]["info"]}
    units = hostile_app.get(f"/api/v1/units?set={body['id']}")["features"]
    assert sorted((f["properties"]["code"], f["properties"]["name"]) for f in units
                  if f["properties"]["code"].startswith("51.03")) == [
        ("51.03", "Sama dengan Polres Badung"), ("51.03.91", "Satu")]
    assert_problem(hostile_app.publish(body["id"]), 409, "SET_HAS_ERRORS")
    assert hostile_app.state() == {**before, "units": {**before["units"], body["id"]: body["units"]}}


def test_long_and_nul_texts_are_handled_alike_on_both_backends(hostile_app: Api) -> None:
    before = hostile_app.state()
    long_name = "<script>" + "x" * 300 + "</script>"
    data = feature_collection([
        ({"kode": "51.03.97", "nama": long_name, "kode_kab": "51.03"}, _square(115.16)),
        ({"kode": "51.03.98" + "9" * 60, "nama": "Kode terlalu panjang", "kode_kab": "51.03"}, _square(115.17)),
    ])
    body = hostile_app.upload(data, "panjang" * 40 + ".geojson", level="polsek").get_json()
    assert body["status"] == "draft" and len(body["name"]) <= 200
    assert [e["code"] for e in body["report"]["errors"]] == ["CODE_TOO_LONG"]
    assert "NAME_TRUNCATED" in {w["code"] for w in body["report"]["warnings"]}
    names = {f["properties"]["code"]: f["properties"]["name"]
             for f in hostile_app.get(f"/api/v1/units?set={body['id']}&level=polsek")["features"]}
    assert names == {"51.03.97": long_name[:200]}

    stations = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "S\u00001", "name": "Pos\u0000 Kuta " + "y" * 300,
                                           "unit_code": "51.03.01", "phone": "0361\u0000" + "1" * 80},
         "geometry": {"type": "Point", "coordinates": list(KUTA)}}]}).encode()
    r = hostile_app.upload(stations, "pos.geojson", url="/api/v1/station-sets")
    assert r.status_code == 201, r.get_data(as_text=True)
    sset = r.get_json()
    (item,) = sset["items"]
    assert item["code"] == "S1" and item["name"] == ("Pos Kuta " + "y" * 300)[:200] and len(item["phone"]) == 60
    assert {"NUL_REMOVED", "NAME_TRUNCATED"} <= {w["code"] for w in sset["report"]["warnings"]}
    after = hostile_app.state()
    assert after == {**before, "units": {**before["units"], body["id"]: body["units"]}}


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"level": "kodim"}, 422, "INVALID_LEVEL"),
        ({}, 422, "INVALID_LEVEL"),
        ({"level": "polsek", "crs": "EPSG:999999"}, 422, "UNKNOWN_CRS"),
        ({"level": "polsek", "code_field": "no_such_field"}, 422, "FIELD_NOT_FOUND"),
    ],
)
def test_bad_form_values_are_problems(hostile_app: Api, form: dict[str, str], status: int, code: str) -> None:
    before = hostile_app.state()
    data = feature_collection([({"kode": "51.03.95", "nama": "X", "kode_kab": "51.03"},
                                box(115.16, -8.74, 115.17, -8.73))])
    assert_problem(hostile_app.upload(data, "x.geojson", **form), status, code)
    assert hostile_app.state() == before


def test_upload_without_file_or_multipart_is_a_problem(hostile_app: Api) -> None:
    c, h = hostile_app.client, hostile_app.headers
    assert_problem(c.post("/api/v1/boundary-sets", json={"level": "polsek"}, headers=h), 400, "MULTIPART_REQUIRED")
    assert_problem(c.post("/api/v1/boundary-sets", data={"level": "polsek"}, headers=h,
                          content_type="multipart/form-data"), 400, "FILE_MISSING")
    assert_problem(c.post("/api/v1/boundary-sets/999999/publish", headers=h), 404, "NOT_FOUND")
    for role in ("dispatcher", "supervisor", "officer"):
        token = make_token(hostile_app.app, role)
        r = hostile_app.client.post("/api/v1/boundary-sets/1/publish", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_too_large_upload_is_413(tmp_path: Path) -> None:
    # The size is checked before anything reaches the database: the embedded default is enough.
    application = make_app("sqlite", tmp_path, max_upload_bytes=100_000)
    try:
        api = Api(application)
        before = api.state()
        big = (DATA / "bali_kecamatan.geojson").read_bytes()
        assert len(big) > 100_000
        body = assert_problem(api.upload(big, "kecamatan.geojson", level="polsek"), 413, "PAYLOAD_TOO_LARGE")
        assert "100000" in body["detail"]
        assert_problem(api.upload(big, "stations.csv", url="/api/v1/station-sets"), 413, "PAYLOAD_TOO_LARGE")
        assert api.state() == before
        # Under the limit the same endpoint works.
        small = feature_collection([({"kode": "51.03.96", "nama": "Kecil", "kode_kab": "51.03"},
                                     box(115.16, -8.74, 115.17, -8.73))])
        assert api.upload(small, "small.geojson", level="polsek").status_code == 201
    finally:
        dispose_app(application)


# ---------------------------------------------------------------- station sets


STATION_ROWS = [
    # code, name, unit_code, lat, lon, phone
    ("POS-KUTA", "Polsek Kuta (uji)", "51.03.01", -8.726433, 115.177805, "0361-751598"),
    ("POS-DPS", "Polsek Denpasar Selatan (uji)", "51.71.01", -8.701521, 115.227086, "0361-223310"),
    # In Denpasar Selatan but filed under Kuta: a warning, still publishable.
    ("POS-JAUH", "Pos Kuta di Sanur (uji)", "51.03.01", -8.69, 115.26, ""),
]


def stations_csv(rows: list[tuple[Any, ...]]) -> bytes:
    lines = ["code,name,unit_code,lat,lon,phone"] + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def stations_geojson(rows: list[tuple[Any, ...]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": c, "nama": n, "kode_unit": u, "telepon": p},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}} for c, n, u, lat, lon, p in rows
    ]}).encode()


def test_station_sets_upload_check_publish_and_roll_back(api: Api) -> None:
    before = api.state()
    sample = before["station_set"]
    assert all(s["code"].startswith("SAMPLE-") for s in before["locate"]["stations"])
    for filename, data in (("pos.csv", stations_csv(STATION_ROWS)), ("pos.geojson", stations_geojson(STATION_ROWS))):
        r = api.upload(data, filename, url="/api/v1/station-sets", name=f"Pos uji {filename}")
        assert r.status_code == 201, r.get_data(as_text=True)
        body = r.get_json()
        assert (body["status"], body["stations"], body["has_errors"]) == ("draft", 3, False)
        outside = [w for w in body["report"]["warnings"] if w["code"] == "STATION_OUTSIDE_UNIT"]
        assert [w["units"][0] for w in outside] == ["POS-JAUH"]
        assert {s["code"]: s["phone"] for s in body["items"]}["POS-KUTA"] == "0361-751598"
        assert api.locate(KUTA)["stations"] == before["locate"]["stations"]  # draft: not answering

        assert api.publish(body["id"], "station-sets").status_code == 200
        stations = api.locate(KUTA)["stations"]
        assert {s["code"] for s in stations} == {"POS-KUTA", "POS-DPS", "POS-JAUH"}
        assert stations[0]["code"] == "POS-KUTA" and stations[0]["name"] == "Polsek Kuta (uji)"
        assert api.locate(KUTA)["boundary_set"] == before["published"]

        assert api.publish(sample, "station-sets").status_code == 200
        assert api.locate(KUTA) == before["locate"]

        sha = hashlib.sha256(data).hexdigest()
        (imported,) = api.audit("station_set.import", body["id"])
        (published,) = api.audit("station_set.publish", body["id"])
        assert imported.detail["file_sha256"] == published.detail["file_sha256"] == sha
        assert imported.actor == published.actor == "token:test-admin"


def test_station_set_with_errors_cannot_be_published(hostile_app: Api) -> None:
    api = hostile_app
    before = api.state()
    rows = [
        *STATION_ROWS[:2],
        ("POS-KUTA", "Duplikat", "51.03.01", -8.72, 115.17, ""),  # duplicate code
        ("POS-TUKAR", "Tertukar", "51.03.01", 115.177805, -8.726433, ""),  # lat/lon swapped
    ]
    r = api.upload(stations_csv(rows), "pos_salah.csv", url="/api/v1/station-sets")
    assert r.status_code == 201
    body = r.get_json()
    assert body["has_errors"]
    errors = {(e["code"], tuple(e["units"])) for e in body["report"]["errors"]}
    assert ("DUPLICATE_CODE", ("POS-KUTA",)) in errors
    assert any(code == "SWAPPED_COORDINATES_SUSPECTED" and "POS-TUKAR" in units for code, units in errors)
    assert_problem(api.publish(body["id"], "station-sets"), 409, "SET_HAS_ERRORS")
    assert api.state() == before
    sets = api.get("/api/v1/station-sets")["sets"]
    assert [s["status"] for s in sets if s["id"] == body["id"]] == ["draft"]
