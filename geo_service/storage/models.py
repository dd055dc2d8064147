"""SQLAlchemy 2 models: one model set for PostGIS and the embedded SQLite default.

Geometry columns are real PostGIS geometries (EPSG:4326, GiST-indexed by the migration) on
PostgreSQL and WKB on SQLite; see :mod:`geo_service.storage.types`. The schema itself is
owned by the Alembic migrations in ``storage/migrations``; these classes must match them
(a test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geo_service.storage.types import GeometryColumn, UTCDateTime, UTCEpochMicros, utcnow


class Base(DeclarativeBase):
    """Declarative base of every table."""


class BoundarySet(Base):
    """A versioned set of jurisdiction units. At most one is published (see :class:`AppState`)."""

    __tablename__ = "boundary_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | scheduled | published | archived
    source: Mapped[str] = mapped_column(String(40), default="upload")  # bundled | upload | national | mapping
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(10))
    base_set_id: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    has_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="system")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(120))
    #: The moment the set takes effect (set at publication when not given; later = scheduled).
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    units: Mapped[list[JurisdictionUnit]] = relationship(back_populates="boundary_set", lazy="raise")


class JurisdictionUnit(Base):
    """One Polda/Polres/Polsek area within a boundary set."""

    __tablename__ = "jurisdiction_units"
    __table_args__ = (
        UniqueConstraint("set_id", "code", name="uq_unit_set_code"),
        Index("ix_units_set_level", "set_id", "level"),
        Index("ix_units_set_parent", "set_id", "parent_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))  # polda | polres | polsek
    parent_code: Mapped[str | None] = mapped_column(String(40))
    area_m2: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[BaseGeometry] = mapped_column(GeometryColumn("MULTIPOLYGON"))

    boundary_set: Mapped[BoundarySet] = relationship(back_populates="units", lazy="raise")


class UnitPiece(Base):
    """A leaf unit split into pieces of at most 128 vertices (PostGIS ``ST_Subdivide``).

    Filled on PostgreSQL only, where ``storage.spatial`` answers point queries from it: small
    pieces make ``ST_Covers`` cheap. Empty on SQLite (the in-memory index answers there).
    """

    __tablename__ = "unit_pieces"
    __table_args__ = (Index("ix_pieces_set", "set_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    geom: Mapped[BaseGeometry] = mapped_column(GeometryColumn("GEOMETRY"))


class StationSet(Base):
    """A versioned set of police stations (same life cycle as boundary sets)."""

    __tablename__ = "station_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    source: Mapped[str] = mapped_column(String(40), default="upload")
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    has_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="system")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(120))


class Station(Base):
    """A police station point."""

    __tablename__ = "stations"
    __table_args__ = (UniqueConstraint("set_id", "code", name="uq_station_set_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("station_sets.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(60))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[BaseGeometry] = mapped_column(GeometryColumn("POINT"))


class AppState(Base):
    """Single row (id = 1): what is published now. ``generation`` grows with every publish,
    so that every worker and host notices a change with one cheap query."""

    __tablename__ = "app_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    boundary_set_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_sets.id"))
    station_set_id: Mapped[int | None] = mapped_column(ForeignKey("station_sets.id"))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="cli")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(Base):
    """A person who logs in to the pages (password hashed with argon2)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    """A page login kept on the server: the cookie carries a random key, this row its SHA-256.

    Logout, disabling the user and a role change set ``revoked_at``; every request reads the
    row (and its user), so the change takes effect on the next request.
    """

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_user", "user_id"), Index("ix_login_sessions_revoked", "revoked_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Append-only record of every admin action and every incident change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))


