"""Boundary and station administration: import (check) as a draft, diff, publish, roll back.

An upload never deletes anything: it creates a new draft set. A draft keeps the levels of the
published set that the upload does not bring, and the checks run over the merged hierarchy.
Publishing flips ``app_state`` in one transaction (the old set answers until it commits);
re-publishing an older set is the rollback.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from geo_service.errors import InvalidInput
from geo_service.geo import boundary_files, checks
from geo_service.geo.area import LEVELS, Unit
from geo_service.services.bootstrap import unit_areas_m2
from geo_service.storage import repo
from geo_service.storage.models import BoundarySet, StationSet

LOGGER = logging.getLogger(__name__)
Progress = Callable[[str], None]


def _noop(_msg: str) -> None:
    return None


def published_units(session: Session) -> tuple[int | None, list[Unit]]:
    """(set id, units) of the published boundary set."""
    _g, set_id, _s = repo.get_generation(session)
    return set_id, (repo.load_units(session, set_id) if set_id is not None else [])


def merge_with_published(uploaded: Sequence[Unit], published: Sequence[Unit]) -> list[Unit]:
    """The uploaded units plus the published units of the levels the upload does not bring."""
    levels = {u.level for u in uploaded}
    kept = [u for u in published if u.level not in levels]
    return sorted([*kept, *uploaded], key=lambda u: (LEVELS.index(u.level), u.code))


def check_set(units: Sequence[Unit], report: checks.Report | None = None) -> checks.Report:
    """Run every check on a (merged) set."""
    return checks.check_units(units, report=report)


def import_boundaries(
    session: Session,
    *,
    data: bytes,
    filename: str,
    level: str | None,
    actor: str,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    source_crs: str | None = None,
    mapping_csv: bytes | None = None,
    name: str | None = None,
    keep_published_levels: bool = True,
    limits: boundary_files.FileLimits | None = None,
    request_id: str | None = None,
    progress: Progress = _noop,
    source: str = "upload",
) -> BoundarySet:
    """Read, check and store an uploaded boundary file as a draft set (flushes; caller commits)."""
    if mapping_csv is None and level not in LEVELS:
        raise InvalidInput("level must be polda, polres or polsek", code="INVALID_LEVEL",
                           errors=[{"pointer": "/level", "detail": "polda, polres or polsek"}])
    sha = hashlib.sha256(data + (mapping_csv or b"")).hexdigest()
    progress(f"reading {filename}")
    raw = boundary_files.read_boundary_file(data, filename, limits=limits or boundary_files.FileLimits())
    guess = boundary_files.guess_fields(raw)
    progress(f"{len(raw.gdf)} features read; building units")
    units, report = boundary_files.units_from_layer(
        raw, level=level or "polsek", code_field=code_field, name_field=name_field, parent_field=parent_field,
        source_crs=source_crs,
    )
    if mapping_csv is not None and not report.has_errors:
        # The file holds administrative areas; the mapping says which areas make each police unit.
        units, mapping_report = boundary_files.units_from_mapping(units, mapping_csv)
        report.extend(mapping_report)
    published_id, published = published_units(session)
    merged = merge_with_published(units, published) if keep_published_levels else list(units)
    progress(f"checking {len(merged)} units")
    report = check_set(merged, report)
    detail = report.to_dict()
    detail["fields"] = {"guessed": asdict(guess), "used": {"code_field": code_field or guess.code_field,
                                                           "name_field": name_field or guess.name_field,
                                                           "parent_field": parent_field or guess.parent_field},
                        "available": raw.fields}
    detail["source"] = {"format": raw.format, "crs": raw.crs_found, "layer": raw.layer, "features": len(raw.gdf)}
    progress("storing the draft")
    bset = repo.create_boundary_set(
        session,
        name=name or f"{filename} ({level or 'mapping'})",
        units=merged,
        source=source if mapping_csv is None else "mapping",
        created_by=actor,
        level=level if mapping_csv is None else ",".join(sorted({u.level for u in units})),
        file_name=filename[:300],
        file_sha256=sha,
        report=detail,
        has_errors=report.has_errors or not merged,
        base_set_id=published_id,
        area_m2=unit_areas_m2(list(merged)),
    )
    repo.audit(session, actor=actor, action="boundary_set.import", target_type="boundary_set", target_id=bset.id,
               detail={"file_name": filename[:300], "file_sha256": sha, "level": level, "units": len(merged),
                       "errors": len(report.errors), "warnings": len(report.warnings)}, request_id=request_id)
    return bset


def set_summary(bset: BoundarySet, unit_count: int, published_id: int | None) -> dict[str, Any]:
    """The JSON summary of a boundary set."""
    report = bset.report or {}
    return {
        "id": bset.id, "name": bset.name, "status": "published" if bset.id == published_id else (
            "archived" if bset.status == "published" else bset.status),
        "source": bset.source, "level": bset.level, "file_name": bset.file_name, "file_sha256": bset.file_sha256,
        "units": unit_count, "has_errors": bset.has_errors, "base_set_id": bset.base_set_id,
        "created_at": bset.created_at.isoformat(), "created_by": bset.created_by,
        "published_at": bset.published_at.isoformat() if bset.published_at else None,
        "published_by": bset.published_by,
        "errors": len(report.get("errors", [])), "warnings": len(report.get("warnings", [])),
    }


def diff_against_published(session: Session, set_id: int, against: int | None = None) -> dict[str, Any]:
    """Units added, removed and changed between the published set (or ``against``) and ``set_id``."""
    repo.get_boundary_set(session, set_id)
    published_id = against if against is not None else repo.get_generation(session)[1]
    old = repo.load_units(session, published_id) if published_id is not None else []
    new = repo.load_units(session, set_id)
    changes = checks.diff_units(old, new)
    summary = {k: sum(1 for c in changes if c["change"] == k) for k in ("added", "removed", "changed")}
    return {"set": set_id, "against": published_id, "summary": summary, "changes": changes}


def publish(session: Session, set_id: int, *, actor: str, request_id: str | None = None) -> int:
    """Publish a set (409 when its report has errors); returns the new generation."""
    return repo.publish_boundary_set(session, set_id, actor=actor, request_id=request_id)


# ------------------------------------------------------------------ stations


def import_stations(session: Session, *, data: bytes, filename: str, actor: str, name: str | None = None,
                    request_id: str | None = None) -> StationSet:
    """Read and check a station file against the published units; store it as a draft station set."""
    sha = hashlib.sha256(data).hexdigest()
    stations, report = boundary_files.read_station_file(data, filename)
    _set_id, units = published_units(session)
    report.extend(checks.check_stations(stations, units))
    rows = [s.to_dict() if hasattr(s, "to_dict") else dict(s) for s in stations]
    for row in rows:
        row.pop("distance_m", None)
    sset = repo.create_station_set(
        session, name=name or filename[:200], stations=rows, source="upload", created_by=actor,
        file_name=filename[:300], file_sha256=sha, report=report.to_dict(), has_errors=report.has_errors,
    )
    repo.audit(session, actor=actor, action="station_set.import", target_type="station_set", target_id=sset.id,
               detail={"file_name": filename[:300], "file_sha256": sha, "stations": len(rows),
                       "errors": len(report.errors)}, request_id=request_id)
    return sset


def station_set_summary(sset: StationSet, count: int, published_id: int | None) -> dict[str, Any]:
    """The JSON summary of a station set."""
    report = sset.report or {}
    return {
        "id": sset.id, "name": sset.name, "status": "published" if sset.id == published_id else (
            "archived" if sset.status == "published" else sset.status),
        "source": sset.source, "file_name": sset.file_name, "file_sha256": sset.file_sha256, "stations": count,
        "has_errors": sset.has_errors, "created_at": sset.created_at.isoformat(), "created_by": sset.created_by,
        "published_at": sset.published_at.isoformat() if sset.published_at else None,
        "errors": len(report.get("errors", [])), "warnings": len(report.get("warnings", [])),
    }
