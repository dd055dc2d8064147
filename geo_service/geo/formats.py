"""Formatting a WGS 84 point ``(lon, lat)`` as text in the formats the parser reads.

Every function takes ``lon, lat`` (GeoJSON order) and returns text that
:func:`geo_service.geo.coords.parse_coordinate_text` reads back to within the format's
precision: DD 6 decimals (0.1 m), DMS 0.1 second (1.5 m), DDM 0.001 minute (0.9 m),
UTM and MGRS 1 m, Plus Code 11 characters (about 3 m), geo URI, map URLs, WKT, GeoJSON, JSON,
KML and ``lat=&lon=`` 6 decimals, compact and NMEA 0.0001 minute (0.2 m), dotted D.M.S 0.1 second.
Human formats write latitude first, as people read them.
"""

from __future__ import annotations

import math
from urllib.parse import quote

import mgrs as _mgrs
from openlocationcode import openlocationcode as olc

from geo_service.geo import crs as _crs
from geo_service.geo.machine import nmea_checksum

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


def format_dms_dotted(lon: float, lat: float) -> str:
    """Dotted D.M.S with a comma before the tenths of a second and LS/LU/BT/BB, as typed in Indonesia.

    Examples
    --------
    >>> format_dms_dotted(114.61981, -8.35820)
    '8.21.29,5 LS 114.37.11,3 BT'
    """
    _check(lon, lat)
    words = _HEMI["id"]
    parts = []
    for value, pos, neg in ((lat, "N", "S"), (lon, "E", "W")):
        d, m, s = _split_dms(value, 1)
        seconds = f"{s:04.1f}".replace(".", ",")
        parts.append(f"{d}.{m:02d}.{seconds} {words[neg if value < 0 else pos]}")
    return " ".join(parts)


def format_compact(lon: float, lat: float, seconds: bool = False) -> str:
    """Compact degrees with hemisphere letters, NMEA style: ``DDMM.mmmmS DDDMM.mmmmE`` or, with
    ``seconds=True``, ``DDMMSS.ssS DDDMMSS.ssE``.

    Examples
    --------
    >>> format_compact(114.61981, -8.35820)
    '0821.4920S11437.1886E'
    >>> format_compact(114.61981, -8.35820, seconds=True)
    '082129.52S1143711.32E'
    """
    _check(lon, lat)
    out = []
    for value, width, pos, neg in ((lat, 2, "N", "S"), (lon, 3, "E", "W")):
        hemi = neg if value < 0 else pos
        if seconds:
            d, m, s = _split_dms(value, 2)
            out.append(f"{d:0{width}d}{m:02d}{s:05.2f}{hemi}")
        else:
            d, mm = _split_ddm(value, 4)
            out.append(f"{d:0{width}d}{mm:07.4f}{hemi}")
    return "".join(out)


def format_wkt(lon: float, lat: float, srid: bool = False, decimals: int = 6) -> str:
    """WKT ``POINT(lon lat)``; with ``srid=True`` the EWKT ``SRID=4326;POINT(..)``.

    Examples
    --------
    >>> format_wkt(114.62, -8.358, srid=True)
    'SRID=4326;POINT(114.620000 -8.358000)'
    """
    _check(lon, lat)
    wkt = f"POINT({lon:.{decimals}f} {lat:.{decimals}f})"
    return "SRID=4326;" + wkt if srid else wkt


def format_geojson(lon: float, lat: float, feature: bool = False, decimals: int = 6) -> str:
    """GeoJSON Point (or a Feature holding it), lon first.

    Examples
    --------
    >>> format_geojson(114.62, -8.358)
    '{"type": "Point", "coordinates": [114.620000, -8.358000]}'
    """
    _check(lon, lat)
    point = f'{{"type": "Point", "coordinates": [{lon:.{decimals}f}, {lat:.{decimals}f}]}}'
    return f'{{"type": "Feature", "geometry": {point}, "properties": {{}}}}' if feature else point


