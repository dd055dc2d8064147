"""Messages as people forward them (issue #15): coordinates, links and codes inside free text,
share links of every common map app, machine formats, new degree formats, negatives with a hint,
and the bounded short-link expander against a fake server on 127.0.0.1."""

from __future__ import annotations

import http.server
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from geo_service import errors
from geo_service.geo import formats
from geo_service.geo.coords import parse_coordinate_text
from geo_service.geo.distance import distance_m
from geo_service.geo.validate import validate_coordinate
from geo_service.services.short_links import ShortLinkExpander

# Polsek Negara (Jembrana): 8°21'29.5" S 114°37'11.3" E
LON, LAT = 114.619806, -8.358194
# Denpasar: a different point
DPS = (115.2167, -8.6500)


def near(p: Any, lon: float = LON, lat: float = LAT, tol_m: float = 25.0) -> bool:
    return distance_m(p.lon, p.lat, lon, lat) <= tol_m


def notes(p: Any) -> list[str]:
    return [code for code, _ in p.notes]


# --------------------------------------------------------------------------- free text

MESSAGES = [
    # (id, message, format)
    ("wa-emoji-lines", "Pak tolong 🙏🙏\n📍 -8.358194, 114.619806\n(dekat pasar) cepat ya!!", "decimal"),
    ("wa-caption-after", "-8.358194,114.619806 ini lokasinya pak, ada kecelakaan", "decimal"),
    ("sms-chatty", "Tlg pak ada laka di -8.358194,114.619806 dkt SPBU. Korban 2 org. HP 081234567890", "decimal"),
    ("sms-comma-decimals", "lokasi: -8,358194 114,619806 mohon bantuan", "decimal"),
    ("labelled-lat-long", "Lokasi kejadian (dekat pasar) Lat: -8.358194 Long: 114.619806 ya pak 🙏", "decimal"),
    ("labelled-latitude", "Posisi saya latitude -8.358194 longitude 114.619806, tolong cepat", "decimal"),
    ("lintang-bujur", "Korban di Lintang -8.358194 Bujur 114.619806 sebelah warung", "decimal"),
    ("dms-in-text", "Koordinat 8°21'29.5\" LS 114°37'11.3\" BT, 5 orang luka", "dms"),
    ("dms-words-lines", "Titik:\n8 derajat 21 menit 29,5 detik LS\n114 derajat 37 menit 11,3 detik BT\nterima kasih",
     "dms"),
    ("google-link-in-text", "Ini pak https://maps.google.com/?q=-8.358194,114.619806 tolong dicek", "url"),
    ("google-link-no-scheme", "cek maps.google.com/?q=-8.358194,114.619806 ya", "url"),
    ("link-in-parentheses", "lokasi (https://www.google.com/maps/search/?api=1&query=-8.358194%2C114.619806).", "url"),
    ("geo-uri-in-text", "Dari HP: geo:-8.358194,114.619806;u=12 (GPS)", "geo_uri"),
    ("pluscode-in-text", "Plus code 6P3PJJR9+PWF dekat masjid", "pluscode"),
    ("android-location", "Location[fused -8.358194,114.619806 hAcc=14 et=+1d2h3m mock]", "decimal"),
    ("keyvalue-in-text", "tracker: lat=-8.358194&lon=114.619806 spd=0", "keyvalue"),
    ("json-in-text", 'app kirim {"lat": -8.358194, "lng": 114.619806, "accuracy": 15} jam 10:30', "json"),
    ("wkt-in-text", "from GIS: POINT(114.619806 -8.358194) ok", "wkt"),
    ("dotted-in-text", "Lokasi 8.21.29,5 LS 114.37.11,3 BT dekat jembatan", "dms_dotted"),
    ("compact-in-text", "pos 0821.4917S11437.1884E via radio", "compact"),
    ("hemisphere-after-seconds", "pos 8d21m29.5S 114d37m11.3E ok", "dms"),
]


