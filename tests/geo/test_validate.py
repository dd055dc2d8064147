"""Validation tests: one per flag, with real Bali points and a small equator area for ambiguity."""

from __future__ import annotations

import time

import pytest
from shapely.geometry import Point, box

from geo_service import errors
from geo_service.geo.area import AreaHit
from geo_service.geo.validate import (
    Flag,
    ValidationResult,
    validate_coordinate,
    validate_many,
)

NEGARA_DMS = "8°21'29.5\" LS 114°37'11.3\" BT"
DENPASAR = (115.2201, -8.6502)
NUSA_PENIDA = (115.5401, -8.7302)
BALI_STRAIT = (114.4001, -8.2001)


def test_valid_negara_dms(bali_area) -> None:
    r = validate_coordinate(text=NEGARA_DMS, area=bali_area)
    assert (r.status, r.codes, r.format, r.confidence) == ("valid", [], "dms", 1.0)
    assert r.area_hit is not None and r.area_hit.unit_code == "51.01.01"
    assert bali_area.units["51.01.01"].name == "Polsek Negara"


@pytest.mark.parametrize("point", [DENPASAR, NUSA_PENIDA])
def test_valid_numbers(bali_area, point) -> None:
    r = validate_coordinate(lat=point[1], lon=point[0], area=bali_area)
    assert r.status == "valid" and r.point == point and r.original == point


def test_contract_shape(bali_area) -> None:
    d = validate_coordinate(text="-8.6502, 115.2201", area=bali_area).to_dict()
    assert set(d) == {
        "status", "point", "original", "format", "uncertainty_m", "confidence", "flags", "candidates",
    }
    assert d["point"] == {"lat": -8.6502, "lon": 115.2201}
    assert d["format"] == "decimal" and d["status"] == "valid"


def test_invalid_text(bali_area) -> None:
    r = validate_coordinate(text="di depan pasar", area=bali_area)
    assert (r.status, r.point, r.codes, r.confidence) == ("invalid", None, ["COORDINATE_INVALID"], 0.0)
    assert r.to_dict("en")["flags"][0]["message"] == "The coordinate could not be read."


def test_out_of_range(bali_area) -> None:
    r = validate_coordinate(lat=95.5, lon=200.0, area=bali_area)
    assert (r.status, r.point, r.codes) == ("invalid", None, ["COORDINATE_OUT_OF_RANGE"])


def test_zero(bali_area) -> None:
    r = validate_coordinate(lat=0.0, lon=0.0, area=bali_area)
    assert (r.status, r.point, r.codes) == ("invalid", None, ["ZERO_COORDINATE"])
    assert validate_coordinate(text="geo:0,0", area=None).codes == ["ZERO_COORDINATE"]


def test_swapped(bali_area) -> None:
    r = validate_coordinate(lat=DENPASAR[0], lon=DENPASAR[1], area=bali_area)
    assert (r.status, r.codes) == ("corrected", ["PRESUMED_SWAPPED_COORDINATE"])
    assert r.point == DENPASAR and r.original == (DENPASAR[1], DENPASAR[0]) or r.original is None
    assert r.confidence == 0.8


def test_negated_latitude(bali_area) -> None:
    r = validate_coordinate(text="8.6502, 115.2201", area=bali_area)
    assert (r.status, r.codes, r.point) == ("corrected", ["PRESUMED_NEGATED_LATITUDE"], DENPASAR)
    assert r.original == (115.2201, 8.6502)


def test_negated_longitude(bali_area) -> None:
    r = validate_coordinate(lat=-8.6502, lon=-115.2201, area=bali_area)
    assert (r.status, r.codes, r.point) == ("corrected", ["PRESUMED_NEGATED_LONGITUDE"], DENPASAR)


def test_swapped_and_negated(bali_area) -> None:
    r = validate_coordinate(lat=115.2201, lon=8.6502, area=bali_area)
    assert r.status == "corrected" and r.point == DENPASAR
    assert set(r.codes) == {"PRESUMED_SWAPPED_COORDINATE", "PRESUMED_NEGATED_LATITUDE"}
    assert r.confidence == 0.7


def test_rounded(bali_area) -> None:
    r = validate_coordinate(text="-8.65, 115.22", area=bali_area)
    assert r.status == "valid" and r.codes == ["COORDINATE_ROUNDED"]
    assert r.uncertainty_m > 500 and r.confidence == 0.8
    whole_minutes = validate_coordinate(text="8°39' LS 115°13' BT", area=bali_area)
    assert "COORDINATE_ROUNDED" in whole_minutes.codes
    precise = validate_coordinate(text="-8.650, 115.220", area=bali_area)
    assert "COORDINATE_ROUNDED" not in precise.codes