def format_json(lon: float, lat: float, accuracy_m: float | None = None, decimals: int = 6) -> str:
    """An app's location JSON ``{"lat": .., "lng": ..}`` (with ``accuracy`` in metres when given).

    Examples
    --------
    >>> format_json(114.62, -8.358, accuracy_m=12)
    '{"lat": -8.358000, "lng": 114.620000, "accuracy": 12}'
    """
    _check(lon, lat)
    acc = f', "accuracy": {accuracy_m:g}' if accuracy_m is not None else ""
    return f'{{"lat": {lat:.{decimals}f}, "lng": {lon:.{decimals}f}{acc}}}'


def format_kml(lon: float, lat: float, decimals: int = 6) -> str:
    """A KML Placemark with the point's ``<coordinates>lon,lat,0</coordinates>``.

    Examples
    --------
    >>> format_kml(114.62, -8.358)
    '<Placemark><Point><coordinates>114.620000,-8.358000,0</coordinates></Point></Placemark>'
    """
    _check(lon, lat)
    return f"<Placemark><Point><coordinates>{lon:.{decimals}f},{lat:.{decimals}f},0</coordinates></Point></Placemark>"


def format_nmea(lon: float, lat: float, sentence: str = "GGA") -> str:
    """An NMEA 0183 ``$GPGGA`` or ``$GPRMC`` sentence with a valid checksum (minutes to 4 decimals).

    Examples
    --------
    >>> format_nmea(114.61981, -8.35820)
    '$GPGGA,000000.00,0821.4920,S,11437.1886,E,1,08,0.9,0.0,M,0.0,M,,*43'
    """
    _check(lon, lat)
    lat_d, lat_m = _split_ddm(lat, 4)
    lon_d, lon_m = _split_ddm(lon, 4)
    lat_f = f"{lat_d:02d}{lat_m:07.4f},{'S' if lat < 0 else 'N'}"
    lon_f = f"{lon_d:03d}{lon_m:07.4f},{'W' if lon < 0 else 'E'}"
    if sentence == "GGA":
        body = f"GPGGA,000000.00,{lat_f},{lon_f},1,08,0.9,0.0,M,0.0,M,,"
    elif sentence == "RMC":
        body = f"GPRMC,000000.00,A,{lat_f},{lon_f},0.0,0.0,010126,,,A"
    else:
        raise ValueError("sentence must be 'GGA' or 'RMC'")
    return f"${body}*{nmea_checksum(body)}"


def format_keyvalue(lon: float, lat: float, decimals: int = 6) -> str:
    """``lat=..&lon=..`` as apps and trackers append to messages.

    Examples
    --------
    >>> format_keyvalue(114.62, -8.358)
    'lat=-8.358000&lon=114.620000'
    """
    _check(lon, lat)
    return f"lat={lat:.{decimals}f}&lon={lon:.{decimals}f}"


def format_app_url(lon: float, lat: float, app: str, decimals: int = 6) -> str:
    """Share link of ``app``: ``apple``, ``waze``, ``bing``, ``osmand`` or ``here``.

    Examples
    --------
    >>> format_app_url(114.62, -8.358, "waze")
    'https://www.waze.com/ul?ll=-8.358000%2C114.620000&navigate=yes'
    """
    _check(lon, lat)
    la, lo = f"{lat:.{decimals}f}", f"{lon:.{decimals}f}"
    urls = {
        "apple": f"https://maps.apple.com/?ll={la},{lo}&q=Lokasi",
        "waze": f"https://www.waze.com/ul?ll={la}%2C{lo}&navigate=yes",
        "bing": f"https://www.bing.com/maps?cp={la}~{lo}&lvl=17",
        "osmand": f"https://osmand.net/map?pin={la},{lo}#17/{la}/{lo}",
        "here": f"https://share.here.com/l/{la},{lo},Lokasi?z=17",
    }
    if app not in urls:
        raise ValueError(f"app must be one of {sorted(urls)}")
    return urls[app]
