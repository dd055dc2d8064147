"""Typed request bodies: decoded once, a mismatch names the field with a JSON pointer (issue 13)."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from geo_service.errors import BadRequest
from geo_service.services.api_types import Body, decode, error_pointer
from geo_service.services.milestones import MilestoneCreate, parse_milestone_body


class Inner(Body):
    lon: float


class Outer(Body, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=2)]
    items: list[Inner] = []


@pytest.mark.parametrize(("raw", "pointer"), [
    ({"items": []}, "/name"),                              # missing field
    ({"name": "ab", "colour": 1}, "/colour"),              # unknown field
    ({"name": "a"}, "/name"),                              # constraint
    ({"name": "ab", "items": [{"lon": 1}, {"lon": "x"}]}, "/items/1/lon"),
    ({"name": "ab", "items": [{}]}, "/items/0/lon"),
    ([1, 2], "/"),                                         # not an object
])
def test_a_mismatch_is_a_400_with_the_fields_pointer(raw: object, pointer: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode(Outer, raw)
    assert caught.value.code == "BODY_INVALID" and caught.value.status == 400
    assert [e["pointer"] for e in caught.value.errors] == [pointer]


def test_pointer_escapes_and_plain_messages() -> None:
    assert error_pointer("Expected `int`, got `str` - at `$.a/b.c~d`") == ("/a~1b/c~0d", "Expected `int`, got `str`")
    assert error_pointer("Expected `object`, got `array`") == ("/", "Expected `object`, got `array`")


def test_decoded_once_into_the_type() -> None:
    value = decode(Outer, {"name": "ab", "items": [{"lon": 114}]})
    assert value == Outer(name="ab", items=[Inner(lon=114.0)])


def test_milestone_body_typed_then_checked() -> None:
    assert isinstance(decode(MilestoneCreate, {"kind": "on_scene"}), MilestoneCreate)
    data = parse_milestone_body({"kind": "on_scene", "lat": -8.3, "lon": 114.6, "key": None,
                                 "at": "2026-11-30T10:00:00+08:00"}, ("on_scene",))
    assert (data["kind"], data["lat"], data["lon"], data["key"]) == ("on_scene", -8.3, 114.6, None)
    assert data["at"].isoformat() == "2026-11-30T10:00:00+08:00"
    for body, pointer in (({"kind": "on_scene", "lat": True, "lon": 1}, "/lat"),
                          ({"kind": "on_scene", "lat": 91, "lon": 1}, "/lat"),
                          ({"kind": "on_scene", "key": "short"}, "/key"),
                          ({"kind": "dispatched"}, "/kind"),           # typed, but not this caller's kind
                          ({"kind": "on_scene", "lat": -8.3}, "/lat"),  # lat without lon
                          ({"kind": "on_scene", "at": "10:00"}, "/at")):
        with pytest.raises(BadRequest) as caught:
            parse_milestone_body(body, ("on_scene",))
        assert caught.value.errors[0]["pointer"] == pointer, body


def test_caller_answer_typed_then_checked() -> None:
    from geo_service.services.location_requests import parse_answer_body

    assert parse_answer_body({"source": "gps", "lat": -8, "lon": 114.6, "accuracy_m": None, "timestamp": 0}) == {
        "source": "gps", "lat": -8.0, "lon": 114.6, "accuracy_m": None, "timestamp": "1970-01-01T00:00:00+00:00"}
    assert parse_answer_body({"source": "text", "text": "  Desa  Baler "}) == {"source": "text", "text": "Desa Baler"}
    for body, pointer in (({"source": "gps", "lat": True, "lon": 114.6}, "/lat"),
                          ({"source": "pin", "lat": -8.3}, "/"),
                          ({"source": "gps", "lat": -8.3, "lon": 114.6, "timestamp": [1]}, "/timestamp"),
                          ({"source": "text", "text": "   "}, "/text"),
                          ({"lat": -8.3, "lon": 114.6}, "/source")):
        with pytest.raises(BadRequest) as caught:
            parse_answer_body(body)
        assert caught.value.errors[0]["pointer"] == pointer, body


def test_account_bodies_decode_to_422_with_pointers() -> None:
    from geo_service.errors import InvalidInput
    from geo_service.services.accounts import TokenCreate, UserPatch, _decode

    assert _decode(TokenCreate, {"name": "desk", "role": "dispatcher"}).expires_in_days is None
    patch = _decode(UserPatch, {"unit_code": None})
    assert patch.unit_code is None and patch.role is msgspec.UNSET  # null clears, absent leaves alone
    for body_type, body, pointer in ((TokenCreate, {"name": "x", "role": "admin", "expires_in_days": True},
                                      "/expires_in_days"),
                                     (TokenCreate, {"name": "x", "role": "admin", "unit_code": 51}, "/unit_code"),
                                     (UserPatch, {"password": "x" * 12}, "/password"),
                                     (UserPatch, {"disabled": "yes"}, "/disabled")):
        with pytest.raises(InvalidInput) as caught:
            _decode(body_type, body)  # type: ignore[arg-type]
        assert (caught.value.status, caught.value.code) == (422, "INVALID_INPUT")
        assert caught.value.errors[0]["pointer"] == pointer, body