def test_uncertainty_from_input(bali_area) -> None:
    assert validate_coordinate(text="geo:-8.6502,115.2201;u=35", area=bali_area).uncertainty_m == 35
    aml = 'A"ML=1;lt=-8.65020;lg=115.22010;rd=120;top=20240115083000;lc=68;pm=W'
    assert validate_coordinate(text=aml, area=bali_area).uncertainty_m == 120
    stated = validate_coordinate(lat=-8.6502, lon=115.2201, uncertainty_m=80, area=bali_area)
    assert stated.uncertainty_m == 80


@pytest.mark.parametrize(("text", "crs"), [("222679 9091964", "EPSG:32750"), ("222679 9091964", "EPSG:23880"),
                                           ("-8.3582, 114.6198", "EPSG:4755")])
def test_reprojected(bali_area, text: str, crs: str) -> None:
    r = validate_coordinate(text=text, crs=crs, area=bali_area)
    assert r.status == "valid" and r.codes == ["COORDINATE_REPROJECTED"]
    assert r.flags[0].params == {"crs": crs}


def test_projected_numbers_in_lat_lon_slots(bali_area) -> None:
    r = validate_coordinate(lat=9091964, lon=222679, crs="EPSG:32750", area=bali_area)
    assert r.status == "valid" and r.format == "projected"
    swapped = validate_coordinate(lat=222679, lon=9091964, crs="EPSG:32750", area=bali_area)
    assert swapped.status == "corrected" and "PROJECTED_AXES_SWAPPED" in swapped.codes
    assert swapped.point == r.point


def test_outside(bali_area) -> None:
    r = validate_coordinate(lat=-6.2001, lon=106.8001, area=bali_area)  # Jakarta
    assert (r.status, r.codes) == ("suspect", ["OUTSIDE_SERVICE_AREA"])
    assert r.point == (106.8001, -6.2001) and r.confidence == 0.3


def test_at_sea(bali_area) -> None:
    r = validate_coordinate(lat=BALI_STRAIT[1], lon=BALI_STRAIT[0], area=bali_area)
    assert (r.status, r.codes) == ("valid", ["AT_SEA"])
    assert r.confidence == 0.8
    assert "laut" in r.flags[0].message("id")


def test_negated_into_the_sea(bali_area) -> None:
    r = validate_coordinate(lat=-BALI_STRAIT[1], lon=BALI_STRAIT[0], area=bali_area)
    assert r.status == "corrected" and r.codes == ["PRESUMED_NEGATED_LATITUDE", "AT_SEA"]


def test_default_location(bali_area) -> None:
    lon, lat, label = bali_area.default_points()[0]
    r = validate_coordinate(lat=lat, lon=lon, area=bali_area)
    assert r.status == "suspect" and r.codes == ["DEFAULT_LOCATION_SUSPECTED"]
    assert r.point == (lon, lat) and label in r.flags[0].message("en")
    assert validate_coordinate(lat=lat + 0.001, lon=lon, area=bali_area).status == "valid"


def test_utm_hemisphere_letter_wins_inside(bali_area) -> None:
    r = validate_coordinate(text="50S 222679 9091964", area=bali_area)
    assert r.status == "valid" and r.format == "utm"
    assert bali_area.classify_xy(*r.point).kind == "inside"


def test_mgrs_and_pluscode(bali_area) -> None:
    assert validate_coordinate(text="50LKR8597860562", area=bali_area).status == "valid"
    r = validate_coordinate(text="JJRC+R2", hint_unit="51.01.01", area=bali_area)
    assert r.status == "valid" and r.format == "pluscode"
    assert validate_coordinate(text="JJRC+R2", area=bali_area).status == "invalid"


def test_no_area_skips_area_checks() -> None:
    r = validate_coordinate(lat=-6.2001, lon=106.8001, area=None)
    assert (r.status, r.codes) == ("valid", [])
    r = validate_coordinate(lat=106.8001, lon=-6.2001, area=None)
    assert (r.status, r.codes) == ("corrected", ["PRESUMED_SWAPPED_COORDINATE"])


class EquatorArea:
    """Two units straddling the equator near Pontianak (one north, one south of it)."""

    units = {"N": box(109.2, 0.0, 109.5, 0.5), "S": box(109.2, -0.5, 109.5, 0.0)}

    def classify_xy(self, lon: float, lat: float) -> AreaHit:
        for code in sorted(self.units):
            if self.units[code].covers(Point(lon, lat)):
                return AreaHit("inside", code, 0.0)
        return AreaHit("outside", "N", 1e6)

    def unit_covers_xy(self, code: str, lon: float, lat: float) -> bool:
        return code in self.units and self.units[code].covers(Point(lon, lat))

    def reference_point(self, code: str):
        c = self.units[code].centroid
        return (c.x, c.y)

    def default_points(self):
        return []


