"""Validation and correction of a coordinate against the service area, with reason codes.

Steps (GBIF-style, against our published jurisdictions rather than a country):

1. Parse (:mod:`geo_service.geo.coords`): unreadable text -> ``COORDINATE_INVALID``, followed
   by the parser's hint when it has one (``SHORT_LINK_UNRESOLVED``, ``WHAT3WORDS_UNSUPPORTED``,
   ``PHONE_NUMBER_NOT_COORDINATE``, ``NUMBER_NOT_COORDINATE``: what to ask the caller for).
   The parser's notes become flags (``TEXT_IGNORED``; ``NMEA_CHECKSUM_BAD``, which makes the
   answer ``suspect``). Several different points in one text -> ``MULTIPLE_COORDINATES``,
   status ``suspect``, no point, each point a candidate: never a silent pick.
2. ``(0, 0)`` -> ``ZERO_COORDINATE``; no reading in range -> ``COORDINATE_OUT_OF_RANGE``.
   These three have status ``invalid`` and no point.
3. Projected or foreign-datum input was converted -> ``COORDINATE_REPROJECTED``; digits that
   say the point is rounded to more than :data:`ROUNDED_THRESHOLD_M` -> ``COORDINATE_ROUNDED``
   (and the uncertainty grows to the rounding cell).
4. With a :class:`~geo_service.geo.area.ServiceArea`: a reading that lands inside is kept.
   Otherwise the candidates are tried: the parser's alternative readings (UTM letter read
   as band or hemisphere, unknown axis order) and the corrections negated latitude, negated
   longitude, both, swapped, and swapped with negations. Candidates are ranked by (inside
   the hinted unit, inside > at sea > outside, fewer changes); a single best candidate is
   taken (status ``corrected``, each change named by its flag); two or more equally good
   ones give status ``suspect``, no point, and all of them in ``candidates``.
   A reading that is inside but whose *unwritten* sign could be missing (``0.03, 109.33``:
   the minus of Pontianak may be lost) is also checked: when the flipped point is inside
   too and the hinted unit does not decide, the result is ``suspect`` with both candidates.
5. Nothing lands inside or at sea -> ``OUTSIDE_SERVICE_AREA`` (status ``suspect``, point
   kept); a point at sea within the coastal band -> ``AT_SEA`` (status unchanged).
6. A point within :data:`DEFAULT_LOCATION_RADIUS_M` of a unit centroid or station position
   (``ServiceArea.default_points``) -> ``DEFAULT_LOCATION_SUSPECTED`` (status ``suspect``).

7. Text that no coordinate format reads may name a place (:func:`validate_place`, called by the
   service layer with the gazetteer's ranked matches): one clear match -> status
   ``approximate``, format ``place``, the place's point and ``uncertainty_m`` = its radius, flag
   ``PLACE_NAME`` (plus ``PLACE_NAME_FUZZY`` when the name was misspelt); several equally good
   matches -> ``suspect`` with ``AMBIGUOUS_PLACE``, no point and the places as candidates (in the
   gazetteer's order: the hinted unit first).

Without an area (``area=None``) only steps 1-3 run, plus the one correction that needs
no area: a latitude above 90 whose swap is in range is swapped.

Confidence (monotone: every extra doubt lowers it, never raises it):
``1.0`` for a valid point; ``0.8`` / ``0.7`` / ``0.6`` after one / two / three changes;
times ``0.8`` when rounded and times ``0.8`` at sea; at most ``0.3`` when suspect with a
point, ``0.2`` when suspect between candidates; ``0.0`` when invalid.
``approximate`` (a place name): ``0.5 x score / 100`` -- ``0.5`` for an exact name, less for a
misspelt one -- because the point only stands for an area of ``uncertainty_m`` radius.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from geo_service import errors
from geo_service.geo.area import COASTAL_BAND_M, AreaHit, ServiceArea
from geo_service.geo.coords import (
    LinkExpander,
    ParsedCoordinate,
    parse_coordinate_numbers,
    parse_coordinate_text,
)
from geo_service.geo.distance import distance_m
from geo_service.geo.gazetteer import Place, PlaceMatch, resolve
from geo_service.geo.geometry import M_PER_DEG
from geo_service.geo.messages import flag_message

Status = Literal["valid", "corrected", "approximate", "suspect", "invalid"]
#: Every status, in the order of decreasing trust (the OpenAPI enum and the pages use it).
STATUSES: tuple[str, ...] = ("valid", "corrected", "approximate", "suspect", "invalid")
#: Confidence of an exact place name (a point standing for an area).
PLACE_CONFIDENCE = 0.5
#: At most this many places are listed when a name is ambiguous.
MAX_PLACE_CANDIDATES = 10

#: A rounding cell whose half-diagonal exceeds this many metres is flagged COORDINATE_ROUNDED
#: (2 decimals of a degree or whole minutes are; 3 decimals or whole seconds are not).
ROUNDED_THRESHOLD_M = 100.0
#: A point this close to a default point (unit centroid, station) is DEFAULT_LOCATION_SUSPECTED.
DEFAULT_LOCATION_RADIUS_M = 10.0
#: A sign flip moves a point by twice the value; beyond this span no service area holds both.
MAX_AREA_SPAN_DEG = 60.0
#: Margin around the box of an area's default points within which candidates are looked up
#: (wider than any unit is from its own centroid).
EXTENT_MARGIN_DEG = 5.0

#: Notes of the parser that make an otherwise good answer ``suspect``.
SUSPECT_NOTES = frozenset({"NMEA_CHECKSUM_BAD"})
_CHANGE_CODES = ("PRESUMED_SWAPPED_COORDINATE", "PRESUMED_NEGATED_LATITUDE", "PRESUMED_NEGATED_LONGITUDE")
_KIND_RANK = {"inside": 2, "at_sea": 1, "outside": 0}


@dataclass(frozen=True)
class Flag:
    """A reason code with its parameters; the message is rendered per language."""

    code: str
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def message(self, lang: str = "id") -> str:
        """The human message in ``lang`` (``"id"`` or ``"en"``)."""
        return flag_message(self.code, self.params, lang)

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """``{"code", "message"}`` as in the API contract, plus ``params`` (the figures in the
        message, machine-readable) when the flag has any."""
        out: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        if self.params:
            out["params"] = {k: v for k, v in self.params.items() if isinstance(v, str | int | float | bool)}
        return out


def _point_dict(point: tuple[float, float] | None) -> dict[str, float] | None:
    if point is None or not (math.isfinite(point[0]) and math.isfinite(point[1])):
        return None
    return {"lat": round(point[1], 7), "lon": round(point[0], 7)}


@dataclass
class Reading:
    """One possible reading of an ambiguous coordinate."""

    lon: float
    lat: float
    flags: list[Flag]
    area_kind: str | None = None
    unit_code: str | None = None
    distance_m: float | None = None
    in_hint_unit: bool | None = None

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """JSON form: ``{"lat", "lon", "flags", "area", "unit_code", "distance_m"}``."""
        return {
            "lat": round(self.lat, 7), "lon": round(self.lon, 7),
            "flags": [f.to_dict(lang) for f in self.flags],
            "area": self.area_kind, "unit_code": self.unit_code,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
        }


@dataclass
class ValidationResult:
    """The outcome of :func:`validate_coordinate`; ``point`` and ``original`` are ``(lon, lat)``.

    ``area_hit`` is the service-area answer for ``point`` (None without an area or point),
    kept so callers need not look the point up again; ``parsed`` is the parser's reading.
    """

    status: Status
    point: tuple[float, float] | None
    original: tuple[float, float] | None
    format: str | None
    uncertainty_m: float | None
    confidence: float
    flags: list[Flag] = field(default_factory=list)
    candidates: list[Reading] = field(default_factory=list)
    area_hit: AreaHit | None = None
    parsed: ParsedCoordinate | None = None
    place: Place | None = None

    @property
    def codes(self) -> list[str]:
        """The flag codes, in order."""
        return [f.code for f in self.flags]

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """The API contract: ``{"lat","lon"}`` objects and flags ``[{"code","message"}]`` in ``lang``."""
        return {
            "status": self.status,
            "point": _point_dict(self.point),
            "original": _point_dict(self.original),
            "format": self.format,
            "uncertainty_m": None if self.uncertainty_m is None else round(self.uncertainty_m, 1),
            "confidence": round(self.confidence, 2),
            "flags": [f.to_dict(lang) for f in self.flags],
            "candidates": [c.to_dict(lang) for c in self.candidates],
            **({"place": self.place.to_dict()} if self.place is not None else {}),
        }


@dataclass
class PlaceReading(Reading):
    """A place that an ambiguous name may mean."""

    place: Place | None = None

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """The candidate's JSON form plus ``place`` (kind, code, name, parents, point, radius)."""
        out = super().to_dict(lang)
        if self.place is not None:
            out["place"] = self.place.to_dict()
            out["label"] = self.place.label
        return out


