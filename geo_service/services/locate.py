"""Use cases "validate a coordinate" and "locate an incident": coordinate engine + jurisdiction index.

Request bodies are decoded once into a typed query (``services.answers.LocateQuery``) and the
answer is built once as a typed value (``LocateAnswer``, ``ValidationAnswer``), so that the API, the
batch, the CLI, incidents and the pages share one reading of the body and one answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from geo_service.errors import UnknownCRS
from geo_service.geo.area import is_special_area
from geo_service.geo.coords import LinkExpander
from geo_service.geo.gazetteer import Place
from geo_service.geo.index import JurisdictionIndex, LeafCandidate
from geo_service.geo.messages import flag_message
from geo_service.geo.stations import StationHit
from geo_service.geo.validate import Flag, Reading, ValidationResult, validate_coordinate
from geo_service.services.answers import (
    UNSET,
    CoordinateCandidate,
    FlagAnswer,
    Jurisdiction,
    LocateAnswer,
    LocateQuery,
    PlaceAnswer,
    PlaceParent,
    Point,
    SpecialArea,
    StationAnswer,
    UnitCandidate,
    UnitRef,
    ValidationAnswer,
    parse_moment,
    query_from,
    to_builtins,
)
from geo_service.services.structure import MABES, WIB, approximate_special_areas, unit_type

if TYPE_CHECKING:
    from geo_service.services.places import PlaceService

#: Gives the index of the boundary set in force at a moment (``IndexHolder.index_at``).
IndexAt = Callable[[datetime | None], JurisdictionIndex]


def parse_location_body(body: Any, *, pointer: str = "") -> LocateQuery:
    """The typed query of a location body (a dict), or :class:`BadRequest` with
    ``errors: [{pointer, detail}]`` under ``pointer``."""
    return query_from(body, LocateQuery, pointer=pointer)


def parse_at(body: Any, *, pointer: str = "") -> datetime | None:
    """The body's ``"at"`` (ISO 8601 with an offset, e.g. ``2024-06-01T10:00:00+08:00``) in UTC, or None."""
    return parse_moment(body.get("at") if isinstance(body, Mapping) else None, pointer=f"{pointer}/at")


def _index_for(query: LocateQuery, index: JurisdictionIndex | None, index_at: IndexAt | None
               ) -> tuple[JurisdictionIndex | None, datetime | None]:
    at = query.moment()
    if at is not None and index_at is not None:
        return index_at(at), at
    return index, at


def _query(body: Any) -> LocateQuery:
    return body if isinstance(body, LocateQuery) else query_from(body)


#: Refusals that recognised the text as something other than a place (never looked up as a name).
NOT_A_PLACE = frozenset({"SHORT_LINK_UNRESOLVED", "WHAT3WORDS_UNSUPPORTED"})


def validate_location(body: Any, index: JurisdictionIndex | None, places: PlaceService | None = None,
                      expand_link: LinkExpander | None = None, *,
                      index_at: IndexAt | None = None) -> ValidationResult:
    """Validate and correct the coordinate of a location body (a dict or a decoded
    :class:`LocateQuery`), against the set in force at its ``"at"``.

    ``expand_link`` opens short map links. Text that no coordinate format reads is tried as a place
    name when ``places`` is given (format ``place``, status ``approximate`` or ``suspect``); the
    coordinate parser always goes first, and text it recognised as something else (a short link, a
    what3words address) is not a place.
    """
    query = _query(body)
    index, _at = _index_for(query, index, index_at)
    return _validate(query, index, places, expand_link)


def _validate(query: LocateQuery, index: JurisdictionIndex | None, places: PlaceService | None,
              expand_link: LinkExpander | None) -> ValidationResult:
    try:
        result = validate_coordinate(**query.coordinate_kwargs(), area=index, expand_link=expand_link)
    except UnknownCRS as exc:
        raise UnknownCRS(exc.detail, errors=exc.errors or [{"pointer": "/crs", "detail": exc.detail}]) from None
    if (places is not None and query.text and not query.crs and result.status == "invalid"
            and result.codes[:1] == ["COORDINATE_INVALID"] and not NOT_A_PLACE.intersection(result.codes)):
        placed = places.validate_text(query.text, index=index, hint_unit=query.hint_unit)
        if placed is not None:
            return placed
    return result


