"""POST /api/v1/coordinates/validate and /validate/batch: every format, every flag, malformed requests."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

URL = "/api/v1/coordinates/validate"
#: Polsek Negara, Jembrana (51.01.01): the reference point of most cases.
NEGARA = (-8.3582, 114.6225)
NEGARA_UTM = "50L 238163 9075312"  # the same point in UTM zone 50 south (EPSG:32750)


def post(client: Any, auth: Callable[..., dict[str, str]], body: Any, **headers: str) -> Any:
    return client.post(URL, json=body, headers={**auth(), **headers})


def codes(body: dict[str, Any]) -> list[str]:
    return [f["code"] for f in body["flags"]]


def near(point: dict[str, float] | None, lat: float, lon: float, tol_deg: float = 2e-4) -> bool:
    return point is not None and abs(point["lat"] - lat) <= tol_deg and abs(point["lon"] - lon) <= tol_deg


FORMATS = [
    # (case id, body, format, flags, uncertainty at least)
    ("dd-dot", {"text": "-8.3582, 114.6225"}, "decimal", [], None),
    ("dd-comma-decimals", {"text": "-8,3582; 114,6225"}, "decimal", [], None),
    ("dms-ls-bt", {"text": "8°21'29.52\" LS 114°37'21\" BT"}, "dms", [], None),
    ("dms-lon-first", {"text": "114°37'21\" BT 8°21'29.52\" LS"}, "dms", [], None),
    ("dms-english", {"text": "8°21'29.52\"S 114°37'21\"E"}, "dms", [], None),
    ("ddm", {"text": "8°21.492' S 114°37.350' E"}, "ddm", [], None),
    ("utm-band-letter", {"text": NEGARA_UTM}, "utm", [], None),
    ("utm-50S-indonesian", {"text": "50S 238163 9075312"}, "utm", [], None),
    ("mgrs", {"text": "50LKR3816275312"}, "mgrs", [], None),
    ("pluscode-full", {"text": "6P3PJJRF+P2"}, "pluscode", [], None),
    ("pluscode-short-hint", {"text": "JJRF+P2", "hint_unit": "51.01"}, "pluscode", [], None),
    ("geo-uri", {"text": "geo:-8.3582,114.6225;u=35"}, "geo_uri", [], 35.0),
    ("google-place-url", {"text": "https://www.google.com/maps/place/Negara/@-8.36,114.61,15z/data="
                                  "!3m1!4b1!4m6!3m5!1s0x0:0x0!8m2!3d-8.3582!4d114.6225"}, "url", [], None),
    ("google-at-url", {"text": "https://www.google.com/maps/@-8.3582,114.6225,17z"}, "url", [], None),
    ("osm-url", {"text": "https://www.openstreetmap.org/?mlat=-8.3582&mlon=114.6225#map=17/-8.3582/114.6225"},
     "url", [], None),
    ("aml-sms", {"text": "A\"ML=1;lt=-8.3582;lg=114.6225;rd=30;top=20240101120000;lc=68;pm=G;si=510011234567890;"
                         "ei=356938035643809;mcc=510;mnc=01;ml=124"}, "aml", [], 30.0),
    ("wgs84-utm-numbers", {"lat": 9075312, "lon": 238163, "crs": "EPSG:32750"}, "projected",
     ["COORDINATE_REPROJECTED"], None),
    ("dgn95-utm-numbers", {"lat": 9075312, "lon": 238163, "crs": "EPSG:23880"}, "projected",
     ["COORDINATE_REPROJECTED"], None),
]


@pytest.mark.parametrize("body, fmt, flags, min_unc", [c[1:] for c in FORMATS], ids=[c[0] for c in FORMATS])
def test_every_format_reads_negara(client: Any, auth: Any, body: dict[str, Any], fmt: str, flags: list[str],
                                   min_unc: float | None) -> None:
    r = post(client, auth, body)
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert d["status"] == "valid", d
    assert d["format"] == fmt
    assert codes(d) == flags
    assert near(d["point"], *NEGARA), d["point"]
    assert set(d) >= {"status", "point", "original", "format", "uncertainty_m", "confidence", "flags", "candidates"}
    if min_unc is not None:
        assert d["uncertainty_m"] >= min_unc
    if flags:
        assert d["confidence"] == 1.0 and all(f["message"] for f in d["flags"])


def test_reprojected_flag_names_the_source_crs(client: Any, auth: Any) -> None:
    d = post(client, auth, {"lat": 9075312, "lon": 238163, "crs": "EPSG:23880"}, **{"Accept-Language": "en"}).get_json()
    assert "EPSG:23880" in d["flags"][0]["message"]


def default_point(app: Any) -> tuple[float, float, str]:
    """A sample station position of the app's published set (a known 'default location')."""
    index = app.extensions["geo_service"].holder.current()
    lon, lat, label = next(p for p in index.default_points() if "sampel" in p[2].lower() or "sample" in p[2].lower())
    return lon, lat, label


