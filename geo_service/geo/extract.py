"""Finding the pieces of a forwarded message that may hold a coordinate.

A message as people forward it (a WhatsApp line with emoji and line breaks, an SMS, an app's
JSON) holds words, numbers that are not coordinates (phone numbers, times, money) and,
somewhere, a coordinate, link or code. :func:`find_pieces` cuts out the candidates; it does
not read them (that is :func:`geo_service.geo.coords.parse_coordinate_text`). Rules:

* Links (``https://...``, ``comgooglemaps://``, and map hosts written without a scheme),
  ``geo:`` URIs, what3words addresses, JSON objects, WKT points, KML ``<coordinates>`` and
  NMEA sentences are found first and masked, so the numbers inside them (or inside a link
  to an unknown site) are never read as a degree text.
* Plus Codes (``6P3PJJRC+R22``, upper case as the apps write them), UTM (``50L 222679
  9091964``, ``zona 50 S ...``) and MGRS (``50LKR8597860562``).
* Degree texts: maximal runs of numbers, degree marks, hemisphere words (LS/LU/BT/BB,
  N/S/E/W ...), labels (lat, lon, lintang, bujur ...) and separators. A run with a mark, a
  hemisphere word, a label or a dotted D.M.S number is *strong* and is handed over split at
  its separators (``,;/&|``) so the reader can try neighbouring segments. A run of bare
  numbers is *weak*: only adjacent pairs of numbers that both have at least
  :data:`WEAK_MIN_DECIMALS` decimals are candidates (``-8.3582, 114.6198``), so house
  numbers, times (``10:30``), dates and phone numbers are not taken for coordinates.

Everything is linear in the text length (which the caller caps); expressions have no
nested quantifiers. Digits are ASCII only (full-width digits are folded by the caller;
other scripts' digits are not read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A bare pair of numbers in free text needs this many decimals on each number.
WEAK_MIN_DECIMALS = 3
#: Most pieces looked at in one message (more are ignored).
MAX_PIECES = 40
#: Most ``{`` positions tried as the start of a JSON object (each scan reads <= 2,000 characters).
MAX_JSON_TRIES = 5

_SCHEME_URL_RE = re.compile(r"(?:https?|comgooglemaps|comgooglemapsurl)://[^\s<>\"`]{1,1500}", re.IGNORECASE)
_URL_RE = re.compile(
    r"(?<![\w@./-])(?:www\.|maps\.|m\.)?(?:google\.[a-z]{2,3}(?:\.[a-z]{2})?/maps|maps\.google\.[a-z]{2,3}(?:\.[a-z]{2})?"
    r"|maps\.app\.goo\.gl|goo\.gl|waze\.com|bing\.com/maps|openstreetmap\.org|osm\.org|osmand\.net"
    r"|(?:wego|share)\.here\.com|maps\.apple\.com|maps\.apple|what3words\.com|w3w\.co)[^\s<>\"`]{0,1500}",
    re.IGNORECASE,
)
_GEO_URI_RE = re.compile(r"(?<![\w])geo: ?[-+]?[0-9][^\s<>\"'`]{0,300}", re.IGNORECASE)
_W3W_RE = re.compile(r"///[^\W\d_]{1,30}\.[^\W\d_]{1,30}\.[^\W\d_]{1,30}")
_WKT_RE = re.compile(r"(?:srid=[0-9]{1,6}\s{0,3};\s{0,3})?\bpoint\s{0,3}(?:zm|z|m)?\s{0,3}\([^()]{1,120}\)",
                     re.IGNORECASE)
_KML_RE = re.compile(r"<coordinates>[^<]{1,300}</coordinates>", re.IGNORECASE)
_NMEA_RE = re.compile(r"\$[A-Z]{2}(?:GGA|RMC),[0-9A-Za-z.,+*-]{0,130}")
_PLUS_RE = re.compile(r"(?<![0-9A-Za-z+])[23456789CFGHJMPQRVWX]{4,8}\+[23456789CFGHJMPQRVWX]{0,3}(?![0-9A-Za-z+])")
_DIGIT = re.compile(r"[0-9]")
_DIGITS = re.compile(r"[0-9]+")
_TWO_NUMBERS = re.compile(r"[0-9][^0-9]+[0-9]")
#: A message with more groups of digits than this is not searched for degree runs.
MAX_NUMBERS = 120
#: Characters either side of a digit within which a degree run is looked for.
RUN_REACH = 40
_MONEY_BEFORE = re.compile(r"(?:rp|idr)\.? ?$", re.IGNORECASE)
#: UTM (``50L 222679 9091964``, ``zona 50 S ...``) and MGRS (``50LKR8597860562``) inside text.
_GRID_RE = re.compile(
    r"(?<![\w.,])(?:utm\s?)?(?:zona\s|zone\s)?[0-9]{1,2}\s?[c-hj-np-x]\s?(?:[0-9]{6}(?:\.[0-9]{1,3})?\s?m?e?"
    r"[\s,;]{1,3}[0-9]{7}(?:\.[0-9]{1,3})?\s?m?n?|[a-hj-np-z][a-hj-np-v]\s?[0-9]{2,5}\s?[0-9]{0,5})(?!\w|[.,][0-9])",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>'\""

_RUN_TOKEN = re.compile(
    r"(?P<sci>[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+(?![.,]?[0-9]))|(?P<num>[-+]?[0-9]+(?:\.[0-9]+\.[0-9]+(?:,[0-9]+)?|\.[0-9]+|,[0-9]+(?![0-9]*\.[0-9]))?)|(?P<word>[^\W\d_]+)"
    r"|(?P<mark>[°'\"])|(?P<sep>[,;/&|])|(?P<space>[\s:=()\[\]]+)|(?P<other>[^\w\s°'\",;/&|:=()\[\]+-]+|.)"
)
_HEMI = {"n", "s", "e", "w", "u", "t", "b", "ls", "lu", "bt", "bb", "north", "south", "east", "west",
         "utara", "selatan", "timur", "barat"}
_MARKS = {"d", "deg", "derajat", "drjt", "m", "min", "menit", "mnt", "sec", "detik", "dtk"}
_LABELS = {"lat", "latitude", "lintang", "lon", "lng", "long", "longitude", "bujur"}

_VOCAB = "|".join(sorted(_HEMI | _MARKS | _LABELS, key=lambda w: (-len(w), w)))
_RUN_ITEM = (r"(?:[-+]?[0-9]+(?:[.,][0-9]+){0,3}|[°'\",;/&|]"
             rf"|(?<![^\W\d_])(?:{_VOCAB})(?![^\W\d_]))")
#: A run: coordinate-like items with only spaces, ``:=()[]`` between them (found in C, then
#: tokenised in Python only when short).
_RUN_RE = re.compile(rf"{_RUN_ITEM}(?:[\s:=()\[\]]*{_RUN_ITEM})*", re.IGNORECASE)
#: Longest run tokenised; longer ones are skipped.
MAX_RUN_CHARS = 300

_PHONE_RE = re.compile(r"(?<![0-9])(?:\+ ?62|62|0)[ .-]?8[0-9]{1,3}(?:[ .-]?[0-9]{2,5}){2,3}(?![0-9])")
#: Numbers that are not coordinates, each searched only when its cheap literal is present.
_NUMBER_KINDS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("/", "-"), re.compile(r"(?<![0-9])[0-9]{1,2}[/-][0-9]{1,2}[/-][0-9]{2,4}(?![0-9])"
                            r"|(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")),
    ((":",), re.compile(r"(?<![0-9])[0-9]{1,2}:[0-9]{2}(?![0-9])")),
    (("jam", "pukul", "pkl"), re.compile(r"\b(?:jam|pukul|pkl)\.? ?[0-9]{1,2}(?:[.:][0-9]{2})?")),
    (("rp", "idr", "rb", "ribu", "juta", "jt"),
     re.compile(r"\b(?:rp|idr)\.? ?[0-9]|(?<![0-9.,])[0-9]+(?:[.,][0-9]+)* ?(?:rb|ribu|juta|jt)\b")),
    (("jan", "feb", "mar", "apr", "mei", "may", "jun", "jul", "agu", "aug", "agt", "sep", "okt", "oct", "nov",
      "des", "dec"),
     re.compile(r"(?<![0-9])[0-9]{1,2} (?:jan|feb|mar|apr|mei|may|jun|jul|agu|aug|agt|sep|okt|oct|nov|des|dec)"
                r"[a-z]{0,7} [0-9]{2,4}")),
)
_LONE_NUMBER = re.compile(r"[-+]?[0-9]+(?:[.,][0-9]+)?")
#: Literals that must be present before the slower scheme-less link expression runs.
_LINK_LITERALS = ("google.", "goo.gl", "waze.", "bing.", "openstreetmap.", "osm.", "osmand.", "here.",
                  "apple", "what3words.", "w3w.")


@dataclass(frozen=True)
class Piece:
    """A span ``text[start:end]`` that may hold a coordinate.

    ``kind`` is ``link``, ``geo_uri``, ``what3words``, ``json``, ``wkt``, ``kml``, ``nmea``,
    ``pluscode``, ``grid`` (UTM or MGRS), ``degrees`` (a strong run; ``segments`` are its parts between separators)
    or ``pair`` (two bare numbers with enough decimals).
    """

    start: int
    end: int
    kind: str
    segments: tuple[tuple[int, int], ...] = ()


def _json_end(text: str, start: int) -> int | None:
    """Index after the ``}`` closing the object opened at ``start`` (strings respected)."""
    depth, in_str, escaped = 0, False, False
    for i in range(start, min(len(text), start + 2000)):
        ch = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _strip_link(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def _structured(text: str) -> list[Piece]:
    pieces: list[Piece] = []
    taken = bytearray(len(text))

    def add(start: int, end: int, kind: str) -> None:
        if any(taken[start:end]):
            return
        taken[start:end] = b"\x01" * (end - start)
        pieces.append(Piece(start, end, kind))

    for m in _SCHEME_URL_RE.finditer(text):
        add(m.start(), _strip_link(text, m.start(), m.end()), "link")
    low = text.lower()
    if any(lit in low for lit in _LINK_LITERALS):
        for m in _URL_RE.finditer(text):
            add(m.start(), _strip_link(text, m.start(), m.end()), "link")
    for m in _GEO_URI_RE.finditer(text) if "geo:" in low else ():
        add(m.start(), _strip_link(text, m.start(), m.end()), "geo_uri")
    for m in _W3W_RE.finditer(text):
        add(m.start(), m.end(), "what3words")
    for m in _NMEA_RE.finditer(text):
        add(m.start(), m.end(), "nmea")
    for m in _KML_RE.finditer(text) if "<coordinates>" in low else ():
        add(m.start(), m.end(), "kml")
    for m in _WKT_RE.finditer(text) if "point" in low else ():
        add(m.start(), m.end(), "wkt")
    pos = text.find("{") if '"' in text else -1
    tries = 0
    while pos != -1 and len(pieces) < MAX_PIECES and tries < MAX_JSON_TRIES:
        tries += 1
        end = _json_end(text, pos) if not taken[pos] else None
        if end is not None:
            add(pos, end, "json")
            pos = text.find("{", end)
        else:
            pos = text.find("{", pos + 1)
    for m in _PLUS_RE.finditer(text):
        add(m.start(), m.end(), "pluscode")
    for m in _GRID_RE.finditer(text):
        add(m.start(), m.end(), "grid")
    return pieces


def _decimals(num: str) -> int:
    """Decimals of a number with exactly one decimal point or comma, else 0."""
    i = max(num.rfind("."), num.rfind(","))
    return len(num) - i - 1 if i >= 0 and num.count(".") + num.count(",") == 1 else 0


def _runs(text: str, masked: bytearray) -> list[Piece]:
    out: list[Piece] = []
    toks: list[tuple[str, int, int, str]] = []

    def close() -> None:
        if sum(1 for t in toks if t[0] == "num") < 2:  # a coordinate has two values
            toks.clear()
            return
        while toks[-1][0] == "sep":
            toks.pop()
        while toks[0][0] == "sep":
            toks.pop(0)
        strong = any(k in ("mark", "hemi", "label", "markword") or (k == "num" and t.count(".") == 2)
                     for k, _s, _e, t in toks)
        if strong:
            segments: list[tuple[int, int]] = []
            seg_start: int | None = None
            last_end = toks[0][1]
            for kind, s, e, _t in toks:
                if kind == "sep":
                    if seg_start is not None:
                        segments.append((seg_start, last_end))
                    seg_start = None
                else:
                    seg_start = s if seg_start is None else seg_start
                    last_end = e
            if seg_start is not None:
                segments.append((seg_start, last_end))
            out.append(Piece(segments[0][0], segments[-1][1], "degrees", tuple(segments)))
        else:
            _weak_pairs(text, [(s, e, t) for k, s, e, t in toks if k == "num"], out)
        toks.clear()

    work = text
    if any(masked):
        work = "".join(text[i] if not masked[i] else "\x00" for i in range(len(text)))
    for run in _windows_runs(work):
        if run.end() - run.start() > MAX_RUN_CHARS or len(out) >= MAX_PIECES:
            continue  # a wall of numbers is not a coordinate; reading it token by token costs time
        for m in _RUN_TOKEN.finditer(work, run.start(), run.end()):
            kind = m.lastgroup or "other"
            value = m.group()
            if kind == "space":
                continue
            if kind == "word":
                low = value.lower()
                kind = ("hemi" if low in _HEMI else "markword" if low in _MARKS else "label" if low in _LABELS
                        else "break")
            if kind in ("other", "break", "sci"):  # 1e999 is a float, not 1 E 999
                close()
                continue
            toks.append((kind, m.start(), m.end(), value))
        close()
    return out


def _windows_runs(work: str) -> list[re.Match[str]]:
    """Runs near digits only: the run expression is tried inside windows of :data:`RUN_REACH`
    characters around the digits (a run far from any digit holds no coordinate)."""
    windows: list[list[int]] = []
    count = 0
    for m in _DIGITS.finditer(work):
        count += 1
        if count > MAX_NUMBERS:
            return []  # a wall of numbers (a table, a log) is not a forwarded message
        start, end = max(0, m.start() - RUN_REACH), m.end() + RUN_REACH
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    if count < 2:
        return []
    runs: list[re.Match[str]] = []
    for start, end in windows:
        runs.extend(r for r in _RUN_RE.finditer(work, start, min(end, len(work))) if _TWO_NUMBERS.search(r.group()))
    return runs


def _weak_pairs(text: str, nums: list[tuple[int, int, str]], out: list[Piece]) -> None:
    i = 0
    while i + 1 < len(nums):
        (s1, e1, t1), (s2, e2, t2) = nums[i], nums[i + 1]
        between = text[e1:s2]
        if _MONEY_BEFORE.search(text, max(0, s1 - 5), s1):
            i += 2  # "Rp 12.500, 15.000" is money
            continue
        if (_decimals(t1) >= WEAK_MIN_DECIMALS and _decimals(t2) >= WEAK_MIN_DECIMALS
                and re.fullmatch(r"\s{0,3}[,;/]?\s{0,3}", between)):
            out.append(Piece(s1, e2, "pair"))
            i += 2
        else:
            i += 1


def find_pieces(text: str) -> list[Piece]:
    """Every piece of ``text`` that may hold a coordinate, in text order.

    Examples
    --------
    >>> msg = "Tolong pak 🙏 ada kecelakaan di -8.3582, 114.6198 (dekat pasar) jam 10:30"
    >>> [(p.kind, msg[p.start:p.end]) for p in find_pieces(msg)]
    [('pair', '-8.3582, 114.6198')]
    >>> [p.kind for p in find_pieces("lihat https://maps.app.goo.gl/AbCd12 ya")]
    ['link']
    """
    pieces = _structured(text)
    if sum(1 for _ in zip(range(2), _DIGIT.finditer(text), strict=False)) < 2:
        return pieces
    masked = bytearray(len(text))
    for p in pieces:
        masked[p.start:p.end] = b"\x01" * (p.end - p.start)
    pieces.extend(_runs(text, masked))
    pieces.sort(key=lambda p: p.start)
    return pieces[:MAX_PIECES]


def ignored_text(text: str, spans: list[tuple[int, int]]) -> str:
    """The text outside ``spans``, whitespace collapsed (what a reading left unread).

    Examples
    --------
    >>> ignored_text("Lokasi: -8.3582, 114.6198 (dekat pasar)", [(8, 25)])
    'Lokasi: (dekat pasar)'
    """
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        parts.append(text[pos:start])
        pos = max(pos, end)
    parts.append(text[pos:])
    return " ".join(" ".join(parts).split())


def number_kind(text: str) -> str | None:
    """``"phone"`` when the text holds a phone number, ``"number"`` when it holds a date, time,
    money amount or is one lone number, else None (used to explain a refusal).

    Examples
    --------
    >>> number_kind("hubungi +62 812-3456-7890"), number_kind("jam 10.30 WITA"), number_kind("di depan pasar")
    ('phone', 'number', None)
    """
    if _PHONE_RE.search(text):
        return "phone"
    low = text.lower()
    for literals, pattern in _NUMBER_KINDS:
        if any(lit in low for lit in literals) and pattern.search(low):
            return "number"
    return "number" if _LONE_NUMBER.fullmatch(low.strip()) else None
