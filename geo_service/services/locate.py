"""Use cases "validate a coordinate" and "locate an incident": coordinate engine + jurisdiction index.

Request bodies are checked here (framework-neutral) so that the API, the CLI and the pages
share one reading of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from geo_service.errors import BadRequest, UnknownCRS
from geo_service.geo.area import is_special_area
from geo_service.geo.coords import LinkExpander
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.messages import flag_message
from geo_service.geo.validate import ValidationResult, validate_coordinate
from geo_service.services.structure import MABES, WIB, approximate_special_areas, unit_type

if TYPE_CHECKING:
    from geo_service.services.places import PlaceService

LOCATION_FIELDS = ("text", "lat", "lon", "crs", "uncertainty_m", "hint_unit", "at")
#: Gives the index of the boundary set in force at a moment (``IndexHolder.index_at``).
IndexAt = Callable[[datetime | None], JurisdictionIndex]
MAX_TEXT_CHARS = 100_000  # longer texts are refused by the parser as COORDINATE_INVALID anyway


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_location_body(body: Any, *, pointer: str = "") -> dict[str, Any]:
    """Check a location body and return the keyword arguments of ``validate_coordinate``.

    Raises :class:`BadRequest` with ``errors: [{pointer, detail}]`` for a malformed body.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object", errors=[{"pointer": pointer or "/", "detail": "not an object"}])
    errors: list[dict[str, str]] = []
    text = body.get("text")
    lat, lon = body.get("lat"), body.get("lon")
    if text is not None and not isinstance(text, str):
        errors.append({"pointer": f"{pointer}/text", "detail": "must be a string"})
    for key, value in (("lat", lat), ("lon", lon)):
        if value is not None and not _is_number(value):
            errors.append({"pointer": f"{pointer}/{key}", "detail": "must be a finite number"})
    if text is None and (lat is None or lon is None):
        errors.append({"pointer": pointer or "/", "detail": "give either 'text' or both 'lat' and 'lon'"})
    if text is not None and (lat is not None or lon is not None):
        errors.append({"pointer": pointer or "/", "detail": "give 'text' or 'lat'/'lon', not both"})
    crs = body.get("crs")
    if crs is not None and not isinstance(crs, str):
        errors.append({"pointer": f"{pointer}/crs", "detail": "must be a string such as 'EPSG:32750'"})
    unc = body.get("uncertainty_m")
    if unc is not None and (not _is_number(unc) or unc < 0 or unc > 1_000_000):
        errors.append({"pointer": f"{pointer}/uncertainty_m", "detail": "must be a number of metres in 0..1000000"})
    hint = body.get("hint_unit")
    if hint is not None and (not isinstance(hint, str) or len(hint) > 40):
        errors.append({"pointer": f"{pointer}/hint_unit", "detail": "must be a unit code such as '51.01'"})
    if errors:
        raise BadRequest("the location body is malformed", errors=errors)
    return {
        "text": text,
        "lat": float(lat) if lat is not None else None,
        "lon": float(lon) if lon is not None else None,
        "crs": crs,
        "uncertainty_m": float(unc) if unc is not None else None,
        "hint_unit": hint,
    }


def parse_at(body: Any, *, pointer: str = "") -> datetime | None:
    """The body's ``"at"`` (ISO 8601 with an offset, e.g. ``2024-06-01T10:00:00+08:00``) in UTC, or None."""
    at = body.get("at") if isinstance(body, Mapping) else None
    if at is None:
        return None
    detail = "must be an ISO 8601 date-time with an offset, such as '2024-06-01T10:00:00+08:00'"
    if not isinstance(at, str) or len(at) > 40:
        raise BadRequest("the location body is malformed", errors=[{"pointer": f"{pointer}/at", "detail": detail}])
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("the location body is malformed",
                         errors=[{"pointer": f"{pointer}/at", "detail": detail}]) from None
    if moment.tzinfo is None:
        raise BadRequest("the location body is malformed",
                         errors=[{"pointer": f"{pointer}/at", "detail": detail + " (the offset is missing)"}])
    return moment.astimezone(UTC)


def _index_for(body: Any, index: JurisdictionIndex | None, index_at: IndexAt | None
               ) -> tuple[JurisdictionIndex | None, datetime | None]:
    at = parse_at(body)
    if at is not None and index_at is not None:
        return index_at(at), at
    return index, at


#: Refusals that recognised the text as something other than a place (never looked up as a name).
NOT_A_PLACE = frozenset({"SHORT_LINK_UNRESOLVED", "WHAT3WORDS_UNSUPPORTED"})


