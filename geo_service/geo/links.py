"""Reading the share links of map apps: which app, and where the point is in the link.

A link is read offline, from its text only. :func:`read_map_link` knows the long forms of
Google Maps (``?q=``, ``/search/?api=1&query=``, ``/place/.../@lat,lon,z`` with or without
``!3d<lat>!4d<lon>``, ``ll=``, ``/dir/`` destination, ``comgooglemaps://``), Apple Maps
(``ll=``, ``q=``, ``daddr=``, ``coordinate=``), Waze (``ul?ll=``,
``live-map/directions?to=ll.``), Bing (``cp=lat~lon``, ``sp=point.lat_lon``), OsmAnd
(``go?lat=&lon=``, ``map?pin=``), HERE (``share.here.com/l/lat,lon``, ``?map=lat,lon``) and
OpenStreetMap (``mlat``/``mlon``, ``#map=z/lat/lon``, ``route=`` destination). Percent
encoding, ``%2C`` and ``+`` are decoded.

Where a link holds both the pin and the map centre, the pin wins (``!3d!4d`` before
``@lat,lon``: the centre is wherever the sender's screen happened to be). Directions links
give their destination.

Short links (``maps.app.goo.gl``, ``goo.gl``, ``waze.com/ul/h...``, ``osm.org/go/``,
``maps.apple/p/``) hold no coordinates in their text: they raise
:class:`~geo_service.errors.CoordinateInvalid` with the hint ``SHORT_LINK_UNRESOLVED``
unless an expander is given (see :mod:`geo_service.services.short_links`).

The functions return texts of numbers, not floats, so the caller can count the decimals
as written; they never open a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from geo_service import errors

#: Decimal degrees as written in links: sign, up to 3 integer digits, up to 20 decimals.
DEC = r"[-+]?\d{1,3}(?:\.\d{1,20})?"
_PAIR_RE = re.compile(rf"^(?:loc:)? ?({DEC}) ?(?:,|, | |%2c) ?\+?({DEC})(?![\d.])", re.IGNORECASE)
_PLACE_RE = re.compile(rf"!3d({DEC})!4d({DEC})")
_AT_RE = re.compile(rf"@({DEC}),({DEC})")
_PATH_PAIR_RE = re.compile(rf"/(?:search|place|dir|maps)/({DEC}), ?\+?({DEC})(?![\d.])")
_DIR_PAIRS_RE = re.compile(rf"(?<=/)({DEC}), ?\+?({DEC})(?=/|$)")
_OSM_MAP_RE = re.compile(rf"map=\d{{1,2}}(?:\.\d+)?/({DEC})/({DEC})")
_HASH_MAP_RE = re.compile(rf"^\d{{1,2}}(?:\.\d+)?/({DEC})/({DEC})")
_BING_CP_RE = re.compile(rf"^({DEC})~({DEC})$")
_BING_SP_RE = re.compile(rf"point\.({DEC})_({DEC})")
_HERE_PATH_RE = re.compile(rf"/l/({DEC}),({DEC})")
_PLACE_SEGMENT_RE = re.compile(r"/place/([^/@]{3,120})(?=/|$)")
#: The commonest link of a call (issue 13): Google Maps' map centre and zoom, nothing else
#: (``https://www.google.com/maps/@-8.4321,115.2345,17z``). Only what :func:`_read_google` reads
#: as ``map_centre`` with these very numbers matches (ASCII digits, the lengths of ``DEC``, no
#: ``+`` or ``%``, no query), so it skips the URL parsing; ``tests/geo`` compares both paths.
_GOOGLE_CENTRE_RE = re.compile(
    r"https://(?:www\.)?google\.com/maps/@(-?[0-9]{1,3}(?:\.[0-9]{1,20})?),(-?[0-9]{1,3}(?:\.[0-9]{1,20})?),"
    r"[0-9]{1,2}(?:\.[0-9]{1,10})?z"
)

#: Hosts (suffixes) whose links never hold a point in their text; they redirect to a long link.
SHORT_LINK_HOSTS = ("maps.app.goo.gl", "app.goo.gl", "goo.gl", "g.co", "maps.apple", "waze.com/ul", "osm.org/go",
                    "here.com/r")
#: Hosts a short link may redirect to and that :func:`read_map_link` reads.
MAP_HOSTS = (
    "google.com", "google.co.id", "maps.google.com", "maps.apple.com", "waze.com", "bing.com",
    "openstreetmap.org", "osm.org", "osmand.net", "here.com", "wego.here.com", "share.here.com",
)


@dataclass(frozen=True)
class LinkReading:
    """Where a link puts its point: the two numbers as written (``lat_text``/``lon_text``), or
    ``degree_text`` (a pin written in degrees, e.g. Google's ``/place/8°21'29.5"S+114°...``)
    for the coordinate parser to read; ``app`` and ``source`` (the part of the link used)."""

    app: str
    source: str
    lat_text: str = ""
    lon_text: str = ""
    degree_text: str = ""


def _invalid(detail: str, hint: str | None = None, **params: str) -> errors.CoordinateInvalid:
    extra = {"hint": hint, "params": params} if hint else None
    return errors.CoordinateInvalid(detail, extra=extra)


def _host_matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def short_link_host(url: str) -> str | None:
    """The short-link service of ``url`` (``"maps.app.goo.gl"``), or None for any other link.

    Examples
    --------
    >>> short_link_host("https://maps.app.goo.gl/Ab12Cd"), short_link_host("https://waze.com/ul/hqxyz")
    ('maps.app.goo.gl', 'waze.com/ul')
    >>> short_link_host("https://www.google.com/maps?q=-8.35,114.62") is None
    True
    """
    try:
        parts = urlsplit(url if "://" in url[:20] else "https://" + url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    path = parts.path
    if _host_matches(host, "waze.com") and re.match(r"^/ul/h[0-9a-z]", path):
        return "waze.com/ul"
    if _host_matches(host, "osm.org") and path.startswith("/go/"):
        return "osm.org/go"
    if _host_matches(host, "here.com") and path.startswith("/r/"):
        return "here.com/r"
    for suffix in SHORT_LINK_HOSTS[:5]:
        if _host_matches(host, suffix):
            return suffix
    return None


def is_map_host(host: str) -> bool:
    """True when ``host`` belongs to a map app whose long links we read (``www.google.co.id``)."""
    host = host.lower()
    if re.fullmatch(r"(?:[a-z0-9-]+\.)*google\.(?:com|co\.[a-z]{2}|[a-z]{2}|com\.[a-z]{2})", host):
        return True
    return any(_host_matches(host, h) for h in MAP_HOSTS)


def _pair(value: str) -> tuple[str, str] | None:
    m = _PAIR_RE.match(value.strip())
    return (m.group(1), m.group(2)) if m else None


def _from_query(query: dict[str, list[str]], keys: tuple[str, ...], app: str) -> LinkReading | None:
    for key in keys:
        for value in query.get(key, []):
            value = value.strip()
            if key == "to" and value.lower().startswith("ll."):
                value = value[3:]
            pair = _pair(value)
            if pair:
                return LinkReading(app, key, *pair)
    return None


def _read_google(decoded: str, query: dict[str, list[str]]) -> LinkReading:
    places = _PLACE_RE.findall(decoded)
    if places:
        lat_t, lon_t = places[-1]
        return LinkReading("google", "place", lat_t, lon_t)
    hit = _from_query(query, ("q", "query", "destination", "daddr", "ll", "center", "sll"), "google")
    if hit:
        return hit
    if "/dir/" in decoded:
        pairs = _DIR_PAIRS_RE.findall(decoded.split("/@", 1)[0].split("?", 1)[0])
        if pairs:
            return LinkReading("google", "destination", *pairs[-1])
    pm = _PATH_PAIR_RE.search(decoded)
    if pm:
        return LinkReading("google", "path", pm.group(1), pm.group(2))
    seg = _PLACE_SEGMENT_RE.search(decoded)
    if seg and re.search(r"\d", seg.group(1)) and re.search(r"[°'\"]|\d ?[nsew]\b", seg.group(1), re.I):
        # a dropped pin: /place/8°21'29.5"S+114°37'11.3"E/@centre - the pin, not the centre
        return LinkReading("google", "place_text", degree_text=seg.group(1).replace("+", " "))
    am = _AT_RE.search(decoded)
    if am:
        return LinkReading("google", "map_centre", am.group(1), am.group(2))
    raise _invalid("This Google Maps link holds no coordinates.")


def read_map_link(url: str) -> LinkReading:
    """Find the point in a long share link of a map app.

    Parameters
    ----------
    url : str
        The link, with or without ``https://``; ``comgooglemaps://`` is Google Maps.

    Returns
    -------
    LinkReading

    Raises
    ------
    geo_service.errors.CoordinateInvalid
        A short link (hint ``SHORT_LINK_UNRESOLVED``), a link of an unknown host, or a map
        link without coordinates.

    Examples
    --------
    >>> r = read_map_link("https://www.waze.com/live-map/directions?to=ll.-8.3582%2C114.6198")
    >>> r.app, r.source, r.lat_text, r.lon_text
    ('waze', 'to', '-8.3582', '114.6198')
    >>> read_map_link("https://www.bing.com/maps?cp=-8.3582~114.6198&lvl=16").lon_text
    '114.6198'
    """
    centre = _GOOGLE_CENTRE_RE.fullmatch(url)
    if centre is not None:
        return LinkReading("google", "map_centre", centre[1], centre[2])
    short = short_link_host(url)
    if short is not None:
        raise _invalid(
            "Short map links cannot be opened here; ask the caller for the full link or the coordinates.",
            "SHORT_LINK_UNRESOLVED", host=short,
        )
    low = url[:20].lower()
    if low.startswith("comgooglemaps://") or low.startswith("comgooglemapsurl://"):
        url = "https://www.google.com/maps?" + url.split("?", 1)[-1]  # the app scheme takes the web query keys
    elif "://" not in url[:12]:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise _invalid("Not a valid URL.") from exc
    decoded = unquote(url).replace("+", " ").replace("%2C", ",")
    query = parse_qs(parts.query)
    if re.fullmatch(r"(?:[a-z0-9-]+\.)*google\.(?:com|co\.[a-z]{2}|[a-z]{2}|com\.[a-z]{2})", host):
        return _read_google(decoded, query)
    if _host_matches(host, "maps.apple.com"):
        hit = _from_query(query, ("coordinate", "ll", "q", "daddr", "sll", "center"), "apple")
        if hit:
            return hit
        raise _invalid("This Apple Maps link holds no coordinates.")
    if _host_matches(host, "waze.com"):
        hit = _from_query(query, ("ll", "to", "latlng", "q"), "waze")
        if hit:
            return hit
        raise _invalid("This Waze link holds no coordinates.")
    if _host_matches(host, "bing.com"):
        for value in query.get("cp", []):
            m = _BING_CP_RE.match(value.strip())
            if m:
                return LinkReading("bing", "cp", m.group(1), m.group(2))
        for key in ("sp", "rtp"):
            for value in query.get(key, []):
                found = _BING_SP_RE.findall(value)
                if found:
                    return LinkReading("bing", key, *found[-1])
        hit = _from_query(query, ("where1", "q"), "bing")
        if hit:
            return hit
        raise _invalid("This Bing Maps link holds no coordinates.")
    if _host_matches(host, "osmand.net"):
        return _read_osm_like(query, parts.fragment, "osmand", ("pin",))
    if _host_matches(host, "here.com"):
        pm = _HERE_PATH_RE.search(decoded)
        if pm:
            return LinkReading("here", "path", pm.group(1), pm.group(2))
        hit = _from_query(query, ("map", "q"), "here")
        if hit:
            return hit
        raise _invalid("This HERE link holds no coordinates.")
    if _host_matches(host, "openstreetmap.org") or _host_matches(host, "osm.org"):
        for value in query.get("route", []):
            ends = [p for p in (_pair(v) for v in value.split(";")) if p]
            if ends:
                return LinkReading("openstreetmap", "destination", *ends[-1])
        return _read_osm_like(query, parts.fragment, "openstreetmap", ())
    if _host_matches(host, "what3words.com") or _host_matches(host, "w3w.co"):
        raise _invalid("what3words addresses cannot be read offline.", "WHAT3WORDS_UNSUPPORTED")
    raise _invalid("Only map links of Google, Apple, Waze, Bing, OsmAnd, HERE and OpenStreetMap are read.")


def _read_osm_like(query: dict[str, list[str]], fragment: str, app: str, pair_keys: tuple[str, ...]) -> LinkReading:
    hit = _from_query(query, pair_keys, app) if pair_keys else None
    if hit:
        return hit
    for lat_key, lon_key in (("mlat", "mlon"), ("lat", "lon")):
        if lat_key in query and lon_key in query:
            lat_t, lon_t = query[lat_key][0].strip(), query[lon_key][0].strip()
            if re.fullmatch(DEC, lat_t) and re.fullmatch(DEC, lon_t):
                return LinkReading(app, lat_key, lat_t, lon_t)
    om = _OSM_MAP_RE.search(fragment or "") or _HASH_MAP_RE.match(fragment or "")
    if om:
        return LinkReading(app, "map_centre", om.group(1), om.group(2))
    raise _invalid(f"This {'OpenStreetMap' if app == 'openstreetmap' else 'OsmAnd'} link holds no coordinates.")
