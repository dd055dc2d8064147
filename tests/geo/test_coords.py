"""Parser tests: one per input format with real Bali points, garbage refusal and a fuzz test."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_service import errors
from geo_service.geo.coords import MAX_TEXT_LENGTH, parse_coordinate_numbers, parse_coordinate_text
from geo_service.geo.distance import distance_m

FUZZ = settings.get_profile("fuzz" if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else "small")

# Polsek Negara (Jembrana): 8°21'29.5" S 114°37'11.3" E
NEGARA = (114.619806, -8.358194)


def near(p, lon: float, lat: float, tol_m: float = 2.0) -> bool:
    return distance_m(p.lon, p.lat, lon, lat) <= tol_m


@pytest.mark.parametrize(
    "text",
    [
        "8°21'29.5\" LS 114°37'11.3\" BT",
        "114°37'11.3\" BT 8°21'29.5\" LS",
        "8°21′29.5″ S 114°37′11.3″ E",
        "8 21 29.5 S 114 37 11.3 E",
        "S 8 21 29.5 E 114 37 11.3",
        "S8°21'29.5\" E114°37'11.3\"",
        "8d21m29.5s S 114d37m11.3s E",
        "8 derajat 21 menit 29,5 detik LS 114 derajat 37 menit 11,3 detik BT",
        "lintang selatan 8°21'29.5\" bujur timur 114°37'11.3\"",
        "-8 21 29.5 114 37 11.3",
        "8°21'29.5\"S, 114°37'11.3\"E",
    ],
)
def test_dms_variants(text: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == "dms"
    assert near(p, *NEGARA)
    assert p.lat_sign_explicit


@pytest.mark.parametrize(
    "text",
    ["8°21.492' S 114°37.188' E", "8°21,492' LS 114°37,188' BT", "S 8 21.492 E 114 37.188",
     "-8 21.492 114 37.188"],
)
def test_ddm_variants(text: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == "ddm"
    assert near(p, 114.6198, -8.3582)


@pytest.mark.parametrize(
    "text",
    [
        "-8.3582, 114.6198", "-8,3582; 114,6198", "-8,3582 114,6198", "-8.3582 114.6198",
        "−8.3582, 114.6198", "8.3582 S 114.6198 E", "8.3582S,114.6198E", "114.6198 BT 8.3582 LS",
        "lat: -8.3582, lng: 114.6198", "lintang -8.3582 bujur 114.6198", "lon 114.6198 lat -8.3582",
        "114.6198, -8.3582", "[114.6198, -8.3582]", "(-8.3582, 114.6198)", "Lokasi: -8.3582, 114.6198",
        "S 8.3582 E 114.6198", "N -8.3582 E 114.6198".replace("N -", "S "),
    ],
)
def test_decimal_variants(text: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == "decimal"
    assert (p.lat, p.lon) == (-8.3582, 114.6198)
    assert p.decimals == 4


def test_decimal_order_sources() -> None:
    assert parse_coordinate_text("-8.3582, 114.6198").order_source == "assumed"
    assert parse_coordinate_text("114.6198, -8.3582").order_source == "range"
    assert parse_coordinate_text("8.3582 S 114.6198 E").order_source == "explicit"


def test_comma_separator_with_integers() -> None:
    p = parse_coordinate_text("-8,115")
    assert (p.lat, p.lon, p.decimals) == (-8.0, 115.0, 0)


def test_near_equator_unsigned_lat_has_unwritten_sign() -> None:
    p = parse_coordinate_text("0.0300, 109.3300")
    assert not p.lat_sign_explicit and p.lat == 0.03


@pytest.mark.parametrize(
    "text",
    ["50L 222679 9091964", "50S 222679 9091964", "zona 50 S 222679 9091964", "UTM 50 S 222679mE 9091964mN",
     "50 selatan 222679 9091964"],
)
def test_utm(text: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == "utm"
    assert near(p, 114.482954, -8.206854, 1.0)
    assert p.ambiguous_readings == ()  # band S (32..40 N) cannot hold northing 9,091,964


def test_utm_s_band_alternative_when_plausible() -> None:
    p = parse_coordinate_text("50S 500000 3800000")
    assert p.lat < 0  # Indonesian reading: zone 50 south
    assert p.ambiguous_codes == ("UTM_BAND_LETTER",)
    assert 32 <= p.ambiguous_readings[0][1] <= 40


@pytest.mark.parametrize("text", ["50LKR8597860562", "50L KR 85978 60562", "50lkr8597860562"])
def test_mgrs(text: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == "mgrs"
    assert near(p, 115.055814, -8.493910, 1.0)


def test_mgrs_low_precision_is_cell_centre() -> None:
    p = parse_coordinate_text("50LKR859605")
    assert p.precision_m == pytest.approx(70.7, abs=0.1)
    assert near(p, 115.055814, -8.493910, 100)


def test_pluscode_full_and_short() -> None:
    p = parse_coordinate_text("6P3PJJRC+R22")
    assert p.format == "pluscode" and near(p, 114.62, -8.358, 5)
    short = parse_coordinate_text("JJRC+R2 Negara", reference=(114.6, -8.3))
    assert near(short, 114.62, -8.358, 15) and short.extra["locality"] == "Negara"
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("JJRC+R2")


def test_geo_uri() -> None:
    p = parse_coordinate_text("geo:-8.3582,114.6198;u=35")
    assert (p.format, p.lat, p.lon, p.uncertainty_m) == ("geo_uri", -8.3582, 114.6198, 35.0)
    p = parse_coordinate_text("geo:-8.3582,114.6198,12;crs=wgs84;u=10")
    assert p.uncertainty_m == 10.0
    p = parse_coordinate_text("geo:0,0?q=-8.3582,114.6198(Polsek Negara)")
    assert (p.lat, p.lon) == (-8.3582, 114.6198)
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("geo:-8.3582,114.6198;crs=nad27")


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://www.google.com/maps/place/Polsek+Negara/@-8.30,114.50,13z/data=!3m1!4b1!4m6!3m5"
         "!1s0x2dd3:0x1!8m2!3d-8.3582!4d114.6198!16s%2Fg%2F11", "place"),
        ("https://maps.google.com/?q=-8.3582,114.6198", "q"),
        ("https://www.google.com/maps?ll=-8.3582,114.6198&z=16", "ll"),
        ("https://www.google.com/maps/search/?api=1&query=-8.3582%2C114.6198", "query"),
        ("https://www.google.co.id/maps/search/-8.3582,+114.6198", "path"),
        ("https://www.google.com/maps/@-8.3582,114.6198,15z", "map_centre"),
        ("https://www.openstreetmap.org/?mlat=-8.3582&mlon=114.6198#map=17/-8.30/114.50", "mlat"),
        ("https://www.openstreetmap.org/#map=17/-8.3582/114.6198", "map_centre"),
    ],
)
def test_urls(url: str, source: str) -> None:
    p = parse_coordinate_text(url)
    assert (p.format, p.lat, p.lon) == ("url", -8.3582, 114.6198)
    assert p.extra["url_source"] == source


def test_seconds_then_hemisphere_letter_keeps_the_hemisphere() -> None:
    """Regression: the S of '29.5S' was read as the seconds mark, putting the point north."""
    for text in ("8d21m29.5S 114d37m11.3E", "8°21'29.5S 114°37'11.3E", "114d37m11.3E 8d21m29.5S"):
        p = parse_coordinate_text(text)
        assert near(p, *NEGARA), text
    p = parse_coordinate_text("8d21m29.5s 114d37m11.3s")  # no hemisphere anywhere: s is the seconds mark
    assert p.lat > 0 and p.format == "dms"


def test_short_map_link_refused() -> None:
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("https://maps.app.goo.gl/abcdEFGH")


def test_aml() -> None:
    body = ('A"ML=1;lt=-8.35820;lg=+114.61980;rd=50;top=20240115083000;lc=68;pm=G;'
            "si=510101234567890;ei=35;mcc=510")
    p = parse_coordinate_text(body)
    assert (p.format, p.lat, p.lon, p.uncertainty_m) == ("aml", -8.3582, 114.6198, 50.0)
    assert p.extra == {"top": "20240115083000", "lc": "68", "pm": "G", "mcc": "510"}  # no IMSI/IMEI


@pytest.mark.parametrize("crs", ["EPSG:32750", "EPSG:23880", "EPSG:9490"])
def test_projected_text(crs: str) -> None:
    p = parse_coordinate_text("222679 9091964", crs=crs)
    assert p.format == "projected" and p.reprojected_from == crs
    assert abs(p.lon - 114.483) < 0.01 and abs(p.lat + 8.207) < 0.01
    assert parse_coordinate_text("N 9091964 E 222679", crs=crs).lon == p.lon
    assert parse_coordinate_text("9091964, 222679", crs=crs).lon == p.lon


def test_geographic_foreign_datum() -> None:
    p = parse_coordinate_text("-8.3582, 114.6198", crs="EPSG:4755")
    assert p.reprojected_from == "EPSG:4755"
    assert near(p, 114.6198, -8.3582, 5)  # DGN95 -> WGS 84 is a null shift
    assert parse_coordinate_text("-8.3582, 114.6198", crs="EPSG:4326").reprojected_from is None


def test_numbers() -> None:
    p = parse_coordinate_numbers(-8.3582, 114.6198)
    assert (p.lon, p.lat, p.decimals, p.order_source) == (114.6198, -8.3582, 4, "explicit")
    q = parse_coordinate_numbers(114.6198, -8.3582, order="lonlat")
    assert (q.lon, q.lat) == (p.lon, p.lat)
    r = parse_coordinate_numbers(9091964, 222679, crs="EPSG:32750")  # lat slot = northing
    s = parse_coordinate_numbers(222679, 9091964, crs="EPSG:32750", order="xy")
    assert (r.lon, r.lat) == (s.lon, s.lat) and abs(r.lat + 8.207) < 0.01
    with pytest.raises(errors.BadRequest):
        parse_coordinate_numbers("1", 2)  # type: ignore[arg-type]
    with pytest.raises(errors.BadRequest):
        parse_coordinate_numbers(True, 2)
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_numbers(math.nan, 2)


@pytest.mark.parametrize("crs", ["EPSG:999999", "foo", "+proj=longlat", "EPSG:4978", "x" * 500])
def test_unknown_crs(crs: str) -> None:
    with pytest.raises(errors.UnknownCRS):
        parse_coordinate_text("-8.3582, 114.6198", crs=crs)
    with pytest.raises(errors.UnknownCRS):
        parse_coordinate_numbers(-8.3582, 114.6198, crs=crs)


GARBAGE = [
    "", "   ", "abc", "hello world 1", "8°21'29.5\"", "8 S", "1 2 3", "8°61' S 114° E", "8 21 61 S 114 E",
    "-8 -21 114 37", "8.5 21 S 114 E", "S S 8 114", "-8 N 114 E", "8 N 114 N", "lat 1 lat 2",
    "geo:abc", "https://example.com/?q=-8.3,114.6", "https://www.google.com/maps/place/Negara",
    "lt=;lg=", "JJRC+R2", "50X", "☃☃☃", "8\x00 114", "1" * 5000, "-8.3" + ",-" * 100_000,
]


@pytest.mark.parametrize("text", GARBAGE, ids=lambda t: repr(t[:20]))
def test_garbage_refused(text: str) -> None:
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "8" * 1999, "8 " * 999, "°" * 1999, "8°" * 999, "-8.3 " * 399, "S " * 999, "50 s " + " ," * 990,
        "geo:1,1" + ";a=b" * 480, "lt=1;lg=2;" * 199, "https://www.google.com/maps/@" + "1," * 600,
        "2" * 8 + "+" + "2" * 1990, "x=" * 999, "1.1.1.1." * 249, "8'" * 999 + "\"",
    ],
    ids=lambda t: repr(t[:12]),
)
def test_adversarial_fast(text: str) -> None:
    """Long repetitive input is answered in linear time (a reading or CoordinateInvalid)."""
    start = time.process_time()  # CPU time: other work on a shared machine does not count
    try:
        parse_coordinate_text(text)
    except errors.CoordinateInvalid:
        pass
    assert time.process_time() - start < 0.05


def test_huge_input_refused_quickly() -> None:
    text = "-8.3582, 114.6198 " * 60_000  # about 1 MB
    start = time.process_time()  # CPU time: other work on a shared machine does not count
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text(text)
    assert time.process_time() - start < 0.01
    assert len(text) > MAX_TEXT_LENGTH


_ALPHABET = st.sampled_from(list("0123456789.,;:-+ °'\"′″NSEWnsewdmLSUTBlatongeo:=?&#/!@+CFGHJMPQRVWXkr") + [
    "LS", "LU", "BT", "BB", "derajat", "menit", "detik", "lintang", "bujur", "selatan", "geo:", "https://",
    "google.com/maps", "openstreetmap.org", "lt=", "lg=", "rd=", "zona", "utm", "!3d", "!4d", "mlat=",
    # issue #15: messages, links of every app, machine formats, unicode
    "comgooglemaps://?q=", "waze.com/ul?ll=", "bing.com/maps?cp=", "~", "maps.apple.com/?ll=", "osmand.net/go?",
    "maps.app.goo.gl/", "%2C", "{", "}", '"lat":', '"lng":', '"accuracy":', '{"type":"Point","coordinates":[',
    "]", "POINT(", ")", "SRID=4326;", "<coordinates>", "</coordinates>", "$GPGGA,", "$GNRMC,", "*", "lat=",
    "&lon=", "\u2212", "\u00a0", "\u200b", "\uff11", "\uff0e", "///", "📍", "\n", "Rp", "+62", "jam", "8.21.29",
    "0821.49", "S", "E",
])


@FUZZ
@given(st.lists(_ALPHABET, max_size=40).map("".join) | st.text(max_size=200))
def test_fuzz_parser_only_raises_coordinate_invalid(text: str) -> None:
    try:
        p = parse_coordinate_text(text, reference=(115.2, -8.65))
    except errors.CoordinateInvalid:
        return
    assert isinstance(p.lon, float) and isinstance(p.lat, float)


def _parse_both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The reading (or the refusal) of ``text`` by the parser as it is and by its general path
    alone (the tokenizer, without the shortcut for the commonest texts)."""
    from geo_service.geo import coords

    def read() -> Any:
        try:
            p = coords.parse_coordinate_text(text)
        except errors.CoordinateInvalid as exc:
            return ("refused", str(exc), exc.extra)
        return (p, p.extra, p.notes, p.others)

    fast = read()
    with monkeypatch.context() as m:
        m.setattr(coords, "_common_groups", lambda _text: None)
        general = read()
    return fast, general


