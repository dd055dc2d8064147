"""Safe reading of uploaded boundary and station files, and turning them into units.

Formats: GeoJSON, zipped Shapefile (with its ``.prj``), GeoPackage, KML and KMZ (read with
pyogrio/GDAL), CSV with a WKT column (boundaries), CSV or GeoJSON (stations) and the mapping
CSV that builds police units from administrative areas.

Hostile files get a :class:`~geo_service.errors.BoundaryFileError` with a stable ``code``:

* ``UNSUPPORTED_FORMAT``: not one of the formats above (judged by content, not name).
* ``FILE_UNREADABLE``: the format is right but GDAL, zipfile or the CSV reader cannot read it.
* ``ARCHIVE_UNSAFE``: a zip member name is absolute, has a ``..`` segment, a drive letter or
  a NUL, a member is a symlink or encrypted, or the archive has too many members. Nothing is
  ever extracted under a member's own name: the few needed members are copied, size-capped,
  to fixed names in a private temporary directory.
* ``ZIP_BOMB``: declared uncompressed size over :attr:`FileLimits.max_uncompressed_bytes`,
  a large member compressed more than :attr:`FileLimits.max_compression_ratio` times, or a
  member that inflates beyond what it declared (counted while reading, not trusted).
* ``FILE_UNSAFE``: content GDAL would follow or that could hold a worker: a KML with a
  DOCTYPE/ENTITY (XML entity expansion) or a NetworkLink, a GDAL virtual path (``/vsi...``)
  anywhere, a GeoJSON ``crs`` link, a GeoPackage with views or non-R*Tree virtual tables, or a
  file GDAL recognises as another format than the one its bytes claim (a VRT dressed as KML).
  Every file is vetted before GDAL opens it and GDAL must open it with exactly the driver of
  its format: see :mod:`geo_service.geo.upload_safety`.
* ``TOO_MANY_LAYERS`` (over :attr:`FileLimits.max_layers`, even when a layer is named),
  ``LAYER_REQUIRED`` (several polygon layers and none named; ``extra["layers"]`` lists them),
  ``LAYER_NOT_FOUND``, ``TOO_MANY_FEATURES``, ``TOO_MANY_VERTICES`` (per feature and in total).
* ``FIELD_NOT_FOUND``, ``INVALID_LEVEL`` from :func:`units_from_layer`.

Text that is not UTF-8 (a ``.dbf`` without ``.cpg``, a cp1252 CSV) is decoded as cp1252 and
the report says so; names are kept verbatim (HTML/JS included: escaping is the job of
whoever renders them).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.errors import BoundaryFileError, UnknownCRS
from geo_service.geo.area import LEVELS, Level, Unit
from geo_service.geo.checks import (
    Report,
    ReportItem,
    area_m2,
    areas_m2,
    location_of,
    looks_like_degrees,
    looks_swapped,
)
from geo_service.geo.stations import Station
from geo_service.geo.upload_safety import (
    harden_gdal,
    require_driver,
    vet_geojson,
    vet_gpkg,
    vet_kml,
    vet_shapefile_parts,
)

LOGGER = logging.getLogger(__name__)

Format = Literal["geojson", "shapefile_zip", "gpkg", "kml", "kmz", "csv"]

_WGS84 = pyproj.CRS.from_epsg(4326)
_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
harden_gdal()


@dataclass(frozen=True)
class FileLimits:
    """Limits on what is inside an upload (the web layer limits the request size)."""

    #: Total uncompressed bytes of the archive members that are read (and declared in all).
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    #: Uncompressed/compressed ratio allowed for members larger than ``ratio_min_bytes``.
    max_compression_ratio: float = 100.0
    ratio_min_bytes: int = 4 * 1024 * 1024
    max_members: int = 100
    max_layers: int = 20
    max_features: int = 50_000
    max_total_vertices: int = 500_000
    max_feature_vertices: int = 200_000
    #: Station and mapping CSV rows.
    max_rows: int = 100_000


@dataclass
class RawLayer:
    """One layer as read, in its source CRS (nothing repaired or reprojected yet)."""

    gdf: gpd.GeoDataFrame
    crs_found: str | None
    format: Format
    fields: list[str]
    notes: list[ReportItem] = field(default_factory=list)
    layer: str | None = None


@dataclass(frozen=True)
class FieldGuess:
    """Attribute names guessed for code, name and parent code (None when no guess)."""

    code_field: str | None
    name_field: str | None
    parent_field: str | None


def _fail(code: str, detail: str, **extra: Any) -> BoundaryFileError:
    return BoundaryFileError(detail, code=code, extra=extra or None)


# --------------------------------------------------------------------------------------------
# Format detection


def detect_format(filename: str, head: bytes) -> str:
    """Say which format an upload is, from its first bytes (the name only breaks ties).

    Parameters
    ----------
    filename : the uploaded file name (``.kmz`` tells a KMZ from a zipped Shapefile)
    head : the first bytes of the file (a few hundred are enough)

    Returns
    -------
    str
        ``"geojson"``, ``"shapefile_zip"``, ``"gpkg"``, ``"kml"``, ``"kmz"`` or ``"csv"``.

    Raises
    ------
    BoundaryFileError
        ``UNSUPPORTED_FORMAT`` for anything else (a bare ``.shp``, a PDF, ...).

    Examples
    --------
    >>> detect_format("a.zip", b"PK\\x03\\x04rest"), detect_format("b.kmz", b"PK\\x03\\x04")
    ('shapefile_zip', 'kmz')
    >>> detect_format("x.json", b'  {"type": "FeatureCollection"'), detect_format("s.csv", b"code,lat,lon")
    ('geojson', 'csv')
    """
    ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "kmz" if ext == ".kmz" else "shapefile_zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<kml" in head.lower() or ext == ".kml":
            return "kml"
        raise _fail("UNSUPPORTED_FORMAT", "An XML file that is not KML.")
    if text[:1] in (b"{", b"["):
        return "geojson"
    if ext in (".csv", ".txt", ".tsv") and b"\x00" not in head:
        return "csv"
    if ext in (".shp", ".shx", ".dbf", ".prj"):
        raise _fail("UNSUPPORTED_FORMAT", "Upload a Shapefile as one .zip with its .shp, .shx, .dbf and .prj.")
    raise _fail(
        "UNSUPPORTED_FORMAT",
        "Not a GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ or CSV file.",
    )


# --------------------------------------------------------------------------------------------
# Archives


def _unsafe_member_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in norm.split("/"))


def _open_zip(data: bytes, limits: FileLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip and vet every member (names, symlinks, sizes); return the usable members."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _fail("FILE_UNREADABLE", f"The zip archive cannot be read: {exc}.") from None
    if len(infos) > limits.max_members:
        raise _fail("ARCHIVE_UNSAFE", f"The archive has {len(infos)} members (limit {limits.max_members}).")
    declared = 0
    for info in infos:
        if _unsafe_member_name(info.filename):
            raise _fail("ARCHIVE_UNSAFE", f"Unsafe member name in the archive: {info.filename!r}.")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _fail("ARCHIVE_UNSAFE", f"The archive member {info.filename!r} is a symbolic link.")
        if info.flag_bits & 0x1:
            raise _fail("ARCHIVE_UNSAFE", f"The archive member {info.filename!r} is encrypted.")
        declared += info.file_size
        if declared > limits.max_uncompressed_bytes:
            raise _fail(
                "ZIP_BOMB",
                f"The archive declares over {limits.max_uncompressed_bytes:,} bytes uncompressed.",
            )
        if (
            info.file_size > limits.ratio_min_bytes
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise _fail(
                "ZIP_BOMB",
                f"The archive member {info.filename!r} is compressed "
                f"{info.file_size / max(info.compress_size, 1):,.0f} times (limit {limits.max_compression_ratio:g}).",
            )
    usable = [
        i for i in infos
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not PurePosixPath(i.filename).name.startswith("._")
    ]
    return zf, usable


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: FileLimits, budget: list[int]) -> bytes:
    """Read one member, counting the bytes actually inflated against the declared size and budget."""
    chunks: list[bytes] = []
    got = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                got += len(chunk)
                budget[0] += len(chunk)
                if got > info.file_size or budget[0] > limits.max_uncompressed_bytes:
                    raise _fail("ZIP_BOMB", f"The archive member {info.filename!r} inflates beyond its size.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise _fail("FILE_UNREADABLE", f"The archive member {info.filename!r} cannot be read: {exc}.") from None
    return b"".join(chunks)


def _by_ext(infos: Iterable[zipfile.ZipInfo], ext: str) -> list[zipfile.ZipInfo]:
    return [i for i in infos if i.filename.lower().endswith(ext)]


# --------------------------------------------------------------------------------------------
# Reading


def read_boundary_file(
    data: bytes, filename: str, *, limits: FileLimits = FileLimits(), layer: str | None = None
) -> RawLayer:
    """Read an uploaded boundary file safely into a :class:`RawLayer` (source CRS, as found).

    Parameters
    ----------
    data : the file's bytes
    filename : the uploaded name (used only to tell .kmz from .zip)
    limits : what is allowed inside the file
    layer : the layer (GeoPackage) or Shapefile stem (zip) to read when there are several

    Returns
    -------
    RawLayer

    Raises
    ------
    BoundaryFileError
        With the codes listed in the module docstring.

    Examples
    --------
    >>> raw = read_boundary_file(b'{"type": "FeatureCollection", "features": [{"type": "Feature",'
    ...     b' "properties": {"kode": "51", "nama": "Bali"}, "geometry": {"type": "Point",'
    ...     b' "coordinates": [115.2, -8.6]}}]}', "bali.geojson")
    >>> raw.format, raw.crs_found, raw.fields
    ('geojson', 'EPSG:4326', ['kode', 'nama'])
    """
    fmt = detect_format(filename, data[:512])
    notes: list[ReportItem] = []
    with tempfile.TemporaryDirectory(prefix="geo-upload-") as tmp:
        tmpdir = Path(tmp)
        if fmt == "geojson":
            text = _utf8(data, notes, "The GeoJSON")
            vet_geojson(text)
            gdf, crs = _read_gdal(text, None, limits, notes, ".geojson", tmpdir, kind="geojson")
            chosen = None
        elif fmt == "shapefile_zip" or fmt == "kmz":
            fmt, gdf, crs, chosen = _read_zip(data, fmt, layer, limits, notes, tmpdir)
        elif fmt == "gpkg":
            gdf, crs, chosen = _read_gpkg(data, layer, limits, notes, tmpdir)
        elif fmt == "kml":
            gdf, crs = _read_kml(data, limits, notes, tmpdir)
            chosen = None
        else:
            gdf, crs = _read_wkt_csv(data, limits, notes)
            chosen = None
    _enforce_vertices(gdf, limits)
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    return RawLayer(gdf=gdf, crs_found=crs, format=fmt, fields=fields, notes=notes,  # type: ignore[arg-type]
                    layer=chosen)


def read_bundled_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON file the product ships (``boundaries/``) with pyogrio, in place.

    These files are ours, not uploads: the upload vetting (a full ``json.loads`` of a 100 MB
    national file just to look at its ``type`` and ``crs``) and the temp copy are skipped, but
    GDAL must still read it with the GeoJSON driver and nothing else.
    """
    harden_gdal()
    path = Path(path)
    require_driver(pyogrio.read_info(path), "geojson")
    return pyogrio.read_dataframe(path, on_invalid="ignore")