def test_missing_minus_near_equator_is_suspect() -> None:
    r = validate_coordinate(text="0.0300, 109.3300", area=EquatorArea())
    assert r.status == "suspect" and r.point is None
    assert r.codes == ["AMBIGUOUS_COORDINATE"]
    assert sorted(c.lat for c in r.candidates) == [-0.03, 0.03]
    assert r.confidence == 0.2
    assert len(r.to_dict()["candidates"]) == 2


def test_hint_unit_breaks_the_tie() -> None:
    r = validate_coordinate(text="0.0300, 109.3300", hint_unit="S", area=EquatorArea())
    assert (r.status, r.point, r.codes) == ("corrected", (109.33, -0.03), ["PRESUMED_NEGATED_LATITUDE"])
    r = validate_coordinate(text="0.0300, 109.3300", hint_unit="N", area=EquatorArea())
    assert (r.status, r.point) == ("valid", (109.33, 0.03))


def test_written_hemisphere_is_not_doubted() -> None:
    r = validate_coordinate(text="0.0300 LU 109.3300 BT", area=EquatorArea())
    assert r.status == "valid"


def test_fewer_changes_win() -> None:
    r = validate_coordinate(lat=0.2001, lon=-109.3001, area=EquatorArea())
    # one change (N) beats the two-change reading in S
    assert (r.status, r.codes) == ("corrected", ["PRESUMED_NEGATED_LONGITUDE"])


class TwoSidedArea(EquatorArea):
    """EquatorArea plus a unit west of Greenwich, so two single corrections tie."""

    units = {**EquatorArea.units, "W": box(-109.5, -0.5, -109.2, 0.0)}


def test_two_equal_corrections_are_suspect() -> None:
    r = validate_coordinate(lat=0.2001, lon=-109.3001, area=TwoSidedArea())
    assert r.status == "suspect" and r.point is None and r.codes == ["AMBIGUOUS_COORDINATE"]
    got = sorted((c.flags[0].code, c.unit_code) for c in r.candidates)
    assert got == [("PRESUMED_NEGATED_LATITUDE", "W"), ("PRESUMED_NEGATED_LONGITUDE", "N")]
    hinted = validate_coordinate(lat=0.2001, lon=-109.3001, hint_unit="W", area=TwoSidedArea())
    assert (hinted.status, hinted.point) == ("corrected", (-109.3001, -0.2001))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lat": 1.0}, {"text": "x", "lat": 1.0, "lon": 2.0}, {"text": 5}, {"lat": "1", "lon": 2},
     {"lat": 1.0, "lon": 2.0, "uncertainty_m": "big"}, {"lat": 1.0, "lon": 2.0, "crs": 4326}],
)
def test_malformed_requests(kwargs) -> None:
    with pytest.raises(errors.BadRequest):
        validate_coordinate(area=None, **kwargs)


def test_unknown_crs_and_bad_uncertainty() -> None:
    with pytest.raises(errors.UnknownCRS):
        validate_coordinate(text="garbage", crs="EPSG:0", area=None)
    with pytest.raises(errors.InvalidInput):
        validate_coordinate(lat=1.0, lon=2.0, uncertainty_m=-1, area=None)


def test_flag_messages() -> None:
    f = Flag("COORDINATE_REPROJECTED", {"crs": "EPSG:23880"})
    assert f.message("id") == "Koordinat dikonversi dari EPSG:23880 ke WGS 84."
    assert f.to_dict("en")["message"].startswith("The coordinate was converted")


def test_validate_many(bali_area) -> None:
    items = [{"text": NEGARA_DMS}, {"lat": 8.6502, "lon": 115.2201}, {"text": "??"}, {"lat": 0, "lon": 0}]
    results = validate_many(items, bali_area)
    assert [r.status for r in results] == ["valid", "corrected", "invalid", "invalid"]
    assert all(isinstance(r, ValidationResult) for r in results)
    with pytest.raises(errors.BadRequest) as exc:
        validate_many([{"text": "1, 2"}, {"lat": "x", "lon": 1}, "no"], bali_area)
    assert [e["pointer"] for e in exc.value.errors] == ["/1", "/2"]


def test_validate_many_is_fast(bali_area) -> None:
    items = [{"lat": -8.6502 + i * 1e-6, "lon": 115.2201} for i in range(5000)]
    start = time.process_time()  # CPU time: other work on a shared machine does not count
    results = validate_many(items, bali_area)
    elapsed = time.process_time() - start
    assert all(r.status == "valid" for r in results)
    assert elapsed < 5.0  # 100k in well under a minute


