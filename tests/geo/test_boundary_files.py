"""Reading uploaded boundary, mapping and station files: real Bali data and hostile files.

Every test file is made in ``tmp_path`` from boundaries/ (the shipped copies of the reference data) or from hand-made shapes.
"""

from __future__ import annotations

import io
import sqlite3
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo_service.errors import BoundaryFileError
from geo_service.geo.area import Unit
from geo_service.geo.boundary_files import (
    FieldGuess,
    FileLimits,
    RawLayer,
    detect_format,
    guess_fields,
    read_boundary_file,
    read_station_file,
    units_from_layer,
    units_from_mapping,
)
from geo_service.geo.bundled import BOUNDARIES_DIR, load_bali_units
from geo_service.geo.checks import check_units
from geo_service.geo.geometry import area_m2
from geo_service.geo.stations import Station

DATA = BOUNDARIES_DIR  # the reference files ship in boundaries/ (see boundaries/SOURCES.md)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def bali_kec() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "bali_kecamatan.geojson")


def zip_dir(folder: Path, *, prefix: str = "", skip: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() not in skip:
                zf.write(f, prefix + f.name)
    return buf.getvalue()


def shapefile_zip(gdf: gpd.GeoDataFrame, folder: Path, *, skip: tuple[str, ...] = (), **kw: object) -> bytes:
    folder.mkdir()
    gdf.to_file(folder / "units.shp", **kw)
    return zip_dir(folder, prefix="upload/", skip=skip)


def zip_members(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(zipfile.ZipInfo(name), content)
    return buf.getvalue()


def expect(code: str, fn, *args, **kwargs) -> BoundaryFileError:
    with pytest.raises(BoundaryFileError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.detail
    assert info.value.detail
    return info.value


# ---------------------------------------------------------------- format detection


def test_detect_format_by_content() -> None:
    assert detect_format("a.zip", b"PK\x03\x04...") == "shapefile_zip"
    assert detect_format("a.KMZ", b"PK\x03\x04...") == "kmz"
    assert detect_format("x.bin", b"SQLite format 3\x00...") == "gpkg"
    assert detect_format("a.kml", b'<?xml version="1.0"?><kml xmlns="...">') == "kml"
    assert detect_format("noext", b"\xef\xbb\xbf\n {\"type\": \"FeatureCollection\"") == "geojson"
    assert detect_format("s.csv", b"code;lat;lon\n") == "csv"


@pytest.mark.parametrize(
    ("name", "head"),
    [("a.shp", b"\x00\x00'\n"), ("a.pdf", b"%PDF-1.7"), ("a.zip", b"hello"), ("a.xml", b"<html></html>")],
)
def test_detect_format_refuses_others(name: str, head: bytes) -> None:
    expect("UNSUPPORTED_FORMAT", detect_format, name, head)


# ---------------------------------------------------------------- real files


def test_bali_shapefile_zip(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    data = shapefile_zip(bali_kec, tmp_path / "shp")
    raw = read_boundary_file(data, "kecamatan.zip")
    assert raw.format == "shapefile_zip" and raw.crs_found == "EPSG:4326" and len(raw.gdf) == 57
    assert guess_fields(raw) == FieldGuess("kode", "nama", "kode_kab")
    units, report = units_from_layer(raw, level="polsek")
    assert len(units) == 57 and not report.has_errors and not report.warnings
    assert {u.parent_code for u in units} == {f"51.{k:02d}" for k in range(1, 9)} | {"51.71"}
    kuta = next(u for u in units if u.code == "51.03.01")
    assert kuta.name == "Kuta" and kuta.level == "polsek"
    assert kuta.geometry.covers(Point(115.1668, -8.7467))  # Ngurah Rai runway is in Kuta


def test_bali_shapefile_in_utm_is_reprojected(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    data = shapefile_zip(bali_kec.to_crs(32750), tmp_path / "shp")
    raw = read_boundary_file(data, "kecamatan.zip")
    assert raw.crs_found == "EPSG:32750"
    units, report = units_from_layer(raw, level="polsek", code_field="kode", name_field="nama",
                                     parent_field="kode_kab")
    assert "REPROJECTED" in report.codes("info") and not report.has_errors
    by_code = {u.code: u for u in units}
    for _, row in bali_kec.iterrows():
        # Back in EPSG:4326 the polygons match the source to well under a square metre per km².
        diff = area_m2(shapely.symmetric_difference(row.geometry, by_code[row.kode].geometry))
        assert diff < 1e-6 * area_m2(row.geometry) + 1.0


def test_missing_prj_with_utm_numbers_is_an_error(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    data = shapefile_zip(bali_kec.to_crs(32750), tmp_path / "shp", skip=(".prj",))
    raw = read_boundary_file(data, "kecamatan.zip")
    assert raw.crs_found is None and "PRJ_MISSING" in [n.code for n in raw.notes]
    units, report = units_from_layer(raw, level="polsek")
    assert units == []
    assert report.codes("error") == ["MISSING_CRS"]
    assert "EPSG:32750" in report.errors[0].message  # the hint for a southern UTM northing
    # Once the admin names the CRS, the same file is accepted.
    units, report = units_from_layer(raw, level="polsek", source_crs="EPSG:32750")
    assert len(units) == 57 and not report.has_errors and "REPROJECTED" in report.codes()


def test_missing_prj_with_degrees_is_a_warning(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    data = shapefile_zip(bali_kec, tmp_path / "shp", skip=(".prj",))
    units, report = units_from_layer(read_boundary_file(data, "kecamatan.zip"), level="polsek")
    assert len(units) == 57 and not report.has_errors
    (item,) = report.by_code("MISSING_CRS")
    assert item.severity == "warning" and "EPSG:4326 was assumed" in item.message


def test_geopackage(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "units.gpkg"
    bali_kec.to_file(path, layer="kecamatan", driver="GPKG")
    raw = read_boundary_file(path.read_bytes(), "units.gpkg")
    assert raw.format == "gpkg" and raw.layer == "kecamatan" and len(raw.gdf) == 57
    units, report = units_from_layer(raw, level="polsek")
    assert len(units) == 57 and not report.has_errors
    # A second polygon layer: the admin must name one.
    bali_kec.head(3).to_file(path, layer="other", driver="GPKG")
    err = expect("LAYER_REQUIRED", read_boundary_file, path.read_bytes(), "units.gpkg")
    assert err.extra["layers"] == ["kecamatan", "other"]
    assert len(read_boundary_file(path.read_bytes(), "units.gpkg", layer="other").gdf) == 3
    expect("LAYER_NOT_FOUND", read_boundary_file, path.read_bytes(), "units.gpkg", layer="nope")


def test_kml_written_by_gdal_and_kmz(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "units.kml"
    bali_kec.to_file(path, driver="KML")
    raw = read_boundary_file(path.read_bytes(), "units.kml")
    assert raw.format == "kml" and raw.crs_found == "EPSG:4326"
    assert guess_fields(raw) == FieldGuess("kode", "nama", "kode_kab")
    units, report = units_from_layer(raw, level="polsek")
    assert len(units) == 57 and not report.has_errors
    kmz = zip_members({"doc.kml": path.read_bytes()})
    raw = read_boundary_file(kmz, "units.kmz")
    assert raw.format == "kmz" and len(raw.gdf) == 57


def test_hand_written_kml_uses_name_and_description() -> None:
    placemarks = "".join(
        f"<Placemark><name>Polsek {n}</name><description>{code}</description><Polygon><outerBoundaryIs>"
        f"<LinearRing><coordinates>{x},-8.5 {x + 0.1},-8.5 {x + 0.1},-8.4 {x},-8.4 {x},-8.5</coordinates>"
        "</LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for n, code, x in (("Kuta", "51.03.01", 115.0), ("Mengwi", "51.03.02", 115.1))
    )
    kml = f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>{placemarks}</Document></kml>'
    raw = read_boundary_file(kml.encode(), "polsek.kml")
    guess = guess_fields(raw)
    assert (guess.code_field.lower(), guess.name_field.lower()) == ("description", "name")
    units, report = units_from_layer(raw, level="polsek", parent_field=None)
    assert [(u.code, u.name) for u in units] == [("51.03.01", "Polsek Kuta"), ("51.03.02", "Polsek Mengwi")]


def test_indonesia_regencies_geojson() -> None:
    raw = read_boundary_file((DATA / "indonesia_kabupaten_kota.geojson").read_bytes(), "kab.geojson")
    assert guess_fields(raw) == FieldGuess("kode", "nama", "kode_prov")
    units, report = units_from_layer(raw, level="polres")
    assert len(units) == 514 and not report.has_errors
    assert next(u for u in units if u.code == "96.04").name == "Kabupaten Tambrauw"


def test_cp1252_dbf_without_cpg_and_html_names_kept(tmp_path: Path) -> None:
    names = ["Polsek Café ‘Kuta’ – Selatan", '<script>alert("x")</script><b>Polsek</b> & Co']
    gdf = gpd.GeoDataFrame(
        {"kode": ["A1", "A2"], "nama": names},
        geometry=[box(115.0, -8.8, 115.1, -8.7), box(115.1, -8.8, 115.2, -8.7)], crs=4326,
    )
    data = shapefile_zip(gdf, tmp_path / "shp", skip=(".cpg",), encoding="cp1252")
    raw = read_boundary_file(data, "cp1252.zip")
    assert [n.code for n in raw.notes] == ["ENCODING_ASSUMED"]
    units, report = units_from_layer(raw, level="polsek", parent_field=None)
    assert [u.name for u in units] == names
    assert "ENCODING_ASSUMED" in report.codes("warning")


def test_utf8_dbf_without_cpg(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"kode": ["A1"], "nama": ["Pos Polisi Kuta — Pantai ✓"]},
                           geometry=[box(115.0, -8.8, 115.1, -8.7)], crs=4326)
    data = shapefile_zip(gdf, tmp_path / "shp", skip=(".cpg",), encoding="utf-8")
    units, _ = units_from_layer(read_boundary_file(data, "u.zip"), level="polsek", parent_field=None)
    assert units[0].name == "Pos Polisi Kuta — Pantai ✓"


def test_cp1252_geojson_is_decoded_with_a_warning() -> None:
    text = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            '{"kode": "X", "nama": "Café"}, "geometry": {"type": "Polygon", "coordinates": '
            '[[[115, -8.5], [115.1, -8.5], [115.1, -8.4], [115, -8.5]]]}}]}')
    raw = read_boundary_file(text.encode("cp1252"), "u.geojson")
    assert raw.gdf["nama"].tolist() == ["Café"] and raw.notes[0].code == "ENCODING_ASSUMED"


def test_geometry_problems_are_repaired_or_reported() -> None:
    bowtie = Polygon([(115.0, -8.5), (115.1, -8.4), (115.1, -8.5), (115.0, -8.4)])
    nested = shapely.MultiPolygon([box(115.2, -8.5, 115.4, -8.3), box(115.25, -8.45, 115.35, -8.35)])
    gdf = gpd.GeoDataFrame(
        {"kode": ["B", "N", "P", "E", None, "M"], "nama": ["Bowtie", "Nested", "Point", "Empty", "NoCode", None]},
        geometry=[bowtie, nested, Point(115.5, -8.5), Polygon(), box(115.6, -8.5, 115.7, -8.4),
                  box(115.8, -8.5, 115.9, -8.4)],
        crs=4326,
    )
    raw = RawLayer(gdf, "EPSG:4326", "geojson", ["kode", "nama"])
    units, report = units_from_layer(raw, level="polsek", code_field="kode", name_field="nama")
    by_code = {u.code: u for u in units}
    assert sorted(by_code) == ["B", "M", "N"]
    assert all(u.geometry.is_valid for u in units)
    # The nested shell is absorbed (structure method), not turned into a hole.
    assert by_code["N"].geometry.equals(box(115.2, -8.5, 115.4, -8.3))
    assert by_code["M"].name == "M"
    assert {i.units[0] for i in report.by_code("INVALID_GEOMETRY_REPAIRED")} == {"B", "N"}
    assert report.codes("error") == ["MISSING_CODE"]
    assert {"MISSING_NAME", "EMPTY_GEOMETRY", "NOT_POLYGON"} <= set(report.codes("warning"))


def test_swapped_coordinates_are_refused() -> None:
    gdf = gpd.GeoDataFrame({"kode": ["S"], "nama": ["Swapped"]},
                           geometry=[box(-8.5, 115.0, -8.4, 115.1)], crs=4326)
    units, report = units_from_layer(RawLayer(gdf, "EPSG:4326", "geojson", ["kode", "nama"]), level="polsek",
                                     parent_field=None)
    assert units == [] and report.codes("error") == ["SWAPPED_COORDINATES_SUSPECTED"]


def test_projected_crs_with_degree_numbers_is_refused() -> None:
    gdf = gpd.GeoDataFrame({"kode": ["S"], "nama": ["x"]}, geometry=[box(115.0, -8.5, 115.1, -8.4)], crs=32750)
    units, report = units_from_layer(RawLayer(gdf, "EPSG:32750", "shapefile_zip", ["kode", "nama"]),
                                     level="polsek", parent_field=None)
    assert units == [] and report.codes("error") == ["CRS_MISMATCH"]


def test_wkt_csv_boundary_file() -> None:
    data = b'kode,nama,wkt\nA,Unit A,"POLYGON ((115 -8.5, 115.1 -8.5, 115.1 -8.4, 115 -8.5))"\n'
    raw = read_boundary_file(data, "units.csv")
    units, report = units_from_layer(raw, level="polda")
    assert [u.code for u in units] == ["A"] and report.by_code("MISSING_CRS")[0].severity == "warning"


def test_unknown_field_and_level() -> None:
    gdf = gpd.GeoDataFrame({"kode": ["A"]}, geometry=[box(115.0, -8.5, 115.1, -8.4)], crs=4326)
    raw = RawLayer(gdf, "EPSG:4326", "geojson", ["kode"])
    expect("FIELD_NOT_FOUND", units_from_layer, raw, level="polsek", code_field="kd")
    expect("INVALID_LEVEL", units_from_layer, raw, level="polrestabes")


# ---------------------------------------------------------------- hostile files


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb/units.dbf", "w", force_zip64=True) as fh:
            zeros = bytes(1 << 20)
            for _ in range(200):
                fh.write(zeros)
        zf.writestr("bomb/units.shp", b"x")
    data = buf.getvalue()
    assert len(data) < 1_000_000
    expect("ZIP_BOMB", read_boundary_file, data, "bomb.zip")
    # The declared total alone also refuses it.
    expect("ZIP_BOMB", read_boundary_file, data, "bomb.zip",
           limits=FileLimits(max_uncompressed_bytes=50 << 20, max_compression_ratio=1e9))


@pytest.mark.parametrize(
    "name", ["../../evil.shp", "/etc/evil.shp", "ok/../../evil.shp", "C:/Windows/evil.shp", "..\\evil.shp"]
)
def test_path_traversal_member_names(name: str, tmp_path: Path) -> None:
    data = zip_members({name: b"x", "units.shx": b"x", "units.dbf": b"x"})
    expect("ARCHIVE_UNSAFE", read_boundary_file, data, "evil.zip")
    assert not list(tmp_path.parent.glob("**/evil.shp"))


def test_symlink_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("units.prj")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("units.shp", b"x")
    expect("ARCHIVE_UNSAFE", read_boundary_file, buf.getvalue(), "link.zip")


def test_too_many_members() -> None:
    data = zip_members({f"f{i}.txt": b"" for i in range(150)})
    expect("ARCHIVE_UNSAFE", read_boundary_file, data, "many.zip")


def test_corrupt_archive_and_missing_parts(bali_kec: gpd.GeoDataFrame, tmp_path: Path) -> None:
    expect("FILE_UNREADABLE", read_boundary_file, b"PK\x03\x04garbage", "x.zip")
    expect("UNSUPPORTED_FORMAT", read_boundary_file, zip_members({"readme.txt": b"hi"}), "x.zip")
    data = shapefile_zip(bali_kec.head(2), tmp_path / "shp", skip=(".shx",))
    expect("FILE_UNREADABLE", read_boundary_file, data, "x.zip")
    two = zip_members({"a.shp": b"", "a.shx": b"", "a.dbf": b"", "b.shp": b"", "b.shx": b"", "b.dbf": b""})
    assert expect("LAYER_REQUIRED", read_boundary_file, two, "two.zip").extra["layers"] == ["a", "b"]


def test_thousand_layer_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "many.gpkg"
    gpd.GeoDataFrame({"kode": ["1"]}, geometry=[box(115, -8.5, 115.1, -8.4)], crs=4326).to_file(
        path, layer="l0", driver="GPKG"
    )
    with sqlite3.connect(path) as con:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'l0'").fetchone()[0]
        for i in range(1, 1000):
            con.execute(sql.replace('"l0"', f'"l{i}"', 1))
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                        "VALUES (?, 'features', ?, 4326)", (f"l{i}", f"l{i}"))
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', 4326, 0, 0)", (f"l{i}",))
    con.close()
    err = expect("TOO_MANY_LAYERS", read_boundary_file, path.read_bytes(), "many.gpkg", layer="l5")
    assert "1000 layers" in err.detail


def test_million_vertex_polygon(tmp_path: Path) -> None:
    t = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = np.column_stack([115.2 + 0.1 * np.cos(t), -8.4 + 0.1 * np.sin(t)])
    path = tmp_path / "big.gpkg"
    gpd.GeoDataFrame({"kode": ["BIG"]}, geometry=[Polygon(ring)], crs=4326).to_file(path, driver="GPKG")
    err = expect("TOO_MANY_VERTICES", read_boundary_file, path.read_bytes(), "big.gpkg")
    assert "1,000,001 vertices" in err.detail
    # Raised limits accept it.
    raw = read_boundary_file(path.read_bytes(), "big.gpkg",
                             limits=FileLimits(max_feature_vertices=2_000_000, max_total_vertices=2_000_000))
    assert len(raw.gdf) == 1


def test_total_vertex_limit(bali_kec: gpd.GeoDataFrame) -> None:
    data = (DATA / "bali_kecamatan.geojson").read_bytes()
    err = expect("TOO_MANY_VERTICES", read_boundary_file, data, "k.geojson",
                 limits=FileLimits(max_total_vertices=10_000))
    assert "30,342 vertices" in err.detail


def test_feature_limit() -> None:
    data = (DATA / "bali_kecamatan.geojson").read_bytes()
    expect("TOO_MANY_FEATURES", read_boundary_file, data, "k.geojson", limits=FileLimits(max_features=50))


@pytest.mark.parametrize(
    ("snippet", "code"),
    [
        ('<!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>', "FILE_UNSAFE"),
        ("", "FILE_UNSAFE"),
    ],
)
def test_unsafe_kml(snippet: str, code: str) -> None:
    body = "<NetworkLink><Link><href>http://127.0.0.1:9/x.kml</href></Link></NetworkLink>" if not snippet else ""
    kml = f'<?xml version="1.0"?>{snippet}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'
    expect(code, read_boundary_file, kml.encode(), "x.kml")


# ---------------------------------------------------------------- mapping table


@pytest.fixture(scope="module")
def bali_units() -> list[Unit]:
    return load_bali_units()


MAPPING = """unit_code,unit_name,level,parent_code,area_code
51.03.91,Polsek Kuta Raya,polsek,51.03,51.03.01
51.03.91,Polsek Kuta Raya,polsek,51.03,51.03.05
51.03.02,Polsek Mengwi,polsek,51.03,51.03.02
51.03.92,Polsek Abiansemal-Petang,polsek,51.03,51.03.03;51.03.04
"""


def test_units_from_mapping_dissolves_kecamatan(bali_units: list[Unit]) -> None:
    kec = [u for u in bali_units if u.level == "polsek"]
    units, report = units_from_mapping(kec, MAPPING.encode())
    assert not report.has_errors and not report.warnings
    by_code = {u.code: u for u in units}
    assert sorted(by_code) == ["51.03.02", "51.03.91", "51.03.92"]
    kuta_raya = by_code["51.03.91"]
    assert (kuta_raya.name, kuta_raya.level, kuta_raya.parent_code) == ("Polsek Kuta Raya", "polsek", "51.03")
    kec_by = {u.code: u.geometry for u in kec}
    parts = shapely.get_num_geometries
    # Kuta and Kuta Selatan touch: their main parts merge into one.
    assert parts(kuta_raya.geometry) < parts(kec_by["51.03.01"]) + parts(kec_by["51.03.05"])
    assert area_m2(kuta_raya.geometry) == pytest.approx(
        area_m2(kec_by["51.03.01"]) + area_m2(kec_by["51.03.05"]), rel=1e-6
    )
    assert kuta_raya.geometry.covers(Point(115.1668, -8.7467))
    # Merged with the published Polda and Polres, the new Polsek check clean (Badung only
    # partly covered: the other kecamatan have no Polsek in this upload).
    merged = [u for u in bali_units if u.level != "polsek"] + units
    report = check_units(merged)
    assert not report.has_errors
    assert set(report.codes("warning")) == {"LOW_PARENT_COVERAGE", "GAP"}
    (gap,) = report.by_code("GAP")  # Kuta Utara (51.03.06) has no Polsek in this upload
    assert "51.03" in gap.units and gap.area_m2 == pytest.approx(area_m2(kec_by["51.03.06"]), rel=1e-3)


def test_units_from_mapping_accepts_pairs_and_reports_problems(bali_units: list[Unit]) -> None:
    pairs = [(u.code, u.geometry) for u in bali_units if u.level == "polsek"]
    bad = (
        "unit_code;unit_name;level;parent_code;area_code\n"
        "X1;Polsek X;polsek;51.03;51.99.99\n"
        "X2;Polsek Y;polsek;51.03;51.03.01\n"
        "X2;Polsek Y2;polsek;51.03;51.03.05\n"
        "X3;Polsek Z;kapolsek;51.03;51.03.02\n"
        "X4;Polsek W;polsek;51.03;51.03.01\n"
        "X5;Polsek Far;polsek;51.03;51.01.01\n"
        "X5;Polsek Far;polsek;51.03;51.05.01\n"
    )
    units, report = units_from_mapping(pairs, bad.encode())
    assert set(report.codes("error")) == {"AREA_NOT_FOUND", "MAPPING_CONFLICT", "INVALID_LEVEL"}
    assert {"AREA_IN_TWO_UNITS", "UNIT_NOT_CONTIGUOUS"} <= set(report.codes("warning"))
    expect("FIELD_NOT_FOUND", units_from_mapping, pairs, b"unit_code,name\nA,B\n")


# ---------------------------------------------------------------- stations


def test_station_csv_with_decimal_commas_and_cp1252() -> None:
    text = ("kode;nama;kode_unit;lat;lon;telp;sample\n"
            "P1;Pos Polisi Café;51.03.01;-8,7467;115,1668;0361 123;ya\n"
            "P2;Pos Tanpa Posisi;51.03.01;;;;\n")
    stations, report = read_station_file(text.encode("cp1252"), "pos.csv")
    assert stations == [Station("P1", "Pos Polisi Café", "51.03.01", 115.1668, -8.7467, "0361 123", True)]
    assert report.codes("error") == ["STATION_COORDINATES_MISSING"]
    assert report.codes("warning") == ["ENCODING_ASSUMED"]


def test_station_geojson() -> None:
    doc = (b'{"type": "FeatureCollection", "features": ['
           b'{"type": "Feature", "properties": {"code": "S1", "name": "Polsek Kuta", "unit_code": "51.03.01",'
           b' "phone": "110"}, "geometry": {"type": "Point", "coordinates": [115.17, -8.72]}},'
           b'{"type": "Feature", "properties": {"code": "S2"}, "geometry": {"type": "LineString",'
           b' "coordinates": [[115, -8], [116, -8]]}}]}')
    stations, report = read_station_file(doc, "stations.geojson")
    assert [(s.code, s.lon, s.lat, s.phone, s.sample) for s in stations] == [("S1", 115.17, -8.72, "110", False)]
    assert report.codes("error") == ["NOT_POINT"]
    expect("UNSUPPORTED_FORMAT", read_station_file, b"SQLite format 3\x00", "s.gpkg")


@pytest.mark.parametrize("module", ["archive", "reading", "fields", "units", "mapping", "stations"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"geo_service.geo.boundary_files.{module}"))
    assert result.failed == 0
