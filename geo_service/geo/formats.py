"""Formatting a WGS 84 point ``(lon, lat)`` as text in the formats the parser reads.

Every function takes ``lon, lat`` (GeoJSON order) and returns text that
:func:`geo_service.geo.coords.parse_coordinate_text` reads back to within the format's
precision: DD 6 decimals (0.1 m), DMS 0.1 second (1.5 m), DDM 0.001 minute (0.9 m),
UTM and MGRS 1 m, Plus Code 11 characters (about 3 m), geo URI and map URLs 6 decimals.
Human formats write latitude first, as people read them.
"""

from __future__ import annotations

import math
from urllib.parse import quote

import mgrs as _mgrs
from openlocationcode import openlocationcode as olc

from geo_service.geo import crs as _crs

_HEMI = {
    "id": {"N": "LU", "S": "LS", "E": "BT", "W": "BB"},
    "en": {"N": "N", "S": "S", "E": "E", "W": "W"},
}
_BANDS = "CDEFGHJKLMNPQRSTUVWXX"
_MGRS = _mgrs.MGRS()


def _check(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a WGS 84 point: lon={lon!r}, lat={lat!r}")


def _lang(lang: str) -> dict[str, str]:
    if lang not in _HEMI:
        raise ValueError(f"lang must be 'id' or 'en', not {lang!r}")
    return _HEMI[lang]


def format_dd(lon: float, lat: float, decimals: int = 6) -> str:
    """Decimal degrees, latitude first: ``"-8.358000, 114.620000"``.

    Examples
    --------
    >>> format_dd(114.62, -8.358)
    '-8.358000, 114.620000'
    """
    _check(lon, lat)
    return f"{lat:.{decimals}f}, {lon:.{decimals}f}"


def _split_dms(value: float, decimals: int) -> tuple[int, int, float]:
    scale = 10**decimals
    total = round(abs(value) * 3600 * scale)  # integer count of the last digit: no 60.0" carry bug
    deg, rest = divmod(total, 3600 * scale)
    minutes, sec = divmod(rest, 60 * scale)
    return int(deg), int(minutes), sec / scale


def _split_ddm(value: float, decimals: int) -> tuple[int, float]:
    scale = 10**decimals
    total = round(abs(value) * 60 * scale)
    deg, rest = divmod(total, 60 * scale)
    return int(deg), rest / scale


def format_dms(lon: float, lat: float, lang: str = "id", decimals: int = 1) -> str:
    """Degrees, minutes, seconds with hemisphere words (LS/LU/BT/BB or N/S/E/W).

    Examples
    --------
    >>> format_dms(114.61981, -8.35820)
    '8°21\\'29.5" LS 114°37\\'11.3" BT'
    >>> format_dms(114.61981, -8.35820, lang="en")
    '8°21\\'29.5" S 114°37\\'11.3" E'
    """
    _check(lon, lat)
    words = _lang(lang)
    parts = []
    for value, pos, neg in ((lat, "N", "S"), (lon, "E", "W")):
        d, m, s = _split_dms(value, decimals)
        parts.append(f"{d}°{m}'{s:.{decimals}f}\" {words[neg if value < 0 else pos]}")
    return " ".join(parts)


def format_ddm(lon: float, lat: float, lang: str = "en", decimals: int = 3) -> str:
    """Degrees and decimal minutes with hemisphere words.

    Examples
    --------
    >>> format_ddm(114.61981, -8.35820)
    "8°21.492' S 114°37.189' E"
    """
    _check(lon, lat)
    words = _lang(lang)
    parts = []
    for value, pos, neg in ((lat, "N", "S"), (lon, "E", "W")):
        d, m = _split_ddm(value, decimals)
        parts.append(f"{d}°{m:.{decimals}f}' {words[neg if value < 0 else pos]}")
    return " ".join(parts)


def utm_band(lat: float) -> str:
    """MGRS latitude band letter (C..X) of a latitude.

    Examples
    --------
    >>> utm_band(-8.358), utm_band(0.5)
    ('L', 'N')
    """
    return _BANDS[max(0, min(20, int(math.floor((lat + 80.0) / 8.0))))]


def format_utm(lon: float, lat: float, hemisphere: bool = False) -> str:
    """UTM on WGS 84, metres rounded: ``"50L 222679 9091964"``.

    With ``hemisphere=True`` the letter is the hemisphere (``"50 S ..."``), as written in
    Indonesian documents; the default is the unambiguous latitude band letter.

    Examples
    --------
    >>> format_utm(114.482954, -8.206854)
    '50L 222679 9091964'
    >>> format_utm(114.482954, -8.206854, hemisphere=True)
    '50 S 222679 9091964'
    """
    _check(lon, lat)
    zone = _crs.utm_zone(lon)
    south = lat < 0
    x, y = _crs.from_wgs84_xy(lon, lat, _crs.utm_crs(zone, south))
    if hemisphere:
        return f"{zone} {'S' if south else 'N'} {round(x)} {round(y)}"
    band = utm_band(lat)
    if south != (band < "N"):  # a latitude of -1e-12 rounds into band N; keep band and hemisphere agreeing
        band = "M" if south else "N"
    return f"{zone}{band} {round(x)} {round(y)}"


def format_mgrs(lon: float, lat: float, digits: int = 5) -> str:
    """MGRS grid reference (``digits`` per axis: 5 = 1 m).

    Examples
    --------
    >>> format_mgrs(114.62, -8.358)
    '50LKR3788775332'
    """
    _check(lon, lat)
    if not -80 <= lat <= 84:
        raise ValueError("MGRS covers latitudes -80..84 only")
    if -5e-6 < lat < 0:
        # Within half a metre south of the equator the mgrs library writes a northing of
        # 10,000,000 that it cannot read back; the equator itself is the same reference.
        lat = 0.0
    out = _MGRS.toMGRS(lat, lon, MGRSPrecision=digits)
    return out.decode() if isinstance(out, bytes) else str(out)


def format_pluscode(lon: float, lat: float, length: int = 11) -> str:
    """Full Open Location Code (Plus Code).

    Examples
    --------
    >>> format_pluscode(114.62, -8.358)
    '6P3PJJRC+R22'
    """
    _check(lon, lat)
    return str(olc.encode(lat, lon, length))


def format_geo_uri(lon: float, lat: float, uncertainty_m: float | None = None, decimals: int = 6) -> str:
    """RFC 5870 geo URI, with ``;u=`` when an uncertainty is known.

    Examples
    --------
    >>> format_geo_uri(114.62, -8.358, uncertainty_m=35)
    'geo:-8.358000,114.620000;u=35'
    """
    _check(lon, lat)
    uri = f"geo:{lat:.{decimals}f},{lon:.{decimals}f}"
    if uncertainty_m is not None:
        uri += f";u={uncertainty_m:g}"
    return uri


def format_google_url(lon: float, lat: float, decimals: int = 6) -> str:
    """Google Maps search URL (documented ``api=1`` form) pointing at the point.

    Examples
    --------
    >>> format_google_url(114.62, -8.358)
    'https://www.google.com/maps/search/?api=1&query=-8.358000%2C114.620000'
    """
    _check(lon, lat)
    query = quote(f"{lat:.{decimals}f},{lon:.{decimals}f}", safe="")
    return f"https://www.google.com/maps/search/?api=1&query={query}"


def format_osm_url(lon: float, lat: float, zoom: int = 17, decimals: int = 6) -> str:
    """OpenStreetMap URL with a marker (``mlat``/``mlon``) and the map centred on it.

    Examples
    --------
    >>> format_osm_url(114.62, -8.358)
    'https://www.openstreetmap.org/?mlat=-8.358000&mlon=114.620000#map=17/-8.358000/114.620000'
    """
    _check(lon, lat)
    la, lo = f"{lat:.{decimals}f}", f"{lon:.{decimals}f}"
    return f"https://www.openstreetmap.org/?mlat={la}&mlon={lo}#map={zoom}/{la}/{lo}"
