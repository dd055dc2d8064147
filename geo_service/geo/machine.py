"""Reading coordinates written by machines: JSON, GeoJSON, WKT/EWKT, KML, NMEA, key=value.

Each reader takes the whole piece of text (already cut out of a message by
:mod:`geo_service.geo.extract`) and returns a :class:`MachineReading` with the numbers as
written, so the caller can count decimals; or raises
:class:`~geo_service.errors.CoordinateInvalid`.

* JSON objects: ``lat``/``lng``, ``lat``/``lon``, ``latitude``/``longitude`` (any case,
  numbers, also with an exponent, or numeric strings), found at any depth
  (``{"location": {"lat": ..}}``, the browser/Android ``{"coords": {"latitude": .., "accuracy": ..}}``);
  ``accuracy`` (also ``acc``, ``horizontalAccuracy``, ``radius``) becomes the uncertainty in metres.
* GeoJSON ``Point``, a ``Feature`` with a Point, a ``FeatureCollection`` of Points (each one
  a reading; several different points make the answer ``suspect``). GeoJSON order is lon, lat.
* WKT ``POINT(lon lat)`` (also ``POINT Z``), EWKT ``SRID=4326;POINT(..)``; another SRID is
  returned for the caller to reproject.
* KML ``<coordinates>lon,lat[,alt]</coordinates>`` and a bare ``lon,lat,alt`` triple.
* NMEA 0183 ``GGA`` and ``RMC`` sentences of any talker (``$GPGGA``, ``$GNRMC`` ...): the
  checksum is verified and a wrong one is a note (``NMEA_CHECKSUM_BAD``), not a refusal; a
  sentence without a fix is refused.
* ``lat=..&lon=..`` (also ``lng``, ``latitude``/``longitude``, ``;`` or spaces between).
* compact degrees with hemisphere letters, NMEA style: ``0821.49S11510.19E`` (DDMM.mm),
  ``082129.5S 1143711.3E`` (DDMMSS.s), the letter before or after the digits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from geo_service import errors

_NUM = r"[-+]?\d{1,3}(?:\.\d{1,20})?"
_NUM_TEXT = re.compile(r"^[-+]?\d{1,3}(?:\.\d{1,20})?$")
#: A JSON number with an exponent, as JavaScript and Python write numbers below 1e-6 (``1e-07``).
_NUM_EXPONENT = re.compile(r"^-?\d{1,3}(?:\.\d{1,20})?[eE][-+]?\d{1,3}$")
_LAST_DECIMAL = Decimal(1).scaleb(-20)
MAX_JSON_DEPTH = 8


@dataclass(frozen=True)
class MachineReading:
    """One point found by a machine-format reader; numbers as written, WGS 84 unless ``srid``."""

    lat_text: str
    lon_text: str
    format: str
    uncertainty_m: float | None = None
    srid: int | None = None
    notes: tuple[tuple[str, dict[str, Any]], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    lat_value: float | None = None  # set when the format is not decimal degrees (NMEA, compact)
    lon_value: float | None = None
    step_deg: float | None = None


def _invalid(detail: str) -> errors.CoordinateInvalid:
    return errors.CoordinateInvalid(detail)


# --------------------------------------------------------------------------- JSON and GeoJSON

_LAT_KEYS = ("lat", "latitude", "lintang")
_LON_KEYS = ("lng", "lon", "long", "longitude", "bujur")
_ACC_KEYS = ("accuracy", "acc", "horizontalaccuracy", "hacc", "radius", "uncertainty", "uncertainty_m")


def _num_text(value: Any) -> str | None:
    """The number as written in the JSON (``parse_float=str``), or a numeric string; an exponent
    (``1e-07``) is written out (``0.0000001``)."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    if _NUM_EXPONENT.match(text):
        # ``1e-07`` is 0.0000001 (a point 1 cm from the equator): written out, at most 20 decimals
        number = Decimal(text)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -20:
            number = number.quantize(_LAST_DECIMAL)
        text = format(number, "f")
    return text if _NUM_TEXT.match(text) else None


