"""What an uploaded file must be before GDAL may open it, and how GDAL is held to it.

GDAL decides a driver by probing the *content*, not the name: a file we saved as ``doc.kml``
that holds a VRT (``<OGRVRTDataSource>``) is opened by the VRT driver, which then follows
``<SrcDataSource>`` to any path (the service's own SQLite file, its secret key through ``CSV:``)
or URL (``/vsicurl/``). So, for every upload:

1. :func:`vet_content` checks the bytes against the one format we decided from them
   (:func:`~geo_service.geo.boundary_files.detect_format`): a GeoJSON must parse as JSON
   with a GeoJSON ``type``, a KML's root element must be ``kml``, a Shapefile part must carry
   its magic number, a GeoPackage must say ``GPKG`` in its header and hold no views and no
   virtual tables but R*Tree indexes. Anything that names a GDAL virtual path (``/vsi...``),
   a GeoJSON ``crs`` that is a link or a file, a KML ``NetworkLink`` or a DOCTYPE is refused.
2. :func:`require_driver` checks that GDAL opened the file with exactly the driver of that
   format (``pyogrio.read_info(...)["driver"]``) before any feature is read.
3. :func:`harden_gdal` turns off GDAL's network access for the process (no ``/vsicurl/``
   file is considered to exist, no retries, 1 s timeouts), once, at import of the reader.

Refusals are :class:`~geo_service.errors.BoundaryFileError` with code ``FILE_UNSAFE``
(a reference GDAL would follow, a view, a virtual table) or ``UNSUPPORTED_FORMAT`` /
``FILE_UNREADABLE`` (the bytes are not what they claim).

Why no views at all in a GeoPackage: a layer (or ``gpkg_contents`` itself) that is a view can
run an endless recursive query that holds a worker until it is killed, and GDAL's read cannot
be interrupted; real boundary files carry tables.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyogrio

from geo_service.errors import BoundaryFileError

#: The GDAL drivers that may open each format (anything else GDAL picks is refused).
DRIVERS: dict[str, frozenset[str]] = {
    "geojson": frozenset({"GeoJSON"}),
    "shapefile": frozenset({"ESRI Shapefile"}),
    "gpkg": frozenset({"GPKG"}),
    "kml": frozenset({"KML", "LIBKML"}),
}

#: GDAL options set once per process: no network for any file GDAL opens.
GDAL_OPTIONS: dict[str, str] = {
    # /vsicurl/ treats only files with these extensions as existing: none can match.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geo-service-no-network",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_USE_HEAD": "NO",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
}

SHP_MAGIC = b"\x00\x00\x27\x0a"
#: dBASE version bytes GDAL's Shapefile driver writes or reads.
DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xF5, 0xFB})
#: Application ids of GeoPackage 1.2+, 1.0, 1.1, and none (older tools): the schema decides then.
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11", b"\x00\x00\x00\x00")
GEOJSON_TYPES = frozenset({"FeatureCollection", "Feature", "Point", "MultiPoint", "LineString",
                           "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"})
#: A GeoJSON ``crs`` name GDAL may read: EPSG/OGC identifiers, never a path or a URL elsewhere.
_CRS_NAME = re.compile(r"^(?:urn:ogc:def:crs:[A-Za-z0-9:._-]+|EPSG:+\d+|(?:https?://www\.opengis\.net/def/crs/)"
                       r"[A-Za-z0-9/._-]+)$")
#: Seconds the pre-check of a GeoPackage's schema may take.
GPKG_CHECK_S = 2.0

_VSI = re.compile(rb"/vsi[a-z0-9_]*", re.IGNORECASE)


def _unsafe(detail: str) -> BoundaryFileError:
    return BoundaryFileError(detail, code="FILE_UNSAFE")


def harden_gdal() -> None:
    """Set :data:`GDAL_OPTIONS` for this process (idempotent)."""
    pyogrio.set_gdal_config_options(GDAL_OPTIONS)


def _no_virtual_paths(data: bytes, what: str) -> None:
    hit = _VSI.search(data)
    if hit:
        raise _unsafe(f"{what} names a GDAL virtual path ({hit.group(0).decode('ascii', 'replace')}), "
                      "which is not accepted.")


def vet_geojson(data: bytes) -> None:
    """A GeoJSON document: JSON with a GeoJSON ``type`` and, if any, a ``crs`` GDAL reads offline.

    Examples
    --------
    >>> vet_geojson(b'{"type": "FeatureCollection", "features": []}')
    >>> vet_geojson(b'<OGRVRTDataSource/>')
    Traceback (most recent call last):
    ...
    geo_service.errors.BoundaryFileError: The file is not valid JSON.
    """
    _no_virtual_paths(data, "The GeoJSON")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise BoundaryFileError("The file is not valid JSON.", code="FILE_UNREADABLE") from None
    if not isinstance(doc, dict) or doc.get("type") not in GEOJSON_TYPES:
        raise BoundaryFileError("The JSON is not a GeoJSON object (no FeatureCollection, Feature or geometry type).",
                                code="UNSUPPORTED_FORMAT")
    crs = doc.get("crs")
    if crs is not None:
        props = crs.get("properties") if isinstance(crs, dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        if not (isinstance(crs, dict) and crs.get("type") == "name" and isinstance(name, str)
                and _CRS_NAME.match(name)):
            raise _unsafe("The GeoJSON 'crs' must name a CRS such as 'EPSG:4326' "
                          "(links and file names are not accepted).")


def vet_kml(data: bytes) -> None:
    """A KML document: no DOCTYPE, entities, NetworkLink or virtual path; the root element is ``kml``.

    The root is found by parsing, so ``<kml`` hidden in a comment of another XML
    document (a GDAL VRT, say) does not pass.
    """
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise _unsafe("The KML declares a DOCTYPE or entities, which are not accepted.")
    if b"networklink" in lowered:
        raise _unsafe("The KML contains a NetworkLink (a remote reference), which is not accepted.")
    _no_virtual_paths(data, "The KML")
    root = _xml_root(data)
    if root.rpartition("}")[2] != "kml":
        raise BoundaryFileError(f"An XML file whose root element is <{root.rpartition('}')[2][:40]}>, not <kml>.",
                                code="UNSUPPORTED_FORMAT")


def _xml_root(data: bytes) -> str:
    parser = ET.XMLPullParser(events=("start",))
    try:
        for start in range(0, len(data), 1 << 16):
            parser.feed(data[start:start + (1 << 16)])
            for _event, elem in parser.read_events():
                return str(elem.tag)
        parser.close()
    except ET.ParseError as exc:
        raise BoundaryFileError(f"The XML cannot be read: {exc}.", code="FILE_UNREADABLE") from None
    raise BoundaryFileError("The XML has no root element.", code="FILE_UNREADABLE")


def vet_shapefile_parts(parts: dict[str, bytes]) -> None:
    """The parts of one Shapefile (``{".shp": bytes, ...}``): magic numbers and a plain-text ``.prj``."""
    for ext in (".shp", ".shx"):
        if ext in parts and not parts[ext].startswith(SHP_MAGIC):
            raise BoundaryFileError(f"The {ext} file is not a Shapefile part (wrong header).", code="FILE_UNREADABLE")
    dbf = parts.get(".dbf")
    if dbf is not None and (not dbf or dbf[0] not in DBF_VERSIONS):
        raise BoundaryFileError("The .dbf file is not a dBASE table (wrong header).", code="FILE_UNREADABLE")
    for ext in (".prj", ".cpg"):
        text = parts.get(ext)
        if text is None:
            continue
        _no_virtual_paths(text, f"The {ext} file")
        stripped = text.strip()
        if stripped.startswith((b"/", b"\\")) or re.match(rb"^[A-Za-z]:[\\/]", stripped) or b"://" in stripped:
            raise _unsafe(f"The {ext} file holds a path or a URL, not a definition.")


def vet_gpkg(path: Path) -> None:
    """A GeoPackage: ``GPKG`` application id, no views, no virtual tables but R*Tree, no virtual paths.

    Read with Python's own SQLite in immutable read-only mode (nothing is executed but
    reads of ``sqlite_master``), with a time limit.
    """
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100:
        raise BoundaryFileError("The GeoPackage is truncated.", code="FILE_UNREADABLE")
    if header[68:72] not in GPKG_APPLICATION_IDS:
        raise BoundaryFileError("An SQLite file that is not a GeoPackage (its application id is not GPKG).",
                                code="UNSUPPORTED_FORMAT")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise BoundaryFileError(f"The GeoPackage cannot be opened: {exc}.", code="FILE_UNREADABLE") from None
    deadline = time.monotonic() + GPKG_CHECK_S
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = con.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise BoundaryFileError(f"The GeoPackage cannot be read: {exc}.", code="FILE_UNREADABLE") from None
    finally:
        con.close()
    _vet_schema(rows)


def _vet_schema(rows: list[tuple[str, str, str]]) -> None:
    if not any(kind in ("table", "view") and name == "gpkg_contents" for kind, name, _sql in rows):
        raise BoundaryFileError("An SQLite file that is not a GeoPackage (it has no gpkg_contents table).",
                                code="UNSUPPORTED_FORMAT")
    for kind, name, sql in rows:
        if kind == "view":
            raise _unsafe(f"The GeoPackage holds an SQL view ({name[:60]!r}); export the layers as tables.")
        if kind == "table" and re.match(r"\s*create\s+virtual\s+table", sql, re.IGNORECASE):
            if not re.search(r"\busing\s+rtree\s*\(", sql, re.IGNORECASE):
                raise _unsafe(f"The GeoPackage holds a virtual table ({name[:60]!r}), which is not accepted.")
        _no_virtual_paths(sql.encode("utf-8", "replace"), "The GeoPackage schema")


def require_driver(info: dict[str, Any], kind: str) -> None:
    """Refuse a file GDAL opened with another driver than the one of its format ``kind``."""
    driver = str(info.get("driver") or "")
    if driver not in DRIVERS[kind]:
        raise BoundaryFileError(
            f"The file was to be read as {kind} but GDAL recognised it as {driver or 'something else'}; "
            "it is not accepted.", code="FILE_UNSAFE")
