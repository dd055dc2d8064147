"""Parsing coordinate text and numbers into one WGS 84 point.

Readable inputs (see :func:`parse_coordinate_text`):

* decimal degrees, dot or comma decimals (``-8,3582; 114,6198``), signs or hemisphere words;
* degrees-minutes-seconds and degrees-decimal-minutes with ``° ' "``, ``′ ″``, ``d m s``,
  spaces only, or Indonesian words (``derajat menit detik``, LS/LU/BT/BB, ``lintang
  selatan`` ...), English N/S/E/W before or after the number, either axis first;
* UTM (``50L 222679 9091964``, ``50S ...``, ``zona 50 S ...``), MGRS (``50LKR8597860562``),
  Plus Codes (full, or short with a reference point);
* dotted D.M.S (``8.21.29 LS 114.37.11 BT``, ``-8.21.29,5 114.37.11,3``) and compact
  ``DDMM.mm``/``DDMMSS.s`` with hemisphere letters (``0821.49S11437.19E``);
* ``geo:`` URIs (RFC 5870, ``;u=``), share links of Google Maps, Apple Maps, Waze, Bing,
  OsmAnd, HERE and OpenStreetMap (:mod:`geo_service.geo.links`), AML SMS bodies;
* machine formats (:mod:`geo_service.geo.machine`): JSON ``lat``/``lng`` objects (with
  ``accuracy``), GeoJSON Point/Feature, WKT/EWKT, KML ``<coordinates>`` and ``lon,lat,alt``
  triples, NMEA ``GGA``/``RMC``, ``lat=..&lon=..``;
* plain numbers in a projected ``crs`` (``"222679 9091964"`` with ``crs="EPSG:32750"``);
* any of these **inside free text** (a forwarded WhatsApp message or SMS): when the whole
  text is not one coordinate, :mod:`geo_service.geo.extract` finds the pieces, each is
  read as above, the same point written twice counts once, and what was not read is
  reported as the note ``TEXT_IGNORED`` (its length and a short excerpt). Several
  different points are returned as ``others``: the caller must not pick one silently.

Unicode is folded first: U+2212 and other dashes, full-width digits, NBSP and zero-width
characters. Digits of other scripts are not read.

The parser reads; it does not judge. Values are not range-checked and no correction is
made here (that is :mod:`geo_service.geo.validate`): a reading that is ambiguous *as text*
(a UTM letter that is a hemisphere or a band, an unlabelled pair whose order is unknown)
is returned with its alternatives in ``ambiguous_readings``.

Text whose meaning cannot be read raises :class:`geo_service.errors.CoordinateInvalid` and
nothing else; a ``crs`` we do not know raises :class:`geo_service.errors.UnknownCRS`. Input
is capped at :data:`MAX_TEXT_LENGTH` characters before any regular expression runs, and the
expressions used have no nested quantifiers, so adversarial text is refused in linear time.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, unquote

import mgrs as _mgrs
from openlocationcode import openlocationcode as olc

from geo_service import errors
from geo_service.geo import crs as _crs
from geo_service.geo import links as _links
from geo_service.geo import machine as _machine
from geo_service.geo.distance import distance_m
from geo_service.geo.extract import find_pieces, ignored_text, number_kind
from geo_service.geo.geometry import M_PER_DEG

Format = Literal["decimal", "dms", "ddm", "utm", "mgrs", "pluscode", "geo_uri", "url", "aml", "projected",
                 "dms_dotted", "compact", "json", "geojson", "wkt", "kml", "nmea", "keyvalue"]
#: A function that opens a short map link and returns the long link it redirects to.
LinkExpander = Callable[[str], str]
OrderSource = Literal["explicit", "range", "assumed"]

#: Longest text the parser looks at; longer text is refused before any regex runs.
MAX_TEXT_LENGTH = 2000
#: Most tokens a degree text may have (a long DMS pair with words has about 20).
MAX_TOKENS = 60

_MGRS = _mgrs.MGRS()


@dataclass(frozen=True)
class ParsedCoordinate:
    """One reading of a coordinate, in WGS 84 after any reprojection.

    ``uncertainty_m`` is what the input states (``;u=`` of a geo URI, ``rd=`` of AML);
    ``precision_m`` is the half-diagonal of the cell implied by the digits as written;
    ``decimals`` the fewest decimals among the numbers as written. ``order_source`` says how
    the axes were assigned: ``explicit`` (hemisphere words, labels, the format itself),
    ``range`` (one value above 90 must be the longitude) or ``assumed`` (latitude first by
    convention). ``lat_sign_explicit`` / ``lon_sign_explicit`` are true when the sign was
    written (a minus, a plus or a hemisphere word) rather than implied by a bare number.
    ``ambiguous_readings`` are alternative ``(lon, lat)`` readings, each named by the code
    at the same index of ``ambiguous_codes``. ``notes`` are ``(code, params)`` facts about
    the reading that are not changes (``TEXT_IGNORED``, ``NMEA_CHECKSUM_BAD``); ``others``
    are further, different points found in the same text.
    """

    lon: float
    lat: float
    format: Format
    uncertainty_m: float | None = None
    precision_m: float | None = None
    decimals: int | None = None
    reprojected_from: str | None = None
    ambiguous_readings: tuple[tuple[float, float], ...] = ()
    ambiguous_codes: tuple[str, ...] = ()
    order_source: OrderSource = "explicit"
    lat_sign_explicit: bool = True
    lon_sign_explicit: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    notes: tuple[tuple[str, dict[str, Any]], ...] = field(default=(), compare=False)
    others: tuple[ParsedCoordinate, ...] = field(default=(), compare=False)


def _invalid(detail: str, hint: str | None = None, **params: Any) -> errors.CoordinateInvalid:
    """The parser's refusal; ``hint`` names what the dispatcher should ask the caller for."""
    return errors.CoordinateInvalid(detail, extra={"hint": hint, "params": params} if hint else None)


def _cell_precision_m(step_lat_deg: float, step_lon_deg: float, lat: float) -> float:
    """Half-diagonal in metres of a rounding cell given in degrees."""
    coslat = math.cos(math.radians(lat)) if math.isfinite(lat) and abs(lat) <= 90 else 1.0
    dy = step_lat_deg * M_PER_DEG
    dx = step_lon_deg * M_PER_DEG * coslat
    return 0.5 * math.hypot(dx, dy)


def _decimals_of_text(text: str) -> int:
    text = text.replace(",", ".")
    return len(text.split(".", 1)[1]) if "." in text else 0


