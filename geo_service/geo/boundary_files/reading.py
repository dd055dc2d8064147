"""Reading an upload: its format from its bytes, GDAL with exactly that format's driver, its CRS.

Every file is vetted by :mod:`geo_service.geo.upload_safety` before GDAL opens it; archives go
through :mod:`.archive`. Text that is not UTF-8 (a ``.dbf`` without ``.cpg``, a cp1252 CSV) is
decoded as cp1252 and a note says so.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geo_service.errors import BoundaryFileError
from geo_service.geo.boundary_files.archive import (
    FileLimits,
    file_error,
    members_with_ext,
    open_zip,
    read_member,
)
from geo_service.geo.checks import ReportItem
from geo_service.geo.upload_safety import (
    harden_gdal,
    require_driver,
    vet_geojson,
    vet_gpkg,
    vet_kml,
    vet_shapefile_parts,
)

harden_gdal()


Format = Literal["geojson", "shapefile_zip", "gpkg", "kml", "kmz", "csv"]
_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass
class RawLayer:
    """One layer as read, in its source CRS (nothing repaired or reprojected yet)."""

    gdf: gpd.GeoDataFrame
    crs_found: str | None
    format: Format
    fields: list[str]
    notes: list[ReportItem] = field(default_factory=list)
    layer: str | None = None


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
        raise file_error("UNSUPPORTED_FORMAT", "An XML file that is not KML.")
    if text[:1] in (b"{", b"["):
        return "geojson"
    if ext in (".csv", ".txt", ".tsv") and b"\x00" not in head:
        return "csv"
    if ext in (".shp", ".shx", ".dbf", ".prj"):
        raise file_error("UNSUPPORTED_FORMAT", "Upload a Shapefile as one .zip with its .shp, .shx, .dbf and .prj.")
    raise file_error(
        "UNSUPPORTED_FORMAT",
        "Not a GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ or CSV file.",
    )


def read_boundary_file(
    data: bytes, filename: str, *, limits: FileLimits | None = None, layer: str | None = None
) -> RawLayer:
    """Read an uploaded boundary file safely into a :class:`RawLayer` (source CRS, as found).

    Parameters
    ----------
    data : the file's bytes
    filename : the uploaded name (used only to tell .kmz from .zip)
    limits : what is allowed inside the file (default :class:`FileLimits`)
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
    limits = limits or FileLimits()
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