FLAGS = [
    ("swapped", {"lat": 114.6225, "lon": -8.3582}, "corrected", ["PRESUMED_SWAPPED_COORDINATE"], NEGARA),
    ("negated-lat", {"lat": 8.3582, "lon": 114.6225}, "corrected", ["PRESUMED_NEGATED_LATITUDE"], NEGARA),
    ("negated-lat-text", {"text": "8.3582, 114.6225"}, "corrected", ["PRESUMED_NEGATED_LATITUDE"], NEGARA),
    ("zero", {"lat": 0.0, "lon": 0.0}, "invalid", ["ZERO_COORDINATE"], None),
    ("out-of-range", {"lat": -95.1234, "lon": 300.5678}, "invalid", ["COORDINATE_OUT_OF_RANGE"], None),
    ("rounded", {"lat": -8.36, "lon": 114.62}, "valid", ["COORDINATE_ROUNDED"], (-8.36, 114.62)),
    ("at-sea-bali-strait", {"lat": -8.2013, "lon": 114.4011}, "valid", ["AT_SEA"], (-8.2013, 114.4011)),
    ("at-sea-off-sanur", {"lat": -8.7012, "lon": 115.2712}, "valid", ["AT_SEA"], (-8.7012, 115.2712)),
    ("outside-jakarta", {"lat": -6.1754, "lon": 106.8272}, "suspect", ["OUTSIDE_SERVICE_AREA"], (-6.1754, 106.8272)),
]


@pytest.mark.parametrize("body, status, flags, point", [c[1:] for c in FLAGS], ids=[c[0] for c in FLAGS])
def test_every_flag(client: Any, auth: Any, body: dict[str, Any], status: str, flags: list[str],
                    point: tuple[float, float] | None) -> None:
    d = post(client, auth, body).get_json()
    assert d["status"] == status, d
    assert codes(d) == flags
    if point is None:
        assert d["point"] is None and d["confidence"] == 0.0
    else:
        assert near(d["point"], *point, tol_deg=1e-6), d["point"]
    if status == "corrected":
        assert d["original"] != d["point"] and 0 < d["confidence"] < 1


def test_default_location_is_suspect(app: Any, client: Any, auth: Any) -> None:
    lon, lat, label = default_point(app)
    d = post(client, auth, {"lat": lat, "lon": lon}).get_json()
    assert d["status"] == "suspect"
    assert "DEFAULT_LOCATION_SUSPECTED" in codes(d)
    assert label in next(f["message"] for f in d["flags"] if f["code"] == "DEFAULT_LOCATION_SUSPECTED")


def test_ambiguous_equator_point_is_suspect_with_candidates(fresh_app: Any, tokens_for: Any) -> None:
    """Near the equator a lost minus cannot be told apart: both readings come back as candidates."""
    from shapely.geometry import box

    from geo_service.geo.area import Unit
    from geo_service.geo.bundled import load_bali_units
    from geo_service.storage import repo

    # Bali plus a unit straddling the equator around Pontianak (a hand-made test shape).
    units = [*load_bali_units(), Unit("61", "Polda Kalimantan Barat (uji)", "polda", None,
                                      box(109.20, -0.20, 109.50, 0.20))]
    storage = fresh_app.extensions["geo_service"].storage
    with storage.transaction() as session:
        new = repo.create_boundary_set(session, name="bali+equator", units=units, source="upload", created_by="test")
        repo.publish_boundary_set(session, new.id, actor="test")
    client = fresh_app.test_client()
    headers = {"Authorization": f"Bearer {tokens_for(fresh_app)['dispatcher']}"}
    d = client.post(URL, json={"text": "0.0312, 109.3345"}, headers=headers).get_json()
    assert d["status"] == "suspect" and d["point"] is None
    assert codes(d) == ["AMBIGUOUS_COORDINATE"]
    lats = sorted(c["lat"] for c in d["candidates"])
    assert lats == [-0.0312, 0.0312]
    assert all(c["unit_code"] == "61" and c["area"] == "inside" for c in d["candidates"])
    # The same text with the minus written is not in doubt; a hint does not change a tie in one unit.
    d = client.post(URL, json={"text": "-0.0312, 109.3345"}, headers=headers).get_json()
    assert d["status"] == "valid" and codes(d) == []
    # In the batch API too.
    r = client.post(URL + "/batch", json=[{"text": "0.0312, 109.3345"}], headers=headers)
    assert r.get_json()[0]["status"] == "suspect"


