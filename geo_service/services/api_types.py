"""The typed bodies of the HTTP API: the bases and the pieces every area shares (issue 13).

Each area keeps its request and answer types beside its use case (``incident_types``,
``boundary_types``, ``account_types``, ``location_request_types``, ``call_types``, ``place_types``,
``unit_types``); ``web`` views declare them (``@body``/``@answers`` in :mod:`geo_service.web.openapi`)
and the OpenAPI document is generated from them with ``msgspec.json.schema_components``.

* :class:`Body` — a request body. Unknown fields are ignored unless a body says
  ``forbid_unknown_fields=True`` (as the service refuses them). A body its use case decodes with
  :func:`decode` (parsed once; a mismatch names the field with a JSON pointer) lives in that use case's
  module (``milestones.MilestoneCreate``, ``location_requests.CallerAnswer``, ``accounts.TokenCreate``,
  ``UserCreate``, ``UserPatch``); the use case then checks only what a type cannot say.
* :class:`Answer` — an answer body. It forbids unknown fields, so its schema says
  ``additionalProperties: false`` and ``tests/web/test_openapi_answers.py`` proves that every field
  the service sends is documented. A field that is sometimes absent is typed ``X | UnsetType = UNSET``.

The locate/validate query and answer are h2's (``services.answers``); until they land, fields that
carry them refer to the hand-written ``LocationBody`` and ``LocateAnswer`` components by ``$ref``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from geo_service.errors import BadRequest, GeoServiceError

T = TypeVar("T")
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD = re.compile(r"(?:missing required field|unknown field) `(?P<name>[^`]+)`")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")

__all__ = ["UNSET", "Answer", "Body", "Generation", "Health", "IsoTime", "LocateAnswerRef", "LocationRef", "Meta",
           "Point", "Problem", "ProblemError", "UnitRef", "UnsetType", "decode", "describe", "error_pointer",
           "one_of"]


class Body(msgspec.Struct, kw_only=True):
    """Base of request bodies."""


def error_pointer(message: str) -> tuple[str, str]:
    """A msgspec validation message as (JSON pointer, detail).

    >>> error_pointer("Expected `float`, got `str` - at `$.items[0].lon`")
    ('/items/0/lon', 'Expected `float`, got `str`')
    >>> error_pointer("Object missing required field `kind`")
    ('/kind', 'Object missing required field `kind`')
    """
    detail, path = message, ""
    at = _AT.search(message)
    if at:
        detail, path = message[:at.start()], at["path"]
    steps = [name or index for name, index in _STEP.findall(path)]
    field = _FIELD.search(detail)
    if field:
        steps.append(field["name"])
    pointer = "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in steps)
    return pointer or "/", detail


def decode(body_type: type[T], raw: Any, *, title: str = "the body does not match its type",
           error: type[GeoServiceError] = BadRequest, code: str = "BODY_INVALID") -> T:
    """``raw`` (parsed JSON) as ``body_type``, once; a mismatch is a problem (400 ``BODY_INVALID`` unless
    ``error``/``code`` say otherwise, as where a use case answers 422) with the field's pointer."""
    try:
        return msgspec.convert(raw, body_type)
    except msgspec.ValidationError as exc:
        pointer, detail = error_pointer(str(exc))
        raise error(title, code=code, errors=[{"pointer": pointer, "detail": detail}]) from None


class Answer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of answer bodies: every field documented, nothing more."""


def describe(text: str, **meta: Any) -> Meta:
    """``Meta`` with a description (and any other JSON Schema keyword msgspec knows)."""
    return Meta(description=text, **meta)


def one_of(values: tuple[str, ...] | list[str], text: str | None = None) -> Meta:
    """``Meta`` for a string that takes one of the service's own constants (one source for code and schema)."""
    return Meta(description=text, extra_json_schema={"enum": list(values)})


#: A location body as ``POST /api/v1/locate`` takes it (the hand-written component until h2's LocateQuery).
LocationRef = Annotated[dict[str, Any], Meta(
    description="a location body as for POST /api/v1/locate",
    extra_json_schema={"$ref": "#/components/schemas/LocationBody"})]
#: The locate answer (the hand-written component until h2's answer type).
LocateAnswerRef = Annotated[dict[str, Any], Meta(
    description="the locate answer, as POST /api/v1/locate gives it",
    extra_json_schema={"$ref": "#/components/schemas/LocateAnswer"})]
IsoTime = Annotated[str, Meta(description="ISO 8601 date-time with offset", extra_json_schema={"format": "date-time"})]


class Point(Answer):
    """A WGS 84 point."""

    lat: float
    lon: float


class UnitRef(Answer):
    """A unit by code and name."""

    code: str
    name: str | None


class ProblemError(msgspec.Struct, kw_only=True):
    """One field or feature failure: where (a JSON pointer, ``?name`` for a query parameter) and why."""

    pointer: str
    detail: str


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details (``application/problem+json``); some problems add fields (``retry_after``)."""

    type: str
    title: str
    status: int
    detail: str
    code: Annotated[str, describe("stable upper-case code, e.g. JSON_INVALID")]
    request_id: str | None = None
    errors: list[ProblemError] | UnsetType = UNSET


class Health(Answer):
    """Health of this instance."""

    status: Annotated[Literal["ok", "degraded", "read_only"],
                      describe("degraded: the database is unreachable; read_only: the store takes no writes")]
    database: Annotated[str, describe("sqlite or postgis")]
    writable: bool
    boundary_set: Annotated[int | None, describe("the published set answering")]
    units: int
    generation: int | None
    detail: str | UnsetType = UNSET


class Generation(Answer):
    """A publication: the set now published and the new generation every worker reloads at."""

    published: int
    generation: int
