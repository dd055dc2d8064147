"""The typed request and answer of validate and locate: frozen msgspec Structs, built once.

A locate answer is built once, here, from the engine's results (:func:`validation_answer`,
:func:`locate_answer`) and serialised only at the edges: ``msgspec.json.encode`` into the API
response bytes, :func:`compact_record` for the batch record (JSON, GeoJSON and CSV), the
incident's stored JSON (``msgspec.to_builtins``), the officer link and the pages.

The field order of each Struct is the JSON key order of the API. Optional keys that an answer
may lack altogether (``place``, ``coordinate_candidates``, ``shares_from``, ``at``, a flag's
``params``) default to ``msgspec.UNSET`` and are then left out of the JSON, as before.

Requests: :class:`LocateQuery` (``POST /api/v1/locate``) and :class:`ValidateQuery`
(``POST /api/v1/coordinates/validate``) are decoded once from the body (:func:`decode_query`
from JSON bytes, :func:`query_from` from an already parsed object such as a batch row or an
incident's ``location``); type errors and the checks across fields are ``400`` problems with
``errors: [{pointer, detail}]``.

msgspec was chosen by measurement (``bench/bench_typed_answer.py``): building and encoding one
locate answer took 1.9 us against 12.4 us for slotted frozen dataclasses with orjson, 15.2 us
for a dict with ``json.dumps`` and 16.2 us for pydantic v2.
"""

# No ``from __future__ import annotations``: the field types are evaluated when each Struct is made,
# so msgspec never has to look them up in this module again (schemas, decoding).
import math
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from geo_service.errors import BadRequest

UNSET: Any = msgspec.UNSET
_Opt = msgspec.UnsetType


# --------------------------------------------------------------------------- request

#: Longest ``hint_unit`` code accepted.
MAX_HINT_CHARS = 40
#: Largest stated uncertainty, in metres.
MAX_UNCERTAINTY_M = 1_000_000.0


