"""Weekly recap: every figure checked exactly, week boundaries in local time (WITA), CSV = JSON;
and the pure province -> time zone table. Data lives in ISO week 2031-W10 of the shared app."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from geo_service.errors import BadRequest, NotFound
from geo_service.geo import timezones as tz
from geo_service.geo.bundled import BOUNDARIES_DIR
from geo_service.services import incidents as svc
from geo_service.services import recap as recap_service

WEEK = "2031-W10"
START, END = tz.local_week_bounds(2031, 10, tz.WITA)
NOW = END + timedelta(days=2)
PROVINCES = BOUNDARIES_DIR / "indonesia_provinsi.geojson"


def _polsek(idx: Any, polres: str, n: int = 0) -> str:
    return idx.children(polres)[n].code


@pytest.fixture(scope="module")
def week(app: Any) -> dict[str, Any]:
    """Incidents of 2031-W10 with known statuses and times; returns their ids by letter."""
    storage = app.extensions["geo_service"].storage
    idx = app.extensions["geo_service"].holder.current()
    tabanan = _polsek(idx, "51.02")
    ids: dict[str, int] = {}

    def add(name: str, code: str | None, reported: datetime, category: str,
            steps: list[tuple[int, dict[str, Any]]] = ()) -> None:  # type: ignore[assignment]
        location: dict[str, Any]
        if code is None:
            location = {"text": "tidak tahu"}
        else:
            lon, lat = idx.reference_point(code)
            location = {"lat": lat, "lon": lon}
        body = {"location": location, "category": category, "reported_at": reported.isoformat(),
                "channel": "call_110", "description": name}
        with storage.transaction() as s:
            inc = svc.create_incident(s, body, idx, actor="t", now=reported)
            for minutes, change in steps:
                inc = svc.update_incident(s, inc.id, {**change, "version": inc.version}, idx, actor="t",
                                          now=reported + timedelta(minutes=minutes))
            ids[name] = inc.id

    local = START  # Monday 00:00 WITA
    add("A", "51.71.01", local + timedelta(hours=1), "kecelakaan",
        [(10, {"status": "dalam_proses"}), (70, {"status": "selesai"})])
    add("B", "51.71.02", local + timedelta(days=1), "pencurian", [(20, {"status": "dalam_proses"})])
    add("C", "51.71.01", local + timedelta(days=2), "kebakaran")
    add("D", tabanan, local + timedelta(days=3), "kdrt", [(5, {"status": "dibatalkan", "note": "salah sambung"})])
    add("E", tabanan, local + timedelta(days=4), "kecelakaan",
        [(30, {"status": "dalam_proses"}), (90, {"status": "selesai"})])
    add("F", "51.71.03", END - timedelta(minutes=30), "gangguan_ketertiban")  # Sunday 23:30 WITA
    add("G", "51.71.03", END + timedelta(minutes=30), "lainnya")  # Monday 00:30 WITA: next week
    add("H", "51.71.01", START - timedelta(minutes=1), "lainnya")  # Sunday 23:59 of the week before
    add("I", "51.71.04", local + timedelta(days=5), "pencurian",
        [(3, {"unit_code": tabanan, "note": "lokasi di Tabanan"})])
    add("J", None, local + timedelta(days=5), "lainnya")  # no unit
    return {"ids": ids, "tabanan": tabanan, "idx": idx, "storage": storage}


def _recap(week: dict[str, Any], unit: str, wk: str = WEEK) -> dict[str, Any]:
    with week["storage"].session() as s:
        return recap_service.weekly_recap(s, week["idx"], unit_code=unit, week=wk, now=NOW, overdue_minutes=60)


def test_polda_recap_every_figure(week: dict[str, Any]) -> None:
    r = _recap(week, "51")
    ids = week["ids"]
    assert r["unit"] == {"code": "51", "name": "Polda Bali", "level": "polda"}
    assert (r["week"], r["timezone"], r["timezone_label"]) == (WEEK, "Asia/Makassar", "WITA")
    assert (r["from"], r["to"]) == ("2031-03-03T00:00:00+08:00", "2031-03-10T00:00:00+08:00")
    assert r["total"] == 7
    assert r["counts"] == {"belum_ditangani": 3, "dalam_proses": 1, "selesai": 2, "dibatalkan": 1}
    assert r["by_category"] == {"kecelakaan": 2, "pencurian": 2, "kebakaran": 1, "kdrt": 1,
                                "gangguan_ketertiban": 1, "lainnya": 0}
    assert r["median_minutes_to_first_action"] == 15.0  # 5, 10, 20, 30
    assert r["median_minutes_to_done"] == 80.0  # 70, 90
    assert [u["id"] for u in r["unhandled"]] == [ids["C"], ids["I"], ids["F"]]
    ages = [u["age_minutes"] for u in r["unhandled"]]
    assert ages == [int((NOW - (START + timedelta(days=d))).total_seconds() // 60) for d in (2, 5)] + [2 * 1440 + 30]
    assert r["unhandled"][2]["reported_at"] == "2031-03-09T23:30:00+08:00" and r["unhandled"][2]["overdue"]
    assert r["direct_total"] == 0
    children = r["children"]
    assert [c["code"] for c in children[:2]] == ["51.71", "51.02"]
    assert [c["code"] for c in children[2:]] == sorted(c["code"] for c in children[2:])
    assert all(c["total"] == 0 for c in children[2:]) and len(children) == 10  # 9 regency Polres + airport Polres
    den, tab = children[0], children[1]
    assert (den["total"], den["counts"]) == (4, {"belum_ditangani": 2, "dalam_proses": 1, "selesai": 1,
                                                 "dibatalkan": 0})
    assert (den["median_minutes_to_first_action"], den["median_minutes_to_done"], den["unhandled"]) == (15.0, 70.0, 2)
    assert (tab["total"], tab["counts"]) == (3, {"belum_ditangani": 1, "dalam_proses": 0, "selesai": 1,
                                                 "dibatalkan": 1})
    assert (tab["median_minutes_to_first_action"], tab["median_minutes_to_done"]) == (17.5, 90.0)
    assert tab["by_category"]["kdrt"] == 1 and children[2]["median_minutes_to_done"] is None


def test_polres_recap_ranks_polsek(week: dict[str, Any]) -> None:
    r = _recap(week, "51.71")
    assert r["total"] == 4 and r["counts"]["belum_ditangani"] == 2
    top = [(c["code"], c["total"]) for c in r["children"] if c["total"]]
    assert top == [("51.71.01", 2), ("51.71.02", 1), ("51.71.03", 1)]
    r = _recap(week, week["tabanan"])
    assert r["children"] == [] and r["total"] == 3 and r["unit"]["level"] == "polsek"


def test_week_boundaries_follow_local_time(week: dict[str, Any]) -> None:
    ids = week["ids"]
    this = _recap(week, "51.71.03")
    assert [u["id"] for u in this["unhandled"]] == [ids["F"]] and this["total"] == 1
    nxt = _recap(week, "51.71.03", "2031-W11")
    assert [u["id"] for u in nxt["unhandled"]] == [ids["G"]]
    before = _recap(week, "51.71.01", "2031-W09")
    assert before["total"] == 1 and before["unhandled"][0]["id"] == ids["H"]
    # In UTC, F (Sunday 15:30 UTC) and G (Sunday 16:30 UTC) share a day but not a local week.
    assert tz.iso_week_of(END - timedelta(minutes=30), tz.WITA) == "2031-W10"
    assert tz.iso_week_of(END + timedelta(minutes=30), tz.WITA) == "2031-W11"


def test_empty_week_has_all_keys_and_null_medians(week: dict[str, Any]) -> None:
    r = _recap(week, "51", "2031-W30")
    assert r["total"] == 0 and set(r["counts"]) == set(svc.STATUSES) and sum(r["counts"].values()) == 0
    assert set(r["by_category"]) == set(svc.CATEGORIES)
    assert r["median_minutes_to_first_action"] is None and r["median_minutes_to_done"] is None
    assert r["unhandled"] == []


def test_recap_is_reproducible_and_csv_matches_json(week: dict[str, Any]) -> None:
    r1, r2 = _recap(week, "51"), _recap(week, "51")
    assert json.dumps(r1, sort_keys=True) == json.dumps(r2, sort_keys=True)
    rows = list(csv.DictReader(io.StringIO(recap_service.recap_csv(r1))))
    assert [row["unit_code"] for row in rows] == ["51"] + [c["code"] for c in r1["children"]]
    for row, part in zip(rows, [r1, *r1["children"]], strict=True):
        assert int(row["total"]) == part["total"]
        assert {s: int(row[s]) for s in svc.STATUSES} == part["counts"]
        assert {c: int(row[f"category_{c}"]) for c in svc.CATEGORIES} == part["by_category"]
        med = row["median_minutes_to_first_action"]
        assert (float(med) if med else None) == part["median_minutes_to_first_action"]
    assert int(rows[0]["unhandled"]) == 3


def test_recap_errors(week: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        _recap(week, "51.99")
    for bad in ("2031-10", "2031-W54", "2025-W53", "W10"):
        with pytest.raises(BadRequest) as info:
            _recap(week, "51", bad)
        assert info.value.code == "INVALID_WEEK"
    assert _recap(week, "51", "2020-W53")["week"] == "2020-W53"


def test_default_week_is_the_current_local_week(week: dict[str, Any]) -> None:
    sunday_late = datetime(2031, 3, 9, 15, 30, tzinfo=UTC)  # Sunday 23:30 WITA
    assert recap_service.resolve_week(None, "51", sunday_late) == (2031, 10)
    assert recap_service.resolve_week(None, "51", sunday_late + timedelta(hours=1)) == (2031, 11)


# ------------------------------------------------------------------ pure time zone table


def test_every_province_of_the_data_has_a_zone() -> None:
    data = json.loads(PROVINCES.read_text(encoding="utf-8"))
    codes = sorted(f["properties"]["kode"] for f in data["features"])
    assert len(codes) == 38 and sorted(tz.PROVINCE_ZONES) == codes
    expected = {}
    for c in codes:
        n = int(c)
        expected[c] = "WIB" if n <= 36 or n in (61, 62) else "WIT" if n >= 81 else "WITA"
    assert {c: tz.zone_for_unit(c).label for c in codes} == expected
    for c in codes:
        zone = tz.zone_for_unit(c + ".01.01")
        assert datetime(2031, 1, 1, tzinfo=zone.tz).utcoffset() == timedelta(hours=zone.utc_offset_h)


def test_zone_details() -> None:
    assert tz.zone_for_unit("51") == tz.WITA and tz.WITA.iana == "Asia/Makassar" and tz.WITA.utc_offset_h == 8
    assert tz.zone_for_unit("61.01").iana == "Asia/Pontianak" and tz.zone_for_unit("91").iana == "Asia/Jayapura"
    with pytest.raises(KeyError):
        tz.zone_for_unit("99.01")
    start, end = tz.local_week_bounds(2031, 1, tz.WIT)
    assert start.isoformat() == "2030-12-30T00:00:00+09:00" and end - start == timedelta(days=7)
    with pytest.raises(ValueError):
        tz.parse_iso_week("2031-W00")