def _read_zip(
    data: bytes, fmt: str, layer: str | None, limits: FileLimits, notes: list[ReportItem], tmpdir: Path
) -> tuple[Format, gpd.GeoDataFrame, str | None, str | None]:
    zf, infos = open_zip(data, limits)
    budget = [0]
    with zf:
        shps = members_with_ext(infos, ".shp")
        if not shps:
            kmls = members_with_ext(infos, ".kml")
            gpkgs = members_with_ext(infos, ".gpkg")
            if kmls:
                doc = [i for i in kmls if PurePosixPath(i.filename).name.lower() == "doc.kml"] or kmls
                if len(doc) > 1:
                    notes.append(ReportItem("KMZ_FIRST_KML", "info", f"Read {doc[0].filename} of {len(doc)} KML files."))
                gdf, crs = _read_kml(read_member(zf, doc[0], limits, budget), limits, notes, tmpdir)
                return "kmz", gdf, crs, None
            if len(gpkgs) == 1 and fmt != "kmz":
                gdf, crs, chosen = _read_gpkg(read_member(zf, gpkgs[0], limits, budget), layer, limits, notes, tmpdir)
                return "gpkg", gdf, crs, chosen
            what = "KML" if fmt == "kmz" else ".shp"
            raise file_error("UNSUPPORTED_FORMAT", f"The archive contains no {what} file.")
        stems = {str(PurePosixPath(i.filename).with_suffix("")): i for i in shps}
        if layer is not None:
            matches = [s for s in stems if s == layer or PurePosixPath(s).name == layer]
            if not matches:
                raise file_error("LAYER_NOT_FOUND", f"No Shapefile named {layer!r} in the archive.",
                            layers=sorted(stems))
            stem = matches[0]
        elif len(stems) > 1:
            raise file_error("LAYER_REQUIRED", f"The archive holds {len(stems)} Shapefiles; name one.",
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
                raise file_error("FILE_UNREADABLE", f"The Shapefile {stem}.shp has no {needed} in the archive.")
        # Members are copied to fixed names: a member's own name never reaches the file system.
        contents = {ext: read_member(zf, info, limits, budget) for ext, info in parts.items()}
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
        raise file_error("TOO_MANY_LAYERS", f"The GeoPackage has {len(layers)} layers (limit {limits.max_layers}).")
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise file_error("LAYER_NOT_FOUND", f"No layer named {layer!r}.", layers=names)
        chosen = layer
    else:
        polygonal = [str(n) for n, t in layers if t and "polygon" in str(t).lower()]
        spatial = [str(n) for n, t in layers if t]
        candidates = polygonal or spatial
        if not candidates:
            raise file_error("FILE_UNREADABLE", "The GeoPackage has no layer with geometry.")
        if len(candidates) > 1:
            raise file_error("LAYER_REQUIRED", f"The GeoPackage has {len(candidates)} layers; name one.",
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
        raise file_error("FILE_UNREADABLE", f"The file cannot be opened: {_short(exc)}") from None


def _read_kml(
    data: bytes, limits: FileLimits, notes: list[ReportItem], tmpdir: Path
) -> tuple[gpd.GeoDataFrame, str | None]:
    vet_kml(data)
    path = tmpdir / "doc.kml"
    path.write_bytes(data)
    layers = _list_layers(path, "kml")
    if len(layers) > limits.max_layers:
        raise file_error("TOO_MANY_LAYERS", f"The KML has {len(layers)} folders/layers (limit {limits.max_layers}).")
    frames = []
    for name, _ in layers:
        gdf, crs = _read_gdal(path, name, limits, notes, None, tmpdir, kind="kml")
        if len(layers) > 1:
            gdf["kml_folder"] = name
        frames.append(gdf)
    if not frames:
        raise file_error("FILE_UNREADABLE", "The KML holds no features.")
    if len(frames) > 1:
        notes.append(ReportItem("KML_FOLDERS_MERGED", "info", f"{len(frames)} KML folders were read as one layer."))
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=frames[0].geometry.name, crs=frames[0].crs)
    if len(gdf) > limits.max_features:
        raise file_error("TOO_MANY_FEATURES", f"The file has {len(gdf):,} features (limit {limits.max_features:,}).")
    return gdf, crs_label(gdf.crs)


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
            raise file_error(
                "TOO_MANY_FEATURES",
                f"The file has {int(info['features']):,} features (limit {limits.max_features:,}).",
            )
        gdf = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
    except BoundaryFileError:
        raise
    except Exception as exc:  # GDAL raises several DataSourceError kinds
        raise file_error("FILE_UNREADABLE", f"The file cannot be read: {_short(exc)}") from None
    if len(gdf) > limits.max_features:
        raise file_error("TOO_MANY_FEATURES", f"The file has {len(gdf):,} features (limit {limits.max_features:,}).")
    return gdf, crs_label(gdf.crs)


def _short(exc: Exception) -> str:
    # GDAL messages carry our private temp path; keep only the gist.
    return re.sub(r"/\S*geo-upload-\S*", "<upload>", str(exc))[:300]


def crs_label(crs: Any) -> str | None:
    """``AUTHORITY:CODE`` of a CRS (its name when no authority matches well), None without a CRS."""
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


def decode_text(data: bytes, notes: list[ReportItem], what: str) -> str:
    """The bytes as text: UTF-8, or cp1252 with an ``ENCODING_ASSUMED`` note about ``what``."""
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
    header, rows = read_csv_rows(data, limits, notes, "The CSV file")
    lower = {h.lower(): h for h in header}
    col = next((lower[c] for c in _WKT_COLUMNS if c in lower), None)
    if col is None:
        raise file_error("UNSUPPORTED_FORMAT", "A boundary CSV needs a WKT column (wkt, geometry or geom).")
    try:
        geoms = shapely.from_wkt([r.get(col) or None for r in rows], on_invalid="raise")
    except shapely.errors.GEOSException as exc:
        raise file_error("FILE_UNREADABLE", f"A WKT value cannot be read: {exc}") from None
    df = pd.DataFrame([{k: v for k, v in r.items() if k != col} for r in rows], columns=[h for h in header if h != col])
    notes.append(ReportItem("CSV_HAS_NO_CRS", "info", "A CSV carries no CRS; the coordinates decide (see MISSING_CRS)."))
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs=None), None


def read_csv_rows(
    data: bytes, limits: FileLimits, notes: list[ReportItem], what: str
) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows as dicts) of a CSV upload; the delimiter is the one the header uses most."""
    text = decode_text(data, notes, what)
    # The delimiter is the one the header line uses most (the sniffer is fooled by a ";" list
    # inside a comma-separated cell).
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise file_error("FILE_UNREADABLE", f"{what} is empty.") from None
    except csv.Error as exc:
        raise file_error("FILE_UNREADABLE", f"{what} cannot be read: {exc}") from None
    rows: list[dict[str, str]] = []
    try:
        for rec in reader:
            if not any(v.strip() for v in rec):
                continue
            if len(rows) >= limits.max_rows:
                raise file_error("TOO_MANY_FEATURES", f"{what} has more than {limits.max_rows:,} rows.")
            rows.append({h: (rec[i].strip() if i < len(rec) else "") for i, h in enumerate(header)})
    except csv.Error as exc:
        raise file_error("FILE_UNREADABLE", f"{what} cannot be read: {exc}") from None
    return header, rows


def _enforce_vertices(gdf: gpd.GeoDataFrame, limits: FileLimits) -> None:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if len(geoms) == 0:
        return
    counts = shapely.get_num_coordinates(geoms)
    worst = int(np.argmax(counts))
    if counts[worst] > limits.max_feature_vertices:
        raise file_error(
            "TOO_MANY_VERTICES",
            f"Feature {worst + 1} has {int(counts[worst]):,} vertices (limit {limits.max_feature_vertices:,} "
            "per feature); simplify it first.",
        )
    total = int(counts.sum())
    if total > limits.max_total_vertices:
        raise file_error(
            "TOO_MANY_VERTICES",
            f"The file has {total:,} vertices (limit {limits.max_total_vertices:,}); simplify it first.",
        )