class LocateQuery(msgspec.Struct, frozen=True, gc=False):
    """The body of ``POST /api/v1/locate``: a coordinate as ``text`` or as ``lat``/``lon`` numbers.

    ``crs`` names the input system (default WGS 84; with a projected CRS ``lat`` is the northing
    and ``lon`` the easting), ``uncertainty_m`` the caller's stated radius, ``hint_unit`` the
    caller's unit (preferred on ties, reference of short Plus Codes), ``at`` an ISO 8601 moment
    with offset (the boundary set in force then answers).
    """

    text: str | None = None
    lat: float | None = None
    lon: float | None = None
    crs: str | None = None
    uncertainty_m: float | None = None
    hint_unit: str | None = None
    at: str | None = None

    def moment(self, pointer: str = "") -> datetime | None:
        """``at`` in UTC, or None."""
        return parse_moment(self.at, pointer=f"{pointer}/at")

    def coordinate_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``geo.validate.validate_coordinate``."""
        return {"text": self.text, "lat": self.lat, "lon": self.lon, "crs": self.crs,
                "uncertainty_m": self.uncertainty_m, "hint_unit": self.hint_unit}


class ValidateQuery(LocateQuery, frozen=True, gc=False):
    """The body of ``POST /api/v1/coordinates/validate`` (the same fields as :class:`LocateQuery`)."""


Q = TypeVar("Q", bound=LocateQuery)

#: What each field must be, as the 400 problem says it.
FIELD_DETAILS = {
    "text": "must be a string",
    "lat": "must be a finite number",
    "lon": "must be a finite number",
    "crs": "must be a string such as 'EPSG:32750'",
    "uncertainty_m": f"must be a number of metres in 0..{MAX_UNCERTAINTY_M:.0f}",
    "hint_unit": "must be a unit code such as '51.01'",
    "at": "must be an ISO 8601 date-time with an offset, such as '2024-06-01T10:00:00+08:00'",
}
_PATH = re.compile(r"at `\$((?:\.[A-Za-z_]\w*|\[\d+\])*)`")


def _pointer_of(message: str) -> tuple[str, str | None]:
    """JSON pointer and field name from a msgspec error (``... - at `$.lat```)."""
    found = _PATH.search(message)
    if not found or not found.group(1):
        return "", None
    steps = re.findall(r"\.([A-Za-z_]\w*)|\[(\d+)\]", found.group(1))
    pointer = "".join(f"/{name or idx}" for name, idx in steps)
    return pointer, steps[-1][0] or None


def _malformed(errors: list[dict[str, str]]) -> BadRequest:
    return BadRequest("the location body is malformed", errors=errors)


def _checked(query: Q, pointer: str) -> Q:
    """The checks across fields and of values that types cannot say (finite, ranges)."""
    errors: list[dict[str, str]] = []
    root = pointer or "/"
    for key in ("lat", "lon"):
        value = getattr(query, key)
        if value is not None and not math.isfinite(value):
            errors.append({"pointer": f"{pointer}/{key}", "detail": FIELD_DETAILS[key]})
    if query.text is None and (query.lat is None or query.lon is None):
        errors.append({"pointer": root, "detail": "give either 'text' or both 'lat' and 'lon'"})
    if query.text is not None and (query.lat is not None or query.lon is not None):
        errors.append({"pointer": root, "detail": "give 'text' or 'lat'/'lon', not both"})
    unc = query.uncertainty_m
    if unc is not None and not (math.isfinite(unc) and 0.0 <= unc <= MAX_UNCERTAINTY_M):
        errors.append({"pointer": f"{pointer}/uncertainty_m", "detail": FIELD_DETAILS["uncertainty_m"]})
    if query.hint_unit is not None and len(query.hint_unit) > MAX_HINT_CHARS:
        errors.append({"pointer": f"{pointer}/hint_unit", "detail": FIELD_DETAILS["hint_unit"]})
    if query.at is not None and len(query.at) > 40:
        errors.append({"pointer": f"{pointer}/at", "detail": FIELD_DETAILS["at"]})
    if errors:
        raise _malformed(errors)
    return query


def _type_error(exc: msgspec.ValidationError, pointer: str) -> BadRequest:
    message = str(exc)
    if message.startswith("Expected `object`"):
        return BadRequest("the body must be a JSON object",
                          errors=[{"pointer": pointer or "/", "detail": "not an object"}])
    sub, field = _pointer_of(message)
    detail = FIELD_DETAILS.get(field or "", message.split(" - at ")[0])
    return _malformed([{"pointer": f"{pointer}{sub}" or "/", "detail": detail}])


def query_from(body: Any, type: type[Q] = LocateQuery, *, pointer: str = "") -> Q:  # type: ignore[assignment]  # noqa: A002
    """A typed query from a parsed body (a dict), or a 400 problem with JSON pointers under ``pointer``.

    Unknown keys are ignored (batch rows and incident locations carry their own).
    """
    try:
        query = msgspec.convert(body, type=type)
    except msgspec.ValidationError as exc:
        raise _type_error(exc, pointer) from None
    return _checked(query, pointer)


def decode_query(data: bytes, type: type[Q] = LocateQuery) -> Q:  # type: ignore[assignment]  # noqa: A002
    """A typed query straight from JSON bytes (one pass, no intermediate dict)."""
    try:
        query = msgspec.json.decode(data, type=type)
    except msgspec.ValidationError as exc:
        raise _type_error(exc, "") from None
    except msgspec.DecodeError:
        raise BadRequest("the body is not valid JSON", code="JSON_INVALID") from None
    return _checked(query, "")


def parse_moment(at: Any, *, pointer: str = "/at") -> datetime | None:
    """An ISO 8601 date-time with an offset (``2024-06-01T10:00:00+08:00``) in UTC; None for None."""
    if at is None:
        return None
    detail = FIELD_DETAILS["at"]
    if not isinstance(at, str) or len(at) > 40:
        raise _malformed([{"pointer": pointer, "detail": detail}])
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise _malformed([{"pointer": pointer, "detail": detail}]) from None
    if moment.tzinfo is None:
        raise _malformed([{"pointer": pointer, "detail": detail + " (the offset is missing)"}])
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- answer parts


class Point(msgspec.Struct, frozen=True, gc=False):
    """``{"lat", "lon"}`` in degrees (WGS 84), rounded to 7 decimals."""

    lat: float
    lon: float


class FlagAnswer(msgspec.Struct, frozen=True, gc=False):
    """A reason code, its message in the reader's language and the figures in it (when any)."""

    code: str
    message: str
    params: dict[str, str | int | float | bool] | _Opt = UNSET


class UnitRef(msgspec.Struct, frozen=True, gc=False):
    """A unit by code and name."""

    code: str
    name: str


class SpecialArea(msgspec.Struct, frozen=True, gc=False):
    """An airport/port/sea sector answering over the ordinary sector; ``approximate``: its polygon is a
    bundled approximation (``boundaries/special_areas.geojson``), not a surveyed boundary."""

    code: str
    name: str
    approximate: bool


class Jurisdiction(msgspec.Struct, frozen=True, gc=False):
    """The responsible unit at each level (None where the set has no unit at that level)."""

    polda: UnitRef | None = None
    polres: UnitRef | None = None
    polsek: UnitRef | None = None


