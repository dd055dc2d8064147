"""The reviewed Polri structure: the file's rules, full coverage at every date, and the facts through
``POST /api/v1/locate`` on the bundled Bali default and on the national set (both backends)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.services import national, structure
from tests.conftest import dispose_app, make_app, make_token, need

# Bali points (lon, lat)
KUTA = (115.1700, -8.7180)  # kecamatan Kuta, Kab. Badung
KUTA_SELATAN = (115.1700, -8.8000)  # kecamatan Kuta Selatan, Kab. Badung
KUTA_UTARA = (115.1500, -8.6400)  # kecamatan Kuta Utara, Kab. Badung
AIRPORT_INSIDE = (115.1670, -8.7480)  # Ngurah Rai apron/runway, inside the approximate airport area
AIRPORT_OUTSIDE = (115.1670, -8.7385)  # ~110 m north of its edge: ordinary Polsek Kuta
BENOA_PORT = (115.2115, -8.7455)
KEC_JEMBRANA = (114.65038, -8.31484)  # kecamatan Jembrana (51.01.05): Polsek Kota Jembrana from 27 Apr 2021
KEC_NEGARA = (114.60772, -8.31484)  # kecamatan Negara (51.01.01)
DENPASAR_UTARA = (115.21101, -8.62434)  # kecamatan Denpasar Utara (51.71.04)
SINGARAJA = (115.10131, -8.12583)  # kecamatan Buleleng (51.08.06): Polsek Kota Singaraja
BEFORE_KOTA_JEMBRANA = "2020-06-01T12:00:00+08:00"
MENGWI = (115.18543, -8.54913)  # representative points of the bundled kecamatan polygons
ABIANSEMAL = (115.21414, -8.52870)
PETANG = (115.21849, -8.35490)
DENPASAR_SELATAN = (115.22709, -8.70152)
DENPASAR_TIMUR = (115.24480, -8.63290)
# National points
NABIRE = (135.50, -3.37)  # Kab. Nabire, Papua Tengah
SORONG = (131.25, -0.88)  # Kota Sorong, Papua Barat Daya (just off the coarse coast: match "nearest")
WAMENA = (138.94, -4.09)  # Kab. Jayawijaya, Papua Pegunungan
MERAUKE = (140.40, -8.50)  # Kab. Merauke, Papua Selatan
DEPOK = (106.82, -6.40)
BEKASI_KOTA = (107.00, -6.24)
BALARAJA = (106.45, -6.20)  # Kab. Tangerang, kecamatan Balaraja: Polda Banten
CURUG = (106.55, -6.26)  # Kab. Tangerang, kecamatan Curug: Polda Metro Jaya (Polres Tangerang Selatan)
BOGOR = (106.80, -6.55)  # Kab. Bogor: Polda Jawa Barat
KOTA_TANGERANG = (106.63546, -6.17858)  # representative point of Kota Tangerang (36.71) in the national file
KAB_BEKASI = (107.16461, -6.20087)  # representative point of Kabupaten Bekasi (32.16)
BEFORE_SPLIT = "2024-06-01T10:00:00+09:00"
AFTER_SPLIT = "2025-06-01T10:00:00+09:00"


# ------------------------------------------------------------------ the file itself


@pytest.fixture(scope="module")
def rows() -> list[structure.StructureRow]:
    return structure.read_structure()


def _source_date_parses(text: str) -> bool:
    for fmt in ("%Y", "%Y-%m", "%Y-%m-%d"):
        try:
            datetime.strptime(text, fmt)
        except ValueError:
            continue
        return True
    return False


def test_every_row_not_one_to_one_has_a_source(rows: list[structure.StructureRow]) -> None:
    with open(structure.STRUCTURE_FILE, encoding="utf-8", newline="") as fh:
        raw = list(csv.reader(fh))
    header = raw[0]
    for number, fields in enumerate(raw[1:], start=2):  # an unquoted comma in a URL shifts every later field
        assert len(fields) == len(header), (number, len(fields), fields[:2])
    assert {r.status for r in rows} <= {"sourced", "approximate", "derived"}
    for r in rows:
        if r.status != "derived":
            assert r.source_url.startswith("http"), r.code
        if r.source_date:
            assert _source_date_parses(r.source_date), (r.code, r.source_date)
        for url in r.source_url.split(" ") if r.source_url else ():  # several sources: one space between
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.netloc and url == url.strip(), (r.code, url)
        if r.status == "approximate" or "APPROXIMATE" in r.note:
            assert "approximate" in r.note.lower() or r.status == "approximate", r.code


def test_names_follow_the_type_rules(rows: list[structure.StructureRow]) -> None:
    for r in rows:
        assert structure.unit_type(r.name) == r.unit_type, (r.code, r.name, r.unit_type)
        assert structure.TYPE_LEVEL[r.unit_type] == r.level, r.code
        if "Kawasan" in r.name:
            assert any(a.startswith("@special:") for a in r.areas), r.code


def test_mabes_is_the_root_of_every_polda(rows: list[structure.StructureRow]) -> None:
    mabes = [r for r in rows if r.level == "mabes"]
    assert [(r.code, r.name) for r in mabes] == [("MABES", "Mabes Polri")]
    assert structure.MABES == {"code": "MABES", "level": "mabes", "name": "Mabes Polri"}
    assert all(r.parent_code == "MABES" for r in rows if r.level == "polda")


def test_polda_count_is_34_before_and_36_after_the_papua_split(rows: list[structure.StructureRow]) -> None:
    def poldas(on: date) -> set[str]:
        return {r.code for r in structure.rows_in_force(rows, on) if r.level == "polda"}

    assert len(poldas(date(2023, 8, 17))) == 34
    assert len(poldas(date(2024, 11, 10))) == 34
    after = poldas(date(2024, 11, 11))
    assert len(after) == 36 and {"94", "96"} <= after
    assert "93" not in after and "95" not in after  # Papua Selatan and Papua Pegunungan stay with Polda Papua
    assert structure.change_dates(rows)[-1] == date(2024, 11, 11)


@pytest.fixture(scope="module")
def national_codes() -> structure.AdminAreas:
    """The national kecamatan/regency/province codes and names (no geometry: coverage only)."""
    def table(name: str) -> dict[str, tuple[str, Any]]:
        doc = json.loads((BOUNDARIES_DIR / name).read_text(encoding="utf-8"))
        return {f["properties"]["kode"]: (f["properties"]["nama"], None) for f in doc["features"]}
    need((BOUNDARIES_DIR / "indonesia_kecamatan.geojson").is_file(), "national files missing")
    return structure.AdminAreas(table("indonesia_kecamatan.geojson"), table("indonesia_kabupaten_kota.geojson"),
                                table("indonesia_provinsi.geojson"))


def _coverage_days() -> list[date]:
    """The first day, every change day and the day before it, and today."""
    changes = structure.change_dates(structure.read_structure())
    return sorted({structure.STRUCTURE_START, date.today(), *changes, *(d - timedelta(days=1) for d in changes)})


#: Regencies split between two Polda (their kecamatan listed one by one): Kab. Tangerang, whose western
#: sectors moved to Polda Banten in 2016 while Curug etc. stay with Polda Metro Jaya (boundaries/SOURCES.md).
SPLIT_REGENCIES = {"36.03": {"31", "36"}}


@pytest.mark.parametrize("on", _coverage_days(), ids=str)
def test_every_kecamatan_has_exactly_one_polda_and_one_polres(
    rows: list[structure.StructureRow], national_codes: structure.AdminAreas, on: date
) -> None:
    plan = structure.plan_units(structure.rows_in_force(rows, on), national_codes)
    assert plan.report.errors == []
    owners: dict[str, Counter[str]] = {lvl: Counter() for lvl in ("polda", "polres", "polsek")}
    for u in plan.units.values():
        for k in u["kec"]:
            owners[u["level"]][k] += 1
    for level in ("polda", "polres", "polsek"):
        assert set(owners[level]) == set(national_codes.kecamatan), level
        assert set(owners[level].values()) == {1}, level
    for unit in plan.units.values():
        if unit["level"] != "polda":
            assert unit["parent"] in plan.units, unit
        assert structure.unit_type(unit["name"]) != "unknown", unit["name"]
    # Every regency belongs to exactly one Polda, except the documented splits, where every kecamatan's
    # Polres is a unit the file lists (no derived one-to-one Polres straddles two Polda).
    regency_poldas: dict[str, set[str]] = {}
    for code, u in plan.units.items():
        if u["level"] == "polda":
            for k in u["kec"]:
                regency_poldas.setdefault(k.rsplit(".", 1)[0], set()).add(code)
    assert set(regency_poldas) == set(national_codes.regencies)
    split = {reg: poldas for reg, poldas in regency_poldas.items() if len(poldas) != 1}
    assert split == SPLIT_REGENCIES
    listed = {r.code for r in structure.rows_in_force(rows, on)}
    for reg in split:
        polres = {c for c, u in plan.units.items() if u["level"] == "polres" and any(
            k.startswith(reg + ".") for k in u["kec"])}
        assert polres and polres <= listed, (reg, polres - listed)


# ------------------------------------------------------------------ the bundled Bali default through the API


def _locate(client: Any, headers: dict[str, str], lonlat: tuple[float, float], at: str | None = None) -> Any:
    body: dict[str, Any] = {"lat": lonlat[1], "lon": lonlat[0]}
    if at is not None:
        body["at"] = at
    r = client.post("/api/v1/locate", json=body, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def _dispatcher(application: Any) -> tuple[Any, dict[str, str]]:
    """A test client of ``application`` and a dispatcher's Authorization header."""
    return application.test_client(), {"Authorization": f"Bearer {make_token(application, 'dispatcher')}"}