def test_messages_indonesian_by_default_english_on_request(client: Any, auth: Any) -> None:
    body = {"lat": 114.6225, "lon": -8.3582}
    msg_id = post(client, auth, body).get_json()["flags"][0]["message"]
    msg_en = post(client, auth, body, **{"Accept-Language": "en-US,en;q=0.9"}).get_json()["flags"][0]["message"]
    assert "tertukar" in msg_id
    assert "swapped" in msg_en
    assert post(client, auth, body, **{"Accept-Language": "id-ID"}).get_json()["flags"][0]["message"] == msg_id
    r = client.post(URL + "?lang=en", json=body, headers=auth())
    assert r.get_json()["flags"][0]["message"] == msg_en


MALFORMED = [
    ("empty-object", {}, 400, "/"),
    ("only-lat", {"lat": -8.3}, 400, "/"),
    ("lat-string", {"lat": "-8.3", "lon": 115.0}, 400, "/lat"),
    ("lon-bool", {"lat": -8.3, "lon": True}, 400, "/lon"),
    ("text-number", {"text": 5}, 400, "/text"),
    ("text-and-lat", {"text": "-8.3 115", "lat": -8.3, "lon": 115.0}, 400, "/"),
    ("crs-number", {"lat": -8.3, "lon": 115.0, "crs": 4326}, 400, "/crs"),
    ("negative-uncertainty", {"lat": -8.3, "lon": 115.0, "uncertainty_m": -1}, 400, "/uncertainty_m"),
    ("hint-list", {"text": "JJRF+P2", "hint_unit": ["51.01"]}, 400, "/hint_unit"),
    ("not-an-object", [1, 2], 400, "/"),
    ("unknown-crs", {"lat": 9075312, "lon": 238163, "crs": "EPSG:999999"}, 422, "/crs"),
    ("unknown-crs-name", {"text": "-8.3 115.0", "crs": "not a crs"}, 422, "/crs"),
]