@pytest.fixture(scope="module")
def bali_index():
    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex

    return JurisdictionIndex.build(load_bali_units())


def test_far_points_answer_as_if_every_reading_were_looked_up(bali_index, monkeypatch) -> None:
    """The validator skips the nearest-unit search of readings outside the area's widened box (the
    primary reading's until its distance is the answer): on points all over the globe, with and
    without a lost minus or a swap, the answers equal those with every reading looked up."""
    import numpy as np

    from geo_service.geo import validate as v

    rng = np.random.default_rng(29)
    pts = [(float(x), float(y)) for x, y in zip(rng.uniform(-180, 180, 300), rng.uniform(-90, 90, 300), strict=True)]
    pts += [(float(x), float(y)) for x, y in zip(rng.uniform(110, 121, 300), rng.uniform(-12, 12, 300), strict=True)]
    pts += [(115.2, 8.6), (-115.2, -8.6), (-8.6, 115.2), (8.6, 115.2), (115.19, 30.0), (-8.5, 30.0)]
    # Bali points broken the usual ways: a lost minus, a swap, both.
    for x, y, k in zip(rng.uniform(114.5, 115.7, 200), rng.uniform(-8.8, -8.1, 200), rng.integers(0, 4, 200),
                       strict=True):
        pts.append([(x, -y), (-x, y), (y, x), (-y, x)][int(k)])

    def answers() -> list[dict]:
        out = []
        for x, y in pts:
            r = validate_coordinate(lat=round(y, 5), lon=round(x, 5), area=bali_index)
            out.append((r.to_dict(), r.area_hit))
        return out

    v._DEFAULTS_CACHE.clear()
    fast = answers()
    assert v._defaults(bali_index).extent is not None
    monkeypatch.setattr(v._DefaultPoints, "may_hold", lambda self, lon, lat: True)
    assert answers() == fast
    assert sum(a["status"] == "corrected" for a, _ in fast) > 10
    assert sum(any(f["code"] == "OUTSIDE_SERVICE_AREA" for f in a["flags"]) for a, _ in fast) > 100


@pytest.mark.parametrize("band_m", [0.0, 22224.0, 200_000.0])
def test_area_box_holds_every_point_within_the_coastal_band(band_m: float) -> None:
    """Outside the widened box of an area no point is inside or within the (configured) coastal band."""
    import numpy as np

    from geo_service.geo import validate as v
    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex

    idx = JurisdictionIndex.build(load_bali_units(), coastal_band_m=band_m)
    xmin, ymin, xmax, ymax = v._band_extent(idx.bounds, band_m)
    rng = np.random.default_rng(31)
    # Points on the box's edge and just beyond it, where a wrong margin would show.
    t = rng.uniform(0, 1, 400)
    edge = [(xmin - 1e-7, ymin + t[i] * (ymax - ymin)) for i in range(100)]
    edge += [(xmax + 1e-7, ymin + t[i] * (ymax - ymin)) for i in range(100, 200)]
    edge += [(xmin + t[i] * (xmax - xmin), ymin - 1e-7) for i in range(200, 300)]
    edge += [(xmin + t[i] * (xmax - xmin), ymax + 1e-7) for i in range(300, 400)]
    for lon, lat in edge:
        hit = idx.classify_xy(lon, lat)
        assert hit.kind == "outside" and hit.distance_m > band_m, (lon, lat, hit)


def test_every_point_of_a_message_keeps_its_unit_and_distance(bali_index) -> None:
    """A message with two coordinates: the far one (on Lombok, 77 km from Bali's nearest Polsek) is
    listed with that Polsek and its distance, not as an unknown place."""
    r = validate_coordinate(text="Dua lokasi: -8.358194, 114.619806 dan satu lagi -8.500000, 116.400000",
                            area=bali_index)
    assert r.status == "suspect" and "MULTIPLE_COORDINATES" in r.codes
    far = r.to_dict()["candidates"][1]
    assert far["area"] == "outside" and far["unit_code"] == "51.07.04"
    assert 70_000 < far["distance_m"] < 80_000


def test_an_area_without_bounds_is_looked_up_beyond_its_default_points(bali_units) -> None:
    """An area that does not know its bounds: a reading beyond its default points' box is still looked
    up (a wide coastal band reaches it): at sea, as its hit says, not outside."""
    from tests.geo.conftest import SimpleBaliArea

    area = SimpleBaliArea(bali_units, band_m=700_000)
    r = validate_coordinate(lat=-8.51234, lon=121.01234, area=area)
    assert r.status == "valid" and r.codes == ["AT_SEA"] and r.area_hit.kind == "at_sea"