# --------------------------------------------------------------------------- helpers

def _in_range(lon: float, lat: float) -> bool:
    return math.isfinite(lon) and math.isfinite(lat) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _nice_m(value: float) -> int | float:
    return round(value) if value >= 10 else round(value, 1)


def _confidence(status: Status, changes: int, flags: list[Flag], ambiguous: bool = False) -> float:
    if status == "invalid":
        return 0.0
    conf = (1.0, 0.8, 0.7, 0.6)[min(changes, 3)]
    codes = {f.code for f in flags}
    if "COORDINATE_ROUNDED" in codes:
        conf *= 0.8
    if "AT_SEA" in codes:
        conf *= 0.8
    if status == "suspect":
        conf = min(conf, 0.2 if ambiguous else 0.3)
    return round(conf, 3)


def _invalid(code: str, original: tuple[float, float] | None, fmt: str | None,
             parsed: ParsedCoordinate | None = None) -> ValidationResult:
    return ValidationResult(
        status="invalid", point=None, original=original, format=fmt, uncertainty_m=None,
        confidence=0.0, flags=[Flag(code)], parsed=parsed,
    )


def _band_extent(bounds: tuple[float, float, float, float], band_m: float) -> tuple[float, float, float, float] | None:
    """The box ``bounds`` widened so that every point outside it lies farther than ``band_m`` (geodesic)
    from every point of ``bounds``; None when no such simple box exists (near a pole, across ±180°).

    A degree of latitude is at least 110,574 m; a degree of longitude at latitude φ at least
    111,000·cos φ m along the parallel, and a geodesic between two points that far apart in longitude
    is shorter than the parallel by under a third up to 60° (hence the factor 1.5).

    >>> [round(v, 3) for v in _band_extent((115.0, -9.0, 116.0, -8.0), 22224.0)]
    [114.696, -9.202, 116.304, -7.798]
    >>> _band_extent((115.0, 55.0, 116.0, 59.9), 22224.0) is None
    True
    """
    mlat = band_m / 110_000.0 + 1e-9
    top = max(abs(bounds[1]), abs(bounds[3])) + mlat
    if top >= 60.0:
        return None
    mlon = 1.5 * band_m / (111_000.0 * math.cos(math.radians(top))) + 1e-9
    if bounds[0] - mlon <= -180.0 or bounds[2] + mlon >= 180.0:
        return None
    return (bounds[0] - mlon, bounds[1] - mlat, bounds[2] + mlon, bounds[3] + mlat)