def _names(answer: Any) -> dict[str, str | None]:
    return {lvl: (u or {}).get("name") for lvl, u in (answer["jurisdiction"] or {}).items()}


def test_bali_default_answers_the_real_structure(
    app: Any, client: Any, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = auth("dispatcher")
    kuta = _locate(client, headers, KUTA)
    assert kuta["jurisdiction"]["polres"] == {"code": "51.71", "name": "Polresta Denpasar"}
    assert kuta["jurisdiction"]["polsek"] == {"code": "51.03.01", "name": "Polsek Kuta"}
    assert kuta["jurisdiction"]["polda"] == {"code": "51", "name": "Polda Bali"}
    assert _names(_locate(client, headers, KUTA_SELATAN))["polres"] == "Polresta Denpasar"
    utara = _locate(client, headers, KUTA_UTARA)
    assert utara["jurisdiction"]["polres"] == {"code": "51.03", "name": "Polres Badung"}
    assert utara["jurisdiction"]["polsek"]["name"] == "Polsek Kuta Utara"
    assert isinstance(kuta["boundary_set"], int)
    for point in (MENGWI, ABIANSEMAL, PETANG):  # Polres Badung keeps Kuta Utara, Mengwi, Abiansemal, Petang
        assert _locate(client, headers, point)["jurisdiction"]["polres"] == {"code": "51.03", "name": "Polres Badung"}
    for point, polsek in ((DENPASAR_SELATAN, "Polsek Denpasar Selatan"), (DENPASAR_TIMUR, "Polsek Denpasar Timur")):
        names = _names(_locate(client, headers, point))
        assert (names["polres"], names["polsek"]) == ("Polresta Denpasar", polsek), point


def test_bali_special_areas_win_just_inside_and_not_just_outside(
    app: Any, client: Any, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = auth("dispatcher")
    inside = _locate(client, headers, AIRPORT_INSIDE)
    assert inside["match"] == "inside"
    assert inside["jurisdiction"]["polres"] == {"code": "51.K01", "name": "Polres Kawasan Bandara I Gusti Ngurah Rai"}
    assert inside["jurisdiction"]["polsek"] is None
    outside = _locate(client, headers, AIRPORT_OUTSIDE)
    assert _names(outside) == {"polda": "Polda Bali", "polres": "Polresta Denpasar", "polsek": "Polsek Kuta"}
    assert inside["special_area"] == {"code": "51.K01", "name": "Polres Kawasan Bandara I Gusti Ngurah Rai",
                                      "approximate": True}
    assert inside["unit_types"] == {"polda": "polda", "polres": "polres_kawasan"}
    assert outside["special_area"] is None
    assert outside["unit_types"] == {"polda": "polda", "polres": "polresta", "polsek": "polsek"}
    assert outside["mabes"] == {"code": "MABES", "name": "Mabes Polri"}
    benoa = _locate(client, headers, BENOA_PORT)
    assert benoa["special_area"]["code"] == "51.71.K01" and benoa["special_area"]["approximate"] is True
    assert benoa["jurisdiction"]["polsek"] == {"code": "51.71.K01", "name": "Polsek Kawasan Laut Benoa"}
    assert benoa["jurisdiction"]["polres"]["name"] == "Polresta Denpasar"


def test_bali_polsek_by_date_and_how_the_count_relates_to_58(rows: list[structure.StructureRow]) -> None:
    """Every Bali kecamatan has exactly one Polsek at every date; the count moves 59 -> 60 -> 59 -> 60
    (boundaries/SOURCES.md, "Bali: 58 reported vs the file's count")."""
    admin = structure.bali_admin_areas()
    expected = {  # day: (Polsek in all, kecamatan-based, Kawasan)
        date(2020, 6, 1): (59, 55, 4), date(2021, 4, 27): (60, 56, 4), date(2022, 1, 24): (59, 56, 3),
        date(2022, 2, 10): (60, 57, 3), date.today(): (60, 57, 3),
    }
    for on, (total, ordinary, kawasan) in expected.items():
        plan = structure.plan_units(structure.rows_in_force(rows, on), admin)
        assert plan.report.errors == [], on
        polsek = {c: u for c, u in plan.units.items() if u["level"] == "polsek"}
        owners = Counter(k for u in polsek.values() for k in u["kec"])
        assert set(owners) == set(admin.kecamatan) and set(owners.values()) == {1}, on
        assert (len(polsek), sum(1 for u in polsek.values() if u["special"] is None),
                sum(1 for u in polsek.values() if u["special"] is not None)) == (total, ordinary, kawasan), on
    before = structure.plan_units(structure.rows_in_force(rows, date(2021, 4, 26)), admin).units
    assert before["51.01.01"]["kec"] == {"51.01.01", "51.01.05"} and "51.01.05" not in before
    assert before["51.71.03"]["kec"] == {"51.71.03", "51.71.04"} and before["51.71.K02"]["special"] == "51.K01"
    after = structure.plan_units(structure.rows_in_force(rows, date(2021, 4, 27)), admin).units
    assert after["51.01.01"]["kec"] == {"51.01.01"}
    assert after["51.01.05"] == {"name": "Polsek Kota Jembrana", "level": "polsek", "parent": "51.01",
                                 "kec": {"51.01.05"}, "special": None}
    assert structure.effective_day(date(2021, 4, 26)) == structure.STRUCTURE_START
    assert structure.effective_day(date(2021, 4, 27)) == date(2021, 4, 27)


@pytest.fixture()
def bali_dated_app(backend: str, tmp_path: Path) -> Iterator[Any]:
    """A fresh install: the bundled first start alone publishes every Bali structure version."""
    application = make_app(backend, tmp_path)
    yield application
    dispose_app(application)


def test_bali_polsek_kota_jembrana_and_denpasar_utara_by_date(bali_dated_app: Any) -> None:
    client, headers = _dispatcher(bali_dated_app)
    then = _locate(client, headers, KEC_JEMBRANA, at=BEFORE_KOTA_JEMBRANA)
    assert then["jurisdiction"]["polsek"] == {"code": "51.01.01", "name": "Polsek Negara"}
    assert then["jurisdiction"]["polres"] == {"code": "51.01", "name": "Polres Jembrana"}
    now = _locate(client, headers, KEC_JEMBRANA)
    assert now["jurisdiction"]["polsek"] == {"code": "51.01.05", "name": "Polsek Kota Jembrana"}
    assert then["boundary_set"] != now["boundary_set"]
    # The inauguration day (Tuesday 27 April 2021); structure days start 00:00 WIB (01:00 WITA).
    eve = _locate(client, headers, KEC_JEMBRANA, at="2021-04-26T23:30:00+08:00")
    day = _locate(client, headers, KEC_JEMBRANA, at="2021-04-27T08:00:00+08:00")
    assert eve["jurisdiction"]["polsek"]["code"] == "51.01.01"
    assert day["jurisdiction"]["polsek"] == {"code": "51.01.05", "name": "Polsek Kota Jembrana"}
    for at in (BEFORE_KOTA_JEMBRANA, None):  # kecamatan Negara keeps Polsek Negara
        assert _locate(client, headers, KEC_NEGARA, at=at)["jurisdiction"]["polsek"]["code"] == "51.01.01"
    # Denpasar Utara was a part of Polsek Denpasar Barat's area before its own Polsek (approximate day).
    assert _names(_locate(client, headers, DENPASAR_UTARA, at=BEFORE_KOTA_JEMBRANA))["polsek"] == \
        "Polsek Denpasar Barat"
    assert _locate(client, headers, DENPASAR_UTARA)["jurisdiction"]["polsek"] == {
        "code": "51.71.04", "name": "Polsek Denpasar Utara"}
    assert _locate(client, headers, SINGARAJA)["jurisdiction"]["polsek"] == {
        "code": "51.08.06", "name": "Polsek Kota Singaraja"}


def test_a_fresh_install_has_one_set_per_bali_structure_version(bali_dated_app: Any) -> None:
    """Bootstrap publishes the versions that change Bali (not the Papua day), oldest first, the last current."""
    client, _headers = _dispatcher(bali_dated_app)
    admin_headers = {"Authorization": f"Bearer {make_token(bali_dated_app, 'admin')}"}
    listing = client.get("/api/v1/boundary-sets", headers=admin_headers).get_json()
    sets = sorted(listing["sets"], key=lambda s: s["effective_from"])
    days = [datetime.fromisoformat(s["effective_from"]) for s in sets]
    assert days == [structure.day_start(d) for d in (structure.STRUCTURE_START, date(2021, 4, 27),
                                                     date(2022, 1, 24), date(2022, 2, 10))]
    assert [s["status"] for s in sets] == ["history", "history", "history", "published"]
    assert listing["published"] == sets[-1]["id"]


def test_an_at_before_the_earliest_set_answers_from_it_with_a_flag(bali_dated_app: Any) -> None:
    client, headers = _dispatcher(bali_dated_app)
    old = _locate(client, headers, KEC_JEMBRANA, at="2015-01-01T10:00:00+08:00")
    assert old["jurisdiction"]["polsek"] == {"code": "51.01.01", "name": "Polsek Negara"}
    flag = next(f for f in old["flags"] if f["code"] == "AT_BEFORE_EARLIEST_SET")
    assert flag["params"] == {"at": "2015-01-01", "effective_from": "2016-05-03"}
    assert "2016-05-03" in flag["message"]
    then = _locate(client, headers, KEC_JEMBRANA, at=BEFORE_KOTA_JEMBRANA)
    assert then["boundary_set"] == old["boundary_set"]
    assert "AT_BEFORE_EARLIEST_SET" not in {f["code"] for f in then.get("flags", [])}
    english = client.post("/api/v1/locate", json={"lat": KEC_JEMBRANA[1], "lon": KEC_JEMBRANA[0],
                                                  "at": "2015-01-01T10:00:00+08:00"},
                          headers={**headers, "Accept-Language": "en"}).get_json()
    assert next(f for f in english["flags"] if f["code"] == "AT_BEFORE_EARLIEST_SET")["message"] != flag["message"]


def test_publishing_an_old_version_is_todays_answer_and_history_stays_sane(bali_dated_app: Any) -> None:
    """Rollback to the 2016 version: it answers today and from its own day on; publishing today's version
    again restores every date."""
    client, headers = _dispatcher(bali_dated_app)
    admin_headers = {"Authorization": f"Bearer {make_token(bali_dated_app, 'admin')}"}
    holder = bali_dated_app.extensions["geo_service"].holder
    sets = sorted(client.get("/api/v1/boundary-sets", headers=admin_headers).get_json()["sets"],
                  key=lambda s: s["effective_from"])
    first, latest = sets[0]["id"], sets[-1]["id"]
    r = client.post(f"/api/v1/boundary-sets/{first}/publish", headers=admin_headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    holder.refresh(force=True)
    now = _locate(client, headers, KEC_JEMBRANA)
    assert now["jurisdiction"]["polsek"]["code"] == "51.01.01" and now["boundary_set"] == first
    assert _locate(client, headers, KEC_JEMBRANA, at="2023-01-01T10:00:00+08:00")["boundary_set"] == first
    after = {s["id"]: s["status"] for s in client.get("/api/v1/boundary-sets", headers=admin_headers).get_json()["sets"]}
    assert after[first] == "published" and after[latest] == "archived"
    r = client.post(f"/api/v1/boundary-sets/{latest}/publish", headers=admin_headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    holder.refresh(force=True)
    assert _locate(client, headers, KEC_JEMBRANA)["jurisdiction"]["polsek"]["code"] == "51.01.05"
    assert _locate(client, headers, KEC_JEMBRANA, at=BEFORE_KOTA_JEMBRANA)["jurisdiction"]["polsek"]["code"] == \
        "51.01.01"
    assert _locate(client, headers, KEC_JEMBRANA, at="2021-06-01T10:00:00+08:00")["jurisdiction"]["polsek"][
        "code"] == "51.01.05"


def test_batches_answer_for_the_query_at_and_refuse_an_at_per_item(bali_dated_app: Any) -> None:
    client, headers = _dispatcher(bali_dated_app)
    items = [{"lat": KEC_JEMBRANA[1], "lon": KEC_JEMBRANA[0]}, {"text": f"{KEC_JEMBRANA[1]}, {KEC_JEMBRANA[0]}"}]
    at = BEFORE_KOTA_JEMBRANA.replace("+", "%2B")
    for url in ("/api/v1/locate/batch", "/api/v1/coordinates/validate/batch"):
        then = client.post(f"{url}?at={at}", json=items, headers=headers)
        then_body = json.loads(then.get_data(as_text=True))  # read the streamed answer before the next request
        now = client.post(url, json=items, headers=headers)
        now_body = json.loads(now.get_data(as_text=True))
        assert then.status_code == now.status_code == 200, then_body
        if url.startswith("/api/v1/locate"):
            assert [r["jurisdiction"]["polsek"]["code"] for r in then_body] == ["51.01.01", "51.01.01"]
            assert [r["jurisdiction"]["polsek"]["code"] for r in now_body] == ["51.01.05", "51.01.05"]
        refused = client.post(url, json=[items[0], {**items[1], "at": BEFORE_KOTA_JEMBRANA}], headers=headers)
        assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
        problem = refused.get_json()
        assert problem["code"] == "BATCH_AT_PER_ITEM" and problem["errors"][0]["pointer"] == "/1/at"
        bad = client.post(f"{url}?at=2020-06-01T12:00:00", json=items, headers=headers)
        assert bad.status_code == 400
    csv_then = client.post(f"/api/v1/locate/batch?at={at}", data=f"lat,lon\n{KEC_JEMBRANA[1]},{KEC_JEMBRANA[0]}\n",
                           headers={**headers, "Content-Type": "text/csv"})
    assert csv_then.status_code == 200 and "51.01.01" in csv_then.get_data(as_text=True)


def test_an_incident_keeps_the_unit_of_its_time(bali_dated_app: Any) -> None:
    """Reported in 2020 in kecamatan Jembrana: Polsek Negara (Polsek Kota Jembrana exists from 27 Apr 2021)."""
    client, headers = _dispatcher(bali_dated_app)
    point = {"lat": KEC_JEMBRANA[1], "lon": KEC_JEMBRANA[0]}

    def create(location: dict[str, Any], reported_at: str) -> Any:
        r = client.post("/api/v1/incidents", json={"location": location, "category": "lainnya", "channel": "call_110",
                                                   "reported_at": reported_at, "description": "test"},
                        headers=headers)
        assert r.status_code == 201, r.get_data(as_text=True)
        return r.get_json()

    old = create(point, BEFORE_KOTA_JEMBRANA)
    assert old["unit"]["polsek"] == {"code": "51.01.01", "name": "Polsek Negara"}
    recent = create(point, "2025-06-01T12:00:00+08:00")
    assert recent["unit"]["polsek"] == {"code": "51.01.05", "name": "Polsek Kota Jembrana"}
    # A location's own "at" (when the caller was there) wins over the time of the report.
    moved = create({**point, "at": BEFORE_KOTA_JEMBRANA}, "2025-06-01T12:00:00+08:00")
    assert moved["unit"]["polsek"]["code"] == "51.01.01"
    bad = client.post("/api/v1/incidents", json={"location": {**point, "at": "2020-06-01"}, "category": "lainnya",
                                                 "channel": "call_110", "reported_at": BEFORE_KOTA_JEMBRANA},
                      headers=headers)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["pointer"] == "/location/at"


def test_bali_airport_was_a_polsek_before_its_polres(bali_dated_app: Any) -> None:
    client, headers = _dispatcher(bali_dated_app)
    then = _locate(client, headers, AIRPORT_INSIDE, at=BEFORE_KOTA_JEMBRANA)
    assert then["jurisdiction"]["polres"] == {"code": "51.71", "name": "Polresta Denpasar"}
    assert then["jurisdiction"]["polsek"] == {"code": "51.71.K02", "name": "Polsek Kawasan Bandara I Gusti Ngurah Rai"}
    assert then["special_area"] == {"code": "51.71.K02", "name": "Polsek Kawasan Bandara I Gusti Ngurah Rai",
                                    "approximate": True}
    assert _names(_locate(client, headers, AIRPORT_OUTSIDE, at=BEFORE_KOTA_JEMBRANA))["polsek"] == "Polsek Kuta"
    now = _locate(client, headers, AIRPORT_INSIDE)
    assert now["jurisdiction"]["polres"]["code"] == "51.K01" and now["jurisdiction"]["polsek"] is None


def test_at_needs_an_offset(app: Any, client: Any, auth: Callable[[str], dict[str, str]]) -> None:
    r = client.post("/api/v1/locate", json={"lat": KUTA[1], "lon": KUTA[0], "at": "2024-06-01T10:00:00"},
                    headers=auth("dispatcher"))
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["pointer"] == "/at"


# ------------------------------------------------------------------ the national set, dated, through the API

SUBSET = ("31", "32.01", "32.16", "32.75", "32.76", "36", "51", "91", "92", "93", "94", "95", "96")


@pytest.fixture(scope="module")
def subset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The national files cut to Jakarta and its buffer, Banten, Bali and the six Papua provinces."""
    need((BOUNDARIES_DIR / "indonesia_kecamatan.geojson").is_file(), "national files missing")
    out = tmp_path_factory.mktemp("structure-subset")
    for file_name in national.NATIONAL_FILES.values():
        doc = json.loads((BOUNDARIES_DIR / file_name).read_text(encoding="utf-8"))
        doc["features"] = [f for f in doc["features"]
                           if any(f["properties"]["kode"] == s or f["properties"]["kode"].startswith(s + ".")
                                  or (len(f["properties"]["kode"]) == 2 and s.startswith(f["properties"]["kode"]))
                                  for s in SUBSET)]
        (out / file_name).write_text(json.dumps(doc), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def dated_app(backend: str, tmp_path_factory: pytest.TempPathFactory, subset_dir: Path) -> Iterator[Any]:
    """The national subset loaded as ``geo-service national load --publish`` does by default: one set per
    structure version (--history), oldest first, today's current. Module-scoped: the tests only read it."""
    application = make_app(backend, tmp_path_factory.mktemp(f"dated-{backend}"))
    storage = application.extensions["geo_service"].storage
    with storage.transaction() as session:
        loaded = national.load_national_history(session, data_dir=subset_dir, actor="test", publish=True,
                                                kecamatan_checks=False)
        assert all(generation is not None for _b, _built, generation in loaded), \
            [b.report["errors"][:3] for b, _built, _g in loaded]
        assert [b.effective_from for b, _built, _g in loaded] == [structure.day_start(d)
                                                                  for d in national.history_days()]
    yield application
    dispose_app(application)


def test_national_set_answers_across_the_papua_split(dated_app: Any) -> None:
    client, headers = _dispatcher(dated_app)
    before = _locate(client, headers, NABIRE, at=BEFORE_SPLIT)
    after = _locate(client, headers, NABIRE, at=AFTER_SPLIT)
    now = _locate(client, headers, NABIRE)
    assert before["jurisdiction"]["polda"] == {"code": "91", "name": "Polda Papua"}
    assert after["jurisdiction"]["polda"] == {"code": "94", "name": "Polda Papua Tengah"}
    assert now["jurisdiction"]["polda"]["code"] == "94"
    assert before["jurisdiction"]["polres"] == after["jurisdiction"]["polres"] == {"code": "94.01",
                                                                                  "name": "Polres Nabire"}
    assert before["boundary_set"] != after["boundary_set"] == now["boundary_set"]
    assert after["at"] == datetime(2025, 6, 1, 1, 0, tzinfo=UTC).isoformat()
    assert _locate(client, headers, SORONG, at=BEFORE_SPLIT)["jurisdiction"]["polda"]["name"] == "Polda Papua Barat"
    assert _locate(client, headers, SORONG, at=AFTER_SPLIT)["jurisdiction"]["polda"]["name"] == \
        "Polda Papua Barat Daya"
    for point in (WAMENA, MERAUKE):  # Papua Pegunungan and Papua Selatan have no Polda of their own
        for at in (BEFORE_SPLIT, AFTER_SPLIT):
            assert _locate(client, headers, point, at=at)["jurisdiction"]["polda"]["code"] == "91"
    units_then = client.get(f"/api/v1/units?level=polda&at={BEFORE_SPLIT.replace('+', '%2B')}", headers=headers)
    units_now = client.get(f"/api/v1/units?level=polda&at={AFTER_SPLIT.replace('+', '%2B')}", headers=headers)
    assert units_then.status_code == units_now.status_code == 200
    assert "94" not in {f["properties"]["code"] for f in units_then.get_json()["features"]}
    assert {"94", "96"} <= {f["properties"]["code"] for f in units_now.get_json()["features"]}
    # A day just before and just after the telegram of 11 November 2024 (WIB).
    assert _locate(client, headers, NABIRE, at="2024-11-10T23:59:00+07:00")["jurisdiction"]["polda"]["code"] == "91"
    assert _locate(client, headers, NABIRE, at="2024-11-11T00:01:00+07:00")["jurisdiction"]["polda"]["code"] == "94"
    # History out of the box on the national set too: kecamatan Jembrana before Polsek Kota Jembrana.
    assert _locate(client, headers, KEC_JEMBRANA, at=BEFORE_KOTA_JEMBRANA)["jurisdiction"]["polsek"]["code"] == \
        "51.01.01"
    assert _locate(client, headers, KEC_JEMBRANA)["jurisdiction"]["polsek"]["code"] == "51.01.05"


def test_national_set_metro_jaya_and_banten(dated_app: Any) -> None:
    client, headers = _dispatcher(dated_app)
    expect = {
        DEPOK: ("Polda Metro Jaya", "Polresta Depok"),
        BEKASI_KOTA: ("Polda Metro Jaya", "Polres Metro Bekasi Kota"),
        CURUG: ("Polda Metro Jaya", "Polres Tangerang Selatan"),
        BALARAJA: ("Polda Banten", "Polresta Tangerang"),
        BOGOR: ("Polda Jawa Barat", "Polres Bogor"),
        KOTA_TANGERANG: ("Polda Metro Jaya", "Polres Metro Tangerang Kota"),
        KAB_BEKASI: ("Polda Metro Jaya", "Polres Metro Bekasi"),
    }
    for point, (polda, polres) in expect.items():
        names = _names(_locate(client, headers, point))
        assert (names["polda"], names["polres"]) == (polda, polres), point
    assert _names(_locate(client, headers, BALARAJA))["polsek"] == "Polsek Balaraja"
    # Bali keeps its fine structure inside the national set.
    kuta = _locate(client, headers, KUTA)
    assert kuta["jurisdiction"]["polres"] == {"code": "51.71", "name": "Polresta Denpasar"}
    assert _locate(client, headers, AIRPORT_INSIDE)["jurisdiction"]["polres"]["code"] == "51.K01"
    outside = _locate(client, headers, AIRPORT_OUTSIDE)  # ~110 m north of the airport area: the ordinary sector
    assert _names(outside) == {"polda": "Polda Bali", "polres": "Polresta Denpasar", "polsek": "Polsek Kuta"}
    assert outside["special_area"] is None


def _schedule_bali_set(app: Any, later: datetime) -> tuple[int, int]:
    """(the current set id, the id of a Bali set published to take effect ``later``)."""
    from geo_service.storage import repo

    storage = app.extensions["geo_service"].storage
    holder = app.extensions["geo_service"].holder
    current = holder.current().set_id
    units, _report, _csv = structure.load_bali_structure_units()
    with storage.transaction() as session:
        bset = repo.create_boundary_set(session, name="Bali later", units=units, source="bundled",
                                        created_by="test")
        repo.publish_boundary_set(session, bset.id, actor="test", effective_from=later)
        scheduled = bset.id
    holder.refresh()
    return current, scheduled


def test_a_scheduled_set_takes_effect_later(fresh_app: Any) -> None:
    from geo_service.storage import repo

    storage = fresh_app.extensions["geo_service"].storage
    holder = fresh_app.extensions["geo_service"].holder
    later = datetime(2099, 1, 1, tzinfo=UTC)
    current, scheduled = _schedule_bali_set(fresh_app, later)
    assert holder.current().set_id == current  # not yet
    assert holder.index_at(datetime(2098, 12, 31, tzinfo=UTC)).set_id == current
    assert holder.index_at(later).set_id == scheduled
    with storage.session() as session:
        assert repo.get_boundary_set(session, scheduled).status == "scheduled"


def test_the_set_in_force_now_follows_the_clock(fresh_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The holder keeps the set in force now with the dates it holds between (issue 13); when the
    clock passes a scheduled ``effective_from`` (or goes back before one), the answer moves with it,
    as ``set_in_force`` of that moment says."""
    from geo_service.services import registry

    clock = [datetime.now(UTC)]

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return clock[0]

    holder = fresh_app.extensions["geo_service"].holder
    later = datetime(2099, 1, 1, tzinfo=UTC)
    current, scheduled = _schedule_bali_set(fresh_app, later)
    monkeypatch.setattr(registry, "datetime", Clock)
    dated = holder._dated
    for moment in [clock[0], later - timedelta(microseconds=1), later, later + timedelta(days=3),
                   later - timedelta(seconds=1), datetime(2016, 5, 2, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC),
                   datetime(2016, 5, 3, tzinfo=UTC), later, clock[0]]:
        clock[0] = moment
        expected = registry.set_in_force(dated, current, moment)
        assert holder.current().set_id == holder.index_at(None).set_id == expected, moment
        assert holder.current().set_id == holder.index_at(moment).set_id
    assert expected == current
    clock[0] = later
    assert holder.current().set_id == scheduled


# ------------------------------------------------------------------ overlays in the checks and the index


def test_an_uploaded_special_area_is_an_intended_overlay_and_wins() -> None:
    from shapely.geometry import box

    from geo_service.geo import checks
    from geo_service.geo.area import Unit
    from geo_service.geo.index import JurisdictionIndex

    units = [
        Unit("51", "Polda Bali", "polda", None, box(115.0, -9.0, 115.4, -8.5)),
        Unit("51.71", "Polresta Denpasar", "polres", "51", box(115.0, -9.0, 115.4, -8.5)),
        Unit("51.71.01", "Polsek Denpasar Selatan", "polsek", "51.71", box(115.0, -9.0, 115.4, -8.5)),
        Unit("51.71.K01", "Polsek Kawasan Laut Benoa", "polsek", "51.71", box(115.20, -8.76, 115.22, -8.74)),
    ]
    report = checks.check_units(units)
    assert "OVERLAP" not in report.codes("warning")
    assert "SPECIAL_AREA_OVERLAY" in report.codes("info")
    idx = JurisdictionIndex.build(units)
    assert idx.locate(115.21, -8.75).leaf.code == "51.71.K01"  # type: ignore[union-attr]
    assert idx.locate(115.23, -8.75).leaf.code == "51.71.01"  # type: ignore[union-attr]
    assert list(idx.codes_for(idx.locate_many([115.21, 115.23], [-8.75, -8.75]))) == ["51.71.K01", "51.71.01"]


def test_a_past_week_is_recapped_with_the_units_of_that_week(app: Any) -> None:
    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex
    from geo_service.services import recap

    holder = app.extensions["geo_service"].holder
    then = JurisdictionIndex.build(load_bali_units(), set_id=-1)  # a structure where Kuta was under Badung
    asked: list[datetime] = []

    def index_at(moment: datetime) -> JurisdictionIndex:
        asked.append(moment)
        return then

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with app.extensions["geo_service"].storage.session() as session:
        past = recap.weekly_recap(session, holder.current(), unit_code="51.03", week="2024-W10", now=now,
                                  overdue_minutes=60, index_at=index_at)
        today = recap.weekly_recap(session, holder.current(), unit_code="51.03", week="2024-W10", now=now,
                                   overdue_minutes=60)
    assert asked and asked[0].isoformat().startswith("2024-03-04T00:00:00+08:00")  # Monday 00:00 WITA
    assert "51.03.01" in {c["code"] for c in past["children"]}
    assert "51.03.01" not in {c["code"] for c in today["children"]}
