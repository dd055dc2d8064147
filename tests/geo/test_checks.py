"""Checks of unit sets, stations and the diff: hand-made shapes, Bali and the nationwide regency file."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo_service.geo.area import Unit
from geo_service.geo.boundary_files import read_boundary_file, units_from_layer
from geo_service.geo.bundled import BOUNDARIES_DIR, load_bali_units
from geo_service.geo.checks import (
    LARGE_OVERLAP_M2,
    Report,
    area_m2,
    check_stations,
    check_units,
    diff_units,
)
from geo_service.geo.stations import Station

DATA = BOUNDARIES_DIR  # the reference files ship in boundaries/ (see boundaries/SOURCES.md)


def polda(geom=None) -> Unit:
    return Unit("P", "Polda P", "polda", None, geom or box(115.0, -8.6, 115.4, -8.2))


@pytest.fixture(scope="module")
def bali() -> list[Unit]:
    return load_bali_units()


def test_bali_bundled_set_is_clean(bali: list[Unit]) -> None:
    report = check_units(bali)
    assert report.items == []
    assert report.to_dict() == {"errors": [], "warnings": [], "info": []}


def test_report_shape() -> None:
    r = Report()
    r.add("GAP", "warning", "a gap", units=["A"], area_m2=12.345, location={"lat": -8.5, "lon": 115.0})
    r.add("DUPLICATE_CODE", "error", "dup", units=["B"])
    assert r.has_errors and [i.code for i in r.errors] == ["DUPLICATE_CODE"]
    assert r.to_dict()["warnings"] == [{"code": "GAP", "severity": "warning", "message": "a gap", "units": ["A"],
                                        "area_m2": 12.3, "location": {"lat": -8.5, "lon": 115.0}}]
    assert "area_m2" not in r.to_dict()["errors"][0]


def test_codes_names_levels_and_parents() -> None:
    units = [
        polda(),
        Unit("A", "Polres A", "polres", "P", box(115.0, -8.6, 115.2, -8.2)),
        Unit("A", "Polres A bis", "polres", "P", box(115.2, -8.6, 115.4, -8.2)),
        Unit("", "No code", "polres", "P", box(115.0, -8.6, 115.1, -8.5)),
        Unit("B", "", "polsek", "A", box(115.0, -8.6, 115.1, -8.5)),
        Unit("C", "Polsek C", "polsek", "ZZ", box(115.1, -8.6, 115.2, -8.5)),
        Unit("D", "Polsek D", "polsek", "P", box(115.0, -8.5, 115.1, -8.4)),
        Unit("E", "Polsek E", "polsek", "B", box(115.1, -8.5, 115.2, -8.4)),
        Unit("F", "Polsek F", "kapolsek", "A", box(115.1, -8.5, 115.2, -8.4)),  # type: ignore[arg-type]
    ]
    report = check_units(units)
    assert set(report.codes("error")) == {
        "DUPLICATE_CODE", "MISSING_CODE", "PARENT_MISSING", "PARENT_LEVEL_INVALID", "INVALID_LEVEL"
    }
    assert report.by_code("PARENT_MISSING")[0].units == ["C"]
    assert "MISSING_NAME" in report.codes("warning")
    assert report.by_code("PARENT_LEVEL_SKIPPED")[0].units == ["D", "P"]


def test_overlap_gap_sliver_with_areas_and_locations() -> None:
    a = Unit("A", "Polres A", "polres", "P", box(115.0, -8.6, 115.2, -8.2))
    b = Unit("B", "Polres B", "polres", "P", box(115.19, -8.6, 115.4, -8.2))  # 0.01° strip overlap
    hole = box(115.05, -8.45, 115.07, -8.43)  # ~4.9 km² square hole
    thin = box(115.1, -8.5, 115.12, -8.4998)  # 2.2 km x 22 m strip, ~4.9 ha
    a2 = Unit("A", "Polres A", "polres", "P", Polygon(a.geometry.exterior, [hole.exterior, thin.exterior]))
    report = check_units([polda(), a2, b])
    assert not report.has_errors
    (overlap,) = report.by_code("OVERLAP")
    assert overlap.severity == "warning" and overlap.units == ["A", "B"]
    expected = area_m2(box(115.19, -8.6, 115.2, -8.2))
    assert overlap.area_m2 == pytest.approx(expected, rel=1e-6)
    assert overlap.area_m2 > LARGE_OVERLAP_M2 and overlap.message.startswith("Large overlap")
    assert 115.19 <= overlap.location["lon"] <= 115.2 and -8.6 <= overlap.location["lat"] <= -8.2
    (gap,) = report.by_code("GAP")
    assert gap.area_m2 == pytest.approx(area_m2(hole), rel=1e-6)
    assert hole.covers(Point(gap.location["lon"], gap.location["lat"]))
    (sliver,) = report.by_code("SLIVER")
    assert sliver.area_m2 == pytest.approx(area_m2(thin), rel=1e-6)
    # The hole is reported once, at the lowest level, not again for the parent.
    assert len(report.by_code("LOW_PARENT_COVERAGE")) == 0


def test_tiny_overlap_is_a_warning_too() -> None:
    a = Unit("A", "A", "polres", "P", box(115.0, -8.6, 115.2, -8.2))
    b = Unit("B", "B", "polres", "P", Polygon([(115.2, -8.6), (115.4, -8.6), (115.4, -8.2), (115.2, -8.2),
                                                 (115.2, -8.4), (115.1999, -8.40005), (115.2, -8.4001)]))
    (overlap,) = check_units([polda(), a, b]).by_code("OVERLAP")
    assert overlap.severity == "warning" and overlap.area_m2 < 1000 and overlap.message.startswith("Tiny")


def test_child_outside_parent_and_coverage() -> None:
    inside = Unit("A", "A", "polres", "P", box(115.0, -8.6, 115.2, -8.2))
    sticking = Unit("B", "B", "polres", "P", box(115.2, -8.6, 115.45, -8.2))
    away = Unit("C", "C", "polres", "P", box(116.0, -8.6, 116.1, -8.5))
    report = check_units([polda(), inside, sticking, away])
    items = {tuple(i.units): i for i in report.by_code("CHILD_OUTSIDE_PARENT")}
    assert items[("B", "P")].severity == "warning"
    assert items[("B", "P")].area_m2 == pytest.approx(area_m2(box(115.4, -8.6, 115.45, -8.2)), rel=1e-6)
    assert items[("C", "P")].severity == "error"
    # A parent only half covered by its children.
    report = check_units([polda(), inside])
    (low,) = report.by_code("LOW_PARENT_COVERAGE")
    assert "50.0" in low.message and low.area_m2 == pytest.approx(area_m2(box(115.2, -8.6, 115.4, -8.2)), rel=1e-6)
    assert report.by_code("GAP")[0].units == ["A", "P"]


def test_geometry_errors() -> None:
    bowtie = Polygon([(115.0, -8.5), (115.1, -8.4), (115.1, -8.5), (115.0, -8.4)])
    report = check_units([
        Unit("A", "A", "polda", None, bowtie),
        Unit("B", "B", "polda", None, Point(115, -8)),
        Unit("C", "C", "polda", None, Polygon()),
        Unit("D", "D", "polda", None, box(115.2, -8.5, 115.3, -8.4)),
    ])
    assert set(report.codes("error")) == {"INVALID_GEOMETRY", "NOT_POLYGON"}
    assert report.by_code("EMPTY_GEOMETRY")[0].severity == "warning"
    assert check_units([Unit("C", "C", "polda", None, Polygon())]).codes("error") == ["EMPTY_GEOMETRY", "NO_GEOMETRY"]
    assert check_units([]).codes("error") == ["EMPTY_SET"]
    swapped = check_units([Unit("S", "S", "polda", None, box(-8.5, 115.0, -8.4, 115.1))])
    assert swapped.codes("error") == ["SWAPPED_COORDINATES_SUSPECTED"]
    utm = check_units([Unit("U", "U", "polda", None, box(300000, 9050000, 310000, 9060000))])
    assert utm.codes("error") == ["COORDINATES_OUT_OF_RANGE"]


# ---------------------------------------------------------------- nationwide regency file


@pytest.fixture(scope="module")
def indonesia() -> tuple[list[Unit], Report, float]:
    raw = read_boundary_file((DATA / "indonesia_kabupaten_kota.geojson").read_bytes(), "kab.geojson")
    polres, _ = units_from_layer(raw, level="polres")
    by_prov: dict[str, list] = defaultdict(list)
    for u in polres:
        by_prov[u.parent_code].append(u.geometry)
    # The Polda of a regency comes from its code prefix (SOURCES.md), dissolved from the regencies.
    poldas = [Unit(p, f"Polda {p}", "polda", None, shapely.union_all(g, grid_size=1e-6))
              for p, g in sorted(by_prov.items())]
    units = poldas + polres
    t0 = time.process_time()  # CPU time: other work on a shared machine does not count
    report = check_units(units)
    return units, report, time.process_time() - t0


def test_indonesia_is_checked_fast_and_stays_publishable(indonesia) -> None:
    _, report, seconds = indonesia
    print(f"check_units on 514 regencies + 38 dissolved provinces: {seconds:.1f} s CPU")
    assert seconds < 45
    assert not report.has_errors


def test_indonesia_real_overlaps(indonesia) -> None:
    _, report, _ = indonesia
    polres_overlaps = [i for i in report.by_code("OVERLAP") if "polres units" in i.message]
    assert 920 <= len(polres_overlaps) <= 940  # SOURCES.md: 934 pairs, 6,594 km²
    assert sum(i.area_m2 for i in polres_overlaps) / 1e6 == pytest.approx(6594, rel=0.01)
    pairs = {tuple(i.units): i for i in polres_overlaps}
    sorong_tambrauw = pairs[("96.01", "96.04")]
    assert sorong_tambrauw.area_m2 / 1e6 == pytest.approx(5009, rel=0.02)
    assert sorong_tambrauw.message.startswith("Large overlap")
    assert polres_overlaps[0] is sorong_tambrauw  # largest first
    assert pairs[("96.01", "96.05")].area_m2 / 1e6 == pytest.approx(390, rel=0.05)  # Sorong / Maybrat


def test_indonesia_real_gaps(indonesia) -> None:
    _, report, _ = indonesia
    gaps = report.by_code("GAP") + report.by_code("SLIVER")
    polres_gaps = [i for i in gaps if "polres units" in i.message]
    # SOURCES.md: 3,293 km² of holes, 242 larger than 1 km², the largest ~794 km² in Papua.
    assert sum(i.area_m2 for i in polres_gaps) / 1e6 == pytest.approx(3293, rel=0.01)
    assert sum(1 for i in polres_gaps if i.area_m2 > 1e6) == 242
    biggest = max(polres_gaps, key=lambda i: i.area_m2)
    assert biggest.area_m2 / 1e6 == pytest.approx(794, rel=0.01)
    assert 134 < biggest.location["lon"] < 141 and biggest.location["lat"] < 0
    assert all(i.severity == "warning" for i in gaps)


# ---------------------------------------------------------------- stations


def test_check_stations(bali: list[Unit]) -> None:
    stations = [
        Station("S1", "Polsek Kuta", "51.03.01", 115.1668, -8.7467),  # in Kuta: fine
        Station("S2", "Polres Jembrana", "51.01.01", 114.625013, -8.359279),  # in Kec. Jembrana, not Negara
        Station("S3", "Swapped", "51.03.01", -8.7467, 115.1668),
        Station("S1", "Dup", "51.03.01", 115.1668, -8.7467),
        Station("S4", "Unknown unit", "99.99", 115.1668, -8.7467),
        Station("S5", "Null island", "51.03.01", 0.0, 0.0),
        {"code": "S6", "name": "", "unit_code": "51.03.01", "lon": 115.1668, "lat": -8.7467},
    ]
    report = check_stations(stations, bali)
    assert report.by_code("DUPLICATE_CODE")[0].units == ["S1"]
    (outside,) = report.by_code("STATION_OUTSIDE_UNIT")
    assert outside.severity == "warning" and "51.01.05" in outside.units
    swapped = report.by_code("SWAPPED_COORDINATES_SUSPECTED")[0]
    assert swapped.severity == "error" and "falls in its unit 51.03.01" in swapped.message
    assert set(report.codes("error")) == {"DUPLICATE_CODE", "SWAPPED_COORDINATES_SUSPECTED",
                                          "STATION_UNIT_UNKNOWN", "NULL_ISLAND"}
    assert "MISSING_NAME" in report.codes("warning")
    # A plain mapping code -> geometry works too.
    geoms = {u.code: u.geometry for u in bali}
    assert check_stations(stations[:1], geoms).items == []


# ---------------------------------------------------------------- diff


def test_diff_units(bali: list[Unit]) -> None:
    old = [u for u in bali if u.level == "polres"]
    moved = box(115.0, -8.9, 115.1, -8.8)
    new = [
        Unit(u.code, u.name + " Kota" if u.code == "51.71" else u.name, u.level,
             "52" if u.code == "51.05" else u.parent_code,
             shapely.union_all([u.geometry, moved]) if u.code == "51.03" else u.geometry)
        for u in old if u.code != "51.08"
    ] + [Unit("51.99", "Polres Bandara", "polres", "51", box(115.15, -8.76, 115.18, -8.73))]
    diff = {d["code"]: d for d in diff_units(old, new)}
    assert sorted(diff) == ["51.03", "51.05", "51.08", "51.71", "51.99"]
    assert diff["51.08"]["change"] == "removed" and diff["51.08"]["area_m2_new"] is None
    assert diff["51.99"]["change"] == "added" and diff["51.99"]["changed_area_m2"] == diff["51.99"]["area_m2_new"]
    badung = diff["51.03"]
    assert badung["change"] == "changed" and badung["fields"] == ["geometry"]
    added = area_m2(shapely.difference(moved, next(u.geometry for u in old if u.code == "51.03")))
    assert badung["changed_area_m2"] == pytest.approx(added, rel=1e-3)
    assert badung["area_m2_new"] - badung["area_m2_old"] == pytest.approx(added, rel=1e-3)
    assert diff["51.71"]["fields"] == ["name"] and diff["51.71"]["name_old"] == "Polresta Denpasar"
    assert diff["51.05"]["fields"] == ["parent_code"] and diff["51.05"]["parent_code_new"] == "52"
    assert diff_units(old, old) == []