class _DefaultPoints:
    """Default points of one area as arrays, for a fast 'within a few metres' test.

    Also holds a generous extent of the area (the box around its default points widened by
    :data:`EXTENT_MARGIN_DEG`, or ``area.bounds`` widened by the coastal band when the area has
    one): correction candidates outside it are not looked up, since a far-away lookup costs
    a nearest-unit search and can never land inside or at sea.
    """

    #: Side of the buckets of default points, in degrees (about 1.1 km).
    BUCKET_DEG = 0.01

    def __init__(self, area: ServiceArea) -> None:
        pts = list(area.default_points())
        self.labels = [p[2] for p in pts]
        self.lons = np.array([p[0] for p in pts], dtype=float)
        self.lats = np.array([p[1] for p in pts], dtype=float)
        self.lon_list, self.lat_list = self.lons.tolist(), self.lats.tolist()
        # For every bucket, the default points in it and its 8 neighbours, in index order.
        near: dict[tuple[int, int], list[int]] = {}
        for i, (x, y) in enumerate(zip(self.lon_list, self.lat_list, strict=True)):
            bx, by = math.floor(x / self.BUCKET_DEG), math.floor(y / self.BUCKET_DEG)
            for dx_ in (-1, 0, 1):
                for dy_ in (-1, 0, 1):
                    near.setdefault((bx + dx_, by + dy_), []).append(i)
        self.neighbourhood = {key: tuple(sorted(v)) for key, v in near.items()}
        self.extent: tuple[float, float, float, float] | None = None
        #: True when the extent comes from the area's own bounds and coastal band (then a point outside it
        #: is surely outside); the default points' box is a guess that only spares far correction tries.
        self.exact = False
        bounds = getattr(area, "bounds", None)
        if isinstance(bounds, tuple) and len(bounds) == 4:
            self.extent = _band_extent(bounds, float(getattr(area, "coastal_band_m", COASTAL_BAND_M)))
            self.exact = True
        elif pts:
            m = EXTENT_MARGIN_DEG
            self.extent = (float(self.lons.min()) - m, float(self.lats.min()) - m,
                           float(self.lons.max()) + m, float(self.lats.max()) + m)

    def may_hold(self, lon: float, lat: float) -> bool:
        e = self.extent
        return e is None or (e[0] <= lon <= e[2] and e[1] <= lat <= e[3])

    def nearest_within(self, lon: float, lat: float, radius_m: float) -> str | None:
        if not self.labels:
            return None
        coslat = math.cos(math.radians(lat))
        if 2.0 * radius_m < 0.5 * self.BUCKET_DEG * 110_000.0 * coslat:
            # Only the default points in the 3x3 buckets around the point can be within 2 radii:
            # the same arithmetic as below on them, in index order (the same nearest, the same ties).
            near = self.neighbourhood.get((math.floor(lon / self.BUCKET_DEG), math.floor(lat / self.BUCKET_DEG)), ())
            if not near:
                return None
            best, best_d2 = -1, math.inf
            lons, lats = self.lon_list, self.lat_list
            for i in near:
                ddy = (lats[i] - lat) * 111_320.0
                ddx = (lons[i] - lon) * 111_320.0 * coslat
                d2_i = ddx * ddx + ddy * ddy
                if d2_i < best_d2:
                    best, best_d2 = i, d2_i
            if best < 0 or best_d2 > (2.0 * radius_m) ** 2:
                return None
            if distance_m(lon, lat, lons[best], lats[best]) <= radius_m:
                return self.labels[best]
            return None
        # Cheap local-metres prefilter, then one exact geodesic distance.
        dy = (self.lats - lat) * M_PER_DEG
        dx = (self.lons - lon) * M_PER_DEG * math.cos(math.radians(lat))
        d2 = dx * dx + dy * dy
        i = int(np.argmin(d2))
        if d2[i] > (2.0 * radius_m) ** 2:
            return None
        if distance_m(lon, lat, float(self.lons[i]), float(self.lats[i])) <= radius_m:
            return self.labels[i]
        return None