def validate_location(body: Any, index: JurisdictionIndex | None, places: PlaceService | None = None,
                      expand_link: LinkExpander | None = None, *,
                      index_at: IndexAt | None = None) -> ValidationResult:
    """Validate and correct the coordinate in a location body, against the set in force at its ``"at"``.

    ``expand_link`` opens short map links. Text that no coordinate format reads is tried as a place
    name when ``places`` is given (format ``place``, status ``approximate`` or ``suspect``); the
    coordinate parser always goes first, and text it recognised as something else (a short link, a
    what3words address) is not a place.
    """
    index, _at = _index_for(body, index, index_at)
    kwargs = parse_location_body(body)
    try:
        result = validate_coordinate(**kwargs, area=index, expand_link=expand_link)
    except UnknownCRS as exc:
        raise UnknownCRS(exc.detail, errors=exc.errors or [{"pointer": "/crs", "detail": exc.detail}]) from None
    if (places is not None and kwargs["text"] and not kwargs["crs"] and result.status == "invalid"
            and result.codes[:1] == ["COORDINATE_INVALID"] and not NOT_A_PLACE.intersection(result.codes)):
        placed = places.validate_text(kwargs["text"], index=index, hint_unit=kwargs["hint_unit"])
        if placed is not None:
            return placed
    return result


def locate_validated(result: ValidationResult, index: JurisdictionIndex, *, lang: str = "id",
                     k_stations: int = 3) -> dict[str, Any]:
    """The locate answer: the validation fields plus jurisdiction, candidates, stations, set id."""
    out = result.to_dict(lang=lang)
    coordinate_candidates = out.pop("candidates", None)
    if coordinate_candidates:
        out["coordinate_candidates"] = coordinate_candidates
    if result.point is None:
        out.update({"match": "none", "jurisdiction": None, "distance_m": None, "candidates": [],
                    "stations": [], "boundary_set": index.set_id, **structure_fields(None)})
        return out
    lon, lat = result.point
    located = index.locate(lon, lat, radius_m=float(result.uncertainty_m or 0.0), k_stations=k_stations)
    answer = located.to_dict()
    answer.pop("flags", None)  # codes only; merged below with messages
    known = {f["code"] for f in out.get("flags", [])}
    leaf_code = located.leaf.code if located.leaf is not None else None
    params = {"unit": leaf_code or "?", "distance_m": round(located.distance_m or 0.0),
              "distance_km": round((located.distance_m or 0.0) / 1000, 1)}
    for code in located.flags:
        if code not in known:
            out.setdefault("flags", []).append({"code": code, "message": flag_message(code, params, lang=lang),
                                                "params": params})
            known.add(code)
    out.update(answer)
    out.update(structure_fields(out.get("jurisdiction")))
    return out


def structure_fields(jurisdiction: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the answer says about the structure: the root, each level's unit type, a special area.

    ``mabes`` is the national root above every Polda (``services.structure.MABES``);
    ``unit_types`` maps each level to the type its unit's name carries (``polresta``,
    ``polres_metro``, ``polsek_kawasan``, ...); ``special_area`` is the answering unit when it is
    an airport/port/sea sector (an overlay over the ordinary sector), else None; its ``approximate``
    says whether its polygon is a bundled approximation (``boundaries/special_areas.geojson``).
    """
    juris = {lvl: u for lvl, u in (jurisdiction or {}).items() if u}
    leaf = juris.get("polsek") or juris.get("polres")
    special = leaf if leaf is not None and is_special_area(leaf["name"]) else None
    return {"mabes": {"code": MABES["code"], "name": MABES["name"]} if juris else None,
            "unit_types": {lvl: unit_type(u["name"]) for lvl, u in juris.items()},
            "special_area": {"code": special["code"], "name": special["name"],
                             "approximate": special["code"] in approximate_special_areas()} if special else None}


def locate_location(body: Any, index: JurisdictionIndex, *, lang: str = "id",
                    places: PlaceService | None = None, expand_link: LinkExpander | None = None,
                    index_at: IndexAt | None = None, earliest: datetime | None = None) -> dict[str, Any]:
    """Validate then locate a location body (a place name too, when ``places`` is given), with the
    structure in force at its ``"at"`` (default now).

    The answer's ``boundary_set`` names the set that answered; ``at`` echoes the moment (UTC).
    An ``at`` before ``earliest`` (when the earliest published set takes effect,
    ``IndexHolder.earliest_from``) is answered by that set with the flag ``AT_BEFORE_EARLIEST_SET``.
    """
    index, at = _index_for(body, index, index_at)  # type: ignore[assignment]
    result = validate_location(body, index, places, expand_link)
    out = locate_validated(result, index, lang=lang)
    if places is not None and result.place is not None:
        places.refine_answer(out, result.place, index, lang=lang)
    if at is not None:
        out["at"] = at.isoformat()
        if earliest is not None and at < earliest:
            # Days as Indonesian structure days (00:00 WIB), as the structure file dates them.
            params = {"at": at.astimezone(WIB).date().isoformat(),
                      "effective_from": earliest.astimezone(WIB).date().isoformat()}
            out.setdefault("flags", []).append({"code": "AT_BEFORE_EARLIEST_SET", "params": params,
                                                "message": flag_message("AT_BEFORE_EARLIEST_SET", params, lang=lang)})
    return out