def _read_zip(
    data: bytes, fmt: str, layer: str | None, limits: FileLimits, notes: list[ReportItem], tmpdir: Path
) -> tuple[Format, gpd.GeoDataFrame, str | None, str | None]:
    zf, infos = _open_zip(data, limits)
    budget = [0]
    with zf:
        shps = _by_ext(infos, ".shp")
        if not shps:
            kmls = _by_ext(infos, ".kml")
            gpkgs = _by_ext(infos, ".gpkg")
            if kmls:
                doc = [i for i in kmls if PurePosixPath(i.filename).name.lower() == "doc.kml"] or kmls
                if len(doc) > 1:
                    notes.append(ReportItem("KMZ_FIRST_KML", "info", f"Read {doc[0].filename} of {len(doc)} KML files."))
                gdf, crs = _read_kml(_read_member(zf, doc[0], limits, budget), limits, notes, tmpdir)
                return "kmz", gdf, crs, None
            if len(gpkgs) == 1 and fmt != "kmz":
                gdf, crs, chosen = _read_gpkg(_read_member(zf, gpkgs[0], limits, budget), layer, limits, notes, tmpdir)
                return "gpkg", gdf, crs, chosen
            what = "KML" if fmt == "kmz" else ".shp"
            raise _fail("UNSUPPORTED_FORMAT", f"The archive contains no {what} file.")
        stems = {str(PurePosixPath(i.filename).with_suffix("")): i for i in shps}
        if layer is not None:
            matches = [s for s in stems if s == layer or PurePosixPath(s).name == layer]
            if not matches:
                raise _fail("LAYER_NOT_FOUND", f"No Shapefile named {layer!r} in the archive.",
                            layers=sorted(stems))
            stem = matches[0]
        elif len(stems) > 1:
            raise _fail("LAYER_REQUIRED", f"The archive holds {len(stems)} Shapefiles; name one.",
                        layers=sorted(stems))
        else:
            stem = next(iter(stems))
        parts: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            p = PurePosixPath(info.filename)
            if str(p.with_suffix("")).lower() == stem.lower() and p.suffix.lower() in _SHP_PARTS:
                parts[p.suffix.lower()] = info
        for needed in (".shx", ".dbf"):
            if needed not in parts:
                raise _fail("FILE_UNREADABLE", f"The Shapefile {stem}.shp has no {needed} in the archive.")
        # Members are copied to fixed names: a member's own name never reaches the file system.
        contents = {ext: _read_member(zf, info, limits, budget) for ext, info in parts.items()}
    vet_shapefile_parts(contents)
    for ext, content in contents.items():
        (tmpdir / f"layer{ext}").write_bytes(content)
    has_cpg = ".cpg" in parts
    gdf, crs = _read_gdal(tmpdir / "layer.shp", None, limits, notes, None, tmpdir, kind="shapefile")
    if not has_cpg:
        _fix_dbf_text(gdf, notes)
    if ".prj" not in parts:
        notes.append(ReportItem("PRJ_MISSING", "info", f"The Shapefile {stem}.shp came without a .prj."))
    elif crs is None:
        notes.append(ReportItem("CRS_UNREADABLE", "warning", f"The .prj of {stem}.shp could not be understood."))
    return "shapefile_zip", gdf, crs, PurePosixPath(stem).name


