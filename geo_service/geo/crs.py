"""Coordinate reference system lookup and reprojection to WGS 84.

A ``crs`` given by a caller is an authority code (``"EPSG:32750"``, ``"epsg:23880"``,
``"32750"``, ``"urn:ogc:def:crs:EPSG::32750"``, ``"http://www.opengis.net/def/crs/EPSG/0/4755"``)
or one of the names ``"WGS84"`` / ``"CRS84"``. Free PROJ strings and WKT are refused: a
caller names a system, it does not define one. Anything else raises
:class:`geo_service.errors.UnknownCRS`.

Every transformer is built with ``always_xy=True`` and cached, so ``(x, y)`` is always
``(easting, northing)`` or ``(lon, lat)`` whatever the axis order of the EPSG definition.

Useful codes for Indonesia: WGS 84 / UTM 46N..54S = EPSG:326xx / 327xx (Bali: 32750);
DGN95 geographic EPSG:4755 and DGN95 / UTM 47S..54S = EPSG:23877..23884 (Bali: 23880);
SRGI2013 geographic EPSG:9470 and its UTM 47S..54S = EPSG:9487..9494.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo_service import errors

#: Longest ``crs`` value accepted (an OGC URL is about 50 characters).
MAX_CRS_LENGTH = 200

_ALLOWED_CRS = re.compile(
    r"^(?:"
    r"(?:epsg|esri|ogc|ignf|iau_2015):[a-z0-9_.]{1,40}"
    r"|\d{4,6}"
    r"|urn:ogc:def:crs:[a-z0-9_]{1,20}:[0-9.]{0,10}:[a-z0-9_.]{1,40}"
    r"|https?://www\.opengis\.net/def/crs/[a-z0-9_]{1,20}/[0-9.]{1,10}/[a-z0-9_.]{1,40}"
    r"|wgs ?84|crs ?84"
    r")$",
    re.IGNORECASE,
)

_WGS84_EPSG = {4326, 4979}


@lru_cache(maxsize=128)
def _crs_from_code(code: str) -> CRS:
    try:
        crs = CRS.from_user_input(code)
    except CRSError as exc:
        raise errors.UnknownCRS(f"Unknown coordinate reference system: {code!r}.") from exc
    if not (crs.is_geographic or crs.is_projected):
        raise errors.UnknownCRS(f"{code!r} is neither a geographic nor a projected 2D system.")
    return crs


def parse_crs(value: str) -> CRS:
    """Return the pyproj CRS named by ``value`` (cached), or raise ``UnknownCRS``.

    Parameters
    ----------
    value : str
        An authority code, URN, OGC URL, or ``"WGS84"`` / ``"CRS84"``.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    geo_service.errors.UnknownCRS
        When the value is not a code we accept or names no known system.

    Examples
    --------
    >>> parse_crs("EPSG:23880").name
    'DGN95 / UTM zone 50S'
    """
    if not isinstance(value, str):
        raise errors.UnknownCRS("A crs must be a string such as 'EPSG:32750'.")
    code = value.strip()
    if not code or len(code) > MAX_CRS_LENGTH or not _ALLOWED_CRS.match(code):
        raise errors.UnknownCRS(f"Unknown coordinate reference system: {value[:60]!r}.")
    if code.isdigit():
        code = "EPSG:" + code
    low = code.lower().replace(" ", "")
    if low == "wgs84":
        code = "EPSG:4326"
    elif low == "crs84":
        code = "OGC:CRS84"
    return _crs_from_code(code)


def crs_label(value: str) -> str:
    """Short stable label of a CRS (``"EPSG:23880"`` when it has an EPSG code).

    Examples
    --------
    >>> crs_label("urn:ogc:def:crs:EPSG::32750"), crs_label("crs84")
    ('EPSG:32750', 'OGC:CRS84')
    """
    crs = parse_crs(value)
    auth = crs.to_authority()
    if auth is not None:
        return f"{auth[0]}:{auth[1]}"
    return crs.name


def is_wgs84(value: str) -> bool:
    """True when ``value`` names WGS 84 geographic coordinates (EPSG:4326, 4979, CRS84).

    Examples
    --------
    >>> is_wgs84("EPSG:4326"), is_wgs84("OGC:CRS84"), is_wgs84("EPSG:4755")
    (True, True, False)
    """
    crs = parse_crs(value)
    if not crs.is_geographic:
        return False
    epsg = crs.to_epsg()
    if epsg in _WGS84_EPSG:
        return True
    return crs.to_authority() == ("OGC", "CRS84")


def is_projected(value: str) -> bool:
    """True when ``value`` names a projected CRS (coordinates in metres, not degrees).

    Examples
    --------
    >>> is_projected("EPSG:32750"), is_projected("EPSG:4755")
    (True, False)
    """
    return bool(parse_crs(value).is_projected)


@lru_cache(maxsize=128)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(parse_crs(src), parse_crs(dst), always_xy=True)


def transformer(src: str, dst: str = "EPSG:4326") -> Transformer:
    """Cached transformer from ``src`` to ``dst``, built with ``always_xy=True``.

    Examples
    --------
    >>> lon, lat = transformer("EPSG:32750").transform(500000, 10000000)
    >>> round(lon, 6), round(lat, 6)
    (117.0, 0.0)
    """
    return _transformer(src, dst)


def to_wgs84_xy(x: float, y: float, crs: str) -> tuple[float, float]:
    """Reproject ``(x, y)`` in ``crs`` to WGS 84 ``(lon, lat)``.

    Non-finite results (a point outside the projection's domain) come back as
    ``(nan, nan)``; callers report them as out of range.

    Examples
    --------
    >>> lon, lat = to_wgs84_xy(222679, 9091964, "EPSG:32750")
    >>> round(lon, 4), round(lat, 4)
    (114.483, -8.2069)
    """
    lon, lat = transformer(crs).transform(x, y, errcheck=False)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return math.nan, math.nan
    return float(lon), float(lat)


def from_wgs84_xy(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Project WGS 84 ``(lon, lat)`` into ``crs`` as ``(x, y)``.

    Examples
    --------
    >>> [round(v) for v in from_wgs84_xy(117.0, 0.0, "EPSG:32750")]
    [500000, 10000000]
    """
    x, y = transformer("EPSG:4326", crs).transform(lon, lat, errcheck=False)
    return float(x), float(y)


def utm_crs(zone: int, south: bool) -> str:
    """EPSG code of WGS 84 / UTM ``zone`` in the given hemisphere.

    Examples
    --------
    >>> utm_crs(50, True), utm_crs(51, False)
    ('EPSG:32750', 'EPSG:32651')
    """
    if not 1 <= zone <= 60:
        raise ValueError(f"UTM zone must be 1..60, not {zone}")
    return f"EPSG:{32700 + zone if south else 32600 + zone}"


def utm_zone(lon: float) -> int:
    """Standard UTM zone number (1..60) of a longitude (no Norway/Svalbard exceptions).

    Examples
    --------
    >>> utm_zone(114.62), utm_zone(180.0)
    (50, 60)
    """
    return min(60, int(math.floor((lon + 180.0) / 6.0)) + 1)