class PlaceParent(msgspec.Struct, frozen=True, gc=False):
    """A place above a village in the gazetteer (kecamatan, kabupaten/kota, provinsi)."""

    kind: str
    code: str
    name: str


class PlaceAnswer(msgspec.Struct, frozen=True, gc=False):
    """A gazetteer place: kind, code, name, parents, point and the radius of a circle of its area."""

    kind: str
    code: str
    name: str
    parents: list[PlaceParent]
    point: Point
    radius_m: int


class CoordinateCandidate(msgspec.Struct, frozen=True, gc=False):
    """One possible reading of an ambiguous coordinate (or a place an ambiguous name may mean)."""

    lat: float
    lon: float
    flags: list[FlagAnswer]
    area: str | None
    unit_code: str | None
    distance_m: float | None
    place: PlaceAnswer | _Opt = UNSET
    label: str | _Opt = UNSET


class UnitCandidate(msgspec.Struct, frozen=True, gc=False):
    """A leaf that may be responsible: its chain, share of the uncertainty circle, distance."""

    polda: UnitRef | None
    polres: UnitRef | None
    polsek: UnitRef | None
    share: float | None
    distance_m: float


class StationAnswer(msgspec.Struct, frozen=True, gc=False):
    """A police station near the point, with its geodesic distance."""

    code: str
    name: str
    unit_code: str
    lat: float
    lon: float
    phone: str | None
    sample: bool
    distance_m: float


class _Validated(msgspec.Struct, frozen=True, gc=False):
    """The fields every validate and locate answer opens with (the point, its reading and the flags)."""

    status: str
    point: Point | None
    original: Point | None
    format: str | None
    uncertainty_m: float | None
    confidence: float
    flags: list[FlagAnswer]


class ValidationAnswer(_Validated, frozen=True, gc=False):
    """The answer of ``POST /api/v1/coordinates/validate``."""

    candidates: list[CoordinateCandidate]
    place: PlaceAnswer | _Opt = UNSET


class LocateAnswer(_Validated, frozen=True, gc=False):
    """The answer of ``POST /api/v1/locate``: the validation, then the jurisdiction and structure.

    ``coordinate_candidates`` are the readings of an ambiguous coordinate; ``candidates`` the
    units that may be responsible.
    """

    place: PlaceAnswer | _Opt = UNSET
    coordinate_candidates: list[CoordinateCandidate] | _Opt = UNSET
    match: str = "none"
    jurisdiction: Jurisdiction | None = None
    distance_m: float | None = None
    candidates: list[UnitCandidate] = msgspec.field(default_factory=list)
    stations: list[StationAnswer] = msgspec.field(default_factory=list)
    boundary_set: int | None = None
    mabes: UnitRef | None = None
    unit_types: dict[str, str] = msgspec.field(default_factory=dict)
    special_area: SpecialArea | None = None
    shares_from: str | _Opt = UNSET  # "circle" or "polygon" (place names)
    at: str | _Opt = UNSET

    def unit_codes(self) -> dict[str, str | None]:
        """``{polda, polres, polsek}`` codes of the jurisdiction (None without a point or unit)."""
        j = self.jurisdiction if self.point is not None else None
        return {lvl: (getattr(j, lvl).code if j is not None and getattr(j, lvl) is not None else None)
                for lvl in ("polda", "polres", "polsek")}


class BatchError(msgspec.Struct, frozen=True, gc=False):
    """Why one batch row could not be read."""

    code: str
    detail: str
    errors: list[dict[str, Any]] | None


class CompactLocate(msgspec.Struct, frozen=True, gc=False):
    """One row of a locate batch: status, point, format, match, jurisdiction, distance, confidence,
    flag codes (no stations, no messages); ``error`` for a row whose body is malformed."""

    status: str
    point: Point | None
    format: str | None
    match: str | None
    jurisdiction: Jurisdiction | None
    distance_m: float | None
    confidence: float
    flags: list[str]
    error: BatchError | _Opt = UNSET


def compact_record(answer: LocateAnswer) -> CompactLocate:
    """The compact batch record of a locate answer (the one place that writes it)."""
    return CompactLocate(answer.status, answer.point, answer.format, answer.match, answer.jurisdiction,
                         answer.distance_m, answer.confidence, [f.code for f in answer.flags])


ENCODER = msgspec.json.Encoder()


def to_json(value: Any) -> bytes:
    """JSON bytes of an answer (or anything msgspec encodes)."""
    return ENCODER.encode(value)


def to_builtins(value: Any) -> Any:
    """Dicts and lists of an answer, for the stores and templates that keep JSON."""
    return msgspec.to_builtins(value)
