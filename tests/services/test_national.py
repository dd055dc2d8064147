"""The national boundary set (services/national.py): names, code-prefix hierarchy, merge with Bali, checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo_service.errors import InvalidInput
from geo_service.geo.area import Unit
from geo_service.geo.bundled import BOUNDARIES_DIR, load_bali_units
from geo_service.geo.geometry import area_m2
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.timezones import zone_for_unit
from geo_service.services import national
from tests.conftest import need

DATA_DIR = BOUNDARIES_DIR
KETAPANG = (114.396, -8.142)  # Ketapang ferry port, Banyuwangi (Java side of the Bali Strait)
# Inside kecamatan 64.02.12 Tabang (Kutai Kartanegara, Kalimantan Timur) where its polygon spills
# into regency 65.02 Malinau (Kalimantan Utara) and no other kecamatan covers the point.
TABANG_SPILL = (115.56427, 1.27259)



@pytest.fixture(scope="module")
def data_dir() -> Path:
    need((DATA_DIR / "indonesia_kecamatan.geojson").is_file(), f"national files not found in {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="module")
def national_units(data_dir: Path) -> list[Unit]:
    units, _report, _sha = national.read_national_units(data_dir)
    return units


@pytest.fixture(scope="module")
def merged(national_units: list[Unit]) -> tuple[list[Unit], JurisdictionIndex]:
    units, _report, _clipped = national.merge_fine_units(national_units, load_bali_units(), ["51"])
    return units, JurisdictionIndex.build(units)


@pytest.fixture(scope="module")
def bali_index() -> JurisdictionIndex:
    return JurisdictionIndex.build(load_bali_units())


def _chain_codes(result: Any) -> dict[str, str | None]:
    chain = result.jurisdiction or {}
    return {lvl: (chain[lvl].code if lvl in chain else None) for lvl in ("polda", "polres", "polsek")}


# ------------------------------------------------------------------ names and hierarchy


def test_units_names_and_parents_from_code_prefix(national_units: list[Unit]) -> None:
    by_code = {u.code: u for u in national_units}
    levels = [u.level for u in national_units]
    assert (levels.count("polda"), levels.count("polres"), levels.count("polsek")) == (38, 514, 7285)
    assert by_code["11"].name == "Polda Aceh" and by_code["11"].parent_code is None
    assert by_code["51.71"].name == "Polresta Denpasar" and by_code["51.71"].parent_code == "51"
    assert by_code["35.10"].name == "Polres Banyuwangi"
    assert by_code["11.01.01"].name == "Polsek Bakongan" and by_code["11.01.01"].parent_code == "11.01"
    for u in national_units:
        assert u.parent_code == national.parent_from_code(u.code)
        assert u.parent_code is None or u.parent_code in by_code


def test_every_polda_maps_to_a_time_zone(merged: tuple[list[Unit], JurisdictionIndex]) -> None:
    units, _idx = merged
    poldas = [u.code for u in units if u.level == "polda"]
    assert len(poldas) == 38
    labels = {code: zone_for_unit(code).label for code in poldas}
    assert labels["11"] == "WIB" and labels["51"] == "WITA" and labels["94"] == "WIT"
    assert set(labels.values()) == {"WIB", "WITA", "WIT"}


def test_a_kecamatan_spilling_into_another_province_answers_with_its_own_chain(
    national_units: list[Unit], merged: tuple[list[Unit], JurisdictionIndex]
) -> None:
    by_code = {u.code: u for u in national_units}
    lon, lat = TABANG_SPILL
    # The spill is real: the point is in Tabang's polygon and in Malinau's regency polygon,
    # not in Tabang's own regency (64.02) polygon.
    assert shapely.intersects_xy(by_code["64.02.12"].geometry, lon, lat)
    assert shapely.intersects_xy(by_code["65.02"].geometry, lon, lat)
    assert not shapely.intersects_xy(by_code["64.02"].geometry, lon, lat)
    _units, idx = merged
    result = idx.locate(lon, lat)
    assert result.match == "inside"
    assert _chain_codes(result) == {"polda": "64", "polres": "64.02", "polsek": "64.02.12"}
    assert result.jurisdiction["polda"].name == "Polda Kalimantan Timur"  # type: ignore[index]
    assert zone_for_unit(result.leaf.code).label == "WITA"  # type: ignore[union-attr]


# ------------------------------------------------------------------ merge with the fine Bali set


def test_bali_answers_unchanged_with_the_national_set(
    merged: tuple[list[Unit], JurisdictionIndex], bali_index: JurisdictionIndex
) -> None:
    rng = np.random.default_rng(110)
    polsek = [u for u in load_bali_units() if u.level == "polsek"]
    lons: list[float] = []
    lats: list[float] = []
    for u in polsek:  # 8 random points inside each of the 57 Bali kecamatan
        minx, miny, maxx, maxy = u.geometry.bounds
        got = 0
        while got < 8:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.intersects_xy(u.geometry, x, y):
                lons.append(x)
                lats.append(y)
                got += 1
    _units, idx = merged
    pos_merged = idx.locate_many(lons, lats)
    pos_bali = bali_index.locate_many(lons, lats)
    assert (pos_bali >= 0).all()
    assert list(idx.codes_for(pos_merged)) == list(bali_index.codes_for(pos_bali))
    for lon, lat in list(zip(lons, lats, strict=True))[::9]:
        a, b = idx.locate(lon, lat), bali_index.locate(lon, lat)
        assert _chain_codes(a) == _chain_codes(b)
        assert {k: v.name for k, v in a.jurisdiction.items()} == {  # type: ignore[union-attr]
            k: v.name for k, v in b.jurisdiction.items()}  # type: ignore[union-attr]


def test_ketapang_ferry_port_is_banyuwangi_in_jawa_timur(merged: tuple[list[Unit], JurisdictionIndex]) -> None:
    _units, idx = merged
    result = idx.locate(*KETAPANG)
    codes = _chain_codes(result)
    assert codes["polres"] == "35.10" and codes["polda"] == "35"
    assert codes["polsek"] is not None and codes["polsek"].startswith("35.10.")
    assert result.jurisdiction["polres"].name == "Polres Banyuwangi"  # type: ignore[index]
    assert result.jurisdiction["polda"].name == "Polda Jawa Timur"  # type: ignore[index]


def test_a_point_in_each_provinces_largest_regency_lands_in_that_polda(
    merged: tuple[list[Unit], JurisdictionIndex]
) -> None:
    units, idx = merged
    polres = [u for u in units if u.level == "polres"]
    polsek = [u for u in units if u.level == "polsek"]
    largest: dict[str, Unit] = {}
    for u in polres:
        best = largest.get(u.parent_code or "")
        if best is None or area_m2(u.geometry) > area_m2(best.geometry):
            largest[u.parent_code or ""] = u
    assert len(largest) == 38
    for province, regency in sorted(largest.items()):
        kids = [k for k in polsek if k.parent_code == regency.code]
        biggest = max(kids, key=lambda k: area_m2(k.geometry))
        point = shapely.point_on_surface(biggest.geometry)
        result = idx.locate(point.x, point.y)
        assert _chain_codes(result)["polda"] == province, (province, regency.code, biggest.code)
        assert _chain_codes(result)["polres"] == regency.code


def test_merge_replaces_kept_provinces_and_the_finer_set_wins_where_both_cover() -> None:
    nat = [
        Unit("51", "Polda Bali", "polda", None, box(0, 0, 2, 2)),
        Unit("51.01", "Polres Kasar", "polres", "51", box(0, 0, 2, 2)),
        Unit("52", "Polda NTB", "polda", None, box(1.5, 0, 4, 2)),
        Unit("52.01", "Polres Lombok", "polres", "52", box(1.5, 0, 4, 2)),
    ]
    fine = [
        Unit("51", "Polda Bali", "polda", None, box(0, 0, 2, 2)),
        Unit("51.01", "Polres Halus", "polres", "51", box(0, 0, 2, 2)),
        Unit("53", "Polda NTT", "polda", None, box(10, 0, 11, 1)),  # not kept: ignored
    ]
    units, report, clipped = national.merge_fine_units(nat, fine, ["51"])
    by_code = {u.code: u for u in units}
    assert set(by_code) == {"51", "51.01", "52", "52.01"}
    assert by_code["51.01"].name == "Polres Halus"
    assert set(clipped) == {"52", "52.01"}
    assert by_code["52.01"].geometry.equals(box(2, 0, 4, 2))
    assert {"FINE_SET_CLIPPED", "FINE_PROVINCES_KEPT"} <= set(report.codes("info"))
    idx = JurisdictionIndex.build(units)
    assert _chain_codes(idx.locate(1.8, 1.0))["polres"] == "51.01"  # was in both: the fine one wins
    assert _chain_codes(idx.locate(3.0, 1.0))["polres"] == "52.01"
    # National everywhere: nothing replaced, nothing clipped.
    units_n, _r, clipped_n = national.merge_fine_units(nat, fine, [])
    assert clipped_n == {} and {u.name for u in units_n if u.code == "51.01"} == {"Polres Kasar"}
    with pytest.raises(InvalidInput) as exc:
        national.merge_fine_units(nat, fine, ["52"])
    assert exc.value.code == "FINE_PROVINCE_MISSING"


# ------------------------------------------------------------------ through the database, on a subset of provinces


PROVINCES_SUBSET = ("35", "51", "52", "96")


@pytest.fixture(scope="module")
def subset_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three national files cut to Jawa Timur, Bali, NTB and Papua Barat Daya (fast checks)."""
    out = tmp_path_factory.mktemp("national-subset")
    for file_name in national.NATIONAL_FILES.values():
        doc = json.loads((data_dir / file_name).read_text(encoding="utf-8"))
        doc["features"] = [f for f in doc["features"] if f["properties"]["kode"].split(".")[0] in PROVINCES_SUBSET]
        (out / file_name).write_text(json.dumps(doc), encoding="utf-8")
    return out