def _read_gpkg(
    data: bytes, layer: str | None, limits: FileLimits, notes: list[ReportItem], tmpdir: Path
) -> tuple[gpd.GeoDataFrame, str | None, str]:
    path = tmpdir / "upload.gpkg"
    path.write_bytes(data)
    vet_gpkg(path)
    layers = _list_layers(path, "gpkg")
    if len(layers) > limits.max_layers:
        raise _fail("TOO_MANY_LAYERS", f"The GeoPackage has {len(layers)} layers (limit {limits.max_layers}).")
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise _fail("LAYER_NOT_FOUND", f"No layer named {layer!r}.", layers=names)
        chosen = layer
    else:
        polygonal = [str(n) for n, t in layers if t and "polygon" in str(t).lower()]
        spatial = [str(n) for n, t in layers if t]
        candidates = polygonal or spatial
        if not candidates:
            raise _fail("FILE_UNREADABLE", "The GeoPackage has no layer with geometry.")
        if len(candidates) > 1:
            raise _fail("LAYER_REQUIRED", f"The GeoPackage has {len(candidates)} layers; name one.",
                        layers=candidates)
        chosen = candidates[0]
        if len(names) > 1:
            notes.append(ReportItem("LAYER_CHOSEN", "info", f"Read layer {chosen!r} (the only polygon layer)."))
    gdf, crs = _read_gdal(path, chosen, limits, notes, None, tmpdir, kind="gpkg")
    return gdf, crs, chosen


def _list_layers(path: Path, kind: str) -> list[tuple[str, str | None]]:
    """The layers of a vetted file, after checking that GDAL opens it with the driver of ``kind``."""
    try:
        require_driver(pyogrio.read_info(path), kind)
        return [(str(n), t) for n, t in pyogrio.list_layers(path)]
    except BoundaryFileError:
        raise
    except Exception as exc:  # GDAL raises several DataSourceError kinds
        raise _fail("FILE_UNREADABLE", f"The file cannot be opened: {_short(exc)}") from None


def _read_kml(
    data: bytes, limits: FileLimits, notes: list[ReportItem], tmpdir: Path
) -> tuple[gpd.GeoDataFrame, str | None]:
    vet_kml(data)
    path = tmpdir / "doc.kml"
    path.write_bytes(data)
    layers = _list_layers(path, "kml")
    if len(layers) > limits.max_layers:
        raise _fail("TOO_MANY_LAYERS", f"The KML has {len(layers)} folders/layers (limit {limits.max_layers}).")
    frames = []
    for name, _ in layers:
        gdf, crs = _read_gdal(path, name, limits, notes, None, tmpdir, kind="kml")
        if len(layers) > 1:
            gdf["kml_folder"] = name
        frames.append(gdf)
    if not frames:
        raise _fail("FILE_UNREADABLE", "The KML holds no features.")
    if len(frames) > 1:
        notes.append(ReportItem("KML_FOLDERS_MERGED", "info", f"{len(frames)} KML folders were read as one layer."))
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=frames[0].geometry.name, crs=frames[0].crs)
    if len(gdf) > limits.max_features:
        raise _fail("TOO_MANY_FEATURES", f"The file has {len(gdf):,} features (limit {limits.max_features:,}).")
    return gdf, _crs_label(gdf.crs)


