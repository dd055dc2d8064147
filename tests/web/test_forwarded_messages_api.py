"""Forwarded messages through POST /api/v1/coordinates/validate and /api/v1/locate (issue #15),
on SQLite and PostGIS; short-link expansion through the HTTP stack against a 127.0.0.1 fake server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from geo_service.config import load_settings
from geo_service.geo import formats
from geo_service.services.short_links import ShortLinkExpander
from geo_service.web.app import GeoService

VALIDATE = "/api/v1/coordinates/validate"
LOCATE = "/api/v1/locate"
# Polsek Negara, Jembrana (51.01.01)
LAT, LON = -8.358194, 114.619806


def post(client: Any, auth: Callable[..., dict[str, str]], url: str, text: str, lang: str = "en") -> dict[str, Any]:
    r = client.post(url, json={"text": text}, headers={**auth(), "Accept-Language": lang})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def codes(body: dict[str, Any]) -> list[str]:
    return [f["code"] for f in body["flags"]]


def near(point: dict[str, float] | None, tol_deg: float = 2e-4) -> bool:
    return point is not None and abs(point["lat"] - LAT) <= tol_deg and abs(point["lon"] - LON) <= tol_deg


MESSAGES = [
    ("whatsapp", "Pak tolong 🙏🙏\n📍 -8.358194, 114.619806\n(dekat pasar) cepat ya!!", "decimal"),
    ("whatsapp-google-link", "Lokasi kejadian:\nhttps://maps.google.com/?q=-8.358194,114.619806\nKorban 2 orang",
     "url"),
    ("sms", "Tlg pak ada laka di -8.358194,114.619806 dkt SPBU. HP 081234567890", "decimal"),
    ("sms-dms", "Koordinat 8°21'29.5\" LS 114°37'11.3\" BT, 5 orang luka", "dms"),
    ("waze-in-text", "otw pak https://www.waze.com/live-map/directions?to=ll.-8.358194%2C114.619806 ok", "url"),
    ("apple-in-text", "Sent from iPhone: https://maps.apple.com/?ll=-8.358194,114.619806&q=Dropped%20Pin ok", "url"),
    ("app-json", '{"latitude": -8.358194, "longitude": 114.619806, "accuracy": 14.2, "provider": "fused"}', "json"),
    ("geojson", formats.format_geojson(LON, LAT, feature=True), "geojson"),
    ("ewkt", "SRID=4326;POINT(114.619806 -8.358194)", "wkt"),
    ("kml", formats.format_kml(LON, LAT), "kml"),
    ("nmea", formats.format_nmea(LON, LAT), "nmea"),
    ("keyvalue", "lat=-8.358194&lon=114.619806", "keyvalue"),
    ("dotted", "8.21.29,5 LS 114.37.11,3 BT", "dms_dotted"),
    ("compact", "0821.4917S11437.1884E", "compact"),
    ("hemisphere-after-seconds", "8d21m29.5S 114d37m11.3E", "dms"),
    ("fullwidth-nbsp-zw", "－８．３５８１９４，\u00a0１１４．６１９８０６\u200b", "decimal"),
]


@pytest.mark.parametrize(("text", "fmt"), [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES])
def test_messages_validate_and_locate(client: Any, auth: Any, text: str, fmt: str) -> None:
    d = post(client, auth, VALIDATE, text)
    assert d["status"] == "valid", d
    assert d["format"] == fmt and near(d["point"])
    if "\n" in text or " ok" in text or "Tlg" in text or "Koordinat" in text:
        flag = next(f for f in d["flags"] if f["code"] == "TEXT_IGNORED")
        assert flag["params"]["chars"] > 0 and "ignored" in flag["message"]
    loc = post(client, auth, LOCATE, text, lang="id")
    assert loc["status"] == "valid" and loc["format"] == fmt
    assert loc["jurisdiction"]["polsek"]["code"].startswith("51.01")


def test_android_accuracy_is_the_uncertainty(client: Any, auth: Any) -> None:
    d = post(client, auth, VALIDATE, '{"lat": -8.358194, "lng": 114.619806, "accuracy": 40}')
    assert d["uncertainty_m"] == 40.0


def test_several_points_are_candidates(client: Any, auth: Any) -> None:
    text = "Lokasi -8.358194, 114.619806 atau https://maps.google.com/?q=-8.65,115.2167 ?"
    d = post(client, auth, VALIDATE, text)
    assert d["status"] == "suspect" and d["point"] is None and "MULTIPLE_COORDINATES" in codes(d)
    assert len(d["candidates"]) == 2 and all(c["area"] == "inside" for c in d["candidates"])
    loc = post(client, auth, LOCATE, text)
    assert loc["match"] == "none" and len(loc["coordinate_candidates"]) == 2


def test_same_point_as_link_and_text_is_one(client: Any, auth: Any) -> None:
    text = "-8.358194, 114.619806\nhttps://www.google.com/maps/search/?api=1&query=-8.358194%2C114.619806"
    d = post(client, auth, VALIDATE, text)
    assert d["status"] == "valid" and not d["candidates"]


NEGATIVES = [
    ("https://maps.app.goo.gl/uvWxYz123AbC", "SHORT_LINK_UNRESOLVED", "full link"),
    ("Share lokasi: https://goo.gl/maps/AbCdEf12 pak", "SHORT_LINK_UNRESOLVED", "full link"),
    ("https://waze.com/ul/hqxyz12345", "SHORT_LINK_UNRESOLVED", "full link"),
    ("///meja.kursi.lampu", "WHAT3WORDS_UNSUPPORTED", "what3words"),
    ("+62 812-3456-7890", "PHONE_NUMBER_NOT_COORDINATE", "phone number"),
    ("kejadian jam 10:30 WITA tgl 12/01/2024", "NUMBER_NOT_COORDINATE", "not a coordinate"),
    ("Rp 50.000", "NUMBER_NOT_COORDINATE", "not a coordinate"),
    ("8", "NUMBER_NOT_COORDINATE", "not a coordinate"),
]


@pytest.mark.parametrize(("text", "hint", "words"), NEGATIVES)
def test_negatives_tell_the_dispatcher_what_to_ask(client: Any, auth: Any, text: str, hint: str, words: str) -> None:
    d = post(client, auth, VALIDATE, text)
    assert d["status"] == "invalid" and d["point"] is None
    assert codes(d) == ["COORDINATE_INVALID", hint]
    assert words in d["flags"][1]["message"]
    loc = post(client, auth, LOCATE, text, lang="id")
    assert loc["status"] == "invalid" and codes(loc)[:2] == ["COORDINATE_INVALID", hint]


def test_plain_address_is_invalid(client: Any, auth: Any) -> None:
    d = post(client, auth, VALIDATE, "Jl. Gajah Mada No. 12, Denpasar")
    assert d["status"] == "invalid" and codes(d) == ["COORDINATE_INVALID"]


def test_openapi_describes_the_text_formats(client: Any, auth: Any) -> None:
    doc = client.get("/api/v1/openapi.json", headers=auth()).get_json()
    text = str(doc)
    assert "forwarded message" in text and "SHORT_LINK_UNRESOLVED" in text and "NMEA" in text


# --------------------------------------------------------------------------- short-link expansion


def test_setting_builds_the_expander(tmp_path: Any) -> None:
    base = {"data_dir": str(tmp_path), "secret_key": "test-secret-key-0123456789"}
    off = load_settings(env={}, overrides=base)
    on = load_settings(env={"GEO_SERVICE_EXPAND_SHORT_LINKS": "true"}, overrides=base)
    assert (off.expand_short_links, on.expand_short_links) == (False, True)
    assert isinstance(GeoService(on, None, None).link_expander, ShortLinkExpander)  # type: ignore[arg-type]
    assert GeoService(off, None, None).link_expander is None  # type: ignore[arg-type]


@pytest.fixture()
def fake_short_links() -> Iterator[tuple[int, list[str]]]:
    """maps.app.goo.gl stand-in: /ok redirects to a long Google link, /evil to another host."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802
            seen.append(f"{self.headers.get('Host')}{self.path}")
            target = {"/ok": "https://www.google.com/maps/place/X/@-8.3,114.5,13z/data=!3d-8.358194!4d114.619806",
                      "/evil": "http://127.0.0.1:1/internal"}.get(self.path)
            self.send_response(302 if target else 404)
            if target:
                self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def test_short_link_expanded_through_the_api(app: Any, client: Any, auth: Any, fake_short_links: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    port, seen = fake_short_links
    service = app.extensions["geo_service"]
    monkeypatch.setattr(service, "link_expander",
                        ShortLinkExpander(route=lambda host: ("127.0.0.1", port, False), timeout_s=2.0))
    d = post(client, auth, VALIDATE, "Lokasi saya https://maps.app.goo.gl/ok tolong")
    assert d["status"] == "valid" and d["format"] == "url" and near(d["point"])
    loc = post(client, auth, LOCATE, "https://maps.app.goo.gl/ok")
    assert loc["jurisdiction"]["polsek"]["code"].startswith("51.01")
    # the attack: a short link that redirects to an internal address is refused, the address never contacted
    d = post(client, auth, VALIDATE, "https://maps.app.goo.gl/evil")
    assert d["status"] == "invalid" and codes(d) == ["COORDINATE_INVALID", "SHORT_LINK_UNRESOLVED"]
    assert seen == ["maps.app.goo.gl/ok", "maps.app.goo.gl/ok", "maps.app.goo.gl/evil"]