@pytest.fixture()
def national_app(backend: str, tmp_path: Path) -> Iterator[Any]:
    from tests.conftest import dispose_app, make_app

    application = make_app(backend, tmp_path)
    yield application
    dispose_app(application)


def test_load_national_stores_checks_and_publishes(national_app: Any, subset_dir: Path) -> None:
    from tests.conftest import make_token

    storage = national_app.extensions["geo_service"].storage
    with storage.transaction() as session:
        bset, built, generation = national.load_national(session, data_dir=subset_dir, actor="test", publish=True)
        set_id = bset.id
        report = bset.report
    assert generation is not None
    levels = [u.level for u in built.units]
    assert levels.count("polda") == 4
    # The real overlaps and gaps of the coarse files are reported, per level.
    summary = report["national"]["summary"]
    assert summary["polres"]["overlaps"] > 0 and summary["polres"]["gaps"] > 0
    assert summary["polsek"]["overlaps"] > 0 and summary["polsek"]["gaps"] > 0
    assert report["errors"] == []
    warnings = {w["code"] for w in report["warnings"]}
    assert {"OVERLAP", "GAP", "CHILD_OUTSIDE_PARENT"} <= warnings
    # Klabot lies wholly outside Kabupaten Sorong's polygon: kept, its parent is the code prefix.
    assert any(w["code"] == "CHILD_OUTSIDE_PARENT" and "96.01.11" in w["units"] for w in report["warnings"])
    assert "CODE_PARENTS_ACCEPTED" in {i["code"] for i in report["info"]}
    assert all(len([w for w in report["warnings"] if w["code"] == c]) <= 4 * national.MAX_ITEMS_PER_GROUP  # 4 levels: polda, polres, polsek, set
               for c in warnings)

    client = national_app.test_client()
    headers = {"Authorization": f"Bearer {make_token(national_app, 'dispatcher')}"}
    body = client.post("/api/v1/locate", json={"lat": KETAPANG[1], "lon": KETAPANG[0]}, headers=headers).get_json()
    assert body["jurisdiction"]["polres"] == {"code": "35.10", "name": "Polres Banyuwangi"}
    assert body["jurisdiction"]["polda"]["name"] == "Polda Jawa Timur"
    kuta = client.post("/api/v1/locate", json={"lat": -8.7180, "lon": 115.1700}, headers=headers).get_json()
    assert kuta["jurisdiction"]["polda"] == {"code": "51", "name": "Polda Bali"}
    assert kuta["jurisdiction"]["polres"]["code"] == "51.71"  # Polri structure: Kuta is under Polresta Denpasar
    assert national_app.extensions["geo_service"].holder.current().set_id == set_id


def test_cli_national_load_skipping_kecamatan_checks(
    subset_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo_service.cli import main

    monkeypatch.setenv("GEO_SERVICE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GEO_SERVICE_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.delenv("GEO_SERVICE_DATABASE_URL", raising=False)
    code = main(["national", "load", "--data-dir", str(subset_dir), "--skip-kecamatan-checks", "--publish",
                 "--keep-province", "51", "--no-history"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "provinces from the finer set: 51" in out
    assert "KECAMATAN_CHECKS_SKIPPED" in out and "published: generation" in out
    assert "polres" in out  # the regency-level overlap/gap row is still there
