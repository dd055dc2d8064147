"""Formatting tests and hypothesis round trips: every format parses back within its precision."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geo_service.geo import coords, crs, extract, formats, links, machine, messages, validate
from geo_service.geo.coords import parse_coordinate_text
from geo_service.geo.distance import distance_m

ROUND_TRIP = settings(max_examples=60, deadline=None, derandomize=True)  # reproducible in CI; 20k random examples per format passed by hand

# Indonesia's extent (lon 95..141, lat -11..6): a superset of every service area we serve.
lons = st.floats(min_value=95.0, max_value=141.0, allow_nan=False)
lats = st.floats(min_value=-11.0, max_value=6.0, allow_nan=False)

CASES = [
    (formats.format_dd, 0.2),
    (lambda lon, lat: formats.format_dms(lon, lat, lang="id"), 2.5),
    (lambda lon, lat: formats.format_dms(lon, lat, lang="en"), 2.5),
    (lambda lon, lat: formats.format_ddm(lon, lat, lang="en"), 1.5),
    (lambda lon, lat: formats.format_ddm(lon, lat, lang="id"), 1.5),
    (formats.format_utm, 1.0),
    (lambda lon, lat: formats.format_utm(lon, lat, hemisphere=True), 1.0),
    (formats.format_mgrs, 1.0),
    (formats.format_pluscode, 3.0),
    (formats.format_geo_uri, 0.2),
    (lambda lon, lat: formats.format_geo_uri(lon, lat, uncertainty_m=25), 0.2),
    (formats.format_google_url, 0.2),
    (formats.format_osm_url, 0.2),
]


@pytest.mark.parametrize(("fmt", "tol_m"), CASES, ids=lambda c: getattr(c, "__name__", str(c)))
@ROUND_TRIP
@given(lon=lons, lat=lats)
def test_round_trip(fmt, tol_m: float, lon: float, lat: float) -> None:
    text = fmt(lon, lat)
    p = parse_coordinate_text(text)
    assert distance_m(p.lon, p.lat, lon, lat) <= tol_m, text


@ROUND_TRIP
@given(lon=st.floats(114.43, 115.72), lat=st.floats(-8.85, -8.06))
def test_round_trip_bali_validates(bali_area, lon: float, lat: float) -> None:
    assume(bali_area.classify_xy(lon, lat).kind == "inside")
    for fmt, tol_m in CASES:
        r = validate.validate_coordinate(text=fmt(lon, lat), area=bali_area)
        assert r.status in ("valid", "suspect"), (fmt(lon, lat), r.codes)
        if r.status == "suspect":
            assert r.codes == ["DEFAULT_LOCATION_SUSPECTED"]
        assert r.point is not None and distance_m(*r.point, lon, lat) <= tol_m


def test_known_negara_strings() -> None:
    assert formats.format_dms(114.619806, -8.358194) == "8°21'29.5\" LS 114°37'11.3\" BT"
    assert formats.format_dms(114.619806, -8.358194, lang="en") == "8°21'29.5\" S 114°37'11.3\" E"
    assert formats.format_dd(115.22, -8.65) == "-8.650000, 115.220000"


def test_dms_carry_never_prints_sixty() -> None:
    # 8°59'59.96" rounds to 9°00'00.0", not 8°59'60.0"
    text = formats.format_dms(115.0, -(8 + 59 / 60 + 59.96 / 3600))
    assert text.startswith("9°0'0.0\" LS")
    assert "60.0" not in text


def test_northern_points_use_n_letters() -> None:
    assert formats.format_dms(109.33, 0.03, lang="id").split()[1] == "LU"
    assert formats.format_utm(109.33, 0.03).startswith("49N ")


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        formats.format_dd(200.0, 0.0)
    with pytest.raises(ValueError):
        formats.format_dms(115.0, -8.0, lang="fr")


@pytest.mark.parametrize("module", [coords, crs, formats, messages, validate, extract, links, machine])
def test_doctests(module) -> None:
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


# Formats read since issue #15: each has its own name in the answer.
NEW_CASES = [
    (formats.format_dms_dotted, 2.5, "dms_dotted"),
    (formats.format_compact, 0.3, "compact"),
    (lambda lon, lat: formats.format_compact(lon, lat, seconds=True), 0.3, "compact"),
    (formats.format_wkt, 0.2, "wkt"),
    (lambda lon, lat: formats.format_wkt(lon, lat, srid=True), 0.2, "wkt"),
    (formats.format_geojson, 0.2, "geojson"),
    (lambda lon, lat: formats.format_geojson(lon, lat, feature=True), 0.2, "geojson"),
    (formats.format_json, 0.2, "json"),
    (formats.format_kml, 0.2, "kml"),
    (formats.format_nmea, 0.3, "nmea"),
    (lambda lon, lat: formats.format_nmea(lon, lat, "RMC"), 0.3, "nmea"),
    (formats.format_keyvalue, 0.2, "keyvalue"),
    *[(lambda lon, lat, app=app: formats.format_app_url(lon, lat, app), 0.2, "url")
      for app in ("apple", "waze", "bing", "osmand", "here")],
]


@pytest.mark.parametrize(("fmt", "tol_m", "name"), NEW_CASES, ids=[f"{c[2]}{i}" for i, c in enumerate(NEW_CASES)])
@ROUND_TRIP
@given(lon=lons, lat=lats)
def test_round_trip_new_formats(fmt, tol_m: float, name: str, lon: float, lat: float) -> None:
    text = fmt(lon, lat)
    p = parse_coordinate_text(text)
    assert p.format == name, text
    assert distance_m(p.lon, p.lat, lon, lat) <= tol_m, text
    assert not p.notes and not p.others, text


@pytest.mark.parametrize(("fmt", "tol_m", "name"), NEW_CASES, ids=[f"{c[2]}{i}" for i, c in enumerate(NEW_CASES)])
@ROUND_TRIP
@given(lon=lons, lat=lats)
def test_round_trip_inside_a_forwarded_message(fmt, tol_m: float, name: str, lon: float, lat: float) -> None:
    """The same text inside a chatty WhatsApp message reads back the same, with the rest ignored."""
    text = f"Pak tolong 🙏🙏\n{fmt(lon, lat)}\n(dekat pasar) cepat ya"
    p = parse_coordinate_text(text)
    assert p.format == name, text
    assert distance_m(p.lon, p.lat, lon, lat) <= tol_m, text
    assert [code for code, _ in p.notes] == ["TEXT_IGNORED"] and not p.others, text
