"""The typed request and answer of validate/locate (services/answers.py): one answer, same wire format."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from geo_service.errors import BadRequest
from geo_service.geo.bundled import load_bali_units
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.stations import load_stations_geojson
from geo_service.services import answers
from geo_service.services.answers import LocateAnswer, LocateQuery, ValidateQuery, decode_query, query_from
from geo_service.services.locate import locate_location, validate_location, validation_answer

BODIES: list[dict[str, Any]] = [
    {"lat": -8.650123, "lon": 115.216789},                      # plain decimals
    {"text": "8°21'29.5\" LS 114°37'11.3\" BT"},                 # DMS text
    {"lat": 8.409518, "lon": 115.188919},                        # a dropped minus
    {"lat": 115.262, "lon": -8.5069},                            # a swapped pair
    {"lat": -8.65, "lon": 115.22},                               # rounded (uncertainty circle)
    {"lat": -8.80, "lon": 115.40},                               # at sea
    {"lat": 0.031234, "lon": 109.334512},                        # far outside
    {"text": "-8.3582, 114.6225 and -8.70, 115.27"},             # two points: suspect with candidates
    {"text": "not a coordinate"},                                # invalid
    {"lat": -8.463477, "lon": 115.250243, "uncertainty_m": 50},  # a border vertex with a circle
    {"lat": -8.3582, "lon": 114.6225, "at": "2030-01-01T00:00:00+08:00"},
]


@pytest.fixture(scope="module")
def index() -> JurisdictionIndex:
    return JurisdictionIndex.build(load_bali_units(), set_id=1, stations=load_stations_geojson())


@pytest.mark.parametrize("body", BODIES, ids=[str(i) for i in range(len(BODIES))])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_validation_answer_is_the_engine_result_in_its_json_form(index: JurisdictionIndex, body: dict[str, Any],
                                                                  lang: str) -> None:
    result = validate_location(body, index)
    typed = validation_answer(result, lang)
    assert json.dumps(answers.to_builtins(typed)) == json.dumps(result.to_dict(lang))  # same keys, same order
    assert json.loads(answers.to_json(typed)) == result.to_dict(lang)


@pytest.mark.parametrize("body", BODIES, ids=[str(i) for i in range(len(BODIES))])
def test_locate_answer_round_trips_and_keeps_its_key_order(index: JurisdictionIndex, body: dict[str, Any]) -> None:
    answer = locate_location(body, index, lang="en")
    assert isinstance(answer, LocateAnswer)
    data = answers.to_json(answer)
    keys = list(json.loads(data))
    assert keys[:7] == ["status", "point", "original", "format", "uncertainty_m", "confidence", "flags"]
    assert keys.index("match") < keys.index("jurisdiction") < keys.index("candidates") < keys.index("boundary_set")
    assert msgspec.json.decode(data, type=LocateAnswer) == answer
    # the stored form (incidents) is the same JSON
    assert json.loads(data) == answers.to_builtins(answer)


def test_typed_query_from_bytes_and_from_a_dict_agree() -> None:
    body = {"text": "-8.3582, 114.6225", "hint_unit": "51.01", "extra": [1, 2]}
    assert decode_query(json.dumps(body).encode(), ValidateQuery) == query_from(body, ValidateQuery)
    q = query_from({"lat": -8, "lon": 115})
    assert (q.lat, q.lon) == (-8.0, 115.0) and isinstance(q, LocateQuery)


@pytest.mark.parametrize(("body", "pointer"), [
    ({}, "/"), ({"lat": -8.3}, "/"), ({"lat": "-8.3", "lon": 115.0}, "/lat"), ({"lat": -8.3, "lon": True}, "/lon"),
    ({"text": 5}, "/text"), ({"text": "x", "lat": 1.0, "lon": 2.0}, "/"), ({"lat": 1, "lon": 2, "crs": 4326}, "/crs"),
    ({"lat": 1, "lon": 2, "uncertainty_m": -1}, "/uncertainty_m"), ({"text": "x", "hint_unit": ["51"]}, "/hint_unit"),
    ({"text": "x", "hint_unit": "5" * 41}, "/hint_unit"), ([1, 2], "/"), ({"lat": 1e999, "lon": 2}, "/lat"),
    ({"text": "x", "at": 5}, "/at"),
])
def test_malformed_queries_are_400_with_pointers(body: Any, pointer: str) -> None:
    for parse in (lambda: query_from(body, pointer="/location"), lambda: decode_query(json.dumps(body).replace("Infinity", "1e999").encode())):
        with pytest.raises(BadRequest) as info:
            parse()
        assert info.value.errors and all({"pointer", "detail"} <= set(e) for e in info.value.errors)
    with pytest.raises(BadRequest) as info:
        query_from(body, pointer="/location")
    assert ("/location" + pointer).rstrip("/") in [e["pointer"].rstrip("/") for e in info.value.errors]


def test_a_moment_without_offset_is_refused() -> None:
    with pytest.raises(BadRequest) as info:
        query_from({"text": "x", "at": "2024-06-01T10:00:00"}).moment()
    assert info.value.errors[0]["pointer"] == "/at" and "offset" in info.value.errors[0]["detail"]


def test_not_json_is_json_invalid() -> None:
    for raw in (b"{", b'{"lat": NaN, "lon": 1}', b"\xff"):
        with pytest.raises(BadRequest) as info:
            decode_query(raw)
        assert info.value.code == "JSON_INVALID"
