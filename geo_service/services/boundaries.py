"""Boundary and station administration: import (check) as a draft, diff, publish, roll back.

An upload never deletes anything: it creates a new draft set. A draft keeps the levels of the
published set that the upload does not bring, and the checks run over the merged hierarchy.
Publishing flips ``app_state`` in one transaction (the old set answers until it commits);
re-publishing an older set is the rollback.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.orm import Session

from geo_service.errors import InvalidInput
from geo_service.geo import boundary_files, checks
from geo_service.geo.area import LEVELS, Unit
from geo_service.services.bootstrap import unit_areas_m2
from geo_service.storage import repo
from geo_service.storage.models import BoundarySet, JurisdictionUnit, StationSet
from geo_service.storage.models import Station as StationRow

LOGGER = logging.getLogger(__name__)
Progress = Callable[[str], None]


def _noop(_msg: str) -> None:
    return None


def _column_length(model: Any, column: str) -> int:
    return int(model.__table__.c[column].type.length)


#: What the database columns hold; longer text is refused (codes) or shortened (names) with a report item,
#: the same on SQLite (which would store anything) and PostgreSQL (which would refuse the whole insert).
CODE_MAX = _column_length(JurisdictionUnit, "code")
NAME_MAX = _column_length(JurisdictionUnit, "name")
SET_NAME_MAX = _column_length(BoundarySet, "name")
STATION_CODE_MAX = _column_length(StationRow, "code")
STATION_NAME_MAX = _column_length(StationRow, "name")
PHONE_MAX = _column_length(StationRow, "phone")
STATION_SET_NAME_MAX = _column_length(StationSet, "name")


def _without_nul(text: str | None, changed: list[str], label: str) -> str | None:
    # PostgreSQL text cannot hold NUL; SQLite could. Drop it on both so both store the same.
    if text is None or "\x00" not in text:
        return text
    changed.append(label)
    return text.replace("\x00", "")


def _report_nul(changed: list[str], what: str, report: checks.Report) -> None:
    if changed:
        report.add("NUL_REMOVED", "warning", f"NUL characters were removed from {len(changed)} {what} value(s).",
                   units=sorted(set(changed))[:12])


def fit_units(units: Sequence[Unit], report: checks.Report) -> list[Unit]:
    """Units that fit the columns: too-long codes are errors (unit left out), too-long names are shortened."""
    out: list[Unit] = []
    too_long: list[str] = []
    shortened: list[str] = []
    nul: list[str] = []
    for u in units:
        if "\x00" in u.code + u.name + (u.parent_code or ""):
            label = u.code.replace("\x00", "")
            u = replace(u, code=_without_nul(u.code, nul, label) or "", name=_without_nul(u.name, nul, label) or "",
                        parent_code=_without_nul(u.parent_code, nul, label))
        if len(u.code) > CODE_MAX or len(u.parent_code or "") > CODE_MAX:
            too_long.append(u.code[:CODE_MAX] + "...")
            continue
        if len(u.name) > NAME_MAX:
            shortened.append(u.code)
            u = replace(u, name=u.name[:NAME_MAX])
        out.append(u)
    if too_long:
        report.add("CODE_TOO_LONG", "error",
                   f"{len(too_long)} unit(s) have a code or parent code longer than {CODE_MAX} characters and "
                   f"were left out: {', '.join(too_long[:5])}. Check the code field.", units=too_long[:12])
    if shortened:
        report.add("NAME_TRUNCATED", "warning",
                   f"{len(shortened)} unit name(s) longer than {NAME_MAX} characters were shortened.",
                   units=shortened[:12])
    _report_nul(nul, "unit", report)
    return out


def published_units(session: Session) -> tuple[int | None, list[Unit]]:
    """(set id, units) of the published boundary set."""
    _g, set_id, _s = repo.get_generation(session)
    return set_id, (repo.load_units(session, set_id) if set_id is not None else [])


def merge_with_published(
    uploaded: Sequence[Unit], published: Sequence[Unit], levels: Iterable[str] = ()
) -> list[Unit]:
    """The uploaded units plus the published units of the levels the upload does not bring.

    ``levels`` names levels the upload replaces even when it yields no unit of them (the level
    the admin declared): a file refused for its CRS must not leave the old units in the draft.
    """
    levels = {u.level for u in uploaded} | set(levels)
    kept = [u for u in published if u.level not in levels]
    return sorted([*kept, *uploaded], key=lambda u: (LEVELS.index(u.level), u.code))


def _mapping_level(units: Sequence[Unit]) -> str:
    """The level a mapping upload brings: one level name, or "mixed" (the column holds 10 characters)."""
    levels = {u.level for u in units}
    return levels.pop() if len(levels) == 1 else "mixed"


def check_set(units: Sequence[Unit], report: checks.Report | None = None) -> checks.Report:
    """Run every check on a (merged) set."""
    return checks.check_units(units, report=report)


def _one_unit_per_code(merged: Sequence[Unit], uploaded: Sequence[Unit], report: checks.Report) -> list[Unit]:
    """The units to store: a code is unique within a set, so a repeated code keeps its first unit.

    A repeated code is already a DUPLICATE_CODE error (the draft cannot be published); the
    uploaded unit wins over a kept published one so the admin sees the file's unit on the map.
    """
    uploaded_ids = {id(u) for u in uploaded}
    first: dict[str, Unit] = {}
    dropped: list[str] = []
    for u in [*uploaded, *(u for u in merged if id(u) not in uploaded_ids)]:
        if u.code in first:
            dropped.append(u.code)
        else:
            first[u.code] = u
    if dropped:
        report.add("DUPLICATE_NOT_STORED", "info",
                   f"{len(dropped)} unit(s) with a repeated code were left out of the draft (the first is kept).",
                   units=sorted(set(dropped))[:12])
    return [u for u in merged if first.get(u.code) is u]


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
    units = fit_units(units, report)
    published_id, published = published_units(session)
    declared = [level] if mapping_csv is None and level else []
    merged = merge_with_published(units, published, declared) if keep_published_levels else list(units)
    progress(f"checking {len(merged)} units")
    report = check_set(merged, report)
    stored = _one_unit_per_code(merged, units, report)
    detail: dict[str, Any] = dict(report.to_dict())
    detail["fields"] = {"guessed": asdict(guess), "used": {"code_field": code_field or guess.code_field,
                                                           "name_field": name_field or guess.name_field,
                                                           "parent_field": parent_field or guess.parent_field},
                        "available": raw.fields}
    detail["source"] = {"format": raw.format, "crs": raw.crs_found, "layer": raw.layer, "features": len(raw.gdf)}
    progress("storing the draft")
    bset = repo.create_boundary_set(
        session,
        name=(name or f"{filename[:150]} ({level or 'mapping'})")[:SET_NAME_MAX],
        units=stored,
        source=source if mapping_csv is None else "mapping",
        created_by=actor,
        level=level if mapping_csv is None else _mapping_level(units),
        file_name=filename[:300],
        file_sha256=sha,
        report=detail,
        has_errors=report.has_errors or not merged,
        base_set_id=published_id,
        area_m2=unit_areas_m2(stored),
    )
    repo.audit(session, actor=actor, action="boundary_set.import", target_type="boundary_set", target_id=bset.id,
               detail={"file_name": filename[:300], "file_sha256": sha, "level": level, "units": len(stored),
                       "errors": len(report.errors), "warnings": len(report.warnings)}, request_id=request_id)
    return bset


def _summary(row: BoundarySet | StationSet, count_key: str, count: int, published_id: int | None) -> dict[str, Any]:
    """The JSON fields every kind of set shares (``count_key``: ``units`` or ``stations``)."""
    report = row.report or {}
    return {
        "id": row.id, "name": row.name, "status": "published" if row.id == published_id else (
            "archived" if row.status == "published" else row.status),
        "source": row.source, "file_name": row.file_name, "file_sha256": row.file_sha256, count_key: count,
        "has_errors": row.has_errors, "created_at": row.created_at.isoformat(), "created_by": row.created_by,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "errors": len(report.get("errors", [])), "warnings": len(report.get("warnings", [])),
    }


def set_summary(bset: BoundarySet, unit_count: int, published_id: int | None) -> dict[str, Any]:
    """The JSON summary of a boundary set (``effective_from``: since when it answers)."""
    return {**_summary(bset, "units", unit_count, published_id), "level": bset.level,
            "base_set_id": bset.base_set_id, "published_by": bset.published_by,
            "effective_from": bset.effective_from.isoformat() if bset.effective_from else None}


def answering_set_ids(session: Session) -> set[int]:
    """The published or scheduled sets that answer some moment (``registry.set_in_force``).

    The answer changes only at a set's ``effective_from``, so asking at each of them (and
    before the first) finds every set that still answers ``at`` lookups.
    """
    from geo_service.services.registry import set_in_force

    dated = repo.dated_sets(session)
    current = repo.get_generation(session)[1]
    moments = [eff for _i, eff, _pub in dated]
    return {i for i in (set_in_force(dated, current, m) for m in moments) if i is not None}


def mark_history(session: Session, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Status ``history`` for an archived set that still answers ``at`` lookups of its time.

    ``published`` is the set in force now, ``scheduled`` a set that takes effect later,
    ``history`` an older version that answers moments before the current one, ``archived`` a
    set that no longer answers any moment (replaced by a later publication of the same dates).
    """
    answering = answering_set_ids(session)
    for summary in summaries:
        if summary["status"] == "archived" and summary["id"] in answering:
            summary["status"] = "history"
    return summaries


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


