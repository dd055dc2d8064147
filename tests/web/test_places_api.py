"""GET /api/v1/places and place names in POST /api/v1/locate and /coordinates/validate, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo_service.storage import places as places_repo
from tests.conftest import dispose_app, make_app, make_token

BALER = "51.01.01.1006"


@pytest.fixture(scope="module")
def papp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app whose first start loaded the national gazetteer."""
    application = make_app(backend, Path(tmp_path_factory.mktemp(f"places-{backend}")), load_places=True)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def heads(papp: Any) -> dict[str, dict[str, str]]:
    roles = ("admin", "supervisor", "dispatcher", "officer")
    out = {r: {"Authorization": f"Bearer {make_token(papp, r)}"} for r in roles}
    out["dispatcher_karangasem"] = {"Authorization": f"Bearer {make_token(papp, 'dispatcher', unit='51.07')}"}
    return out


def test_first_start_stored_every_place(papp: Any) -> None:
    with papp.extensions["geo_service"].storage.session() as session:
        assert places_repo.count_places(session) == 91_083
        stored = {p.code: p for p in places_repo.load_places(session) if p.code in (BALER, "51.01", "51")}
    assert stored[BALER].name == "Baler Bale Agung" and stored[BALER].radius_m == 2327.0
    assert stored[BALER].parents[0] == ("kecamatan", "51.01.01", "Negara")
    assert stored["51.01"].kind == "kabupaten" and stored["51"].kind == "provinsi"