def test_common_texts_read_as_by_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut for decimal pairs and LS/BT DMS pairs (issue 13) agrees with the tokenizer on
    thousands of random texts of both shapes, edge values included (minutes or seconds of 60 and
    more, degrees past 90 or 180, signs, zeros, many decimals, either case of the words)."""
    import random

    rnd = random.Random(13)

    def num(max_int: int) -> str:
        whole = str(rnd.choice([0, 1, rnd.randint(0, max_int), max_int, max_int + rnd.randint(1, 500)]))
        return f"{whole}.{''.join(rnd.choice('0123456789') for _ in range(rnd.randint(1, 12)))}"

    def decimal_pair() -> str:
        sign = lambda: rnd.choice(["", "", "-", "+"])  # noqa: E731
        return f"{sign()}{num(90)}{rnd.choice([', ', ',', ' '])}{sign()}{num(180)}"

    def dms_pair() -> str:
        def part(deg: int) -> str:
            seconds = str(rnd.choice([0, 5, 29, 59, 60, 75, rnd.randint(0, 99)]))
            if rnd.random() < 0.5:
                seconds += "." + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 4)))
            minutes = rnd.choice([0, 7, 21, 59, 60, 61, rnd.randint(0, 99)])
            return f"{rnd.choice([0, rnd.randint(0, deg), deg, deg + 7, 999])}°{minutes}'{seconds}\""
        lat_word = rnd.choice(["LS", "ls", "Ls", "LU", "lu", "lU"])
        lon_word = rnd.choice(["BT", "bt", "Bt", "BB", "bb", "bB"])
        return f"{part(90)} {lat_word} {part(180)} {lon_word}"

    texts = [decimal_pair() for _ in range(2500)] + [dms_pair() for _ in range(2500)]
    texts += ["-8.4321, 115.2345", "115.2345 -8.4321", "0.0, 0.0", "-0.0 -0.0", "8°21'29.5\" LS 114°37'11.3\" BT",
              "8°60'00\" LS 114°37'11\" BT", "8°21'60\" LS 114°37'11\" BT", "95.5, 95.5", "-8.5 115.5"]
    refused = 0
    for text in texts:
        fast, general = _parse_both(text, monkeypatch)
        assert fast == general, text
        refused += fast[0] == "refused"
    assert 0 < refused < len(texts) // 2  # the edge values were reached, the common ones read


@pytest.mark.parametrize("text", [
    "8°21'29.5\" LS 114°37'11.3\" BT", "-8.4321, 115.2345", "-8.4321,115.2345", "-8.4321 115.2345",
    "115.2345, -8.4321", "8°21'29\" lu 114°37'11\" bb", "8°59'59.999\" LS 114°0'0\" BT",
])
def test_common_texts_take_the_shortcut(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """These texts do not reach the tokenizer (that is where the time went), and read as before."""
    from geo_service.geo import coords

    fast, general = _parse_both(text, monkeypatch)
    assert fast == general
    monkeypatch.setattr(coords, "_tokenise", lambda *_a, **_k: pytest.fail("the tokenizer ran"))
    assert coords.parse_coordinate_text(text) == fast[0]


def test_google_map_centre_links_read_as_by_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut for ``google.com/maps/@lat,lon,zoom`` links (issue 13) reads thousands of random
    such links (and near misses: more digits than a link number has, signs, other hosts, a tail)
    as the full link reader does, down to the coordinate parsed from them."""
    import random

    from geo_service.geo import links

    rnd = random.Random(17)

    def number() -> str:
        whole = str(rnd.choice([0, 8, 115, rnd.randint(0, 999), rnd.randint(1000, 99999)]))
        decimals = rnd.choice([0, 1, 4, 6, 20, 21, 25, rnd.randint(0, 22)])
        return rnd.choice(["", "", "-", "+"]) + whole + ("." + "7" * decimals if decimals else "")

    def link() -> str:
        zoom = rnd.choice(["17z", "3z", "17.5z", "123z", "0z", "17", "21.25z"])
        tail = rnd.choice(["", "", "", "/data=!3m1!1e3", "?entry=ttu", ",5z"])
        host = rnd.choice(["https://www.google.com", "https://google.com", "https://maps.google.com",
                           "http://www.google.com", "https://www.google.co.id"])
        return f"{host}/maps/@{number()},{number()},{zoom}{tail}"

    def read(text: str) -> Any:
        try:
            return links.read_map_link(text)
        except errors.CoordinateInvalid as exc:
            return ("refused", str(exc), exc.extra)

    def common() -> str:  # as phones share them
        return (f"https://{rnd.choice(['www.', ''])}google.com/maps/@-8.{rnd.randint(0, 10**rnd.randint(1, 15))},"
                f"115.{rnd.randint(0, 10**rnd.randint(1, 15))},{rnd.randint(1, 21)}z")

    texts = [link() for _ in range(2000)] + [common() for _ in range(1000)]
    texts += ["https://www.google.com/maps/@-8.3582,114.6198,15z"]
    shortcut = 0
    for text in texts:
        fast = read(text)
        fast_parse = _parse_both(text, monkeypatch)[0]
        shortcut += links._GOOGLE_CENTRE_RE.fullmatch(text) is not None
        with monkeypatch.context() as m:
            m.setattr(links, "_GOOGLE_CENTRE_RE", links.re.compile(r"(?!)"))
            assert read(text) == fast, text
            assert _parse_both(text, monkeypatch)[0] == fast_parse, text
    assert 300 < shortcut < len(texts) - 300  # both paths were taken
