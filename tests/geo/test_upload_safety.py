"""The vetting that runs before GDAL opens an upload (geo/upload_safety.py), without a server."""

from __future__ import annotations

import doctest

import pyogrio
import pytest

from geo_service.errors import BoundaryFileError
from geo_service.geo import upload_safety
from geo_service.geo.upload_safety import GDAL_OPTIONS, vet_geojson, vet_kml, vet_shapefile_parts

KML = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'


def test_docstring_examples_run() -> None:
    result = doctest.testmod(upload_safety)
    assert result.failed == 0 and result.attempted > 0


def test_gdal_has_no_network_once_the_reader_is_imported() -> None:
    import geo_service.geo.boundary_files  # noqa: F401 - importing the reader hardens GDAL

    for key, value in GDAL_OPTIONS.items():
        assert pyogrio.get_gdal_config_option(key) in (value, int(value) if value.isdigit() else value), key


@pytest.mark.parametrize(("data", "code"), [
    (b"<!-- <kml> --><OGRVRTDataSource/>", "UNSUPPORTED_FORMAT"),
    (b"<kml><Document><href>/vsicurl/http://127.0.0.1:9/x</href></Document></kml>", "FILE_UNSAFE"),
    (b"<kml><NetworkLink/></kml>", "FILE_UNSAFE"),
    (b"<kml", "FILE_UNREADABLE"),
])
def test_kml_must_be_kml_and_reference_nothing(data: bytes, code: str) -> None:
    with pytest.raises(BoundaryFileError) as info:
        vet_kml(data)
    assert info.value.code == code


def test_real_kml_and_geojson_pass() -> None:
    vet_kml(KML)
    vet_geojson(b'{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                b'{"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": []}')
    vet_geojson(b'{"type": "Feature", "properties": {}, "geometry": null}')


@pytest.mark.parametrize("crs", [
    {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs"}},
    {"type": "name", "properties": {"name": "/etc/passwd"}},
    {"type": "name", "properties": {"name": "+proj=longlat +init=/tmp/x"}},
    {"type": "EPSG", "properties": {"code": 4326}},
])
def test_geojson_crs_must_be_a_plain_name(crs: dict[str, object]) -> None:
    import json

    with pytest.raises(BoundaryFileError) as info:
        vet_geojson(json.dumps({"type": "FeatureCollection", "crs": crs, "features": []}).encode())
    assert info.value.code == "FILE_UNSAFE"


@pytest.mark.parametrize(("parts", "code"), [
    ({".shp": b"<OGRVRTDataSource/>"}, "FILE_UNREADABLE"),
    ({".shx": b"PK\x03\x04"}, "FILE_UNREADABLE"),
    ({".dbf": b"<xml/>"}, "FILE_UNREADABLE"),
    ({".prj": b"/var/lib/geo_service/secret_key"}, "FILE_UNSAFE"),
    ({".prj": b'GEOGCS["x", /vsicurl/http://127.0.0.1:9]'}, "FILE_UNSAFE"),
])
def test_shapefile_parts_carry_their_headers(parts: dict[str, bytes], code: str) -> None:
    with pytest.raises(BoundaryFileError) as info:
        vet_shapefile_parts(parts)
    assert info.value.code == code
