"""Safe reading of uploaded boundary and station files, and turning them into units (a package)."""

from geo_service.geo.boundary_files.reading import (
    FieldGuess,
    FileLimits,
    Format,
    RawLayer,
    detect_format,
    guess_fields,
    read_boundary_file,
    read_bundled_layer,
    read_station_file,
    units_from_layer,
    units_from_mapping,
)

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