class Incident(Base):
    """One call (complaint) with its location answer and its assigned unit."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status", "status"),
        Index("ix_incidents_reported", "reported_at"),
        Index("ix_incidents_polres", "polres_code"),
        Index("ix_incidents_unit", "unit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="belum_ditangani")
    version: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_utc_offset_min: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw_location: Mapped[dict[str, Any]] = mapped_column(JSON)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)  # the locate answer at creation
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[BaseGeometry | None] = mapped_column(GeometryColumn("POINT"), nullable=True)
    boundary_set_id: Mapped[int | None] = mapped_column(Integer)
    polda_code: Mapped[str | None] = mapped_column(String(40))
    polres_code: Mapped[str | None] = mapped_column(String(40))
    polsek_code: Mapped[str | None] = mapped_column(String(40))
    unit_code: Mapped[str | None] = mapped_column(String(40))  # the responsible (finest) unit now
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentEvent(Base):
    """One change of an incident: creation, status change, reassignment or note. Never updated."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_events_incident", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # created | status | reassign | note | location
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    from_unit: Mapped[str | None] = mapped_column(String(40))
    to_unit: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class OfficerLink(Base):
    """A signed, expiring link for one point; revocable by its ``jti``."""

    __tablename__ = "officer_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class LocationRequest(Base):
    """A request to a caller's phone for its position (issue 15): one signed, expiring, single-use link.

    ``link_id`` is the random half of the link; the other half is an HMAC of it with the service
    secret, never stored, so the table alone cannot forge a link. ``status`` is ``waiting`` until
    the first accepted answer (``received``); ``denied`` records that the caller refused the
    browser's location permission and may still answer with a pin or a typed place.
    """

    __tablename__ = "location_requests"
    __table_args__ = (Index("ix_location_requests_incident", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    link_id: Mapped[str] = mapped_column(String(24), unique=True)
    short_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="waiting")  # waiting | denied | received
    lang: Mapped[str] = mapped_column(String(5), default="id")
    phone: Mapped[str | None] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    denied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the phone sent
    answer_sha256: Mapped[str | None] = mapped_column(String(64))  # makes a retried answer idempotent
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the locate answer of that position
class Place(Base):
    """A named place of the gazetteer (desa/kelurahan, kecamatan, kabupaten/kota, provinsi).

    ``parents`` is a list of ``[kind, code, name]``, nearest first; ``lon``/``lat`` a point inside
    the place and ``radius_m`` the radius of a circle of the same geodesic area.
    """

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("code", name="uq_places_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(120))
    parents: Mapped[list[Any]] = mapped_column(JSON)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
def _c_collated(length: int) -> Any:
    """A string column compared bytewise on PostgreSQL (migration 0016: under ``C.UTF-8`` PostgreSQL 15 calls
    ``strcoll`` for every index comparison, which doubled the cost of the call import's index writes)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Call(Base):
    """One call to the 110 line (call-center record, issue 16), keyed by its ``call_id`` (an import updates).

    Times are :class:`UTCEpochMicros` (integers on SQLite, migration 0016).
    ``first_unit`` is ``routed_to[0]``, the line the call rang first (the call counts for that
    unit and every unit above it); ``answer_s`` is the whole seconds from ring to answer. The key is the
    only index (migration 0017: each index cost the bulk import more than the reports gained from it).
    """

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(_c_collated(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCEpochMicros)
    answered_at: Mapped[datetime | None] = mapped_column(UTCEpochMicros)
    ended_at: Mapped[datetime] = mapped_column(UTCEpochMicros)
    answer_s: Mapped[int | None] = mapped_column(Integer)
    answered_by: Mapped[str | None] = mapped_column(_c_collated(40))
    routed_to: Mapped[str] = mapped_column(String(400))  # unit codes in ring order, ';'-separated
    first_unit: Mapped[str] = mapped_column(_c_collated(40))
    rang_count: Mapped[int] = mapped_column(Integer, default=1)
    caller_unit: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(_c_collated(20))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCEpochMicros, default=utcnow)


class IncidentMilestone(Base):
    """A response milestone of an incident (who, when, where the phone was); first one of a kind counts.

    ``idempotency_key`` makes a retried tap from a flaky connection land once.
    """

    __tablename__ = "incident_milestones"
    __table_args__ = (UniqueConstraint("incident_id", "kind", name="uq_milestone_incident_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # dispatched | acknowledged | en_route | on_scene | done
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
