"""Safe reading of uploaded boundary and station files, and turning them into units.

One module per concern; the public names are all importable from here:

* :mod:`.archive`: :class:`FileLimits` and zip/KMZ members read without trusting them;
* :mod:`.reading`: :func:`detect_format`, :func:`read_boundary_file` -> :class:`RawLayer`
  (formats, GDAL with one driver, CRS label, text encodings, CSV rows);
* :mod:`.fields`: :func:`guess_fields` -> :class:`FieldGuess`;
* :mod:`.units`: :func:`units_from_layer` (CRS checked against the numbers, reprojection,
  repairs);
* :mod:`.mapping`: :func:`units_from_mapping` (units dissolved from administrative areas) and
  :func:`read_bundled_layer` (the files the product ships);
* :mod:`.stations`: :func:`read_station_file`.

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

from geo_service.geo.boundary_files.archive import FileLimits
from geo_service.geo.boundary_files.fields import FieldGuess, guess_fields
from geo_service.geo.boundary_files.mapping import read_bundled_layer, units_from_mapping
from geo_service.geo.boundary_files.reading import Format, RawLayer, detect_format, read_boundary_file
from geo_service.geo.boundary_files.stations import read_station_file
from geo_service.geo.boundary_files.units import units_from_layer

__all__ = [
    "FieldGuess",
    "FileLimits",
    "Format",
    "RawLayer",
    "detect_format",
    "guess_fields",
    "read_boundary_file",
    "read_bundled_layer",
    "read_station_file",
    "units_from_layer",
    "units_from_mapping",
]