def _object_point(obj: dict[str, Any]) -> MachineReading | None:
    keys = {k.lower(): k for k in obj if isinstance(k, str)}
    lat_key = next((keys[k] for k in _LAT_KEYS if k in keys), None)
    lon_key = next((keys[k] for k in _LON_KEYS if k in keys), None)
    if lat_key is None or lon_key is None:
        return None
    lat_t, lon_t = _num_text(obj[lat_key]), _num_text(obj[lon_key])
    if lat_t is None or lon_t is None:
        return None
    uncertainty = None
    for k in _ACC_KEYS:
        if k in keys:
            try:
                value = float(str(obj[keys[k]]))
            except ValueError:
                continue
            if math.isfinite(value) and value >= 0:
                uncertainty = value
                break
    return MachineReading(lat_t, lon_t, "json", uncertainty_m=uncertainty)


def _geojson_points(obj: dict[str, Any]) -> Iterator[MachineReading]:
    kind = obj.get("type")
    if kind == "Point":
        c = obj.get("coordinates")
        if isinstance(c, list) and 2 <= len(c) <= 4:
            lon_t, lat_t = _num_text(c[0]), _num_text(c[1])
            if lon_t is not None and lat_t is not None:
                yield MachineReading(lat_t, lon_t, "geojson")
                return
        raise _invalid("The GeoJSON Point has no readable coordinates.")
    if kind == "Feature":
        geom = obj.get("geometry")
        if isinstance(geom, dict) and geom.get("type") == "Point":
            yield from _geojson_points(geom)
            return
        raise _invalid("Only GeoJSON Point features are read.")
    if kind == "FeatureCollection":
        feats = obj.get("features")
        if isinstance(feats, list):
            for feat in feats[:20]:
                if isinstance(feat, dict):
                    yield from _geojson_points(feat)


def _walk(value: Any, depth: int = 0) -> Iterator[MachineReading]:
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, dict):
        if value.get("type") in ("Point", "Feature", "FeatureCollection"):
            yield from _geojson_points(value)
            return
        found = _object_point(value)
        if found is not None:
            yield found
            return
        for child in list(value.values())[:50]:
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value[:50]:
            yield from _walk(child, depth + 1)


def read_json(text: str) -> list[MachineReading]:
    """Every point of a JSON or GeoJSON text (at least one), in document order.

    Examples
    --------
    >>> [(r.format, r.lat_text, r.lon_text) for r in read_json('{"type": "Point", "coordinates": [114.6198, -8.3582]}')]
    [('geojson', '-8.3582', '114.6198')]
    >>> read_json('{"coords": {"latitude": -8.3582, "longitude": 114.6198, "accuracy": 12.5}}')[0].uncertainty_m
    12.5
    """
    try:
        data = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError) as exc:
        raise _invalid("Not valid JSON.") from exc
    found = list(_walk(data))
    if not found:
        raise _invalid("The JSON holds no lat/lng pair or GeoJSON Point.")
    return found


# --------------------------------------------------------------------------- WKT, KML, triples

WKT_RE = re.compile(
    rf"(?:srid=(\d{{1,6}}) ?; ?)?point ?(?:zm|z|m)? ?\( ?([-+]?\d{{1,8}}(?:\.\d{{1,20}})?) "
    rf"([-+]?\d{{1,8}}(?:\.\d{{1,20}})?)(?: {_NUM}){{0,2}} ?\)",
    re.IGNORECASE,
)
KML_RE = re.compile(r"<coordinates>\s{0,20}([^<]{1,300}?)\s{0,20}</coordinates>", re.IGNORECASE)
TRIPLE_RE = re.compile(rf"^({_NUM}),({_NUM}),([-+]?\d{{1,5}}(?:\.\d{{1,10}})?)$")


def read_wkt(text: str) -> MachineReading:
    """A WKT or EWKT point (``x y`` = lon lat, or easting northing with an SRID).

    Examples
    --------
    >>> r = read_wkt("SRID=4326;POINT(114.6198 -8.3582)")
    >>> r.format, r.lat_text, r.lon_text, r.srid
    ('wkt', '-8.3582', '114.6198', 4326)
    """
    m = WKT_RE.fullmatch(" ".join(text.split()))
    if not m:
        raise _invalid("Not a WKT point.")
    srid = int(m.group(1)) if m.group(1) else None
    return MachineReading(m.group(3), m.group(2), "wkt", srid=srid)