# --------------------------------------------------------------------------- the typed answer


def _point(point: tuple[float, float] | None) -> Point | None:
    if point is None or not (math.isfinite(point[0]) and math.isfinite(point[1])):
        return None
    return Point(round(point[1], 7), round(point[0], 7))


def flag_answer(flag: Flag, lang: str) -> FlagAnswer:
    """A flag with its message in ``lang`` and the figures of the message (when it has any)."""
    if not flag.params:
        return FlagAnswer(flag.code, flag.message(lang))
    params = {k: v for k, v in flag.params.items() if isinstance(v, str | int | float | bool)}
    return FlagAnswer(flag.code, flag.message(lang), params)


def place_answer(place: Place) -> PlaceAnswer:
    """A gazetteer place in the answer."""
    return PlaceAnswer(place.kind, place.code, place.name, [PlaceParent(k, c, n) for k, c, n in place.parents],
                       Point(round(place.lat, 7), round(place.lon, 7)), round(place.radius_m))


def _coordinate_candidate(c: Reading, lang: str) -> CoordinateCandidate:
    place = getattr(c, "place", None)
    return CoordinateCandidate(
        round(c.lat, 7), round(c.lon, 7), [flag_answer(f, lang) for f in c.flags], c.area_kind, c.unit_code,
        None if c.distance_m is None else round(c.distance_m, 1),
        place=place_answer(place) if place is not None else UNSET, label=place.label if place is not None else UNSET)


def validation_answer(result: ValidationResult, lang: str = "id") -> ValidationAnswer:
    """The answer of the validate API (built once; the JSON is ``answers.to_json`` of it)."""
    return ValidationAnswer(
        result.status, _point(result.point), _point(result.original), result.format,
        None if result.uncertainty_m is None else round(result.uncertainty_m, 1), round(result.confidence, 2),
        [flag_answer(f, lang) for f in result.flags], [_coordinate_candidate(c, lang) for c in result.candidates],
        place=place_answer(result.place) if result.place is not None else UNSET)


def _unit_ref(unit: Any) -> UnitRef | None:
    return None if unit is None else UnitRef(unit.code, unit.name)


def jurisdiction_of(chain: Mapping[Any, Any]) -> Jurisdiction:
    """The jurisdiction of a chain of units by level."""
    return Jurisdiction(_unit_ref(chain.get("polda")), _unit_ref(chain.get("polres")), _unit_ref(chain.get("polsek")))


def unit_candidate(c: LeafCandidate) -> UnitCandidate:
    """A leaf that may be responsible, with its share of the circle and its distance."""
    return UnitCandidate(_unit_ref(c.chain.get("polda")), _unit_ref(c.chain.get("polres")),
                         _unit_ref(c.chain.get("polsek")), None if c.share is None else round(c.share, 4),
                         round(c.distance_m, 1))


def _station(hit: StationHit) -> StationAnswer:
    s = hit.station
    return StationAnswer(s.code, s.name, s.unit_code, s.lat, s.lon, s.phone, s.sample, round(hit.distance_m, 1))


def _structure(j: Jurisdiction | None) -> tuple[UnitRef | None, dict[str, str], SpecialArea | None]:
    """(mabes, unit_types, special_area) of a jurisdiction, see :func:`structure_fields`."""
    units = {lvl: u for lvl in ("polda", "polres", "polsek") if j is not None and (u := getattr(j, lvl)) is not None}
    leaf = units.get("polsek") or units.get("polres")
    special = SpecialArea(leaf.code, leaf.name, leaf.code in approximate_special_areas()) \
        if leaf is not None and is_special_area(leaf.name) else None
    return (UnitRef(MABES["code"], MABES["name"]) if units else None,
            {lvl: unit_type(u.name) for lvl, u in units.items()}, special)