def _station_rows(stations: Sequence[Any], report: checks.Report) -> list[dict[str, Any]]:
    """Station rows to store: one per code, codes that fit the columns, long names and phones shortened."""
    rows_by_code: dict[str, dict[str, Any]] = {}
    too_long: list[str] = []
    shortened: list[str] = []
    nul: list[str] = []
    for s in stations:
        row = s.to_dict() if hasattr(s, "to_dict") else dict(s)
        row.pop("distance_m", None)
        label = str(row["code"]).replace("\x00", "")
        for key in ("code", "name", "unit_code", "phone"):
            row[key] = _without_nul(row.get(key), nul, label)
        if len(row["code"]) > STATION_CODE_MAX or len(row.get("unit_code") or "") > CODE_MAX:
            too_long.append(row["code"][:STATION_CODE_MAX] + "...")
            continue
        if len(row["name"]) > STATION_NAME_MAX or len(row.get("phone") or "") > PHONE_MAX:
            shortened.append(row["code"])
            row["name"] = row["name"][:STATION_NAME_MAX]
            row["phone"] = row["phone"][:PHONE_MAX] if row.get("phone") else row.get("phone")
        # A code is unique within a set: a repeated code is a DUPLICATE_CODE error in the report
        # (the set cannot be published) and only its first station is stored with the draft.
        rows_by_code.setdefault(row["code"], row)
    if too_long:
        report.add("CODE_TOO_LONG", "error",
                   f"{len(too_long)} station(s) have a code longer than {STATION_CODE_MAX} or a unit code longer "
                   f"than {CODE_MAX} characters and were left out.", units=too_long[:12])
    if shortened:
        report.add("NAME_TRUNCATED", "warning",
                   f"{len(shortened)} station name(s) or phone number(s) were too long and were shortened.",
                   units=shortened[:12])
    _report_nul(nul, "station", report)
    return list(rows_by_code.values())


def import_stations(session: Session, *, data: bytes, filename: str, actor: str, name: str | None = None,
                    request_id: str | None = None) -> StationSet:
    """Read and check a station file against the published units; store it as a draft station set."""
    sha = hashlib.sha256(data).hexdigest()
    stations, report = boundary_files.read_station_file(data, filename)
    _set_id, units = published_units(session)
    report.extend(checks.check_stations(stations, units))
    rows = _station_rows(stations, report)
    sset = repo.create_station_set(
        session, name=(name or filename)[:STATION_SET_NAME_MAX], stations=rows, source="upload", created_by=actor,
        file_name=filename[:300], file_sha256=sha, report=report.to_dict(), has_errors=report.has_errors,
    )
    repo.audit(session, actor=actor, action="station_set.import", target_type="station_set", target_id=sset.id,
               detail={"file_name": filename[:300], "file_sha256": sha, "stations": len(rows),
                       "errors": len(report.errors)}, request_id=request_id)
    return sset


def station_set_summary(sset: StationSet, count: int, published_id: int | None) -> dict[str, Any]:
    """The JSON summary of a station set."""
    return _summary(sset, "stations", count, published_id)
