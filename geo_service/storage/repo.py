"""Queries and writes on the storage models (no Flask; sessions are passed in)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from geo_service.errors import Conflict, NotFound
from geo_service.geo.area import Unit
from geo_service.geo.geometry import as_multipolygon
from geo_service.storage.models import (
    ApiToken,
    AppState,
    AuditLog,
    BoundarySet,
    JurisdictionUnit,
    Station,
    StationSet,
)
from geo_service.storage.types import utcnow

ROLES = ("admin", "supervisor", "dispatcher", "officer")


# ---------------------------------------------------------------- state and audit


def get_state(session: Session, *, for_update: bool = False) -> AppState:
    """The single app_state row."""
    stmt = select(AppState).where(AppState.id == 1)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one()


def get_generation(session: Session) -> tuple[int, int | None, int | None]:
    """(generation, published boundary set id, published station set id): one cheap query."""
    row = session.execute(
        select(AppState.generation, AppState.boundary_set_id, AppState.station_set_id).where(AppState.id == 1)
    ).one()
    return int(row[0]), row[1], row[2]


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """Append one audit record (in the caller's transaction)."""
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            detail=detail,
            request_id=request_id,
        )
    )


# ---------------------------------------------------------------- boundary sets


def create_boundary_set(
    session: Session,
    *,
    name: str,
    units: Sequence[Unit],
    source: str,
    created_by: str,
    level: str | None = None,
    file_name: str | None = None,
    file_sha256: str | None = None,
    report: dict[str, Any] | None = None,
    has_errors: bool = False,
    base_set_id: int | None = None,
    area_m2: dict[str, float] | None = None,
) -> BoundarySet:
    """Insert a draft set with its units (flushes; the caller commits)."""
    bset = BoundarySet(
        name=name,
        status="draft",
        source=source,
        level=level,
        file_name=file_name,
        file_sha256=file_sha256,
        report=report,
        has_errors=has_errors,
        created_by=created_by,
        base_set_id=base_set_id,
    )
    session.add(bset)
    session.flush()
    session.add_all(
        [
            JurisdictionUnit(
                set_id=bset.id,
                code=u.code,
                name=u.name,
                level=u.level,
                parent_code=u.parent_code,
                area_m2=(area_m2 or {}).get(u.code),
                geom=as_multipolygon(u.geometry),
            )
            for u in units
        ]
    )
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(SUBDIVIDE_LEAVES, {"set_id": bset.id})
    return bset


#: PostGIS: split the set's leaf units into small pieces for ``storage.spatial`` (see models.UnitPiece).
SUBDIVIDE_LEAVES = text(
    "INSERT INTO unit_pieces (set_id, code, geom) "
    "SELECT u.set_id, u.code, ST_Subdivide(u.geom, 128) FROM jurisdiction_units u "
    "WHERE u.set_id = :set_id AND NOT EXISTS "
    "(SELECT 1 FROM jurisdiction_units c WHERE c.set_id = u.set_id AND c.parent_code = u.code)"
)


def _list_sets(session: Session, model: Any, item: Any) -> list[tuple[Any, int]]:
    """Every set of ``model``, newest first, with how many ``item`` rows it has."""
    counts = select(item.set_id, func.count().label("n")).group_by(item.set_id).subquery()
    rows = session.execute(
        select(model, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.set_id == model.id)
        .order_by(model.id.desc())
    ).all()
    return [(r[0], int(r[1])) for r in rows]


def _count_items(session: Session, item: Any, set_id: int | None) -> int:
    if set_id is None:
        return 0
    return int(session.execute(select(func.count()).where(item.set_id == set_id)).scalar_one())


def list_boundary_sets(session: Session) -> list[tuple[BoundarySet, int]]:
    """Every set, newest first, with its unit count."""
    return _list_sets(session, BoundarySet, JurisdictionUnit)