_DEFAULTS_CACHE: dict[int, tuple[ServiceArea, _DefaultPoints]] = {}


def _defaults(area: ServiceArea) -> _DefaultPoints:
    cached = _DEFAULTS_CACHE.get(id(area))
    if cached is not None and cached[0] is area:
        return cached[1]
    if len(_DEFAULTS_CACHE) > 16:
        _DEFAULTS_CACHE.clear()
    value = _DefaultPoints(area)
    _DEFAULTS_CACHE[id(area)] = (area, value)
    return value


def forget_default_points(area: ServiceArea) -> None:
    """Drop the cached default points of ``area`` (call after its stations change)."""
    _DEFAULTS_CACHE.pop(id(area), None)


@dataclass
class _Option:
    lon: float
    lat: float
    flags: list[Flag]
    changes: int
    hit: AreaHit | None = None
    in_hint: bool = False

    def key(self) -> tuple[int, int, int]:
        kind = _KIND_RANK[self.hit.kind] if self.hit is not None else -1
        return (int(self.in_hint), kind, -self.changes)

    def candidate(self) -> Reading:
        return Reading(
            lon=self.lon, lat=self.lat, flags=list(self.flags),
            area_kind=self.hit.kind if self.hit else None,
            unit_code=self.hit.unit_code if self.hit else None,
            distance_m=self.hit.distance_m if self.hit else None, in_hint_unit=self.in_hint,
        )