@pytest.mark.parametrize(("message", "fmt"), [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES])
def test_coordinate_inside_free_text(message: str, fmt: str, bali_area: Any) -> None:
    p = parse_coordinate_text(message)
    assert p.format == fmt
    assert near(p), (p.lon, p.lat)
    assert notes(p) == ["TEXT_IGNORED"] and not p.others
    ignored = dict(p.notes)["TEXT_IGNORED"]
    assert ignored["chars"] > 0 and len(ignored["excerpt"]) <= 40
    r = validate_coordinate(text=message, area=bali_area)
    assert r.status == "valid", r.codes
    assert r.format == fmt and "TEXT_IGNORED" in r.codes
    flag = next(f for f in r.to_dict("en")["flags"] if f["code"] == "TEXT_IGNORED")
    assert "ignored" in flag["message"] and "?" not in flag["message"]


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("Posisi tim SAR: UTM 50L 222679 9091964 dekat sungai", "utm"),
     ("lokasi zona 50 S 222679mE 9091964mN, mohon bantuan", "utm"),
     ("grid 50LKR8597860562 tim SAR", "mgrs")],
)
def test_grid_references_inside_text(text: str, fmt: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == fmt and notes(p) == ["TEXT_IGNORED"]
    assert -8.6 < p.lat < -8.1 and 114.4 < p.lon < 115.1


def test_caption_words_before_the_numbers_are_reported() -> None:
    p = parse_coordinate_text("Pak tolong kirim polisi -8.358194, 114.619806")
    assert p.format == "decimal" and dict(p.notes)["TEXT_IGNORED"]["excerpt"] == "pak tolong kirim polisi"
    assert not parse_coordinate_text("Lokasi: -8.358194, 114.619806").notes  # a caption word alone is no loss
    q = parse_coordinate_text("pos 8d21m29.5S 114d37m11.3E")
    assert q.lat < 0 and notes(q) == ["TEXT_IGNORED"]


def test_the_same_point_twice_is_one() -> None:
    msg = ("📍 Lokasi kejadian\n-8.358194, 114.619806\nhttps://www.google.com/maps?q=-8.358194,114.619806\n"
           "geo:-8.3582,114.6198")
    p = parse_coordinate_text(msg)
    assert not p.others and near(p, tol_m=1)
    assert p.decimals == 6  # the more precise writing is kept


def test_different_points_are_candidates_never_a_silent_pick(bali_area: Any) -> None:
    msg = "Dua lokasi: -8.358194, 114.619806 dan satu lagi -8.650000, 115.216700 mana yang benar?"
    p = parse_coordinate_text(msg)
    assert len(p.others) == 1
    r = validate_coordinate(text=msg, area=bali_area)
    assert r.status == "suspect" and r.point is None
    assert "MULTIPLE_COORDINATES" in r.codes
    got = sorted((c.lon, c.lat) for c in r.candidates)
    assert got == sorted([(LON, LAT), DPS])
    assert all(c.area_kind == "inside" for c in r.candidates)


def test_link_and_different_text_point_are_two_candidates(bali_area: Any) -> None:
    msg = "https://maps.apple.com/?ll=-8.358194,114.619806 atau 8°39'00\" LS 115°13'00.1\" BT"
    r = validate_coordinate(text=msg, area=bali_area)
    assert r.status == "suspect" and len(r.candidates) == 2 and r.codes[-1] == "MULTIPLE_COORDINATES"


def test_ignored_text_is_never_logged_at_info(bali_area: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        validate_coordinate(text="Pak rumah saya -8.358194, 114.619806 (Jl. Melati 5)", area=bali_area)
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "114.6" in r.getMessage()]


# --------------------------------------------------------------------------- share links

LINKS = [
    ("google-q", "https://maps.google.com/?q=-8.358194,114.619806", "q"),
    ("google-q-loc-plus", "https://maps.google.com/maps?q=loc:-8.358194+114.619806", "q"),
    ("google-search-api", "https://www.google.com/maps/search/?api=1&query=-8.358194%2C114.619806", "query"),
    ("google-place-3d4d", "https://www.google.com/maps/place/Polsek+Negara/@-8.30,114.50,13z/data=!3m1!4b1!4m6"
                          "!3m5!1s0x2dd3:0x1!8m2!3d-8.358194!4d114.619806!16s%2Fg%2F11", "place"),
    ("google-place-pin-text", "https://www.google.com/maps/place/8%C2%B021'29.5%22S+114%C2%B037'11.3%22E/"
                              "@-8.3581944,114.6176169,17z/data=!3m1!4b1", "place_text"),
    ("google-place-at-only", "https://www.google.com/maps/place/Negara/@-8.358194,114.619806,17z", "map_centre"),
    ("google-ll", "https://www.google.co.id/maps?ll=-8.358194,114.619806&z=16", "ll"),
    ("google-dir-path", "https://www.google.com/maps/dir/-8.65,115.2167/-8.358194,114.619806/@-8.5,114.9,10z",
     "destination"),
    ("google-dir-api", "https://www.google.com/maps/dir/?api=1&destination=-8.358194%2C114.619806", "destination"),
    ("comgooglemaps", "comgooglemaps://?q=-8.358194,114.619806&zoom=14", "q"),
    ("comgooglemaps-center", "comgooglemaps://?center=-8.358194,114.619806&zoom=14", "center"),
    ("apple-ll", "https://maps.apple.com/?ll=-8.358194,114.619806&q=Dropped%20Pin&t=m", "ll"),
    ("apple-q", "http://maps.apple.com/?q=-8.358194,114.619806", "q"),
    ("apple-daddr", "https://maps.apple.com/?daddr=-8.358194,114.619806&dirflg=d", "daddr"),
    ("waze-ul", "https://waze.com/ul?ll=-8.358194%2C114.619806&navigate=yes&zoom=17", "ll"),
    ("waze-live-map", "https://www.waze.com/live-map/directions?to=ll.-8.358194%2C114.619806", "to"),
    ("bing-cp", "https://www.bing.com/maps?cp=-8.358194~114.619806&lvl=16", "cp"),
    ("bing-sp", "https://www.bing.com/maps?sp=point.-8.358194_114.619806_Lokasi", "sp"),
    ("osmand-go", "https://osmand.net/go?lat=-8.358194&lon=114.619806&z=16", "lat"),
    ("osmand-pin", "https://osmand.net/map?pin=-8.358194,114.619806#16/-8.358194/114.619806", "pin"),
    ("here-share", "https://share.here.com/l/-8.358194,114.619806,Polsek?z=16", "path"),
    ("here-wego", "https://wego.here.com/?map=-8.358194,114.619806,16,normal", "map"),
    ("osm-mlat", "https://www.openstreetmap.org/?mlat=-8.358194&mlon=114.619806#map=17/-8.3/114.5", "mlat"),
    ("osm-hash", "https://www.openstreetmap.org/#map=17/-8.358194/114.619806", "map_centre"),
    ("osm-route", "https://www.openstreetmap.org/directions?route=-8.65%2C115.2167%3B-8.358194%2C114.619806",
     "destination"),
]


@pytest.mark.parametrize(("url", "source"), [c[1:] for c in LINKS], ids=[c[0] for c in LINKS])
def test_share_links_of_every_app(url: str, source: str) -> None:
    p = parse_coordinate_text(url)
    assert p.format == "url" and p.extra["url_source"] == source
    assert near(p, tol_m=2)
    q = parse_coordinate_text(f"Pak ini lokasinya 👉 {url} 👈 cepat")
    assert (q.lon, q.lat) == (p.lon, p.lat) and notes(q) == ["TEXT_IGNORED"]


SHORT = ["https://maps.app.goo.gl/uvWxYz123AbC", "https://goo.gl/maps/AbCdEf12", "maps.app.goo.gl/uvWxYz123",
         "https://waze.com/ul/hqxyz12345", "https://osm.org/go/nZ8Tk--", "https://maps.apple/p/Ab.Cd"]


@pytest.mark.parametrize("url", SHORT)
def test_short_links_say_what_to_ask_for(url: str, bali_area: Any) -> None:
    with pytest.raises(errors.CoordinateInvalid) as exc:
        parse_coordinate_text(f"Lokasi saya {url} tolong")
    assert exc.value.extra["hint"] == "SHORT_LINK_UNRESOLVED"
    r = validate_coordinate(text=f"Polsek Negara\n{url}", area=bali_area)
    assert r.status == "invalid" and r.codes == ["COORDINATE_INVALID", "SHORT_LINK_UNRESOLVED"]
    msg = r.to_dict("id")["flags"][1]["message"]
    assert "tautan lengkap" in msg and "koordinat" in msg and "?" not in msg.split("(")[1].split(")")[0]


def test_unknown_site_links_are_not_read() -> None:
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("lihat https://example.com/?q=-8.358,114.619 ya")


# --------------------------------------------------------------------------- machine formats

def test_android_json_accuracy_is_the_uncertainty(bali_area: Any) -> None:
    body = '{"latitude": -8.358194, "longitude": 114.619806, "accuracy": 14.2, "provider": "fused"}'
    p = parse_coordinate_text(body)
    assert (p.format, p.uncertainty_m) == ("json", 14.2) and near(p, tol_m=1)
    nested = '{"coords": {"latitude": "-8.358194", "longitude": "114.619806", "accuracy": 30}, "timestamp": 1}'
    assert parse_coordinate_text(nested).uncertainty_m == 30
    r = validate_coordinate(text=body, area=bali_area)
    assert r.status == "valid" and r.uncertainty_m == pytest.approx(14.2)


def test_geojson_point_feature_and_collection(bali_area: Any) -> None:
    assert parse_coordinate_text(formats.format_geojson(LON, LAT, feature=True)).format == "geojson"
    fc = ('{"type": "FeatureCollection", "features": ['
          f'{formats.format_geojson(LON, LAT, feature=True)}, {formats.format_geojson(*DPS, feature=True)}]}}')
    r = validate_coordinate(text=fc, area=bali_area)
    assert r.status == "suspect" and len(r.candidates) == 2
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text('{"type": "LineString", "coordinates": [[114.6, -8.3], [114.7, -8.4]]}')


def test_wkt_ewkt_and_projected_srid() -> None:
    assert near(parse_coordinate_text("POINT Z (114.619806 -8.358194 12.5)"), tol_m=1)
    p = parse_coordinate_text("SRID=32750;POINT(238163 9075312)")
    assert p.format == "wkt" and p.reprojected_from == "EPSG:32750"
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("SRID=999999;POINT(1 2)")
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("POINT EMPTY")


def test_kml_and_bare_triples() -> None:
    assert parse_coordinate_text("114.619806,-8.358194,0").format == "kml"
    kml = '<?xml version="1.0"?><kml><Placemark><Point><coordinates> 114.619806,-8.358194,17 </coordinates>' \
          "</Point></Placemark></kml>"
    assert near(parse_coordinate_text(kml), tol_m=1)
    with pytest.raises(errors.CoordinateInvalid):  # a line is not a point
        parse_coordinate_text("<coordinates>114.6,-8.3,0 114.7,-8.4,0</coordinates>")


def test_nmea_checksum_and_fix(bali_area: Any) -> None:
    good = formats.format_nmea(LON, LAT)
    p = parse_coordinate_text(good)
    assert p.format == "nmea" and not p.notes and near(p, tol_m=1)
    bad = good[:-2] + ("00" if good[-2:] != "00" else "11")
    assert notes(parse_coordinate_text(bad)) == ["NMEA_CHECKSUM_BAD"]
    r = validate_coordinate(text=bad, area=bali_area)
    assert r.status == "suspect" and "NMEA_CHECKSUM_BAD" in r.codes and r.point is not None
    no_fix = "$GPGGA,083000.00,0821.4917,S,11437.1883,E,0,00,99.9,,M,,M,,"
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text(no_fix)
    void_rmc = "$GNRMC,083000,V,0821.4917,S,11437.1883,E,0.0,0.0,150124,,,N"
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text(void_rmc)
    log = f"{formats.format_nmea(LON, LAT, 'RMC')}\n{good}\n"  # two sentences of one fix: one point
    q = parse_coordinate_text(log)
    assert q.format == "nmea" and not q.others


@pytest.mark.parametrize("text", ["lat=-8.358194&lon=114.619806", "lng=114.619806&lat=-8.358194",
                                  "latitude=-8.358194;longitude=114.619806", "lat=-8.358194, lon=114.619806"])
def test_keyvalue(text: str) -> None:
    assert near(parse_coordinate_text(text), tol_m=1)


# --------------------------------------------------------------------------- degree formats, unicode

@pytest.mark.parametrize(
    ("text", "fmt"),
    [("8.21.29 LS 114.37.11 BT", "dms_dotted"), ("-8.21.29,5 114.37.11,3", "dms_dotted"),
     ("114.37.11,3 BT 8.21.29,5 LS", "dms_dotted"), ("0821.49S11437.19E", "compact"),
     ("S0821.4917 E11437.1884", "compact"), ("082129.5S 1143711.3E", "compact"),
     ("8d21m29.5S 114d37m11.3E", "dms"), ("8°21'29.5S 114°37'11.3E", "dms"),
     ("114d37m11.3E 8d21m29.5S", "dms"), ("8d21m29.5s S 114d37m11.3s E", "dms"),
     ("8d21m29.5s, 114d37m11.3s", "dms")],
)
def test_degree_formats(text: str, fmt: str) -> None:
    p = parse_coordinate_text(text)
    assert p.format == fmt
    if "," in text and "s," in text:  # no hemisphere letters at all: sign from the numbers
        assert p.lat > 0
    else:
        assert p.lat < 0, "the S must stay the southern hemisphere"
        assert near(p, tol_m=40)


@pytest.mark.parametrize(
    "text",
    ["\u22128.358194, 114.619806", "－８．３５８１９４，　１１４．６１９８０６", "-8.358194,\u00a0114.619806",
     "-8.358\u200b194, 114.619806", "\ufeff-8.358194, 114.619806\u200d", "-8.358194,\u202f114.619806"],
    ids=["u2212", "fullwidth", "nbsp", "zero-width-inside", "bom-zwj", "narrow-nbsp"],
)
def test_unicode_is_folded(text: str) -> None:
    p = parse_coordinate_text(text)
    assert (p.lat, p.lon) == (LAT, LON)


def test_other_scripts_digits_are_not_read() -> None:
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("٨٫٣٥٨٢ ١١٤٫٦٢٢٥")


# --------------------------------------------------------------------------- negatives

NEGATIVES = [
    ("+62 812-3456-7890", "PHONE_NUMBER_NOT_COORDINATE"),
    ("0812 3456 7890", "PHONE_NUMBER_NOT_COORDINATE"),
    ("Hubungi saya di 081234567890 pak", "PHONE_NUMBER_NOT_COORDINATE"),
    ("///kata.kata.kata", "WHAT3WORDS_UNSUPPORTED"),
    ("lokasi saya ///meja.kursi.lampu tolong", "WHAT3WORDS_UNSUPPORTED"),
    ("https://what3words.com/meja.kursi.lampu", "WHAT3WORDS_UNSUPPORTED"),
    ("8", "NUMBER_NOT_COORDINATE"),
    ("-8.358194", "NUMBER_NOT_COORDINATE"),
    ("12/01/2024", "NUMBER_NOT_COORDINATE"),
    ("kejadian tgl 12-01-2024 jam 10:30 WITA", "NUMBER_NOT_COORDINATE"),
    ("pukul 10.30", "NUMBER_NOT_COORDINATE"),
    ("Rp 50.000", "NUMBER_NOT_COORDINATE"),
    ("uangnya Rp 12.500, 15.000 hilang", "NUMBER_NOT_COORDINATE"),
    ("dicuri 500 ribu", "NUMBER_NOT_COORDINATE"),
    ("Jl. Gajah Mada No. 12, Denpasar", None),
    ("di depan pasar Negara, sebelah masjid", None),
    ("rumah no 12, 14 RT 02 RW 05", None),
]


@pytest.mark.parametrize(("text", "hint"), NEGATIVES)
def test_negatives_are_invalid_with_a_useful_hint(text: str, hint: str | None, bali_area: Any) -> None:
    with pytest.raises(errors.CoordinateInvalid) as exc:
        parse_coordinate_text(text)
    assert exc.value.extra.get("hint") == hint
    r = validate_coordinate(text=text, area=bali_area)
    assert r.status == "invalid" and r.point is None
    assert r.codes == ["COORDINATE_INVALID"] + ([hint] if hint else [])
    for lang in ("id", "en"):
        assert all("?" not in f["message"] or f["code"] == "COORDINATE_INVALID" for f in r.to_dict(lang)["flags"])


# --------------------------------------------------------------------------- short-link expansion

class _FakeShortLinks(http.server.BaseHTTPRequestHandler):
    """Answers by path: ``routes[path] = (status, headers, body)``; records every request."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    seen: list[tuple[str, str, str]] = []
    delay_s = 0.0

    def _answer(self) -> None:
        type(self).seen.append((self.command, self.headers.get("Host", ""), self.path))
        if self.delay_s:
            time.sleep(self.delay_s)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    do_HEAD = do_GET = _answer  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def fake_server() -> Iterator[tuple[int, type[_FakeShortLinks]]]:
    handler = type("Handler", (_FakeShortLinks,), {"routes": {}, "seen": [], "delay_s": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def routed(port: int, **kw: Any) -> ShortLinkExpander:
    """Every host goes to the fake server (the expander decides which hosts it may contact)."""
    return ShortLinkExpander(route=lambda host: ("127.0.0.1", port, False), **kw)


LONG = "https://www.google.com/maps/place/Polsek/@-8.3,114.5,13z/data=!3d-8.358194!4d114.619806"


def test_expansion_follows_redirects_to_a_map_link(fake_server: Any, bali_area: Any) -> None:
    port, handler = fake_server
    handler.routes["/maps/AbC"] = (302, {"Location": "https://maps.app.goo.gl/Xyz?g_st=iw"}, b"")
    handler.routes["/Xyz?g_st=iw"] = (301, {"Location": LONG}, b"")
    p = parse_coordinate_text("Lokasi https://goo.gl/maps/AbC tolong", expand_link=routed(port))
    assert near(p, tol_m=1) and p.extra["expanded_from"] == "goo.gl"
    # the long Google link itself is read, not opened
    assert [(m, h) for m, h, _ in handler.seen] == [("HEAD", "goo.gl"), ("HEAD", "maps.app.goo.gl")]
    r = validate_coordinate(text="https://maps.app.goo.gl/Xyz?g_st=iw", area=bali_area, expand_link=routed(port))
    assert r.status == "valid" and r.format == "url"


def test_expansion_never_contacts_a_host_that_is_not_a_map(fake_server: Any) -> None:
    port, handler = fake_server
    handler.routes["/evil"] = (302, {"Location": "http://127.0.0.1:9/steal?x=1"}, b"")
    handler.routes["/evil2"] = (302, {"Location": "https://attacker.example/maps?q=-8.3,114.6"}, b"")
    for path in ("/evil", "/evil2"):
        with pytest.raises(errors.CoordinateInvalid) as exc:
            parse_coordinate_text(f"https://maps.app.goo.gl{path}", expand_link=routed(port))
        assert exc.value.extra["hint"] == "SHORT_LINK_UNRESOLVED"
    assert {h for _, h, _ in handler.seen} == {"maps.app.goo.gl"}


def test_expansion_get_when_head_is_refused_reads_a_capped_page(fake_server: Any) -> None:
    port, handler = fake_server
    page = f'<html><meta http-equiv="refresh" content="0; url={LONG}"></html>'.encode()
    # HEAD answers 405, GET answers the page: the same route answers both, status differs by method
    def answer(self: Any) -> None:
        type(self).seen.append((self.command, self.headers.get("Host", ""), self.path))
        status, body = (405, b"") if self.command == "HEAD" else (200, page)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    handler.do_HEAD = handler.do_GET = answer
    p = parse_coordinate_text("https://maps.app.goo.gl/page", expand_link=routed(port))
    assert near(p, tol_m=1)
    assert [m for m, _, _ in handler.seen] == ["HEAD", "GET"]
    with pytest.raises(errors.CoordinateInvalid):  # the link lies beyond the size cap
        parse_coordinate_text("https://maps.app.goo.gl/page", expand_link=routed(port, max_bytes=20))


def test_expansion_is_bounded_in_time_and_hops(fake_server: Any) -> None:
    port, handler = fake_server
    handler.routes["/loop"] = (302, {"Location": "https://maps.app.goo.gl/loop"}, b"")
    with pytest.raises(errors.CoordinateInvalid):
        parse_coordinate_text("https://maps.app.goo.gl/loop", expand_link=routed(port, max_redirects=3))
    assert len(handler.seen) == 4
    handler.delay_s = 2.0
    start = time.perf_counter()
    with pytest.raises(errors.CoordinateInvalid) as exc:
        parse_coordinate_text("https://maps.app.goo.gl/loop", expand_link=routed(port, timeout_s=0.3))
    assert time.perf_counter() - start < 1.5
    assert exc.value.extra["hint"] == "SHORT_LINK_UNRESOLVED"


def test_expansion_failure_keeps_the_dispatcher_hint(bali_area: Any) -> None:
    closed = ShortLinkExpander(route=lambda host: ("127.0.0.1", 9, False), timeout_s=0.5)  # nothing listens
    r = validate_coordinate(text="https://maps.app.goo.gl/AbC", area=bali_area, expand_link=closed)
    assert r.status == "invalid" and r.codes == ["COORDINATE_INVALID", "SHORT_LINK_UNRESOLVED"]