def count_sets(session: Session, kind: str) -> int:
    """How many boundary sets (``kind="boundary"``) or station sets (``"station"``) are stored."""
    model = {"boundary": BoundarySet, "station": StationSet}[kind]
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def get_boundary_set(session: Session, set_id: int) -> BoundarySet:
    """One set or NotFound."""
    bset = session.get(BoundarySet, set_id)
    if bset is None:
        raise NotFound(f"boundary set {set_id} does not exist")
    return bset


def load_units(session: Session, set_id: int, *, level: str | None = None) -> list[Unit]:
    """The units of a set as geo-core :class:`Unit` values, ordered by code."""
    stmt = select(
        JurisdictionUnit.code,
        JurisdictionUnit.name,
        JurisdictionUnit.level,
        JurisdictionUnit.parent_code,
        JurisdictionUnit.geom,
    ).where(JurisdictionUnit.set_id == set_id)
    if level:
        stmt = stmt.where(JurisdictionUnit.level == level)
    rows = session.execute(stmt.order_by(JurisdictionUnit.code)).all()
    return [Unit(code=r[0], name=r[1], level=r[2], parent_code=r[3], geometry=r[4]) for r in rows]


def count_units(session: Session, set_id: int | None) -> int:
    """Number of units in a set (0 for None)."""
    return _count_items(session, JurisdictionUnit, set_id)


def _publish(session: Session, model: type[BoundarySet] | type[StationSet], set_id: int, *, kind: str,
             actor: str, request_id: str | None) -> int:
    """Make a boundary or station set the published one, in the caller's transaction.

    Atomic: the previous set stays published until this transaction commits, and every
    worker picks up the change through ``app_state.generation``. Refused (409) when the
    set's check report has errors.
    """
    row: BoundarySet | StationSet | None = session.get(model, set_id)  # type: ignore[assignment]
    if row is None:
        raise NotFound(f"{kind.replace('_', ' ')} {set_id} does not exist")
    if row.has_errors:
        raise Conflict(f"{kind.replace('_', ' ')} {set_id} has errors in its check report and cannot be published",
                       code="SET_HAS_ERRORS")
    state = get_state(session, for_update=True)
    column = "boundary_set_id" if model is BoundarySet else "station_set_id"
    previous = getattr(state, column)
    if previous is not None and previous != set_id:
        session.execute(update(model).where(model.id == previous).values(status="archived"))
    row.status = "published"
    row.published_at = utcnow()
    row.published_by = actor
    setattr(state, column, set_id)
    state.generation += 1
    state.updated_at = utcnow()
    audit(session, actor=actor, action=f"{kind}.publish", target_type=kind, target_id=set_id,
          detail={"previous": previous, "file_sha256": row.file_sha256, "generation": state.generation},
          request_id=request_id)
    session.flush()
    return state.generation


def publish_boundary_set(session: Session, set_id: int, *, actor: str, request_id: str | None = None,
                         effective_from: datetime | None = None) -> int:
    """Publish boundary set ``set_id`` (see :func:`_publish`); returns the new generation.

    ``effective_from`` (or the one stored with the set) dates it: none means "from now"; a past
    day makes it answer ``at`` lookups from that day; a future moment **schedules** it (status
    ``scheduled``): the current set keeps answering until then, without another publish.
    """
    row = session.get(BoundarySet, set_id)
    if row is not None and effective_from is not None:
        row.effective_from = effective_from
    if row is not None and row.effective_from is not None and row.effective_from > utcnow():
        return _schedule_boundary_set(session, row, actor=actor, request_id=request_id)
    generation = _publish(session, BoundarySet, set_id, kind="boundary_set", actor=actor, request_id=request_id)
    if row is not None and row.effective_from is None:
        row.effective_from = row.published_at
    session.flush()
    return generation


def _schedule_boundary_set(session: Session, row: BoundarySet, *, actor: str, request_id: str | None) -> int:
    if row.has_errors:
        raise Conflict(f"boundary set {row.id} has errors in its check report and cannot be published",
                       code="SET_HAS_ERRORS")
    state = get_state(session, for_update=True)
    row.status = "scheduled"
    row.published_at = utcnow()
    row.published_by = actor
    state.generation += 1  # every holder reloads its schedule
    state.updated_at = utcnow()
    audit(session, actor=actor, action="boundary_set.schedule", target_type="boundary_set", target_id=row.id,
          detail={"effective_from": row.effective_from.isoformat() if row.effective_from else None,
                  "generation": state.generation}, request_id=request_id)
    session.flush()
    return state.generation