def _corrections(lon: float, lat: float) -> list[_Option]:
    sw, nla, nlo = (Flag(c) for c in _CHANGE_CODES)
    raw = [
        (lon, -lat, [nla]), (-lon, lat, [nlo]), (-lon, -lat, [nla, nlo]),
        (lat, lon, [sw]), (lat, -lon, [sw, nla]), (-lat, lon, [sw, nlo]), (-lat, -lon, [sw, nla, nlo]),
    ]
    seen = {(lon, lat)}
    out = []
    for x, y, flags in raw:
        if (x, y) in seen or not _in_range(x, y):
            continue
        seen.add((x, y))
        out.append(_Option(x, y, flags, len(flags)))
    return out


def _alternatives(parsed: ParsedCoordinate) -> list[_Option]:
    out = []
    for (x, y), code in zip(parsed.ambiguous_readings, parsed.ambiguous_codes, strict=False):
        if _in_range(x, y):
            out.append(_Option(x, y, [Flag(code)], 1))
    return out


def _sign_doubts(parsed: ParsedCoordinate) -> list[_Option]:
    """Flips of signs that were not written (a lost minus), close enough to matter."""
    lon, lat = parsed.lon, parsed.lat
    out = []
    if not parsed.lat_sign_explicit and 0 < lat and 2 * lat <= MAX_AREA_SPAN_DEG:
        out.append(_Option(lon, -lat, [Flag("PRESUMED_NEGATED_LATITUDE")], 1))
    if not parsed.lon_sign_explicit and 0 < lon and 2 * lon <= MAX_AREA_SPAN_DEG:
        out.append(_Option(-lon, lat, [Flag("PRESUMED_NEGATED_LONGITUDE")], 1))
    return out


_FAR = AreaHit("outside", None, math.inf)


def _classify(opt: _Option, area: ServiceArea, hint_unit: str | None, skip_far: bool = False) -> _Option:
    if skip_far and not _defaults(area).may_hold(opt.lon, opt.lat):
        opt.hit = _FAR
        return opt
    opt.hit = area.classify_xy(opt.lon, opt.lat)
    opt.in_hint = bool(hint_unit) and opt.hit.kind != "outside" and area.unit_covers_xy(
        hint_unit, opt.lon, opt.lat  # type: ignore[arg-type]
    )
    return opt


# --------------------------------------------------------------------------- main entry points

def _check_request(text: Any, lat: Any, lon: Any, crs: Any, uncertainty_m: Any, hint_unit: Any) -> None:
    if text is not None:
        if lat is not None or lon is not None:
            raise errors.BadRequest("Give either a coordinate text or lat/lon numbers, not both.")
        if not isinstance(text, str):
            raise errors.BadRequest("The coordinate text must be a string.")
    elif lat is None or lon is None:
        raise errors.BadRequest("Give a coordinate text, or both lat and lon.")
    if crs is not None and not isinstance(crs, str):
        raise errors.BadRequest("crs must be a string such as 'EPSG:32750'.")
    if hint_unit is not None and not isinstance(hint_unit, str):
        raise errors.BadRequest("The unit hint must be a unit code string.")
    if uncertainty_m is not None:
        if isinstance(uncertainty_m, bool) or not isinstance(uncertainty_m, (int, float)):
            raise errors.BadRequest("uncertainty_m must be a number of metres.")
        if not (math.isfinite(uncertainty_m) and uncertainty_m >= 0):
            raise errors.InvalidInput("uncertainty_m must be a finite number >= 0.")