def structure_fields(jurisdiction: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the answer says about the structure: the root, each level's unit type, a special area.

    ``mabes`` is the national root above every Polda (``services.structure.MABES``);
    ``unit_types`` maps each level to the type its unit's name carries (``polresta``,
    ``polres_metro``, ``polsek_kawasan``, ...); ``special_area`` is the answering unit when it is
    an airport/port/sea sector (an overlay over the ordinary sector), else None; its ``approximate``
    says whether its polygon is a bundled approximation (``boundaries/special_areas.geojson``).
    """
    j = msgspec.convert(dict(jurisdiction or {}), type=Jurisdiction) if jurisdiction else None
    mabes, types, special = _structure(j)
    return {"mabes": to_builtins(mabes), "unit_types": types, "special_area": to_builtins(special)}


def locate_validated(result: ValidationResult, index: JurisdictionIndex, *, lang: str = "id",
                     k_stations: int = 3) -> LocateAnswer:
    """The locate answer: the validation fields plus jurisdiction, candidates, stations, set id."""
    flags = [flag_answer(f, lang) for f in result.flags]
    common = dict(
        status=result.status, point=_point(result.point), original=_point(result.original), format=result.format,
        uncertainty_m=None if result.uncertainty_m is None else round(result.uncertainty_m, 1),
        confidence=round(result.confidence, 2), flags=flags,
        place=place_answer(result.place) if result.place is not None else UNSET,
        coordinate_candidates=[_coordinate_candidate(c, lang) for c in result.candidates] or UNSET)
    if result.point is None:
        return LocateAnswer(**common, match="none", jurisdiction=None, distance_m=None,  # type: ignore[arg-type]
                            boundary_set=index.set_id)
    lon, lat = result.point
    located = index.locate(lon, lat, radius_m=float(result.uncertainty_m or 0.0), k_stations=k_stations,
                           hit=result.area_hit)
    known = {f.code for f in flags}
    if located.flags:
        leaf_code = located.leaf.code if located.leaf is not None else None
        params: dict[str, Any] = {"unit": leaf_code or "?", "distance_m": round(located.distance_m or 0.0),
                                  "distance_km": round((located.distance_m or 0.0) / 1000, 1)}
        for code in located.flags:
            if code not in known:
                flags.append(FlagAnswer(code, flag_message(code, params, lang=lang), params))
                known.add(code)
    juris = None if located.jurisdiction is None else jurisdiction_of(located.jurisdiction)
    mabes, types, special = _structure(juris)
    return LocateAnswer(**common, match=located.match, jurisdiction=juris,  # type: ignore[arg-type]
                        distance_m=round(located.distance_m, 1),
                        candidates=[unit_candidate(c) for c in located.candidates],
                        stations=[_station(s) for s in located.stations], boundary_set=located.set_id,
                        mabes=mabes, unit_types=types, special_area=special)


def locate_location(body: Any, index: JurisdictionIndex, *, lang: str = "id",
                    places: PlaceService | None = None, expand_link: LinkExpander | None = None,
                    index_at: IndexAt | None = None, earliest: datetime | None = None) -> LocateAnswer:
    """Validate then locate a location body (a dict or a decoded :class:`LocateQuery`; a place name
    too, when ``places`` is given), with the structure in force at its ``"at"`` (default now).

    The answer's ``boundary_set`` names the set that answered; ``at`` echoes the moment (UTC).
    Stores and templates take ``answers.to_builtins`` of it, the API ``answers.to_json``.
    An ``at`` before ``earliest`` (when the earliest published set takes effect,
    ``IndexHolder.earliest_from``) is answered by that set with the flag ``AT_BEFORE_EARLIEST_SET``.
    """
    query = _query(body)
    idx, at = _index_for(query, index, index_at)
    assert idx is not None
    result = _validate(query, idx, places, expand_link)
    answer = locate_validated(result, idx, lang=lang)
    if places is not None and result.place is not None:
        answer = places.refine_answer(answer, result.place, idx, lang=lang)
    if at is not None:
        answer = msgspec.structs.replace(answer, at=at.isoformat())
        if earliest is not None and at < earliest:
            # Days as Indonesian structure days (00:00 WIB), as the structure file dates them.
            params: dict[str, str | int | float | bool] = {
                "at": at.astimezone(WIB).date().isoformat(), "effective_from": earliest.astimezone(WIB).date().isoformat()}
            flag = FlagAnswer("AT_BEFORE_EARLIEST_SET", flag_message("AT_BEFORE_EARLIEST_SET", params, lang=lang), params)
            answer = msgspec.structs.replace(answer, flags=[*answer.flags, flag])
    return answer