def _read_gdal(
    source: bytes | Path,
    layer: str | None,
    limits: FileLimits,
    notes: list[ReportItem],
    suffix: str | None,
    tmpdir: Path,
    *,
    kind: str,
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read one layer with pyogrio after checking its driver (that of ``kind``) and feature count."""
    if isinstance(source, bytes):
        path = tmpdir / f"upload{suffix or ''}"
        path.write_bytes(source)
    else:
        path = source
    try:
        info = pyogrio.read_info(path, layer=layer)
        require_driver(info, kind)
        if int(info.get("features") or 0) > limits.max_features:
            raise _fail(
                "TOO_MANY_FEATURES",
                f"The file has {int(info['features']):,} features (limit {limits.max_features:,}).",
            )
        gdf = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
    except BoundaryFileError:
        raise
    except Exception as exc:  # GDAL raises several DataSourceError kinds
        raise _fail("FILE_UNREADABLE", f"The file cannot be read: {_short(exc)}") from None
    if len(gdf) > limits.max_features:
        raise _fail("TOO_MANY_FEATURES", f"The file has {len(gdf):,} features (limit {limits.max_features:,}).")
    return gdf, _crs_label(gdf.crs)


def _short(exc: Exception) -> str:
    # GDAL messages carry our private temp path; keep only the gist.
    return re.sub(r"/\S*geo-upload-\S*", "<upload>", str(exc))[:300]


def _crs_label(crs: Any) -> str | None:
    if crs is None:
        return None
    crs = pyproj.CRS.from_user_input(crs)
    auth = crs.to_authority(min_confidence=70)
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _utf8(data: bytes, notes: list[ReportItem], what: str) -> bytes:
    """The bytes as UTF-8: cp1252 text is re-encoded (and said so)."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        notes.append(ReportItem(
            "ENCODING_ASSUMED", "warning", f"{what} is not UTF-8; it was read as Windows-1252 (cp1252).",
        ))
        return data.decode("cp1252", errors="replace").encode("utf-8")


def _decode_text(data: bytes, notes: list[ReportItem], what: str) -> str:
    return _utf8(data, notes, what).decode("utf-8-sig")


def _fix_dbf_text(gdf: gpd.GeoDataFrame, notes: list[ReportItem]) -> None:
    """Re-decode a .dbf read without .cpg: GDAL gives ISO-8859-1; decide UTF-8 or cp1252."""
    text_cols = [
        c for c in gdf.columns
        if c != gdf.geometry.name and any(isinstance(v, str) for v in gdf[c].tolist())
    ]
    raw: dict[str, list[Any]] = {}
    non_ascii = False
    for c in text_cols:
        vals = []
        for v in gdf[c].tolist():
            if isinstance(v, str):
                try:
                    b = v.encode("latin-1")
                except UnicodeEncodeError:
                    return  # GDAL already recoded the text; leave it
                non_ascii = non_ascii or any(x > 0x7F for x in b)
                vals.append(b)
            else:
                vals.append(v)
        raw[c] = vals
    if not non_ascii:
        return
    try:
        for vals in raw.values():
            for b in vals:
                if isinstance(b, bytes):
                    b.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
    for c, vals in raw.items():
        gdf[c] = [b.decode(encoding, errors="replace") if isinstance(b, bytes) else b for b in vals]
    notes.append(ReportItem(
        "ENCODING_ASSUMED", "warning" if encoding == "cp1252" else "info",
        f"The .dbf has no .cpg; its text was read as {'Windows-1252 (cp1252)' if encoding == 'cp1252' else 'UTF-8'}.",
    ))


_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape")


def _read_wkt_csv(data: bytes, limits: FileLimits, notes: list[ReportItem]) -> tuple[gpd.GeoDataFrame, None]:
    header, rows = _read_csv_rows(data, limits, notes, "The CSV file")
    lower = {h.lower(): h for h in header}
    col = next((lower[c] for c in _WKT_COLUMNS if c in lower), None)
    if col is None:
        raise _fail("UNSUPPORTED_FORMAT", "A boundary CSV needs a WKT column (wkt, geometry or geom).")
    try:
        geoms = shapely.from_wkt([r.get(col) or None for r in rows], on_invalid="raise")
    except shapely.errors.GEOSException as exc:
        raise _fail("FILE_UNREADABLE", f"A WKT value cannot be read: {exc}") from None
    df = pd.DataFrame([{k: v for k, v in r.items() if k != col} for r in rows], columns=[h for h in header if h != col])
    notes.append(ReportItem("CSV_HAS_NO_CRS", "info", "A CSV carries no CRS; the coordinates decide (see MISSING_CRS)."))
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs=None), None


def _read_csv_rows(
    data: bytes, limits: FileLimits, notes: list[ReportItem], what: str
) -> tuple[list[str], list[dict[str, str]]]:
    text = _decode_text(data, notes, what)
    # The delimiter is the one the header line uses most (the sniffer is fooled by a ";" list
    # inside a comma-separated cell).
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise _fail("FILE_UNREADABLE", f"{what} is empty.") from None
    except csv.Error as exc:
        raise _fail("FILE_UNREADABLE", f"{what} cannot be read: {exc}") from None
    rows: list[dict[str, str]] = []
    try:
        for rec in reader:
            if not any(v.strip() for v in rec):
                continue
            if len(rows) >= limits.max_rows:
                raise _fail("TOO_MANY_FEATURES", f"{what} has more than {limits.max_rows:,} rows.")
            rows.append({h: (rec[i].strip() if i < len(rec) else "") for i, h in enumerate(header)})
    except csv.Error as exc:
        raise _fail("FILE_UNREADABLE", f"{what} cannot be read: {exc}") from None
    return header, rows


