"""Hypothesis round trips of the formats read since issue #15, each written the way the app writes it.

For every format: generate a point, render the text as the app (or the person) would, read it back,
and check that the point is within the precision of the text as written, that the parser's own
``precision_m`` covers the error, that the answer names the format (and, for links, the part of the
link that was read), and that nothing was ignored or found twice.

The renderers here are written from the apps' links and documents, independently of
:mod:`geo_service.geo.formats` (which renders our own answers), so the parser is not only checked
against the code that writes what it reads.

The default profile (``small``) is derandomized for CI; ``HYPOTHESIS_PROFILE=fuzz`` explores
2,000 random examples per format.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo_service.geo.coords import parse_coordinate_text
from geo_service.geo.distance import distance_m

_FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
ROUND_TRIP = settings(max_examples=2000 if _FUZZ else 60, deadline=None, derandomize=not _FUZZ)

# The whole globe (the parser reads any WGS 84 point), with Indonesia's extent drawn more often.
lats = st.floats(-90.0, 90.0, allow_nan=False) | st.floats(-11.0, 6.0)
lons = st.floats(-180.0, 180.0, allow_nan=False) | st.floats(95.0, 141.0)
#: Decimals as apps write them: OsmAnd and HERE 5, Waze and Apple 6, Google 7.
decimals = st.integers(4, 7)

M_PER_DEG_MAX = 111_700.0  # a degree of latitude is at most 111.7 km (at the poles)


# --------------------------------------------------------------------------- renderers


def dd(value: float, d: int) -> str:
    return f"{value:.{d}f}"


def dms_parts(value: float, second_decimals: int) -> tuple[int, int, float]:
    """Degrees, minutes, seconds of ``|value|`` rounded to the last written digit (no 60" carry)."""
    scale = 10**second_decimals
    total = round(abs(value) * 3600 * scale)
    deg, rest = divmod(total, 3600 * scale)
    minutes, sec = divmod(rest, 60 * scale)
    return int(deg), int(minutes), sec / scale


def ddm_parts(value: float, minute_decimals: int) -> tuple[int, float]:
    scale = 10**minute_decimals
    deg, rest = divmod(round(abs(value) * 60 * scale), 60 * scale)
    return int(deg), rest / scale


def nmea_checksum(body: str) -> str:
    """XOR of the bytes between ``$`` and ``*`` (NMEA 0183), computed here on its own."""
    value = 0
    for byte in body.encode("ascii"):
        value ^= byte
    return f"{value:02X}"


def centre_of(lat: float, lon: float, sep: str = ",") -> str:
    """A map centre near the point but not on it (the sender's screen), ``lat<sep>lon``."""
    return dd(max(-85.0, min(85.0, lat + 0.0123)), 7) + sep + dd(lon - 0.0456 if lon > -179 else lon + 0.0456, 7)


Render = Callable[[float, float, int], str]

#: (id, render(lat, lon, decimals), format, url_source, step in degrees of the last digit or None for decimals)
LINK_CASES: list[tuple[str, Render, str]] = [
    ("google-search-api", lambda la, lo, d: f"https://www.google.com/maps/search/?api=1&query={dd(la, d)}%2C{dd(lo, d)}",
     "query"),
    ("google-place-at", lambda la, lo, d: f"https://www.google.com/maps/place/Polsek+Negara/@{dd(la, d)},{dd(lo, d)},17z",
     "map_centre"),
    ("google-place-at-data", lambda la, lo, d: (
        f"https://www.google.com/maps/place/Pura+Desa/@{dd(la, d)},{dd(lo, d)},17z/data=!4m2!3m1!1s0x0:0x0"),
     "map_centre"),
    ("google-place-3d4d", lambda la, lo, d: (
        f"https://www.google.com/maps/place/Polsek+Negara/@{centre_of(la, lo)},13z/data=!3m1!4b1!4m6!3m5"
        f"!1s0x2dd3c1f4b5a6e8b1:0x5030bfbcaf7ad90!8m2!3d{dd(la, d)}!4d{dd(lo, d)}!16s%2Fg%2F11c5sw1xj6?entry=ttu"),
     "place"),
    ("google-ll", lambda la, lo, d: f"https://www.google.co.id/maps?ll={dd(la, d)},{dd(lo, d)}&z=16&t=m", "ll"),
    ("google-dir-path", lambda la, lo, d: (
        f"https://www.google.com/maps/dir/-8.6500,115.2167/{dd(la, d)},{dd(lo, d)}/@{centre_of(la, lo)},10z"
        "/data=!4m2!4m1!3e0"), "destination"),
    ("google-dir-api", lambda la, lo, d: (
        f"https://www.google.com/maps/dir/?api=1&destination={dd(la, d)}%2C{dd(lo, d)}&travelmode=driving"),
     "destination"),
    ("comgooglemaps-q", lambda la, lo, d: f"comgooglemaps://?q={dd(la, d)},{dd(lo, d)}&zoom=14", "q"),
    ("comgooglemaps-daddr", lambda la, lo, d: f"comgooglemaps://?daddr={dd(la, d)},{dd(lo, d)}&directionsmode=driving",
     "daddr"),
    ("apple-q", lambda la, lo, d: f"https://maps.apple.com/?q={dd(la, d)},{dd(lo, d)}", "q"),
    ("apple-daddr", lambda la, lo, d: f"https://maps.apple.com/?daddr={dd(la, d)},{dd(lo, d)}&dirflg=d", "daddr"),
    ("apple-ll", lambda la, lo, d: f"https://maps.apple.com/?ll={dd(la, d)},{dd(lo, d)}&q=Dropped%20Pin&t=m", "ll"),
    ("waze-directions", lambda la, lo, d: (
        f"https://www.waze.com/live-map/directions?to=ll.{dd(la, d)}%2C{dd(lo, d)}"), "to"),
    ("waze-directions-place", lambda la, lo, d: (
        f"https://www.waze.com/id/live-map/directions?navigate=yes&to=ll.{dd(la, d)}%2C{dd(lo, d)}&utm_source=share"),
     "to"),
    ("bing-cp", lambda la, lo, d: f"https://www.bing.com/maps?cp={dd(la, d)}~{dd(lo, d)}&lvl=16.0&style=r", "cp"),
    ("osmand-go", lambda la, lo, d: f"https://osmand.net/go?lat={dd(la, d)}&lon={dd(lo, d)}&z=16", "lat"),
    ("osmand-pin", lambda la, lo, d: (
        f"https://osmand.net/map?pin={dd(la, d)},{dd(lo, d)}#16/{dd(la, d)}/{dd(lo, d)}"), "pin"),
    ("here-share", lambda la, lo, d: f"https://share.here.com/l/{dd(la, d)},{dd(lo, d)},Lokasi?z=16&t=normal", "path"),
    ("here-wego", lambda la, lo, d: f"https://wego.here.com/?map={dd(la, d)},{dd(lo, d)},16,normal", "map"),
    ("osm-marker", lambda la, lo, d: (
        f"https://www.openstreetmap.org/?mlat={dd(la, d)}&mlon={dd(lo, d)}#map=17/{centre_of(la, lo, '/')}"), "mlat"),
    ("osm-map-hash", lambda la, lo, d: f"https://www.openstreetmap.org/#map=18/{dd(la, d)}/{dd(lo, d)}", "map_centre"),
    ("osm-route", lambda la, lo, d: (
        f"https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route=-8.6500%2C115.2167%3B{dd(la, d)}"
        f"%2C{dd(lo, d)}"), "destination"),
    # percent-encoded separators and "+" for a space, as browsers and share sheets write them
    ("google-q-comma-encoded", lambda la, lo, d: f"https://maps.google.com/?q={dd(la, d)}%2C{dd(lo, d)}", "q"),
    ("google-q-comma-plus", lambda la, lo, d: f"https://www.google.com/maps?q={dd(la, d)},+{dd(lo, d)}", "q"),
    ("google-q-encoded-comma-plus", lambda la, lo, d: f"https://www.google.com/maps?q={dd(la, d)}%2C+{dd(lo, d)}", "q"),
    ("google-q-encoded-comma-space", lambda la, lo, d: (
        f"https://www.google.com/maps?q={dd(la, d)}%2C%20{dd(lo, d)}"), "q"),
    ("google-q-plus", lambda la, lo, d: f"https://www.google.com/maps?q={dd(la, d)}+{dd(lo, d)}", "q"),
    ("google-q-loc-plus", lambda la, lo, d: f"https://maps.google.com/maps?q=loc:{dd(la, d)}+{dd(lo, d)}&z=17", "q"),
    ("google-search-path-plus", lambda la, lo, d: f"https://www.google.com/maps/search/{dd(la, d)},+{dd(lo, d)}?entry=tts",
     "path"),
    ("waze-ul-encoded", lambda la, lo, d: f"https://waze.com/ul?ll={dd(la, d)}%2C{dd(lo, d)}&navigate=yes&zoom=17",
     "ll"),
    ("apple-q-encoded", lambda la, lo, d: f"https://maps.apple.com/?q={dd(la, d)}%2C{dd(lo, d)}&sll={dd(la, d)}"
     f"%2C{dd(lo, d)}", "q"),
]


def _half_cell_m(lat: float, step_lat_deg: float, step_lon_deg: float) -> float:
    """Half-diagonal in metres of the rounding cell of the last written digits, plus float noise."""
    dy = step_lat_deg * M_PER_DEG_MAX
    dx = step_lon_deg * M_PER_DEG_MAX * math.cos(math.radians(min(abs(lat), 90.0)))
    return 0.5 * math.hypot(dx, dy) + 0.01


def check(text: str, lat: float, lon: float, fmt: str, tol_m: float, source: str | None = None) -> None:
    """``text`` reads back as ``(lon, lat)`` within ``tol_m``, in format ``fmt``, and the parser's own
    precision covers the error."""
    p = parse_coordinate_text(text)
    assert p.format == fmt, text
    error_m = distance_m(p.lon, p.lat, lon, lat)
    assert error_m <= tol_m, (text, error_m)
    assert p.precision_m is None or error_m <= p.precision_m * 1.01 + 0.01, (text, error_m, p.precision_m)
    assert not p.notes and not p.others, text
    if p.order_source == "assumed":  # an unlabelled pair: latitude first, and the swap offered
        assert p.ambiguous_readings in ((), ((p.lat, p.lon),)), text
    else:
        assert not p.ambiguous_readings, text
    if source is not None:
        assert p.extra["url_source"] == source, text


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(("render", "source"), [c[1:] for c in LINK_CASES], ids=[c[0] for c in LINK_CASES])
@ROUND_TRIP
@given(lat=lats, lon=lons, d=decimals)
def test_share_link_round_trip(render: Render, source: str, lat: float, lon: float, d: int) -> None:
    step = 10.0**-d
    check(render(lat, lon, d), lat, lon, "url", _half_cell_m(lat, step, step), source)


# --------------------------------------------------------------------------- labelled text

LABELLED = [
    ("lat-long", lambda la, lo, d: f"Lat: {dd(la, d)} Long: {dd(lo, d)}"),
    ("lat-long-lines", lambda la, lo, d: f"Lat: {dd(la, d)}\nLong: {dd(lo, d)}"),
    ("long-lat", lambda la, lo, d: f"Long: {dd(lo, d)}, Lat: {dd(la, d)}"),
    ("latitude-longitude", lambda la, lo, d: f"latitude {dd(la, d)} longitude {dd(lo, d)}"),
    ("Latitude-Longitude-colon", lambda la, lo, d: f"Latitude: {dd(la, d)}, Longitude: {dd(lo, d)}"),
    ("lintang-bujur", lambda la, lo, d: f"Lintang {dd(la, d)} Bujur {dd(lo, d)}"),
    ("lintang-bujur-comma", lambda la, lo, d: f"Lintang: {dd(la, d).replace('.', ',')} Bujur: {dd(lo, d).replace('.', ',')}"),
    ("bujur-lintang", lambda la, lo, d: f"Bujur {dd(lo, d)} Lintang {dd(la, d)}"),
]


@pytest.mark.parametrize("render", [c[1] for c in LABELLED], ids=[c[0] for c in LABELLED])
@ROUND_TRIP
@given(lat=lats, lon=lons, d=decimals)
def test_labelled_text_round_trip(render: Render, lat: float, lon: float, d: int) -> None:
    text = render(lat, lon, d)
    step = 10.0**-d
    check(text, lat, lon, "decimal", _half_cell_m(lat, step, step))
    assert parse_coordinate_text(text).order_source == "explicit", text


# --------------------------------------------------------------------------- degree formats


def dotted(lat: float, lon: float, second_decimals: int, words: str) -> str:
    """Dotted D.M.S as typed in Indonesia: ``8.21.29 LS 114.37.11 BT``, ``-8.21.29,5 114.37.11,3``."""
    out = []
    for value, pos, neg in ((lat, "LU", "LS"), (lon, "BT", "BB")):
        deg, minutes, sec = dms_parts(value, second_decimals)
        seconds = f"{sec:0{3 + second_decimals if second_decimals else 2}.{second_decimals}f}".replace(".", ",")
        if words == "signed":
            sign = "-" if value < 0 else ""
            out.append(f"{sign}{deg}.{minutes:02d}.{seconds}")
        else:
            out.append(f"{deg}.{minutes:02d}.{seconds} {neg if value < 0 else pos}")
    return " ".join(out)


def compact(lat: float, lon: float, places: int, seconds: bool, space: bool, letter_first: bool) -> str:
    """``DDMM.mmS DDDMM.mmE`` or ``DDMMSS.sS DDDMMSS.sE`` (``places`` decimals of the last unit)."""
    out = []
    for value, width, pos, neg in ((lat, 2, "N", "S"), (lon, 3, "E", "W")):
        hemi = neg if value < 0 else pos
        if seconds:
            deg, minutes, sec = dms_parts(value, places)
            digits = f"{deg:0{width}d}{minutes:02d}{sec:0{3 + places if places else 2}.{places}f}"
        else:
            deg, mins = ddm_parts(value, places)
            digits = f"{deg:0{width}d}{mins:0{3 + places if places else 2}.{places}f}"
        out.append(f"{hemi}{digits}" if letter_first else f"{digits}{hemi}")
    return (" " if space else "").join(out)


@ROUND_TRIP
@given(lat=lats, lon=lons, second_decimals=st.integers(0, 2), words=st.sampled_from(["words", "signed"]))
def test_dotted_dms_round_trip(lat: float, lon: float, second_decimals: int, words: str) -> None:
    step = 10.0**-second_decimals / 3600
    check(dotted(lat, lon, second_decimals, words), lat, lon, "dms_dotted", _half_cell_m(lat, step, step))


@ROUND_TRIP
@given(lat=lats, lon=lons, places=st.integers(1, 4), seconds=st.booleans(), space=st.booleans(),
       letter_first=st.booleans())
def test_compact_round_trip(lat: float, lon: float, places: int, seconds: bool, space: bool,
                            letter_first: bool) -> None:
    step = 10.0**-places / (3600 if seconds else 60)
    check(compact(lat, lon, places, seconds, space, letter_first), lat, lon, "compact", _half_cell_m(lat, step, step))


# --------------------------------------------------------------------------- NMEA


def nmea(lat: float, lon: float, kind: str, talker: str, places: int) -> str:
    lat_d, lat_m = ddm_parts(lat, places)
    lon_d, lon_m = ddm_parts(lon, places)
    width = 3 + places
    lat_f = f"{lat_d:02d}{lat_m:0{width}.{places}f},{'S' if lat < 0 else 'N'}"
    lon_f = f"{lon_d:03d}{lon_m:0{width}.{places}f},{'W' if lon < 0 else 'E'}"
    if kind == "GGA":
        body = f"{talker}GGA,123519.00,{lat_f},{lon_f},1,08,0.9,545.4,M,46.9,M,,"
    else:
        body = f"{talker}RMC,123519.00,A,{lat_f},{lon_f},0.02,84.4,301126,,,A"
    return f"${body}*{nmea_checksum(body)}"


@ROUND_TRIP
@given(lat=lats, lon=lons, kind=st.sampled_from(["GGA", "RMC"]), talker=st.sampled_from(["GP", "GN", "GL"]),
       places=st.integers(2, 5))
def test_nmea_round_trip(lat: float, lon: float, kind: str, talker: str, places: int) -> None:
    text = nmea(lat, lon, kind, talker, places)
    step = 10.0**-places / 60
    check(text, lat, lon, "nmea", _half_cell_m(lat, step, step))
    assert parse_coordinate_text(text).extra["sentence"] == talker + kind


# --------------------------------------------------------------------------- machine formats

MACHINE: list[tuple[str, Render, str]] = [
    ("wkt", lambda la, lo, d: f"POINT({dd(lo, d)} {dd(la, d)})", "wkt"),
    ("wkt-spaced", lambda la, lo, d: f"POINT ({dd(lo, d)} {dd(la, d)})", "wkt"),
    ("wkt-z", lambda la, lo, d: f"POINT Z ({dd(lo, d)} {dd(la, d)} 12.5)", "wkt"),
    ("ewkt", lambda la, lo, d: f"SRID=4326;POINT({dd(lo, d)} {dd(la, d)})", "wkt"),
    ("geojson-point", lambda la, lo, d: json.dumps({"type": "Point", "coordinates": [round(lo, d), round(la, d)]}),
     "geojson"),
    ("geojson-feature", lambda la, lo, d: json.dumps({
        "type": "Feature", "properties": {"name": "Lokasi kejadian"},
        "geometry": {"type": "Point", "coordinates": [round(lo, d), round(la, d), 0.0]}}, indent=2), "geojson"),
    ("geojson-full-precision", lambda la, lo, d: json.dumps({"type": "Point", "coordinates": [lo, la]}), "geojson"),
    ("kml-placemark", lambda la, lo, d: (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
        f"<name>Lokasi</name><Point>\n  <coordinates>\n    {dd(lo, d)},{dd(la, d)},0\n  </coordinates>\n"
        "</Point></Placemark></kml>"), "kml"),
    ("kml-no-altitude", lambda la, lo, d: f"<Point><coordinates>{dd(lo, d)},{dd(la, d)}</coordinates></Point>", "kml"),
]


@pytest.mark.parametrize(("render", "fmt"), [c[1:] for c in MACHINE], ids=[c[0] for c in MACHINE])
@ROUND_TRIP
@given(lat=lats, lon=lons, d=decimals)
@example(lat=1e-07, lon=114.6, d=7).via("JSON writes tiny numbers with an exponent")
def test_machine_format_round_trip(render: Render, fmt: str, lat: float, lon: float, d: int) -> None:
    step = 10.0**-d
    check(render(lat, lon, d), lat, lon, fmt, _half_cell_m(lat, step, step))


def test_renderers_write_what_the_apps_write() -> None:
    """The renderers above, on Polsek Negara, against texts copied from the apps and documents."""
    lat, lon = -8.358194, 114.619806
    assert dotted(lat, lon, 0, "words") == "8.21.29 LS 114.37.11 BT"
    assert dotted(lat, lon, 1, "signed") == "-8.21.29,5 114.37.11,3"
    assert compact(lat, lon, 2, False, False, False) == "0821.49S11437.19E"
    assert compact(lat, lon, 1, True, True, False) == "082129.5S 1143711.3E"
    assert nmea(lat, lon, "RMC", "GP", 4).startswith("$GPRMC,123519.00,A,0821.4916,S,11437.1884,E,")
    # the checksum of the NMEA 0183 standard's own GGA example
    assert nmea_checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") == "47"
    cases: dict[str, Any] = {c[0]: c[1] for c in LINK_CASES}
    assert cases["waze-directions"](lat, lon, 6) == (
        "https://www.waze.com/live-map/directions?to=ll.-8.358194%2C114.619806")
    assert cases["bing-cp"](lat, lon, 6).startswith("https://www.bing.com/maps?cp=-8.358194~114.619806&")