def read_kml(text: str) -> MachineReading:
    """The point of a KML ``<coordinates>`` element or a bare ``lon,lat,alt`` triple.

    Examples
    --------
    >>> r = read_kml("<Point><coordinates>114.6198,-8.3582,0</coordinates></Point>")
    >>> r.format, r.lat_text, r.lon_text
    ('kml', '-8.3582', '114.6198')
    """
    m = KML_RE.search(text)
    body = m.group(1) if m else text.strip()
    tuples = body.split()
    if len(tuples) != 1:
        raise _invalid("A KML coordinates element with several positions is a line, not a point.")
    parts = tuples[0].split(",")
    if len(parts) == 2:
        parts.append("0")
    tm = TRIPLE_RE.match(",".join(parts))
    if not tm:
        raise _invalid("Not a KML lon,lat[,alt] position.")
    return MachineReading(tm.group(2), tm.group(1), "kml", extra={"altitude": tm.group(3)})


# --------------------------------------------------------------------------- NMEA

NMEA_RE = re.compile(r"\$([A-Z]{2})(GGA|RMC),([0-9A-Za-z.,+-]{0,120}?)(?:\*([0-9A-Fa-f]{2}))?(?![0-9A-Za-z.,])")


def nmea_checksum(body: str) -> str:
    """XOR of the characters between ``$`` and ``*``, as two upper-case hex digits.

    Examples
    --------
    >>> nmea_checksum("GPGGA,,,,,,0,,,,,,,,")
    '66'
    """
    value = 0
    for ch in body:
        value ^= ord(ch)
    return f"{value:02X}"


def _nmea_angle(text: str, hemi: str, deg_digits: int) -> tuple[float, int]:
    if not re.fullmatch(rf"\d{{{deg_digits}}}\d{{2}}(?:\.\d{{1,8}})?", text) or hemi not in "NSEW" or not hemi:
        raise _invalid("The NMEA position is incomplete.")
    deg, minutes = int(text[:deg_digits]), float(text[deg_digits:])
    if minutes >= 60:
        raise _invalid("NMEA minutes must be below 60.")
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    value = deg + minutes / 60.0
    return (-value if hemi in "SW" else value), decimals


def read_nmea(text: str) -> MachineReading:
    """The position of an NMEA 0183 GGA or RMC sentence.

    Examples
    --------
    >>> s = "$GPRMC,083000,A,0821.4917,S,11437.1883,E,0.0,0.0,150124,,,A"
    >>> r = read_nmea(s + "*" + nmea_checksum(s[1:]))
    >>> round(r.lat_value, 5), round(r.lon_value, 5), r.notes
    (-8.3582, 114.6198, ())
    """
    m = NMEA_RE.fullmatch(text.strip())
    if not m:
        raise _invalid("Not an NMEA GGA or RMC sentence.")
    talker, kind, body, checksum = m.groups()
    fields = body.split(",")
    notes: tuple[tuple[str, dict[str, Any]], ...] = ()
    if checksum is not None and checksum.upper() != nmea_checksum(f"{talker}{kind},{body}"):
        notes = (("NMEA_CHECKSUM_BAD", {"sentence": kind}),)
    if kind == "GGA":
        if len(fields) < 6 or fields[5] in ("", "0"):
            raise _invalid("The NMEA GGA sentence has no position fix.")
        lat_f, lat_h, lon_f, lon_h = fields[1], fields[2], fields[3], fields[4]
    else:
        if len(fields) < 6 or fields[1] != "A":
            raise _invalid("The NMEA RMC sentence is void (no position fix).")
        lat_f, lat_h, lon_f, lon_h = fields[2], fields[3], fields[4], fields[5]
    lat, lat_dec = _nmea_angle(lat_f, lat_h, 2)
    lon, lon_dec = _nmea_angle(lon_f, lon_h, 3)
    step = 10.0 ** -min(lat_dec, lon_dec) / 60.0
    return MachineReading(lat_f, lon_f, "nmea", notes=notes, extra={"sentence": talker + kind},
                          lat_value=lat, lon_value=lon, step_deg=step)