def _enforce_vertices(gdf: gpd.GeoDataFrame, limits: FileLimits) -> None:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if len(geoms) == 0:
        return
    counts = shapely.get_num_coordinates(geoms)
    worst = int(np.argmax(counts))
    if counts[worst] > limits.max_feature_vertices:
        raise _fail(
            "TOO_MANY_VERTICES",
            f"Feature {worst + 1} has {int(counts[worst]):,} vertices (limit {limits.max_feature_vertices:,} "
            "per feature); simplify it first.",
        )
    total = int(counts.sum())
    if total > limits.max_total_vertices:
        raise _fail(
            "TOO_MANY_VERTICES",
            f"The file has {total:,} vertices (limit {limits.max_total_vertices:,}); simplify it first.",
        )


# --------------------------------------------------------------------------------------------
# Field guesses

_CODE_NAMES = ("unit_code", "kode_unit", "code", "kode", "kd", "id_unit", "kode_wilayah", "kdcpum",
               "kdepum", "kdpkab", "kdppum", "kode_kec", "kode_kab", "kode_prov")
_CODE_PREFIXES = ("kode", "kd_", "kd", "code", "id_")
_NAME_NAMES = ("unit_name", "nama_unit", "name", "nama", "namobj", "wadmkd", "wadmkc", "wadmkk", "wadmpr",
               "nm", "nama_kec", "nama_kab", "nama_prov", "label", "title")
_NAME_PREFIXES = ("nama", "nm_", "name", "wadm")
_PARENT_NAMES = ("parent_code", "parent", "kode_induk", "induk", "parent_id", "kode_kec", "kd_kec", "kdcpum",
                 "kode_kab", "kd_kab", "kdpkab", "kode_prov", "kd_prov", "kd_prop", "kode_prop", "kdppum")