def validate_coordinate(
    *,
    text: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    crs: str | None = None,
    uncertainty_m: float | None = None,
    hint_unit: str | None = None,
    area: ServiceArea | None,
    expand_link: LinkExpander | None = None,
) -> ValidationResult:
    """Parse, check and (when needed and safe) correct one coordinate.

    Parameters
    ----------
    text : str, optional
        Coordinate text in any format :func:`~geo_service.geo.coords.parse_coordinate_text` reads.
    lat, lon : float, optional
        Numbers instead of text (with a projected ``crs``: ``lat`` = northing, ``lon`` = easting).
    crs : str, optional
        CRS of the input (default WGS 84).
    uncertainty_m : float, optional
        Uncertainty stated by the caller, in metres.
    hint_unit : str, optional
        Code of the caller's unit: preferred when candidates tie, and the reference for short
        Plus Codes.
    area : ServiceArea or None
        The published jurisdictions; None skips the area checks.
    expand_link : callable, optional
        Opens short map links (see :func:`~geo_service.geo.coords.parse_coordinate_text`).

    Returns
    -------
    ValidationResult

    Raises
    ------
    geo_service.errors.BadRequest
        Neither text nor lat/lon, or values of the wrong type.
    geo_service.errors.UnknownCRS
        ``crs`` names no known system.

    Examples
    --------
    >>> r = validate_coordinate(lat=114.62, lon=-8.358, area=None)
    >>> r.status, r.point, r.codes
    ('corrected', (114.62, -8.358), ['COORDINATE_ROUNDED', 'PRESUMED_SWAPPED_COORDINATE'])
    >>> validate_coordinate(text="0, 0", area=None).codes
    ['ZERO_COORDINATE']
    """
    _check_request(text, lat, lon, crs, uncertainty_m, hint_unit)
    reference = area.reference_point(hint_unit) if (area is not None and hint_unit) else None
    try:
        if text is not None:
            parsed = parse_coordinate_text(text, crs=crs, reference=reference, expand_link=expand_link)
        else:
            parsed = parse_coordinate_numbers(lat, lon, crs=crs)  # type: ignore[arg-type]
    except errors.CoordinateInvalid as exc:
        refused = _invalid("COORDINATE_INVALID", None, None)
        if exc.extra.get("hint"):
            refused.flags.append(Flag(exc.extra["hint"], dict(exc.extra.get("params") or {})))
        return refused
    return _validate_parsed(parsed, uncertainty_m, hint_unit, area)