# --------------------------------------------------------------------------- key=value, compact

KEYVALUE_RE = re.compile(
    rf"(?<![a-z])(lat|latitude|lon|lng|long|longitude) ?[=:] ?({_NUM})(?![\d.])"
    rf" ?[&;, ] ?(lat|latitude|lon|lng|long|longitude) ?[=:] ?({_NUM})(?![\d.])",
    re.IGNORECASE,
)


def read_keyvalue(text: str) -> MachineReading:
    """``lat=-8.3582&lon=114.6198`` (either order; ``lng``, ``latitude``/``longitude``).

    Examples
    --------
    >>> r = read_keyvalue("lng=114.6198&lat=-8.3582")
    >>> r.format, r.lat_text, r.lon_text
    ('keyvalue', '-8.3582', '114.6198')
    """
    m = KEYVALUE_RE.fullmatch(text.strip())
    if not m:
        raise _invalid("Not a lat=..&lon=.. pair.")
    k1, v1, k2, v2 = m.groups()
    first_lat = k1.lower().startswith("lat")
    if first_lat == k2.lower().startswith("lat"):
        raise _invalid("Both values name the same axis.")
    lat_t, lon_t = (v1, v2) if first_lat else (v2, v1)
    return MachineReading(lat_t, lon_t, "keyvalue")


COMPACT_RE = re.compile(
    r"([ns])? ?(\d{4}(?:\d{2})?(?:\.\d{1,6})?) ?([ns])? ?[,;/ ]? ?([ew])? ?(\d{5}(?:\d{2})?(?:\.\d{1,6})?) ?([ew])?",
    re.IGNORECASE,
)


def _compact_angle(text: str, deg_digits: int) -> tuple[float, float]:
    whole = text.split(".", 1)[0]
    decimals = len(text) - len(whole) - 1 if "." in text else 0
    deg = int(whole[:deg_digits])
    rest = text[deg_digits:]
    if len(whole) == deg_digits + 2:  # DDMM.mm
        minutes = float(rest)
        if minutes >= 60:
            raise _invalid("Minutes must be below 60.")
        return deg + minutes / 60.0, 10.0 ** -decimals / 60.0
    minutes, seconds = int(rest[:2]), float(rest[2:])
    if minutes >= 60 or seconds >= 60:
        raise _invalid("Minutes and seconds must be below 60.")
    return deg + minutes / 60.0 + seconds / 3600.0, 10.0 ** -decimals / 3600.0


def read_compact(text: str) -> MachineReading:
    """Compact degrees with hemisphere letters: ``0821.49S11510.19E`` or ``082129.5S1143711.3E``.

    Examples
    --------
    >>> r = read_compact("0821.49S11437.19E")
    >>> round(r.lat_value, 4), round(r.lon_value, 4), r.format
    (-8.3582, 114.6198, 'compact')
    """
    m = COMPACT_RE.fullmatch(" ".join(text.split()))
    if not m:
        raise _invalid("Not compact degrees (DDMM.mmS DDDMM.mmE).")
    lat_pre, lat_t, lat_post, lon_pre, lon_t, lon_post = m.groups()
    lat_h, lon_h = lat_pre or lat_post, lon_pre or lon_post
    if not lat_h or not lon_h or (lat_pre and lat_post) or (lon_pre and lon_post):
        raise _invalid("Compact degrees need one hemisphere letter per value.")
    if (len(lat_t.split(".")[0]) == 4) != (len(lon_t.split(".")[0]) == 5):
        raise _invalid("Compact degrees mix DDMM and DDMMSS.")
    lat, lat_step = _compact_angle(lat_t, 2)
    lon, lon_step = _compact_angle(lon_t, 3)
    return MachineReading(
        lat_t, lon_t, "compact", lat_value=-lat if lat_h.lower() == "s" else lat,
        lon_value=-lon if lon_h.lower() == "w" else lon, step_deg=max(lat_step, lon_step),
    )