def dated_sets(session: Session) -> list[tuple[int, datetime, datetime]]:
    """``(set id, effective_from, published_at)`` of every set ever published or scheduled."""
    rows = session.execute(
        select(BoundarySet.id, BoundarySet.effective_from, BoundarySet.published_at)
        .where(BoundarySet.published_at.is_not(None), BoundarySet.effective_from.is_not(None))
        .order_by(BoundarySet.effective_from, BoundarySet.id)
    ).all()
    return [(int(r[0]), r[1], r[2]) for r in rows]


# ---------------------------------------------------------------- station sets


def create_station_set(
    session: Session,
    *,
    name: str,
    stations: Iterable[dict[str, Any]],
    source: str,
    created_by: str,
    file_name: str | None = None,
    file_sha256: str | None = None,
    report: dict[str, Any] | None = None,
    has_errors: bool = False,
) -> StationSet:
    """Insert a draft station set. Each station: code, name, unit_code, lon, lat, phone, sample."""
    sset = StationSet(
        name=name, status="draft", source=source, file_name=file_name, file_sha256=file_sha256,
        report=report, has_errors=has_errors, created_by=created_by,
    )
    session.add(sset)
    session.flush()
    session.add_all(
        [
            Station(
                set_id=sset.id,
                code=s["code"],
                name=s["name"],
                unit_code=s.get("unit_code"),
                phone=s.get("phone"),
                sample=bool(s.get("sample", False)),
                geom=shapely.Point(float(s["lon"]), float(s["lat"])),
            )
            for s in stations
        ]
    )
    session.flush()
    return sset


def get_station_set(session: Session, set_id: int) -> StationSet:
    """One station set or NotFound."""
    sset = session.get(StationSet, set_id)
    if sset is None:
        raise NotFound(f"station set {set_id} does not exist")
    return sset


def list_station_sets(session: Session) -> list[tuple[StationSet, int]]:
    """Every station set, newest first, with its station count."""
    return _list_sets(session, StationSet, Station)


def count_stations(session: Session, set_id: int | None) -> int:
    """Number of stations in a set (0 for None)."""
    return _count_items(session, Station, set_id)


def load_stations(session: Session, set_id: int | None) -> list[dict[str, Any]]:
    """Stations of a set as plain dicts (code, name, unit_code, lon, lat, phone, sample)."""
    if set_id is None:
        return []
    rows = session.execute(select(Station).where(Station.set_id == set_id).order_by(Station.code)).scalars()
    return [
        {"code": s.code, "name": s.name, "unit_code": s.unit_code, "lon": s.geom.x, "lat": s.geom.y,
         "phone": s.phone, "sample": s.sample}
        for s in rows
    ]


def publish_station_set(session: Session, set_id: int, *, actor: str, request_id: str | None = None) -> int:
    """Publish station set ``set_id`` (see :func:`_publish`); returns the new generation."""
    return _publish(session, StationSet, set_id, kind="station_set", actor=actor, request_id=request_id)


# ---------------------------------------------------------------- tokens


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token (tokens are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    role: str,
    unit_code: str | None = None,
    expires_at: datetime | None = None,
    created_by: str = "cli",
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the clear token (shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    clear = "gs_" + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, unit_code=unit_code, token_hash=hash_token(clear),
                   expires_at=expires_at, created_by=created_by)
    session.add(row)
    session.flush()
    audit(session, actor=created_by, action="token.create", target_type="api_token", target_id=row.id,
          detail={"name": name, "role": role, "unit_code": unit_code})
    return row, clear


def find_token(session: Session, clear: str) -> ApiToken | None:
    """The token row for a clear token, or None."""
    return session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(clear))).scalar_one_or_none()