def _validate_parsed(
    parsed: ParsedCoordinate, uncertainty_m: float | None, hint_unit: str | None, area: ServiceArea | None
) -> ValidationResult:
    original = (parsed.lon, parsed.lat)
    fmt = parsed.format
    raw_zero = parsed.format == "projected" and parsed.extra.get("x") == 0 and parsed.extra.get("y") == 0
    if (parsed.lon == 0 and parsed.lat == 0) or raw_zero:
        return _invalid("ZERO_COORDINATE", original if _in_range(*original) else None, fmt, parsed)

    base: list[Flag] = []
    if parsed.reprojected_from:
        base.append(Flag("COORDINATE_REPROJECTED", {"crs": parsed.reprojected_from}))
    precision = parsed.precision_m
    if precision is not None and precision > ROUNDED_THRESHOLD_M:
        base.append(Flag("COORDINATE_ROUNDED", {"precision_m": _nice_m(precision)}))
    base.extend(Flag(code, dict(params)) for code, params in parsed.notes)
    stated = [u for u in (parsed.uncertainty_m, uncertainty_m, precision) if u is not None]
    uncertainty = float(max(stated)) if stated else None

    def result(status: Status, opt: _Option | None, flags: list[Flag],
               candidates: Iterable[Reading] = (), ambiguous: bool = False) -> ValidationResult:
        if status in ("valid", "corrected") and any(f.code in SUSPECT_NOTES for f in flags):
            status = "suspect"
        changes = opt.changes if opt is not None else 0
        return ValidationResult(
            status=status, point=(opt.lon, opt.lat) if opt is not None else None,
            original=original if _in_range(*original) else None, format=fmt, uncertainty_m=uncertainty,
            confidence=_confidence(status, changes, flags, ambiguous), flags=flags,
            candidates=list(candidates), area_hit=opt.hit if opt is not None else None, parsed=parsed,
        )

    if parsed.others:
        points = [p for p in (parsed, *parsed.others) if _in_range(p.lon, p.lat) and (p.lon, p.lat) != (0, 0)]
        if len(points) > 1:
            opts = [_Option(p.lon, p.lat, [], 0) for p in points]
            if area is not None:
                # Each point as written, with its unit and distance even far away: the dispatcher picks one.
                opts = [_classify(o, area, hint_unit) for o in opts]
            flags = base + [Flag("MULTIPLE_COORDINATES", {"count": len(points)})]
            return result("suspect", None, flags, [o.candidate() for o in opts], ambiguous=True)

    primary = _Option(parsed.lon, parsed.lat, [], 0)
    primary_ok = _in_range(parsed.lon, parsed.lat)

    if area is None:
        if primary_ok:
            return result("valid", primary, base)
        for opt in _alternatives(parsed) + _corrections(parsed.lon, parsed.lat):
            if "PRESUMED_SWAPPED_COORDINATE" in {f.code for f in opt.flags} and opt.changes == 1:
                return result("corrected", opt, base + opt.flags)
        return _invalid("COORDINATE_OUT_OF_RANGE", None, fmt, parsed)

    if primary_ok:
        # Far outside the area's own extent the point can only be "outside": its nearest-unit search
        # (the distance the OUTSIDE_SERVICE_AREA flag reports) waits until that flag is the answer.
        _classify(primary, area, hint_unit, _defaults(area).exact)
        assert primary.hit is not None
        if primary.hit.kind != "outside":
            doubts = _alternatives(parsed) + _sign_doubts(parsed)
            rivals = [_classify(o, area, hint_unit, True) for o in doubts]
            rivals = [o for o in rivals if o.hit is not None and o.hit.kind == "inside"]
            if rivals:
                pool = [primary, *rivals]
                if hint_unit:
                    in_hint = [o for o in pool if o.in_hint]
                    if len(in_hint) == 1:
                        return _finish(result, area, in_hint[0], base)
                flags = base + [Flag("AMBIGUOUS_COORDINATE", {"count": len(pool)})]
                return result("suspect", None, flags, [o.candidate() for o in pool], ambiguous=True)
            return _finish(result, area, primary, base)

    tries = _alternatives(parsed) + _corrections(parsed.lon, parsed.lat)
    options = [_classify(o, area, hint_unit, True) for o in tries]
    options = [o for o in options if o.hit is not None and o.hit.kind != "outside"]
    if options:
        best_key = max(o.key() for o in options)
        best = [o for o in options if o.key() == best_key]
        if len(best) == 1:
            return _finish(result, area, best[0], base + best[0].flags, corrected=True)
        flags = base + [Flag("AMBIGUOUS_COORDINATE", {"count": len(best)})]
        return result("suspect", None, flags, [o.candidate() for o in best], ambiguous=True)

    if primary_ok:
        if primary.hit is _FAR:
            _classify(primary, area, hint_unit)
        assert primary.hit is not None
        outside = Flag("OUTSIDE_SERVICE_AREA", {"distance_km": round(primary.hit.distance_m / 1000.0, 1)})
        return result("suspect", primary, base + [outside])
    for opt in _corrections(parsed.lon, parsed.lat):
        if [f.code for f in opt.flags] == ["PRESUMED_SWAPPED_COORDINATE"]:
            _classify(opt, area, hint_unit)
            assert opt.hit is not None
            outside = Flag("OUTSIDE_SERVICE_AREA", {"distance_km": round(opt.hit.distance_m / 1000.0, 1)})
            return result("suspect", opt, base + opt.flags + [outside])
    return _invalid("COORDINATE_OUT_OF_RANGE", None, fmt, parsed)


def _finish(result: Any, area: ServiceArea, opt: _Option, flags: list[Flag],
            corrected: bool = False) -> ValidationResult:
    """Add the at-sea and default-location checks to the chosen option."""
    if opt is not None and opt.changes and not corrected:
        flags = flags + opt.flags
        corrected = True
    status: Status = "corrected" if corrected else "valid"
    assert opt.hit is not None
    if opt.hit.kind == "at_sea":
        flags = flags + [Flag("AT_SEA", {"distance_m": _nice_m(opt.hit.distance_m)})]
    label = _defaults(area).nearest_within(opt.lon, opt.lat, DEFAULT_LOCATION_RADIUS_M)
    if label is not None:
        flags = flags + [Flag("DEFAULT_LOCATION_SUSPECTED", {"label": label})]
        status = "suspect"
    return result(status, opt, flags)  # type: ignore[no-any-return]


