"""Typed bodies of the admin API for boundary sets and station sets (upload, report, diff, publish).

Documentation types (see :mod:`geo_service.services.api_types`): :mod:`geo_service.services.boundaries`
builds the answers. Uploads are ``multipart/form-data``; their forms are typed here too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from geo_service.services.api_types import UNSET, Answer, Body, IsoTime, Point, UnsetType, describe

Binary = Annotated[bytes, Meta(extra_json_schema={"type": "string", "format": "binary", "contentEncoding": None})]
Level = Literal["polda", "polres", "polsek"]
SetStatus = Annotated[str, describe("published (answering now), history (an older version still answering "
                                    "past moments, boundary sets), scheduled, draft or archived")]


class BoundaryUpload(Body):
    """A boundary file (and an optional mapping CSV) to check and store as a draft set."""

    file: Annotated[Binary, describe("GeoJSON, zipped Shapefile (with .prj), GeoPackage, KML or KMZ")]
    level: Level | UnsetType = UNSET
    code_field: str | UnsetType = UNSET
    name_field: str | UnsetType = UNSET
    parent_field: str | UnsetType = UNSET
    crs: Annotated[str, describe("source CRS when the file has none, e.g. EPSG:32750")] | UnsetType = UNSET
    mapping: Annotated[Binary, describe("CSV unit_code,unit_name,level,parent_code,area_code")] | UnsetType = UNSET
    name: str | UnsetType = UNSET


class StationUpload(Body):
    """Stations (CSV or GeoJSON) to check and store as a draft station set."""

    file: Binary
    name: str | UnsetType = UNSET


class Finding(Answer):
    """One finding of the checks."""

    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    units: list[str]
    area_m2: float | UnsetType = UNSET
    location: Point | UnsetType = UNSET


class FieldNames(Answer):
    """Attribute names for unit code, name and parent code (None: not found)."""

    code_field: str | None
    name_field: str | None
    parent_field: str | None


class UploadFields(Answer):
    """The attribute names guessed in the file, those used, and every one available."""

    guessed: FieldNames
    used: FieldNames
    available: list[str]


class UploadSource(Answer):
    """What was read from the uploaded file."""

    format: str
    crs: Annotated[str | None, describe("the CRS the file declared")]
    layer: str | None
    features: int


class CheckReport(Answer):
    """The checks' report: errors block publication, warnings and info do not (uploads add what was read)."""

    errors: list[Finding]
    warnings: list[Finding]
    info: list[Finding]
    fields: UploadFields | UnsetType = UNSET
    source: UploadSource | UnsetType = UNSET


class BoundarySetSummary(Answer):
    """A boundary set."""

    id: int
    name: str | None
    status: SetStatus
    source: str | None
    level: str | None
    file_name: str | None
    file_sha256: str | None
    units: int
    has_errors: bool
    base_set_id: int | None
    created_at: IsoTime
    created_by: str | None
    published_at: IsoTime | None
    published_by: str | None
    effective_from: Annotated[str | None, describe("since when the set answers (ISO 8601; 'at' lookups)")]
    errors: Annotated[int, describe("number of errors in the report")]
    warnings: int


class BoundarySet(BoundarySetSummary):
    """A boundary set with its check report."""

    report: CheckReport


class BoundarySets(Answer):
    """Every boundary set, newest first."""

    published: int | None
    sets: list[BoundarySetSummary]


class UnitChange(Answer):
    """A unit added, removed or changed."""

    code: str
    name: str | None
    change: Literal["added", "removed", "changed"]
    area_m2_old: float | None
    area_m2_new: float | None
    changed_area_m2: float | None
    fields: Annotated[list[str], describe("what changed: geometry, name, parent_code, level")]
    name_old: str | None | UnsetType = UNSET
    parent_code_old: str | None | UnsetType = UNSET
    parent_code_new: str | None | UnsetType = UNSET
    level_old: str | None | UnsetType = UNSET
    level_new: str | None | UnsetType = UNSET


class DiffSummary(Answer):
    """How many units were added, removed and changed."""

    added: int
    removed: int
    changed: int


class BoundarySetDiff(Answer):
    """Units added, removed and changed between ``against`` and ``set``."""

    set_: int = field(name="set")
    against: int | None
    summary: DiffSummary
    changes: list[UnitChange]


class Station(Answer):
    """A police station of a station set."""

    code: str
    name: str
    unit_code: str | None
    lon: float
    lat: float
    phone: str | None
    sample: bool


class StationSetSummary(Answer):
    """A station set."""

    id: int
    name: str | None
    status: SetStatus
    source: str | None
    file_name: str | None
    file_sha256: str | None
    stations: int
    has_errors: bool
    created_at: IsoTime
    created_by: str | None
    published_at: IsoTime | None
    errors: int
    warnings: int


class StationSet(StationSetSummary):
    """A station set with its report and stations."""

    report: CheckReport
    items: list[Station]


class StationSets(Answer):
    """Every station set, newest first."""

    published: int | None
    sets: list[StationSetSummary]