@pytest.mark.parametrize("body, status, pointer", [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_requests_are_problems_with_pointers(client: Any, auth: Any, body: Any, status: int,
                                                       pointer: str) -> None:
    r = post(client, auth, body)
    assert r.status_code == status, r.get_json()
    assert r.mimetype == "application/problem+json"
    d = r.get_json()
    assert {"type", "title", "status", "detail", "code"} <= set(d) and d["status"] == status
    assert d["errors"] and all({"pointer", "detail"} <= set(e) for e in d["errors"])
    assert pointer in [e["pointer"] for e in d["errors"]]


def test_non_json_body_is_415(client: Any, auth: Any) -> None:
    r = client.post(URL, data="-8.3582, 114.6225", headers={**auth(), "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.mimetype == "application/problem+json"


GARBAGE = [
    "", "   ", "abc", "-", "°'\"", "N S E W", "LS BT", "1 2 3 4 5 6 7 8 9", "((((((((((", "\x00\x01\x02",
    "٨٫٣٥٨٢ ١١٤٫٦٢٢٥", "geo:", "geo:;;;", "https://www.google.com/maps/@", "A\"ML=1;lt=;lg=",
    "99Z 123 456", "50L", "+" * 500, "1e999, 1e999", "nan, nan", "inf -inf",
    "1°" * 5000, "-8." + "1" * 5000 + " 114.6", "8°21'29.5\" LS " * 2000, "a1" * 50_000,
    "1 " * 100_000, "JJRF+P2" * 1000, "<script>alert(1)</script>", "'; DROP TABLE incidents; --",
]


@pytest.mark.parametrize("text", GARBAGE, ids=[f"g{i}" for i in range(len(GARBAGE))])
def test_garbage_is_invalid_not_an_error(client: Any, auth: Any, text: str) -> None:
    r = post(client, auth, {"text": text})
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert d["status"] == "invalid" and codes(d) == ["COORDINATE_INVALID"] and d["point"] is None


@pytest.mark.parametrize("text", ["9" * 400 + ", " + "9" * 400, "-1000 2000", "1e308, 1e308"])
def test_huge_numbers_are_invalid(client: Any, auth: Any, text: str) -> None:
    d = post(client, auth, {"text": text}).get_json()
    assert d["status"] == "invalid" and d["point"] is None
    assert codes(d) in (["COORDINATE_INVALID"], ["COORDINATE_OUT_OF_RANGE"])


def test_one_megabyte_text_passes_the_size_limit_and_is_invalid(client: Any, auth: Any) -> None:
    for text in ("9" * 1_000_000, "-8.3582 " * 125_000, "°" * 500_000):
        r = post(client, auth, {"text": text})
        assert r.status_code == 200
        assert codes(r.get_json()) == ["COORDINATE_INVALID"]


def test_batch_json_list_in_order(client: Any, auth: Any) -> None:
    items = [{"text": "-8.3582, 114.6225"}, {"text": "nonsense"}, {"lat": 114.6225, "lon": -8.3582},
             {"lat": "x", "lon": 1}, {"text": NEGARA_UTM}, "not an object"]
    r = client.post(URL + "/batch", json=items, headers={**auth(), "Accept-Language": "en"})
    assert r.status_code == 200
    out = r.get_json()
    assert [d["status"] for d in out] == ["valid", "invalid", "corrected", "invalid", "valid", "invalid"]
    assert out[3]["error"]["errors"][0]["pointer"] == "/lat"
    assert "swapped" in out[2]["flags"][0]["message"]


def test_batch_json_must_be_a_list(client: Any, auth: Any) -> None:
    r = client.post(URL + "/batch", json={"text": "-8.3582, 114.6225"}, headers=auth())
    assert r.status_code == 400 and r.get_json()["code"] == "JSON_LIST_REQUIRED"


def test_batch_csv_in_order(client: Any, auth: Any) -> None:
    data = ("id,lat,lon,crs\n"
            "a,-8.3582,114.6225,\n"
            "b,114.6225,-8.3582,\n"
            "c,9075312,238163,EPSG:32750\n"
            "d,abc,def,\n"
            "e,\"-8,3582\",\"114,6225\",\n")
    r = client.post(URL + "/batch", data=data, headers={**auth(), "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["id"] for row in rows] == ["a", "b", "c", "d", "e"]
    assert [row["status"] for row in rows] == ["valid", "corrected", "valid", "invalid", "valid"]
    assert rows[1]["flags"] == "PRESUMED_SWAPPED_COORDINATE"
    assert rows[2]["flags"] == "COORDINATE_REPROJECTED" and rows[2]["format"] == "projected"
    assert rows[0]["input_lat"] == "-8.3582" and float(rows[4]["lat"]) == -8.3582


def test_batch_csv_text_column(client: Any, auth: Any) -> None:
    data = "text,hint_unit\n\"8°21'29.52\"\" LS 114°37'21\"\" BT\",\nJJRF+P2,51.01\n"
    r = client.post(URL + "/batch", data=data.encode(), headers={**auth(), "Content-Type": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["format"] for row in rows] == ["dms", "pluscode"]
    assert all(near({"lat": float(x["lat"]), "lon": float(x["lon"])}, *NEGARA) for x in rows)


def test_batch_csv_without_columns_is_400(client: Any, auth: Any) -> None:
    r = client.post(URL + "/batch", data="a,b\n1,2\n", headers={**auth(), "Content-Type": "text/csv"})
    assert r.status_code == 400 and r.get_json()["code"] == "CSV_COLUMNS_MISSING"


def test_validate_needs_dispatcher_role(client: Any, auth: Any) -> None:
    assert post(client, auth, {"text": "-8.3582, 114.6225"}).status_code == 200
    r = client.post(URL, json={"text": "-8.3582, 114.6225"}, headers=auth("officer"))
    assert r.status_code == 403