def validate_place(text: str, matches: list[PlaceMatch], area: ServiceArea | None) -> ValidationResult | None:
    """The result for text that names a place, from the gazetteer's ranked ``matches``.

    None when no match is good enough to be an answer (see
    :func:`geo_service.geo.gazetteer.resolve`); the caller then keeps ``COORDINATE_INVALID``.

    Examples
    --------
    >>> p = Place("kelurahan", "51.01.01.1006", "Baler Bale Agung", (), 114.629438, -8.292406, 2327.0)
    >>> r = validate_place("Baler Bale Agung", [PlaceMatch(p, 100.0, "exact")], None)
    >>> r.status, r.format, r.uncertainty_m, r.confidence, r.codes
    ('approximate', 'place', 2327.0, 0.5, ['PLACE_NAME'])
    """
    answers = resolve(matches)
    if not answers:
        return None
    if len(answers) == 1:
        m = answers[0]
        p = m.place
        flags = [Flag("PLACE_NAME", {"kind": p.kind, "name": p.name, "code": p.code, "radius_m": round(p.radius_m)})]
        if m.how == "fuzzy":
            flags.append(Flag("PLACE_NAME_FUZZY", {"typed": text.strip()[:60], "name": p.name, "score": round(m.score)}))
        return ValidationResult(
            status="approximate", point=(p.lon, p.lat), original=None, format="place", uncertainty_m=p.radius_m,
            confidence=round(PLACE_CONFIDENCE * min(m.score, 100.0) / 100.0, 3), flags=flags,
            area_hit=area.classify_xy(p.lon, p.lat) if area is not None else None, place=p,
        )
    candidates: list[Reading] = []
    for m in answers[:MAX_PLACE_CANDIDATES]:
        p = m.place
        hit = area.classify_xy(p.lon, p.lat) if area is not None else None
        candidates.append(PlaceReading(
            lon=p.lon, lat=p.lat, flags=[], area_kind=hit.kind if hit else None,
            unit_code=hit.unit_code if hit else None, distance_m=hit.distance_m if hit else None,
            in_hint_unit=m.preferred, place=p))
    return ValidationResult(
        status="suspect", point=None, original=None, format="place", uncertainty_m=None,
        confidence=_confidence("suspect", 0, [], ambiguous=True),
        flags=[Flag("AMBIGUOUS_PLACE", {"count": len(answers)})], candidates=candidates,
    )


def validate_many(items: Iterable[Mapping[str, Any]], area: ServiceArea | None) -> list[ValidationResult]:
    """Validate many coordinates; each item has the keyword arguments of :func:`validate_coordinate`.

    Request errors (wrong types, unknown CRS) of all items are collected and raised once, with
    an ``errors`` entry ``{"pointer": "/<index>", "detail"}`` per bad item; unreadable
    coordinates are results with status ``invalid``, not errors.

    Examples
    --------
    >>> [r.status for r in validate_many([{"text": "-8.65, 115.22"}, {"text": "abc"}], None)]
    ['valid', 'invalid']
    """
    keys = ("text", "lat", "lon", "crs", "uncertainty_m", "hint_unit")
    results: list[ValidationResult] = []
    problems: list[tuple[int, errors.GeoServiceError]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append((i, errors.BadRequest("Each item must be an object.")))
            continue
        try:
            results.append(validate_coordinate(area=area, **{k: item.get(k) for k in keys}))
        except errors.GeoServiceError as exc:
            problems.append((i, exc))
    if problems:
        first = problems[0][1]
        raise type(first)(
            f"{len(problems)} item(s) cannot be validated; first: {first.detail}",
            errors=[{"pointer": f"/{i}", "detail": exc.detail} for i, exc in problems],
        )
    return results