def _ordered_candidates(fields: Sequence[str], names: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    lower = {f.lower(): f for f in fields}
    out = [lower[n] for n in names if n in lower]
    out += [f for f in fields if f not in out and f.lower().startswith(tuple(prefixes))]
    return out


def _text_values(gdf: gpd.GeoDataFrame, col: str) -> list[str]:
    return [_as_text(v) or "" for v in gdf[col].tolist()]


def guess_fields(raw: RawLayer) -> FieldGuess:
    """Guess which attributes hold the unit code, name and parent code, for the admin to confirm.

    The code is the first candidate (``unit_code``, ``code``, ``kode``, ``kd_*``, BIG's
    ``KDCPUM``...) whose values are all present and unique; the name the first of ``nama``,
    ``name``, ``NAMOBJ``, ``WADMKC``...; the parent the most specific of ``parent_code``,
    ``kode_kec``, ``kode_kab``, ``kode_prov``... other than the code. For KML the name is
    ``Name`` and the code, if no code attribute exists, is ``description`` when it holds
    short unique values, else ``Name``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"kode": ["51.01"], "nama": ["Jembrana"], "kode_prov": ["51"]},
    ...                        geometry=[box(114.4, -8.5, 114.9, -8.1)], crs=4326)
    >>> guess_fields(RawLayer(gdf, "EPSG:4326", "geojson", ["kode", "nama", "kode_prov"]))
    FieldGuess(code_field='kode', name_field='nama', parent_field='kode_prov')
    """
    fields = list(raw.fields)
    gdf = raw.gdf
    code_field = None
    candidates = _ordered_candidates(fields, _CODE_NAMES, _CODE_PREFIXES)
    for c in candidates:
        vals = _text_values(gdf, c)
        if vals and all(vals) and len(set(vals)) == len(vals):
            code_field = c
            break
    if code_field is None and candidates and not raw.format.startswith("km"):
        code_field = candidates[0]
    name_candidates = _ordered_candidates(fields, _NAME_NAMES, _NAME_PREFIXES)
    name_field = next((c for c in name_candidates if any(_text_values(gdf, c))), None)
    if raw.format in ("kml", "kmz"):
        lower = {f.lower(): f for f in fields}
        kml_name = lower.get("name")
        if kml_name and any(_text_values(gdf, kml_name)):
            name_field = kml_name
        if code_field is None:
            desc = lower.get("description")
            vals = _text_values(gdf, desc) if desc else []
            short = vals and all(v and len(v) <= 40 and "<" not in v for v in vals) and len(set(vals)) == len(vals)
            code_field = desc if short else name_field
    parent_field = None
    code_vals = set(_text_values(gdf, code_field)) if code_field else set()
    for c in _ordered_candidates(fields, _PARENT_NAMES, ()):
        if c == code_field:
            continue
        vals = [v for v in _text_values(gdf, c) if v]
        # A parent column repeats values and differs from the codes themselves.
        if vals and not set(vals) <= code_vals:
            parent_field = c
            break
    return FieldGuess(code_field, name_field, parent_field)


# --------------------------------------------------------------------------------------------
# Units


def _as_text(value: Any) -> str | None:
    """Attribute value as stripped text (integral floats lose their ``.0``); None when blank."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, np.generic):
        return _as_text(value.item())
    text = str(value).strip()
    return text or None


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else None


def units_from_layer(
    raw: RawLayer,
    *,
    level: str,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    source_crs: str | None = None,
) -> tuple[list[Unit], Report]:
    """Turn a read layer into units in EPSG:4326, repairing what can be repaired and saying so.

    Fields left as None are guessed (:func:`guess_fields`, reported as ``FIELDS_GUESSED``).
    The CRS is the file's, or ``source_crs`` when the admin names one. A missing CRS with
    lon/lat-looking numbers is a warning (EPSG:4326 assumed); with projected-looking numbers
    it is an error and no units are returned, as for coordinates that look swapped or a
    CRS that does not fit the numbers. Invalid geometries are repaired with
    ``make_valid(method="structure")`` (nested shells absorbed, not turned into holes);
    empty and non-polygon features are skipped; features without a code are errors.
    Duplicates, hierarchy, overlaps and gaps are left to :func:`checks.check_units` on the
    merged set.

    Parameters
    ----------
    raw : from :func:`read_boundary_file`
    level : ``"polda"``, ``"polres"`` or ``"polsek"``
    code_field, name_field, parent_field : attribute names (guessed when None)
    source_crs : a CRS for a file that has none (e.g. ``"EPSG:32750"``)

    Returns
    -------
    (list of Unit, Report)

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"kode": ["51.01"], "nama": ["Polres Jembrana"], "kode_prov": ["51"]},
    ...                        geometry=[box(114.4, -8.5, 114.9, -8.1)], crs=4326)
    >>> units, report = units_from_layer(RawLayer(gdf, "EPSG:4326", "geojson", list(gdf.columns[:3])),
    ...                                  level="polres")
    >>> units[0].code, units[0].parent_code, report.has_errors
    ('51.01', '51', False)
    """
    if level not in LEVELS:
        raise _fail("INVALID_LEVEL", f"Level {level!r} is not one of {', '.join(LEVELS)}.")
    lvl: Level = level  # type: ignore[assignment]
    report = Report(list(raw.notes))
    if code_field is None or name_field is None or (parent_field is None and lvl != "polda"):
        guess = guess_fields(raw)
        code_field = code_field or guess.code_field
        name_field = name_field or guess.name_field
        if lvl != "polda":
            parent_field = parent_field or guess.parent_field
        report.add(
            "FIELDS_GUESSED", "info",
            f"Fields used: code={code_field!r}, name={name_field!r}, parent={parent_field!r} (please confirm).",
        )
    for label, fname in (("code", code_field), ("name", name_field), ("parent", parent_field)):
        if fname is not None and fname not in raw.fields:
            raise _fail("FIELD_NOT_FOUND", f"The {label} field {fname!r} is not in the file.", fields=raw.fields)
    if code_field is None:
        raise _fail("FIELD_NOT_FOUND", "No code field could be guessed; name one.", fields=raw.fields)

    gdf = raw.gdf
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if shapely.has_z(geoms[present]).any():
        geoms = shapely.force_2d(geoms)
        report.add("Z_DROPPED", "info", "Z values were dropped.")
    reprojected = _to_wgs84(geoms, present, raw, source_crs, report)
    if reprojected is None:
        return [], report
    geoms = reprojected

    units: list[Unit] = []
    no_code: list[int] = []
    no_name: list[str] = []
    empty: list[str] = []
    not_poly: list[str] = []
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for row, (rec, geom) in enumerate(zip(records, geoms, strict=True), start=1):
        code = _as_text(rec.get(code_field))
        if code is None:
            no_code.append(row)
            continue
        name = _as_text(rec.get(name_field)) if name_field else None
        if name is None:
            no_name.append(code)
            name = code
        parent = _as_text(rec.get(parent_field)) if parent_field and lvl != "polda" else None
        if geom is None or geom.is_empty:
            empty.append(code)
            continue
        poly = _polygonal(geom)
        if poly is None:
            not_poly.append(f"{code} ({geom.geom_type})")
            continue
        if poly is not geom:
            report.add("NON_POLYGON_PARTS_DROPPED", "warning",
                       f"Feature {code}: the non-polygon parts of a {geom.geom_type} were dropped.", units=[code])
        if not poly.is_valid:
            reason = shapely.is_valid_reason(poly)
            fixed = _polygonal(shapely.make_valid(poly, method="structure", keep_collapsed=False))
            if fixed is None or fixed.is_empty:
                empty.append(code)
                continue
            before = area_m2(shapely.make_valid(poly))
            after = area_m2(fixed)
            report.add(
                "INVALID_GEOMETRY_REPAIRED", "warning",
                f"Feature {code} was invalid ({reason}) and was repaired; area {before:,.0f} m² -> {after:,.0f} m².",
                units=[code], area_m2=abs(after - before), location=location_of(fixed),
            )
            poly = fixed
        units.append(Unit(code=code, name=name, level=lvl, parent_code=parent, geometry=poly))
    if no_code:
        report.add("MISSING_CODE", "error",
                   f"{len(no_code)} feature(s) have no value in {code_field!r} (rows {no_code[:20]}).")
    if no_name:
        report.add("MISSING_NAME", "warning",
                   f"{len(no_name)} feature(s) have no name; the code is used as name.", units=no_name[:12])
    if empty:
        report.add("EMPTY_GEOMETRY", "warning", f"{len(empty)} feature(s) have no geometry and were skipped.",
                   units=empty[:12])
    if not_poly:
        report.add("NOT_POLYGON", "warning",
                   f"{len(not_poly)} feature(s) are not areas and were skipped: {', '.join(not_poly[:12])}.",
                   units=[s.split(" ")[0] for s in not_poly[:12]])
    if not units:
        report.add("NO_USABLE_FEATURES", "error", "The file has no feature with a code and a polygon.")
    return units, report


def _to_wgs84(
    geoms: np.ndarray, present: np.ndarray, raw: RawLayer, source_crs: str | None, report: Report
) -> np.ndarray | None:
    """Reproject to EPSG:4326 after checking the CRS against the numbers; None when refused."""
    if not present.any():
        return geoms
    bounds = tuple(float(b) for b in shapely.total_bounds(geoms[present]))
    shown = tuple(round(b, 3) for b in bounds)
    crs: pyproj.CRS | None = None
    if source_crs is not None:
        try:
            crs = pyproj.CRS.from_user_input(source_crs)
        except pyproj.exceptions.CRSError:
            raise UnknownCRS(f"{source_crs!r} is not a CRS pyproj knows.") from None
        report.add("CRS_GIVEN", "info", f"CRS {source_crs} was given for the file (found: {raw.crs_found}).")
    elif raw.gdf.crs is not None:
        crs = pyproj.CRS.from_user_input(raw.gdf.crs)
    if crs is None:
        if looks_swapped(bounds):
            report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                       f"No CRS, and the numbers {shown} look like (lat, lon) instead of (lon, lat).")
            return None
        if looks_like_degrees(bounds):
            report.add("MISSING_CRS", "warning",
                       f"The file has no CRS; its numbers {shown} look like lon/lat, so EPSG:4326 was assumed.")
            return geoms
        hint = " (northings above 9,000,000 suggest UTM south, e.g. EPSG:32750 for Bali)" if bounds[1] > 9e6 else ""
        report.add("MISSING_CRS", "error",
                   f"The file has no CRS and its numbers {shown} are not degrees{hint}; add the .prj or name "
                   "the CRS.")
        return None
    if crs.is_geographic and looks_swapped(bounds):
        report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                   f"The coordinates {shown} look like (lat, lon) instead of (lon, lat).")
        return None
    if crs.is_geographic and not looks_like_degrees(bounds):
        report.add("CRS_MISMATCH", "error",
                   f"The CRS {raw.crs_found or crs.name} is lon/lat but the numbers {shown} are not degrees.")
        return None
    if crs.is_projected and looks_like_degrees(bounds):
        report.add("CRS_MISMATCH", "error",
                   f"The CRS {_crs_label(crs)} is projected (metres) but the numbers {shown} look like degrees.")
        return None
    if not crs.equals(_WGS84, ignore_axis_order=True):
        transformer = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)

        def to_lonlat(xy: np.ndarray) -> np.ndarray:
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        geoms = geoms.copy()
        geoms[present] = shapely.transform(geoms[present], to_lonlat)
        report.add("REPROJECTED", "info", f"Reprojected from {_crs_label(crs)} to EPSG:4326.")
        bounds = tuple(float(b) for b in shapely.total_bounds(geoms[present]))
    if looks_swapped(bounds):
        report.add("SWAPPED_COORDINATES_SUSPECTED", "error",
                   f"The coordinates {tuple(round(b, 3) for b in bounds)} look like (lat, lon) instead of (lon, lat).")
        return None
    return geoms


# --------------------------------------------------------------------------------------------
# Mapping table


def units_from_mapping(areas: Sequence[Any], mapping_csv: bytes) -> tuple[list[Unit], Report]:
    """Build police units by dissolving administrative areas named in a mapping CSV.

    The CSV has columns ``unit_code, unit_name, level, parent_code, area_code``; one row per
    (unit, area), or several area codes in one cell separated by ``;``. ``areas`` are
    :class:`Unit` objects, objects with ``code`` and ``geometry``, or ``(code, geometry)``
    pairs (EPSG:4326). Unknown area codes, conflicting rows for one unit and bad levels are
    errors; an area used by two units of one level and a non-contiguous result are warnings.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = [("51.03.01", box(115.1, -8.8, 115.2, -8.7)), ("51.03.05", box(115.1, -8.9, 115.2, -8.8))]
    >>> csv_text = b"unit_code,unit_name,level,parent_code,area_code\\nP1,Polsek Kuta Raya,polsek,51.03,51.03.01\\n" \\
    ...            b"P1,Polsek Kuta Raya,polsek,51.03,51.03.05\\n"
    >>> units, report = units_from_mapping(areas, csv_text)
    >>> units[0].code, units[0].geometry.geom_type, report.has_errors
    ('P1', 'Polygon', False)
    """
    report = Report()
    notes: list[ReportItem] = []
    header, rows = _read_csv_rows(mapping_csv, FileLimits(), notes, "The mapping CSV")
    report.extend(notes)
    lower = {h.lower(): h for h in header}
    missing = [c for c in ("unit_code", "unit_name", "level", "parent_code", "area_code") if c not in lower]
    if missing:
        raise _fail("FIELD_NOT_FOUND", f"The mapping CSV lacks column(s) {', '.join(missing)}.", fields=header)
    geom_by_code: dict[str, BaseGeometry] = {}
    for a in areas:
        code, geom = (a[0], a[1]) if isinstance(a, tuple) else (a.code, a.geometry)
        geom_by_code[str(code)] = geom
    spec: dict[str, dict[str, Any]] = {}
    for line, r in enumerate(rows, start=2):
        code = r[lower["unit_code"]].strip()
        if not code:
            report.add("MISSING_CODE", "error", f"Mapping line {line} has no unit_code.")
            continue
        level = r[lower["level"]].strip().lower()
        name = r[lower["unit_name"]].strip()
        parent = r[lower["parent_code"]].strip() or None
        area_codes = [c.strip() for c in r[lower["area_code"]].split(";") if c.strip()]
        s = spec.setdefault(code, {"name": name, "level": level, "parent": parent, "areas": [], "line": line})
        if (s["name"], s["level"], s["parent"]) != (name, level, parent):
            report.add("MAPPING_CONFLICT", "error",
                       f"Unit {code}: line {line} gives name/level/parent {name!r}/{level!r}/{parent!r}, "
                       f"line {s['line']} gave {s['name']!r}/{s['level']!r}/{s['parent']!r}.", units=[code])
        if not area_codes:
            report.add("MISSING_AREA", "error", f"Mapping line {line} (unit {code}) names no area_code.", units=[code])
        s["areas"].extend(area_codes)
    units: list[Unit] = []
    dissolved: list[ReportItem] = []
    used: dict[tuple[str, str], list[str]] = {}
    for code, s in sorted(spec.items()):
        if s["level"] not in LEVELS:
            report.add("INVALID_LEVEL", "error",
                       f"Unit {code} has level {s['level']!r}; expected one of {', '.join(LEVELS)}.", units=[code])
            continue
        geoms = []
        for a in dict.fromkeys(s["areas"]):
            if a not in geom_by_code:
                report.add("AREA_NOT_FOUND", "error", f"Unit {code} names area {a!r}, which is not known.",
                           units=[code])
                continue
            geoms.append(geom_by_code[a])
            used.setdefault((s["level"], a), []).append(code)
        if not geoms:
            continue
        geom = shapely.union_all(geoms, grid_size=1e-6) if len(geoms) > 1 else geoms[0]
        n_parts = int(shapely.get_num_geometries(geom))
        if len(geoms) > 1 and n_parts == sum(int(shapely.get_num_geometries(g)) for g in geoms):
            # No part merged with another: the areas do not touch.
            report.add("UNIT_NOT_CONTIGUOUS", "warning",
                       f"Unit {code} is made of areas that do not touch ({n_parts} parts).", units=[code])
        if not s["name"]:
            report.add("MISSING_NAME", "warning", f"Unit {code} has no unit_name; the code is used.", units=[code])
        units.append(Unit(code=code, name=s["name"] or code, level=s["level"], parent_code=s["parent"],
                          geometry=geom))
        report.add("UNIT_DISSOLVED", "info", f"Unit {code} was built from {len(geoms)} area(s).", units=[code])
        dissolved.append(report.items[-1])
    # the areas of all units in one vectorised projection (one call per unit cost 0.6 s nationally)
    for item, area in zip(dissolved, areas_m2([u.geometry for u in units]), strict=True):
        item.area_m2 = float(area)
    for (level, a), codes in sorted(used.items()):
        if len(codes) > 1:
            report.add("AREA_IN_TWO_UNITS", "warning",
                       f"Area {a} is part of {len(codes)} {level} units: {', '.join(codes)}.", units=codes)
    return units, report


# --------------------------------------------------------------------------------------------
# Stations

_STATION_KEYS: dict[str, tuple[str, ...]] = {
    "code": ("code", "kode", "station_code", "kode_pos", "id"),
    "name": ("name", "nama", "station_name", "nama_pos"),
    "unit_code": ("unit_code", "kode_unit", "unit", "kode_satuan", "parent_code"),
    "lat": ("lat", "latitude", "lintang", "y"),
    "lon": ("lon", "lng", "long", "longitude", "bujur", "x"),
    "phone": ("phone", "telepon", "telp", "no_telp", "tel", "telephone"),
    "sample": ("sample", "contoh", "is_sample"),
}


def _number(text: Any) -> float | None:
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    t = str(text).strip().replace(" ", "")
    if not t:
        return None
    if "," in t and "." not in t:
        t = t.replace(",", ".")  # Indonesian decimal comma
    try:
        return float(t)
    except ValueError:
        return None


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "ya", "y", "t")


def read_station_file(data: bytes, filename: str) -> tuple[list[Station], Report]:
    """Read police stations from a CSV or GeoJSON file.

    Columns/properties (Indonesian names accepted): ``code``, ``name``, ``unit_code``,
    ``lat``/``lon`` (CSV; a decimal comma is accepted) or a Point geometry (GeoJSON),
    ``phone``, ``sample``. Rows without usable coordinates are reported as errors and left
    out. Coordinate range, swaps and "inside its unit" are checked by
    :func:`checks.check_stations`. Returns :class:`geo.stations.Station` objects.

    Examples
    --------
    >>> stations, report = read_station_file(b"kode;nama;kode_unit;lat;lon\\nS1;Pos Kuta;51.03.01;-8,72;115,17\\n",
    ...                                      "pos.csv")
    >>> stations[0].lat, stations[0].unit_code, report.has_errors
    (-8.72, '51.03.01', False)
    """
    fmt = detect_format(filename, data[:512])
    report = Report()
    notes: list[ReportItem] = []
    limits = FileLimits()
    records: list[tuple[int, dict[str, Any], tuple[float | None, float | None] | None]] = []
    if fmt == "csv":
        header, rows = _read_csv_rows(data, limits, notes, "The station CSV")
        cols = _station_columns(header)
        for line, r in enumerate(rows, start=2):
            records.append((line, {k: r.get(c, "") for k, c in cols.items()}, None))
    elif fmt == "geojson":
        try:
            doc = json.loads(_decode_text(data, notes, "The station GeoJSON"))
        except ValueError as exc:
            raise _fail("FILE_UNREADABLE", f"The GeoJSON cannot be parsed: {exc}") from None
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise _fail("FILE_UNREADABLE", "The GeoJSON is not a FeatureCollection.")
        if len(feats) > limits.max_rows:
            raise _fail("TOO_MANY_FEATURES", f"The file has more than {limits.max_rows:,} features.")
        for n, f in enumerate(feats, start=1):
            props = (f.get("properties") or {}) if isinstance(f, dict) else {}
            cols = _station_columns(list(props))
            geom = f.get("geometry") if isinstance(f, dict) else None
            xy: tuple[float | None, float | None] | None = None
            if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(geom.get("coordinates"), list):
                c = geom["coordinates"]
                xy = (_number(c[0]), _number(c[1])) if len(c) >= 2 else (None, None)
            elif geom is not None:
                report.add("NOT_POINT", "error", f"Feature {n} is a {geom.get('type')!r}, not a Point.")
                continue
            records.append((n, {k: props.get(c) for k, c in cols.items()}, xy))
    else:
        raise _fail("UNSUPPORTED_FORMAT", "Station files must be CSV or GeoJSON.")
    report.extend(notes)
    stations: list[Station] = []
    for where, rec, xy in records:
        lon, lat = xy if xy is not None else (_number(rec.get("lon")), _number(rec.get("lat")))
        code = _as_text(rec.get("code")) or ""
        if lon is None or lat is None:
            report.add("STATION_COORDINATES_MISSING", "error",
                       f"Station {code or '?'} ({'line' if fmt == 'csv' else 'feature'} {where}) has no usable lon/lat.",
                       units=[code] if code else [])
            continue
        stations.append(Station(
            code=code,
            name=_as_text(rec.get("name")) or "",
            unit_code=_as_text(rec.get("unit_code")) or "",
            lon=lon,
            lat=lat,
            phone=_as_text(rec.get("phone")),
            sample=_truthy(rec.get("sample")) if rec.get("sample") not in (None, "") else False,
        ))
    return stations, report


def _station_columns(header: Sequence[str]) -> dict[str, str]:
    lower = {h.lower().strip(): h for h in header}
    out: dict[str, str] = {}
    for key, names in _STATION_KEYS.items():
        hit = next((lower[n] for n in names if n in lower), None)
        if hit is not None:
            out[key] = hit
    return out