def _decimals_of_float(value: float) -> int:
    if isinstance(value, int):
        return 0
    text = repr(float(value))
    if "e" not in text and "n" not in text:
        # Plain positional repr ("-8.358", "115.0"): the digits after the point, trailing zeros
        # dropped, as Decimal(...).normalize() counts them, without building a Decimal.
        return len(text.partition(".")[2].rstrip("0"))
    exp = Decimal(text).normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _num(text: str) -> float:
    return float(text.replace(",", "."))


# --------------------------------------------------------------------------- normalisation

_TRANSLATE = str.maketrans({
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\uff0b": "+",
    "\u2032": "'", "\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'", "\u02b9": "'",
    "\u2033": '"', "\u201c": '"', "\u201d": '"', "\u02ba": '"', "\u3003": '"',
    "\u00ba": "°", "\u02da": "°", "\u2218": "°",
    "\uff0c": ",", "\uff1b": ";", "\u060c": ",",
})
#: Folded before anything else: zero-width characters dropped, full-width digits and
#: punctuation to ASCII, no-break spaces to spaces (all one character to at most one).
_CLEAN = str.maketrans({
    **{c: None for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"},
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "\uff0e": ".", "\uff0d": "-", "\uff1a": ":", "\u00a0": " ", "\u202f": " ", "\u2007": " ",
})
_SPACES = re.compile(r"\s+")
_PHRASES = re.compile(r"lintang (selatan|utara)|bujur (timur|barat)")
_PHRASE_CODES = {"selatan": " ls ", "utara": " lu ", "timur": " bt ", "barat": " bb "}


def _normalise(text: str) -> str:
    low = text.lower().translate(_TRANSLATE).replace("''", '"')
    low = _SPACES.sub(" ", low).strip()
    return _PHRASES.sub(lambda m: _PHRASE_CODES[m.group(1) or m.group(2)], low)


# --------------------------------------------------------------------------- degree texts

_TOKENS_DOT = re.compile(
    r"(?P<num>[-+]?\d+(?:\.\d+)?)|(?P<word>[a-z]+)|(?P<mark>[°'\"])|(?P<sep>[,;/|])"
    r"|(?P<space>[ :=()\[\]{}<>]+)|(?P<other>.)"
)
_TOKENS_COMMA = re.compile(
    r"(?P<num>[-+]?\d+(?:,\d+)?)|(?P<word>[a-z]+)|(?P<mark>[°'\"])|(?P<sep>[,;/|])"
    r"|(?P<space>[ :=()\[\]{}<>]+)|(?P<other>.)"
)
_HEMI_WORDS = {
    "n": "N", "u": "N", "lu": "N", "utara": "N", "north": "N",
    "s": "S", "ls": "S", "selatan": "S", "south": "S",
    "e": "E", "t": "E", "bt": "E", "timur": "E", "east": "E",
    "w": "W", "b": "W", "bb": "W", "barat": "W", "west": "W",
}
_MARK_WORDS = {
    "d": 0, "deg": 0, "degree": 0, "degrees": 0, "derajat": 0, "drjt": 0,
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "menit": 1, "mnt": 1,
    "sec": 2, "secs": 2, "second": 2, "seconds": 2, "detik": 2, "dtk": 2,
}
_MARK_SYMBOLS = {"°": 0, "'": 1, '"': 2}
_LABEL_WORDS = {
    "lat": "lat", "latitude": "lat", "lintang": "lat",
    "lon": "lon", "lng": "lon", "long": "lon", "longitude": "lon", "bujur": "lon",
}
_FILLER_WORDS = {"dan", "and", "koordinat", "coordinates", "coordinate", "titik", "lokasi"}


class _Group:
    __slots__ = ("nums", "hemi", "label")

    def __init__(self) -> None:
        self.nums: list[list[Any]] = []  # [text, role | None]
        self.hemi: str | None = None
        self.label: str | None = None

    def empty(self) -> bool:
        return not self.nums and self.hemi is None and self.label is None


def _tokenise(norm: str, pattern: re.Pattern[str], skipped: list[str] | None = None) -> list[tuple[str, Any, bool]]:
    tokens: list[tuple[str, Any, bool]] = []
    prev_end, prev_kind = -1, ""
    seen_num = False
    for m in pattern.finditer(norm):
        kind = m.lastgroup or "other"
        attached = prev_kind == "num" and m.start() == prev_end
        prev_end, prev_kind = m.end(), kind
        text = m.group()
        if kind == "space":
            continue
        if kind == "other":
            raise _invalid(f"Unexpected character {text!r} in coordinate.")
        if kind == "num":
            seen_num = True
            tokens.append(("num", text, attached))
        elif kind == "mark":
            tokens.append(("mark", _MARK_SYMBOLS[text], attached))
        elif kind == "sep":
            tokens.append(("sep", text, attached))
        else:  # word
            if text in _HEMI_WORDS:
                tokens.append(("hemi", _HEMI_WORDS[text], attached))
            elif text in _MARK_WORDS:
                tokens.append(("mark", _MARK_WORDS[text], attached))
            elif text in _LABEL_WORDS:
                tokens.append(("label", _LABEL_WORDS[text], attached))
            elif text in ("rp", "idr"):
                raise _invalid("A money amount is not a coordinate.", "NUMBER_NOT_COORDINATE")
            elif text in _FILLER_WORDS or not seen_num:
                if skipped is not None and text not in _FILLER_WORDS:
                    skipped.append(text)
                continue  # a caption such as "Lokasi kejadian:" before the numbers
            else:
                raise _invalid(f"Unexpected word {text[:20]!r} in coordinate.")
        if len(tokens) > MAX_TOKENS:
            raise _invalid("Too many parts for a coordinate.")
    return tokens


def _s_is_seconds(tokens: list[tuple[str, Any, bool]], i: int) -> bool:
    """Whether the ``s`` glued to the number before token ``i`` is a seconds mark, not south.

    ``8d21m29.5s S ..`` and ``8d21m29.5s, 114d37m11.3s`` use it as seconds; in
    ``8d21m29.5S 114d37m11.3E`` the other value carries a hemisphere letter and no value
    carries a seconds mark, so it is the hemisphere (reading it as seconds would put the
    point in the northern hemisphere).
    """
    if i + 1 < len(tokens) and tokens[i + 1][0] == "hemi":
        return True
    ambiguous = {j for j, t in enumerate(tokens) if t == ("hemi", "S", True) and j and tokens[j - 1][0] == "num"}
    other_hemi = any(t[0] == "hemi" and j not in ambiguous for j, t in enumerate(tokens))
    seconds_mark = any(t[0] == "mark" and t[1] == 2 for t in tokens)
    return seconds_mark or not other_hemi


def _group_tokens(tokens: list[tuple[str, Any, bool]]) -> list[_Group]:
    first = next((t for t in tokens if t[0] in ("num", "hemi")), None)
    prefix = first is not None and first[0] == "hemi"
    groups: list[_Group] = []
    cur = _Group()

    def close() -> None:
        nonlocal cur
        if not cur.empty():
            groups.append(cur)
        cur = _Group()

    for i, (kind, value, attached) in enumerate(tokens):
        if kind == "sep":
            close()
        elif kind == "label":
            if cur.nums or cur.label is not None:
                close()
            cur.label = value
        elif kind == "hemi":
            # "29.5s" after a minutes mark is seconds, not south.
            if value == "S" and attached and cur.nums and cur.nums[-1][1] is None and any(
                n[1] == 1 for n in cur.nums
            ) and _s_is_seconds(tokens, i):
                cur.nums[-1][1] = 2
                continue
            if prefix:
                if cur.nums or cur.hemi is not None:
                    close()
                cur.hemi = value
            else:
                if cur.hemi is not None:
                    raise _invalid("Two hemisphere words for one value.")
                cur.hemi = value
                if cur.nums:
                    close()
        elif kind == "mark":
            if not cur.nums or cur.nums[-1][1] is not None:
                raise _invalid("A degree, minute or second mark without its number.")
            if value == 0 and len(cur.nums) > 1:
                # a new degrees value starts a new component: 8°21'29.5" 114°37'11.3"
                last = cur.nums.pop()
                close()
                cur.nums.append(last)
            cur.nums[-1][1] = value
        else:  # num
            if cur.nums and (value[0] in "+-" or cur.nums[-1][1] == 2):
                close()
            cur.nums.append([value, None])
    close()
    if len(groups) == 1 and not groups[0].hemi and not groups[0].label:
        nums = groups[0].nums
        if len(nums) in (2, 4, 6) and all(n[1] is None for n in nums):
            half = len(nums) // 2
            a, b = _Group(), _Group()
            a.nums, b.nums = nums[:half], nums[half:]
            groups = [a, b]
    return groups


def _group_value(g: _Group) -> tuple[float, float, int, int, bool]:
    """(value, step in degrees, last role, decimals, sign written) of one component."""
    if not 1 <= len(g.nums) <= 3:
        raise _invalid("A coordinate component has too many or no numbers.")
    prev = -1
    roles = []
    for _text, mark in g.nums:
        role = mark if mark is not None else prev + 1
        if role != prev + 1:
            raise _invalid("Degrees, minutes and seconds are out of order.")
        roles.append(role)
        prev = role
    texts = [n[0] for n in g.nums]
    deg_text = texts[0]
    negative = deg_text.startswith("-")
    signed = deg_text[0] in "+-"
    for t in texts[1:]:
        if t[0] in "+-":
            raise _invalid("Minutes and seconds cannot carry a sign.")
    for t in texts[:-1]:
        if "." in t or "," in t:
            raise _invalid("Only the last of degrees/minutes/seconds may have decimals.")
    value = abs(_num(deg_text))
    if len(texts) > 1:
        minutes = _num(texts[1])
        if minutes >= 60:
            raise _invalid("Minutes must be below 60.")
        value += minutes / 60.0
    if len(texts) > 2:
        seconds = _num(texts[2])
        if seconds >= 60:
            raise _invalid("Seconds must be below 60.")
        value += seconds / 3600.0
    last = roles[-1]
    decimals = _decimals_of_text(texts[-1])
    step = 10.0 ** (-decimals) / (1.0, 60.0, 3600.0)[last]
    if g.hemi in ("S", "W"):
        negative, signed = True, True
    elif g.hemi in ("N", "E"):
        if negative:
            raise _invalid("A minus sign contradicts the hemisphere word.")
        signed = True
    return (-value if negative else value), step, last, decimals, signed


def _axis(g: _Group) -> str | None:
    if g.hemi is not None:
        axis = "lat" if g.hemi in ("N", "S") else "lon"
        if g.label is not None and g.label != axis:
            raise _invalid("A label contradicts the hemisphere word.")
        return axis
    return g.label


_DOTTED_RE = re.compile(r"(?<![\d.,])([-+]?\d{1,3})\.(\d{1,2})\.(\d{1,2}(?:[.,]\d{1,6})?)(?![\d.])")


def _parse_dotted(norm: str) -> dict[str, Any]:
    """Dotted D.M.S (``8.21.29 ls 114.37.11 bt``): rewritten with marks, then read."""
    marked, count = _DOTTED_RE.subn(lambda m: f"{m[1]}°{m[2]}'{m[3]}\"", norm)
    if count != 2:
        raise _invalid("Not a dotted D.M.S pair.")
    parsed = _parse_degrees(marked)
    return {**parsed, "format": "dms_dotted"}


def _parse_degrees(norm: str) -> dict[str, Any]:
    patterns = [_TOKENS_DOT]
    if not re.search(r"\d\.\d", norm) and re.search(r"\d,\d", norm):
        patterns.insert(0, _TOKENS_COMMA)
    last_error: errors.CoordinateInvalid | None = None
    for pattern in patterns:
        try:
            skipped: list[str] = []
            groups = _group_tokens(_tokenise(norm, pattern, skipped))
            if len(groups) != 2:
                raise _invalid("Expected two values (latitude and longitude).")
            return {**_assign_axes(groups), "skipped": " ".join(skipped)}
        except errors.CoordinateInvalid as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


#: The two commonest texts of a call (issue 13), read without the tokenizer: a decimal pair
#: (``-8.4321, 115.2345``) and a DMS pair with Indonesian hemisphere words (``8°21'29.5" LS
#: 114°37'11.3" BT``). The expressions admit only texts that the general path cuts into exactly
#: these two components (ASCII digits and letters, one space, nothing before or after), and the
#: components then go through the same rules (:func:`_assign_axes`); ``tests/geo`` compares both
#: paths on such texts.
_PLAIN_PAIR_RE = re.compile(r"([-+]?[0-9]+\.[0-9]+)(?:, ?| )([-+]?[0-9]+\.[0-9]+)")
_PLAIN_DMS_RE = re.compile(
    r"([0-9]{1,3})°([0-9]{1,2})'([0-9]{1,2}(?:\.[0-9]+)?)\" ([Ll][SsUu]) "
    r"([0-9]{1,3})°([0-9]{1,2})'([0-9]{1,2}(?:\.[0-9]+)?)\" ([Bb][TtBb])"
)


def _plain_group(nums: list[list[Any]], hemi: str | None = None) -> _Group:
    group = _Group()
    group.nums, group.hemi = nums, hemi
    return group


def _common_groups(text: str) -> list[_Group] | None:
    """The two components of a text of :data:`_PLAIN_PAIR_RE` or :data:`_PLAIN_DMS_RE` (as
    :func:`_group_tokens` would group them), else None."""
    m = _PLAIN_PAIR_RE.fullmatch(text)
    if m is not None:
        return [_plain_group([[m[1], None]]), _plain_group([[m[2], None]])]
    m = _PLAIN_DMS_RE.fullmatch(text)
    if m is not None:
        return [_plain_group([[m[1], 0], [m[2], 1], [m[3], 2]], _HEMI_WORDS[m[4].lower()]),
                _plain_group([[m[5], 0], [m[6], 1], [m[7], 2]], _HEMI_WORDS[m[8].lower()])]
    return None


def _assign_axes(groups: list[_Group]) -> dict[str, Any]:
    values = [_group_value(g) for g in groups]
    axes = [_axis(g) for g in groups]
    if axes[0] is not None and axes[0] == axes[1]:
        raise _invalid("Both values name the same axis.")
    order: OrderSource = "explicit"
    if axes[0] == "lon" or axes[1] == "lat":
        lon_i, lat_i = 0, 1
    elif axes[0] == "lat" or axes[1] == "lon":
        lon_i, lat_i = 1, 0
    elif abs(values[0][0]) > 90 >= abs(values[1][0]):
        lon_i, lat_i, order = 0, 1, "range"
    else:
        lon_i, lat_i, order = 1, 0, "assumed"
    lat_v, lon_v = values[lat_i], values[lon_i]
    last_role = max(lat_v[2], lon_v[2])
    fmt: Format = ("decimal", "ddm", "dms")[last_role]
    return {
        "lon": lon_v[0], "lat": lat_v[0], "format": fmt,
        "precision_m": _cell_precision_m(lat_v[1], lon_v[1], lat_v[0]),
        "decimals": min(lat_v[3], lon_v[3]), "order_source": order,
        "lat_sign_explicit": lat_v[4], "lon_sign_explicit": lon_v[4],
    }


# --------------------------------------------------------------------------- grid formats

_MGRS_RE = re.compile(r"^(\d{1,2})([c-hj-np-x])([a-hj-np-z][a-hj-np-v])(\d{2,10})$")
_UTM_RE = re.compile(
    r"^(?:utm ?)?(?:zona |zone )?(\d{1,2}) ?([c-hj-np-x]|selatan|utara|south|north)(?![a-z])"
    r"[ ,;]*(?:easting|x|e)?[ :=]*(\d{5,7}(?:\.\d{1,3})?) ?(?:me|e|m)?(?![a-z0-9])"
    r"[ ,;]*(?:northing|y|n)?[ :=]*(\d{1,8}(?:\.\d{1,3})?) ?(?:mn|n|m)?$"
)
_BANDS = "cdefghjklmnpqrstuvwxx"


def _utm_to_wgs84(zone: int, south: bool, easting: float, northing: float) -> tuple[float, float]:
    return _crs.to_wgs84_xy(easting, northing, _crs.utm_crs(zone, south))


def _band_range(letter: str) -> tuple[float, float]:
    i = _BANDS.index(letter)
    return -80.0 + 8 * i, (84.0 if letter == "x" else -72.0 + 8 * i)


def _parse_utm(m: re.Match[str]) -> ParsedCoordinate:
    zone = int(m.group(1))
    if not 1 <= zone <= 60:
        raise _invalid("UTM zone must be 1..60.")
    letter, e_text, n_text = m.group(2), m.group(3), m.group(4)
    easting, northing = float(e_text), float(n_text)
    readings: list[tuple[tuple[float, float], str]] = []
    if letter in ("selatan", "south"):
        primary = _utm_to_wgs84(zone, True, easting, northing)
    elif letter in ("utara", "north"):
        primary = _utm_to_wgs84(zone, False, easting, northing)
    elif letter == "s":
        # In Indonesia "50S" means zone 50 south; band S (32..40 N) is the alternative when it fits.
        primary = _utm_to_wgs84(zone, True, easting, northing)
        alt = _utm_to_wgs84(zone, False, easting, northing)
        lo, hi = _band_range("s")
        if lo - 1 <= alt[1] <= hi + 1:
            readings.append((alt, "UTM_BAND_LETTER"))
    else:
        primary = _utm_to_wgs84(zone, letter < "n", easting, northing)
    decimals = min(_decimals_of_text(e_text), _decimals_of_text(n_text))
    precision = 0.5 * math.sqrt(2) * 10.0 ** (-decimals)
    return ParsedCoordinate(
        lon=primary[0], lat=primary[1], format="utm", precision_m=precision, decimals=decimals,
        ambiguous_readings=tuple(r[0] for r in readings), ambiguous_codes=tuple(r[1] for r in readings),
        extra={"utm": {"zone": zone, "letter": letter.upper(), "easting": easting, "northing": northing}},
    )


def _parse_mgrs(m: re.Match[str]) -> ParsedCoordinate:
    digits = m.group(4)
    if len(digits) % 2:
        raise _invalid("An MGRS reference needs as many easting as northing digits.")
    ref = (m.group(1) + m.group(2) + m.group(3) + digits).upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Latitude Warning": checked below
            zone, hemi, easting, northing = _MGRS.MGRSToUTM(ref)
    except Exception as exc:  # the mgrs library raises bare exceptions on bad letters
        raise _invalid("Not a valid MGRS reference.") from exc
    lon, lat = _utm_to_wgs84(int(zone), hemi == "S", float(easting), float(northing))
    lo, hi = _band_range(m.group(2))
    if not (lo - 0.5 <= lat <= hi + 0.5):
        raise _invalid("The MGRS grid square does not lie in its latitude band.")
    cell_m = 10.0 ** (5 - len(digits) // 2)
    return ParsedCoordinate(
        lon=lon, lat=lat, format="mgrs", precision_m=0.5 * math.sqrt(2) * cell_m, decimals=None,
        extra={"mgrs": ref},
    )


_OLC = "23456789CFGHJMPQRVWX"
_PLUS_RE = re.compile(rf"^([{_OLC}]{{2,8}}0{{0,6}}\+[{_OLC}]{{0,7}})(?:[ ,]+(.{{1,200}}))?$")


def _parse_pluscode(
    m: re.Match[str], reference: tuple[float, float] | None, original: str
) -> ParsedCoordinate:
    code, locality = m.group(1), m.group(2)
    if locality and len(original) == len(m.string):
        locality = original[m.start(2):m.end(2)]  # keep the caller's capitalisation
    if not olc.isValid(code):
        raise _invalid("Not a valid Plus Code.")
    extra: dict[str, Any] = {"pluscode": code}
    if locality:
        extra["locality"] = locality.strip()
    if olc.isFull(code):
        area = olc.decode(code)
    else:
        if reference is None:
            raise _invalid("A short Plus Code needs a reference point (the caller's unit).")
        ref_lon, ref_lat = reference
        area = olc.decode(olc.recoverNearest(code, ref_lat, ref_lon))
        extra["reference"] = {"lon": ref_lon, "lat": ref_lat}
    lat, lon = area.latitudeCenter, area.longitudeCenter
    precision = _cell_precision_m(area.latitudeHi - area.latitudeLo, area.longitudeHi - area.longitudeLo, lat)
    return ParsedCoordinate(lon=lon, lat=lat, format="pluscode", precision_m=precision, extra=extra)


# --------------------------------------------------------------------------- URIs, URLs, AML

_DEC = r"[-+]?\d{1,3}(?:\.\d{1,20})?"
_GEO_RE = re.compile(
    rf"^geo: ?({_DEC}) ?, ?({_DEC})(?:,[-+]?\d{{1,10}}(?:\.\d{{1,10}})?)?"
    r"((?:;[a-z0-9-]{1,30}(?:=[^;?]{0,100})?){0,10})"
    r"(?:\?(.{0,1500}))?$",
    re.IGNORECASE,
)
_PAIR_RE = re.compile(rf"^(?:loc:)? ?({_DEC}) ?[, ] ?\+?({_DEC})(?![\d.])")


def _pair_result(lat_text: str, lon_text: str, fmt: Format, **kwargs: Any) -> ParsedCoordinate:
    lat, lon = float(lat_text), float(lon_text)
    decimals = min(_decimals_of_text(lat_text), _decimals_of_text(lon_text))
    step = 10.0 ** (-decimals)
    return ParsedCoordinate(
        lon=lon, lat=lat, format=fmt, precision_m=_cell_precision_m(step, step, lat), decimals=decimals,
        lat_sign_explicit=lat_text[0] in "+-", lon_sign_explicit=lon_text[0] in "+-", **kwargs,
    )


def _parse_geo_uri(text: str) -> ParsedCoordinate:
    m = _GEO_RE.match(text)
    if not m:
        raise _invalid("Not a valid geo: URI.")
    lat_text, lon_text, params_text, query = m.groups()
    params: dict[str, str] = {}
    for part in params_text.split(";")[1:]:
        key, _, value = part.partition("=")
        params[key.lower()] = unquote(value)
    if params.get("crs", "wgs84").lower() != "wgs84":
        raise _invalid("Only the wgs84 crs of geo: URIs is understood.")
    uncertainty: float | None = None
    if "u" in params:
        try:
            uncertainty = float(params["u"])
        except ValueError as exc:
            raise _invalid("The geo: URI uncertainty is not a number.") from exc
        if not (math.isfinite(uncertainty) and uncertainty >= 0):
            raise _invalid("The geo: URI uncertainty must be a non-negative number.")
    if float(lat_text) == 0 and float(lon_text) == 0 and query:
        # Android form geo:0,0?q=lat,lon(label)
        q = parse_qs(query).get("q", [""])[0]
        pm = _PAIR_RE.match(q.strip())
        if pm:
            return _pair_result(pm.group(1), pm.group(2), "geo_uri", uncertainty_m=uncertainty)
    return _pair_result(lat_text, lon_text, "geo_uri", uncertainty_m=uncertainty)


def _parse_link(text: str, crs_label: str | None, expand_link: LinkExpander | None) -> ParsedCoordinate:
    """A map share link; a short link is opened with ``expand_link`` when one is given."""
    extra: dict[str, Any] = {}
    try:
        reading = _links.read_map_link(text)
    except errors.CoordinateInvalid as exc:
        if expand_link is None or exc.extra.get("hint") != "SHORT_LINK_UNRESOLVED":
            raise
        long_link = expand_link(text)
        reading = _links.read_map_link(long_link)
        extra["expanded_from"] = exc.extra["params"].get("host")
    extra.update(url_source=reading.source, app=reading.app)
    if reading.degree_text:
        parsed = _parse_degrees(_normalise(reading.degree_text))
        parsed.pop("order_source")
        parsed.pop("skipped")
        return ParsedCoordinate(**{**parsed, "format": "url"}, extra=extra)
    return _pair_result(reading.lat_text, reading.lon_text, "url", extra=extra)


_AML_PAIR_RE = re.compile(r"([a-z\"]{1,10}) ?= ?([^;]{0,100})", re.IGNORECASE)
#: AML fields kept in ``extra`` (personal identifiers such as IMSI/IMEI are dropped).
AML_KEPT_FIELDS = ("top", "lc", "pm", "mcc", "mnc", "ml", "v")


def _parse_aml(text: str) -> ParsedCoordinate:
    fields: dict[str, str] = {}
    for key, value in _AML_PAIR_RE.findall(text):
        fields.setdefault(key.strip('"').lower(), value.strip())
    lat_t, lon_t = fields.get("lt", ""), fields.get("lg", "")
    if not (re.fullmatch(_DEC, lat_t) and re.fullmatch(_DEC, lon_t)):
        raise _invalid("The AML message has no readable lt/lg.")
    uncertainty: float | None = None
    if fields.get("rd"):
        try:
            uncertainty = float(fields["rd"])
        except ValueError:
            uncertainty = None
        if uncertainty is not None and not (math.isfinite(uncertainty) and uncertainty >= 0):
            uncertainty = None
    extra: dict[str, Any] = {k: fields[k] for k in AML_KEPT_FIELDS if k in fields}
    return _pair_result(lat_t, lon_t, "aml", uncertainty_m=uncertainty, extra=extra)


# --------------------------------------------------------------------------- projected numbers

_PROJ_TOKEN = re.compile(
    r"(?P<num>[-+]?\d+(?:\.\d+)?)|(?P<word>[a-z]+)|(?P<skip>[ ,;:=()\[\]/]+)|(?P<other>.)"
)
_X_WORDS = {"x", "e", "easting", "timur"}
_Y_WORDS = {"y", "n", "northing", "utara"}


def _projected_result(x: float, y: float, crs_label: str, decimals: int, order: OrderSource,
                      try_swap: bool) -> ParsedCoordinate:
    lon, lat = _crs.to_wgs84_xy(x, y, crs_label)
    readings: list[tuple[float, float]] = []
    codes: list[str] = []
    if try_swap and x != y:
        alt = _crs.to_wgs84_xy(y, x, crs_label)
        if math.isfinite(alt[0]):
            readings.append(alt)
            codes.append("PROJECTED_AXES_SWAPPED")
    return ParsedCoordinate(
        lon=lon, lat=lat, format="projected", precision_m=0.5 * math.sqrt(2) * 10.0 ** (-decimals),
        decimals=decimals, reprojected_from=crs_label, ambiguous_readings=tuple(readings),
        ambiguous_codes=tuple(codes), order_source=order, extra={"x": x, "y": y},
    )


def _parse_projected_text(norm: str, crs_label: str) -> ParsedCoordinate:
    values: list[str] = []
    axes: list[str | None] = []
    pending: str | None = None
    for m in _PROJ_TOKEN.finditer(norm):
        kind = m.lastgroup
        if kind == "num":
            values.append(m.group())
            axes.append(pending)
            pending = None
        elif kind == "word":
            w = m.group()
            if w in _X_WORDS:
                pending = "x"
            elif w in _Y_WORDS:
                pending = "y"
            elif w not in ("m", "me", "mn", "meter", "metres", "meters"):
                raise _invalid("Projected coordinates must be two numbers (easting northing).")
        elif kind == "other":
            raise _invalid("Unexpected character in projected coordinates.")
        if len(values) > 2:
            break
    if len(values) != 2:
        raise _invalid("Projected coordinates must be two numbers (easting northing).")
    a, b = float(values[0]), float(values[1])
    decimals = min(_decimals_of_text(values[0]), _decimals_of_text(values[1]))
    if axes[0] == "y" or axes[1] == "x":
        return _projected_result(b, a, crs_label, decimals, "explicit", False)
    if axes[0] == "x" or axes[1] == "y":
        return _projected_result(a, b, crs_label, decimals, "explicit", False)
    if abs(a) >= 1_000_000 > abs(b):
        return _projected_result(b, a, crs_label, decimals, "range", False)
    return _projected_result(a, b, crs_label, decimals, "assumed", True)


# --------------------------------------------------------------------------- public API

_URL_HINT = re.compile(
    r"^(?:https?://|comgooglemaps(?:url)?://|www\.|maps\.|google\.|openstreetmap\.org|osm\.org|goo\.gl|waze\.com"
    r"|bing\.com|osmand\.net|(?:wego|share)\.here\.com|what3words\.com|w3w\.co)"
)
#: Most pieces of a message read (each a full parse); the rest is ignored.
MAX_MESSAGE_ATTEMPTS = 60
#: How many characters of ignored text the TEXT_IGNORED note quotes.
IGNORED_EXCERPT_CHARS = 40
_DEGREE_HINT = re.compile(r"[°'\"]|\d ?[sw](?![a-z])|\b(?:ls|lu|bt|bb|derajat|lat|lon|lng|lintang|bujur)\b")


def _reproject_geographic(parsed: dict[str, Any], crs: str | None) -> dict[str, Any]:
    """Move a geographic reading given in a non-WGS 84 datum to WGS 84."""
    if crs is None or _crs.is_wgs84(crs):
        return parsed
    source = crs
    if _crs.is_projected(crs):
        geodetic = _crs.parse_crs(crs).geodetic_crs
        auth = geodetic.to_authority() if geodetic is not None else None
        if auth is None:
            raise errors.UnknownCRS(f"The datum of {crs!r} has no code we can use.")
        source = f"{auth[0]}:{auth[1]}"
        if _crs.is_wgs84(source):
            return parsed
    lon, lat = _crs.to_wgs84_xy(parsed["lon"], parsed["lat"], source)
    return {**parsed, "lon": lon, "lat": lat, "reprojected_from": _crs.crs_label(source)}


def parse_coordinate_text(
    text: str, *, crs: str | None = None, reference: tuple[float, float] | None = None,
    expand_link: LinkExpander | None = None,
) -> ParsedCoordinate:
    """Read a coordinate written as text; see the module docstring for the formats.

    Parameters
    ----------
    text : str
        What the caller typed or pasted (at most 2,000 characters).
    crs : str, optional
        The system of plain numbers: a projected CRS makes ``"x y"`` an easting/northing
        pair; a geographic non-WGS 84 CRS (DGN95 ``EPSG:4755``) is converted to WGS 84.
        Self-describing formats (UTM, MGRS, Plus Code, geo URI, URLs, AML) are WGS 84 and
        ignore it.
    reference : tuple of float, optional
        ``(lon, lat)`` near the caller, used to resolve short Plus Codes.
    expand_link : callable, optional
        Opens a short map link (``maps.app.goo.gl/...``) and returns the long link; without
        it a short link is refused with the hint ``SHORT_LINK_UNRESOLVED``.

    Returns
    -------
    ParsedCoordinate

    Raises
    ------
    geo_service.errors.CoordinateInvalid
        The text cannot be read as a coordinate; ``extra["hint"]``, when set, names what
        to ask the caller for (``SHORT_LINK_UNRESOLVED``, ``WHAT3WORDS_UNSUPPORTED``,
        ``PHONE_NUMBER_NOT_COORDINATE``, ``NUMBER_NOT_COORDINATE``).
    geo_service.errors.UnknownCRS
        ``crs`` names no known system.

    Examples
    --------
    >>> p = parse_coordinate_text("8°21'29.5\\" LS 114°37'11.3\\" BT")
    >>> round(p.lat, 5), round(p.lon, 5), p.format
    (-8.35819, 114.61981, 'dms')
    >>> p = parse_coordinate_text("-8,3582; 114,6198")
    >>> p.lat, p.lon, p.decimals
    (-8.3582, 114.6198, 4)
    >>> p = parse_coordinate_text("Tolong 🙏\\n-8.3582, 114.6198 (dekat pasar)")
    >>> p.lat, p.lon, p.notes[0][0], p.notes[0][1]["excerpt"]
    (-8.3582, 114.6198, 'TEXT_IGNORED', 'Tolong 🙏 (dekat pasar)')
    """
    if not isinstance(text, str):
        raise errors.BadRequest("The coordinate text must be a string.")
    crs_label = _crs.crs_label(crs) if crs is not None else None
    if len(text) > MAX_TEXT_LENGTH:
        raise _invalid(f"Coordinate text longer than {MAX_TEXT_LENGTH} characters.")
    stripped = text.translate(_CLEAN).strip()
    if not stripped:
        raise _invalid("Empty coordinate text.")
    try:
        return _parse_whole(stripped, crs_label, reference, expand_link)
    except errors.CoordinateInvalid as exc:
        whole_error = exc
    return _parse_message(stripped, crs_label, reference, expand_link, whole_error)


def _from_machine(r: _machine.MachineReading) -> ParsedCoordinate:
    if r.lat_value is not None and r.lon_value is not None:  # NMEA, compact: already in degrees
        step = r.step_deg or 0.0
        return ParsedCoordinate(
            lon=r.lon_value, lat=r.lat_value, format=r.format,  # type: ignore[arg-type]
            precision_m=_cell_precision_m(step, step, r.lat_value), notes=r.notes, extra=r.extra,
        )
    if r.srid not in (None, 4326):
        try:
            label = _crs.crs_label(f"EPSG:{r.srid}")
        except errors.UnknownCRS as exc:
            raise _invalid(f"Unknown SRID {r.srid}.") from exc
        x, y = float(r.lon_text), float(r.lat_text)
        decimals = min(_decimals_of_text(r.lon_text), _decimals_of_text(r.lat_text))
        if _crs.is_projected(label):
            return replace(_projected_result(x, y, label, decimals, "explicit", False), format=r.format)  # type: ignore[arg-type]
        lon, lat = _crs.to_wgs84_xy(x, y, label)
        step = 10.0 ** (-decimals)
        return ParsedCoordinate(lon=lon, lat=lat, format=r.format, decimals=decimals,  # type: ignore[arg-type]
                                precision_m=_cell_precision_m(step, step, lat), reprojected_from=label)
    return _pair_result(r.lat_text, r.lon_text, r.format, uncertainty_m=r.uncertainty_m,  # type: ignore[arg-type]
                        notes=r.notes, extra=r.extra)


def _parse_json(text: str) -> ParsedCoordinate:
    readings = [_from_machine(r) for r in _machine.read_json(text)]
    return _merge(readings)


def _parse_whole(
    stripped: str, crs_label: str | None, reference: tuple[float, float] | None, expand_link: LinkExpander | None
) -> ParsedCoordinate:
    """Read ``stripped`` as exactly one coordinate (or one JSON document) of any format."""
    if crs_label is None:
        groups = _common_groups(stripped)
        if groups is not None:
            with contextlib.suppress(errors.CoordinateInvalid):  # (minutes past 60...: the general path says so)
                return _degree_coordinate({**_assign_axes(groups), "skipped": ""})
    low = stripped.lower()
    if low.startswith("geo:"):
        return _parse_geo_uri(stripped)
    if low[0] == "{" or (low[0] == "[" and low[-1] == "]" and "{" in low):
        return _parse_json(stripped)
    if _URL_HINT.match(low):
        if _SPACES.search(stripped):
            raise _invalid("A link with words after it.")  # read as a message: the link is one piece
        return _parse_link(stripped, crs_label, expand_link)
    if "lt=" in low and "lg=" in low:
        return _parse_aml(stripped)
    if low[0] == "$":
        return _from_machine(_machine.read_nmea(stripped))
    if "<coordinates>" in low and low[0] == "<" and low[-1] == ">":  # a KML document, nothing else
        return _from_machine(_machine.read_kml(stripped))
    if "point" in low:
        return _from_machine(_machine.read_wkt(stripped))
    if low.startswith("///"):
        raise _invalid("what3words addresses cannot be read offline.", "WHAT3WORDS_UNSUPPORTED")
    if "+" in stripped:
        spaced = _SPACES.sub(" ", stripped)
        pm = _PLUS_RE.match(spaced.upper())
        if pm:
            return _parse_pluscode(pm, reference, spaced)
    norm = _normalise(stripped)
    if len(norm) <= 40:
        mm = _MGRS_RE.match(norm.replace(" ", ""))
        if mm:
            return _parse_mgrs(mm)
    if len(norm) <= 80:
        um = _UTM_RE.match(norm)
        if um:
            return _parse_utm(um)
    if crs_label is not None and _crs.is_projected(crs_label) and not _DEGREE_HINT.search(norm):
        return _parse_projected_text(norm, crs_label)
    if _COMPACT_HINT.search(norm):
        with contextlib.suppress(errors.CoordinateInvalid):
            return _from_machine(_machine.read_compact(norm))
    try:
        parsed = _reproject_geographic(_parse_degrees(norm), crs_label)
    except errors.CoordinateInvalid:
        if "=" in norm:
            return _from_machine(_machine.read_keyvalue(norm))
        if norm.count(",") == 2 and " " not in norm:
            return _from_machine(_machine.read_kml(norm))
        if norm.count(".") >= 4 or norm.count(",") >= 2:
            parsed = _reproject_geographic(_parse_dotted(norm), crs_label)
        else:
            raise
    return _degree_coordinate(parsed)


def _degree_coordinate(parsed: dict[str, Any]) -> ParsedCoordinate:
    """The reading of a degree text (what :func:`_parse_degrees` found): the swapped order as an
    alternative when the order was only assumed, the skipped caption as a note."""
    order = parsed.pop("order_source")
    skipped = parsed.pop("skipped")
    readings: tuple[tuple[float, float], ...] = ()
    codes: tuple[str, ...] = ()
    if order == "assumed" and abs(parsed["lon"]) <= 90 and parsed["lon"] != parsed["lat"]:
        readings, codes = ((parsed["lat"], parsed["lon"]),), ("PRESUMED_SWAPPED_COORDINATE",)
    return ParsedCoordinate(
        order_source=order, ambiguous_readings=readings, ambiguous_codes=codes,
        notes=(_ignored_note(skipped),) if skipped else (), **parsed
    )


def _ignored_note(rest: str) -> tuple[str, dict[str, Any]]:
    """The TEXT_IGNORED note: how many characters were not read, and the first of them."""
    excerpt = rest if len(rest) <= IGNORED_EXCERPT_CHARS else rest[: IGNORED_EXCERPT_CHARS - 1] + "…"
    return ("TEXT_IGNORED", {"chars": len(rest.replace(" ", "")), "excerpt": excerpt})


_COMPACT_HINT = re.compile(r"(?<![\d.,])\d{4,7}(?:\.\d+)? ?[ns](?![a-z])|(?<![a-z])[ns] ?\d{4,7}")


def _plausible(p: ParsedCoordinate) -> bool:
    lon, lat = abs(p.lon), abs(p.lat)
    return math.isfinite(lon) and math.isfinite(lat) and ((lat <= 90 and lon <= 180) or (lon <= 90 and lat <= 180))


def _same_point(a: ParsedCoordinate, b: ParsedCoordinate) -> bool:
    """The same point written twice (a link and its decimal text): within twice the coarser
    rounding cell, and at least 2 m."""
    if not all(math.isfinite(v) and abs(v) <= 180 for v in (a.lon, a.lat, b.lon, b.lat)):
        return (a.lon, a.lat) == (b.lon, b.lat)
    if abs(a.lat) > 90 or abs(b.lat) > 90:
        return (a.lon, a.lat) == (b.lon, b.lat)
    tolerance = 2.0 * max(a.precision_m or 0.0, b.precision_m or 0.0, 1.0)
    return distance_m(a.lon, a.lat, b.lon, b.lat) <= tolerance


def _merge(readings: list[ParsedCoordinate]) -> ParsedCoordinate:
    """One reading with the different further points in ``others`` (duplicates merged, the
    more precise writing kept)."""
    distinct: list[ParsedCoordinate] = []
    for r in readings:
        for i, d in enumerate(distinct):
            if _same_point(r, d):
                if (r.precision_m or math.inf) < (d.precision_m or math.inf):
                    distinct[i] = replace(r, notes=d.notes + r.notes)
                break
        else:
            distinct.append(r)
    first = distinct[0]
    return replace(first, others=tuple(distinct[1:])) if len(distinct) > 1 else first


def _parse_message(
    text: str, crs_label: str | None, reference: tuple[float, float] | None,
    expand_link: LinkExpander | None, whole_error: errors.CoordinateInvalid,
) -> ParsedCoordinate:
    """Find and read the coordinates inside free text; see the module docstring."""
    found: list[ParsedCoordinate] = []
    spans: list[tuple[int, int]] = []
    hint_error: errors.CoordinateInvalid | None = None

    budget = [MAX_MESSAGE_ATTEMPTS]

    def attempt(start: int, end: int) -> bool:
        nonlocal hint_error
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if (start, end) == (0, len(text)):  # the whole text: already tried (do not open a short link twice)
            if hint_error is None and whole_error.extra.get("hint"):
                hint_error = whole_error
            return False
        try:
            parsed = _parse_whole(text[start:end], crs_label, reference, expand_link)
        except errors.CoordinateInvalid as exc:
            if hint_error is None and exc.extra.get("hint"):
                hint_error = exc
            return False
        if not _plausible(parsed):  # free text: a reading out of range in both axis orders is not a coordinate
            return False
        found.append(parsed)
        spans.append((start, end))
        return True

    for piece in find_pieces(text):
        if piece.kind == "what3words":
            hint_error = hint_error or _invalid("what3words addresses cannot be read offline.",
                                                "WHAT3WORDS_UNSUPPORTED")
        elif piece.kind == "degrees":
            segs, i = piece.segments, 0
            while i < len(segs):
                for j in range(min(len(segs), i + 4), i, -1):
                    if attempt(segs[i][0], segs[j - 1][1]):
                        i = j
                        break
                else:
                    i += 1
        else:
            attempt(piece.start, piece.end)
    if not found:
        if hint_error is not None:
            raise hint_error
        kind = number_kind(text)
        if kind == "phone":
            raise _invalid("This looks like a phone number, not a coordinate.", "PHONE_NUMBER_NOT_COORDINATE")
        if kind is not None:
            raise _invalid("The numbers in this text are not a coordinate.", "NUMBER_NOT_COORDINATE")
        raise whole_error
    merged = _merge(found)
    rest = ignored_text(text, spans)
    if not rest:
        return merged
    # one TEXT_IGNORED for the whole message (a piece's own skipped caption is part of ``rest``)
    kept = tuple(n for n in merged.notes if n[0] != "TEXT_IGNORED")
    return replace(merged, notes=kept + (_ignored_note(rest),))


def parse_coordinate_numbers(
    a: float, b: float, *, crs: str | None = None, order: Literal["latlon", "lonlat", "xy"] = "latlon"
) -> ParsedCoordinate:
    """Read a pair of numbers from a JSON body into a point.

    ``order="latlon"`` is the ``{"lat": a, "lon": b}`` body; ``"lonlat"`` is GeoJSON order.
    With a *projected* ``crs`` the latitude slot carries the northing and the longitude slot
    the easting (``{"lat": northing, "lon": easting}``), and ``order="xy"`` is the
    ``{"x": easting, "y": northing}`` body. A geographic non-WGS 84 ``crs`` is converted.

    Parameters
    ----------
    a, b : float
        The two numbers, in the order named by ``order``.
    crs : str, optional
        Coordinate reference system of the numbers (default WGS 84).
    order : {"latlon", "lonlat", "xy"}
        How ``a`` and ``b`` map to axes.

    Returns
    -------
    ParsedCoordinate

    Raises
    ------
    geo_service.errors.BadRequest
        A value is not a number.
    geo_service.errors.CoordinateInvalid
        A value is NaN or infinite.

    Examples
    --------
    >>> p = parse_coordinate_numbers(-8.358, 114.62)
    >>> p.lon, p.lat, p.decimals
    (114.62, -8.358, 2)
    >>> p = parse_coordinate_numbers(222679, 9091964, crs="EPSG:32750", order="xy")
    >>> round(p.lat, 4), p.reprojected_from
    (-8.2069, 'EPSG:32750')
    """
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise errors.BadRequest("Coordinates must be numbers.")
    if order not in ("latlon", "lonlat", "xy"):
        raise errors.BadRequest("order must be 'latlon', 'lonlat' or 'xy'.")
    crs_label = _crs.crs_label(crs) if crs is not None else None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise _invalid("Coordinates must be finite numbers.")
    decimals = min(_decimals_of_float(a), _decimals_of_float(b))
    if crs_label is not None and _crs.is_projected(crs_label):
        x, y = (float(b), float(a)) if order == "latlon" else (float(a), float(b))
        return _projected_result(x, y, crs_label, decimals, "explicit", True)
    lat, lon = (float(a), float(b)) if order == "latlon" else (float(b), float(a))
    step = 10.0 ** (-decimals)
    parsed = _reproject_geographic({"lon": lon, "lat": lat}, crs_label)
    return ParsedCoordinate(
        lon=parsed["lon"], lat=parsed["lat"], format="decimal", decimals=decimals,
        precision_m=_cell_precision_m(step, step, lat), reprojected_from=parsed.get("reprojected_from"),
        order_source="explicit", lat_sign_explicit=lat < 0, lon_sign_explicit=lon < 0,
    )