def test_places_search_ranked(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    c = papp.test_client()
    r = c.get("/api/v1/places", query_string={"q": "Ds. Baler Bale Agug, Kec. Negara"}, headers=heads["dispatcher"])
    assert r.status_code == 200
    first = r.json[0]
    assert set(first) >= {"kind", "code", "name", "parents", "point", "radius_m", "score"}
    assert first["code"] == BALER and first["kind"] == "kelurahan"
    assert first["point"] == {"lat": -8.292406, "lon": 114.629438} and first["radius_m"] == 2327
    assert [p["name"] for p in first["parents"]] == ["Negara", "Kabupaten Jembrana", "Bali"]
    r = c.get("/api/v1/places?q=sukamju&limit=5", headers=heads["supervisor"])
    assert r.status_code == 200 and len(r.json) == 5
    assert all(p["name"].lower().replace(" ", "") == "sukamaju" for p in r.json)


def test_places_hint_and_caller_unit_rank_first(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    c = papp.test_client()
    plain = c.get("/api/v1/places?q=Sukadana&limit=30", headers=heads["dispatcher"]).json
    assert plain[0]["code"] != "51.07.08.2009" and not any(p["preferred"] for p in plain)
    hinted = c.get("/api/v1/places?q=Sukadana&limit=30&hint_unit=51.07", headers=heads["dispatcher"]).json
    assert hinted[0]["code"] == "51.07.08.2009" and hinted[0]["preferred"]
    caller = c.get("/api/v1/places?q=Sukadana&limit=30", headers=heads["dispatcher_karangasem"]).json
    assert caller[0]["code"] == "51.07.08.2009"


@pytest.mark.parametrize(("query", "code"), [
    ({"limit": "5"}, "INVALID_QUERY"), ({"q": "  "}, "INVALID_QUERY"), ({"q": "x" * 201}, "INVALID_QUERY"),
    ({"q": "Negara", "limit": "0"}, "INVALID_LIMIT"), ({"q": "Negara", "limit": "51"}, "INVALID_LIMIT"),
    ({"q": "Negara", "limit": "ten"}, "INVALID_LIMIT"),
])
def test_places_bad_requests_are_problems(papp: Any, heads: dict[str, dict[str, str]], query: dict[str, str],
                                          code: str) -> None:
    r = papp.test_client().get("/api/v1/places", query_string=query, headers=heads["dispatcher"])
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.json["code"] == code and r.json["errors"][0]["pointer"].startswith("?")


def test_places_roles(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    c = papp.test_client()
    assert c.get("/api/v1/places?q=Negara").status_code == 401
    assert c.get("/api/v1/places?q=Negara", headers=heads["officer"]).status_code == 403
    for role in ("dispatcher", "supervisor", "admin"):
        assert c.get("/api/v1/places?q=Negara", headers=heads[role]).status_code == 200


def test_locate_a_village_name(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    r = papp.test_client().post("/api/v1/locate?lang=en", json={"text": "Desa Baler Bale Agung, Negara"},
                                headers=heads["dispatcher"])
    assert r.status_code == 200
    a = r.json
    assert (a["status"], a["format"]) == ("approximate", "place")
    assert a["point"] == {"lat": -8.292406, "lon": 114.629438} and a["uncertainty_m"] == 2327.0
    assert a["place"]["code"] == BALER and a["confidence"] == 0.5
    assert a["jurisdiction"]["polsek"]["code"] == "51.01.01"
    # Bali: the bundled village polygon gives exact shares (all of Baler Bale Agung is in Polsek Negara)
    assert a["shares_from"] == "polygon" and a["match"] == "inside"
    assert a["candidates"][0]["polsek"]["code"] == "51.01.01" and a["candidates"][0]["share"] > 0.98
    assert a["flags"][0]["code"] == "PLACE_NAME" and "Baler Bale Agung" in a["flags"][0]["message"]


def test_validate_a_misspelled_kecamatan(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    r = papp.test_client().post("/api/v1/coordinates/validate", json={"text": "Kec. Negarra, Kab. Jembrana"},
                                headers=heads["dispatcher"])
    a = r.json
    assert a["status"] == "approximate" and a["place"]["code"] == "51.01.01"
    assert [f["code"] for f in a["flags"]] == ["PLACE_NAME", "PLACE_NAME_FUZZY"] and a["confidence"] < 0.5


def test_ambiguous_name_is_suspect_and_the_hint_orders_candidates(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    c = papp.test_client()
    a = c.post("/api/v1/locate", json={"text": "Sukamaju"}, headers=heads["dispatcher"]).json
    assert a["status"] == "suspect" and a["point"] is None and a["flags"][0]["code"] == "AMBIGUOUS_PLACE"
    namesakes = papp.extensions["geo_service"].places.gazetteer().exact("Sukamaju")  # also "Suka Maju"
    assert a["flags"][0]["params"]["count"] == len(namesakes) > 100
    assert len(a["coordinate_candidates"]) == 10 and all("place" in x for x in a["coordinate_candidates"])
    v = c.post("/api/v1/coordinates/validate", json={"text": "Desa Sukadana"}, headers=heads["dispatcher"]).json
    assert v["status"] == "suspect" and len(v["candidates"]) > 1
    # with the Karangasem hint the one Sukadana there is the answer
    h = c.post("/api/v1/locate", json={"text": "Desa Sukadana", "hint_unit": "51.07"}, headers=heads["dispatcher"]).json
    assert h["status"] == "approximate" and h["place"]["code"] == "51.07.08.2009"
    assert h["jurisdiction"]["polres"]["code"] == "51.07"


@pytest.mark.parametrize("text", ["-8.2924, 114.6294", "8°17'32.7\" LS 114°37'46.0\" BT", "50L 299000 9083000"])
def test_coordinates_still_go_to_the_coordinate_parser(papp: Any, heads: dict[str, dict[str, str]], text: str) -> None:
    a = papp.test_client().post("/api/v1/locate", json={"text": text}, headers=heads["dispatcher"]).json
    assert a["format"] != "place" and "place" not in a


@pytest.mark.parametrize("text", ["xyzzy plugh", "qwrtp zxcvb", "!!!"])
def test_text_that_names_no_place_stays_invalid(papp: Any, heads: dict[str, dict[str, str]], text: str) -> None:
    a = papp.test_client().post("/api/v1/coordinates/validate", json={"text": text}, headers=heads["dispatcher"]).json
    assert a["status"] == "invalid" and [f["code"] for f in a["flags"]] == ["COORDINATE_INVALID"]


def test_openapi_documents_places_and_the_new_status(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    spec = papp.test_client().get("/api/v1/openapi.json").json
    op = spec["paths"]["/api/v1/places"]["get"]
    assert op["x-roles"] == ["admin", "dispatcher", "supervisor"]
    assert {p["name"] for p in op["parameters"]} == {"q", "hint_unit", "limit"}
    item = op["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    if "$ref" in item:  # the answer types are shared components
        item = spec["components"]["schemas"][item["$ref"].rsplit("/", 1)[1]]
    assert set(item["required"]) == {"kind", "code", "name", "parents", "point", "radius_m", "score"}
    assert "approximate" in spec["components"]["schemas"]["Validation"]["properties"]["status"]["enum"]


def test_an_incident_at_a_village_gets_its_unit(papp: Any, heads: dict[str, dict[str, str]]) -> None:
    r = papp.test_client().post("/api/v1/incidents", headers=heads["dispatcher"], json={
        "location": {"text": "Kel. Baler Bale Agung, Kec. Negara"}, "category": "pencurian", "description": "uji",
        "reported_at": "2025-02-04T09:15:00+08:00", "channel": "call_110"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["unit_code"] == "51.01.01" and body["location_status"] == "approximate"
    assert body["point"] == {"lon": 114.629438, "lat": -8.292406}
