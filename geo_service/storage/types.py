"""Column types that work on PostGIS and on the embedded SQLite default.

* :class:`GeometryColumn`: a real PostGIS ``geometry(<type>, 4326)`` on PostgreSQL; WKB bytes on
  SQLite (no extension needed; spatial questions there are answered by the in-memory index).
  Python side: always a shapely geometry.
* :class:`UTCDateTime`: timezone-aware UTC datetimes on both (SQLite keeps no offset).
* :class:`UTCEpochMicros`: the same on PostgreSQL (``timestamptz``); on SQLite an integer count of
  microseconds since 1970-01-01 UTC, for tables written in bulk (the 110 calls).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class GeometryColumn(TypeDecorator[BaseGeometry]):
    """Shapely geometry in EPSG:4326; PostGIS geometry or SQLite WKB."""

    impl = LargeBinary
    cache_ok = True
    # Attributes GeoAlchemy2's DDL events read: no automatic index (the migration makes a named GiST).
    spatial_index = False
    use_N_D_index = False
    use_typmod = None
    srid = 4326
    dimension = 2
    nullable = True

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # GeoAlchemy2's DDL events probe with dialect=None: answer with the plain storage type.
        if dialect is not None and dialect.name == "postgresql":
            # spatial_index=False: the GiST index is created by the migration, named and explicit.
            return dialect.type_descriptor(Geometry(self.geometry_type, srid=4326, spatial_index=False))
        return LargeBinary() if dialect is None else dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return WKBElement(shapely.to_wkb(value, include_srid=False), srid=4326, extended=False)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return to_shape(value)
        return shapely.from_wkb(bytes(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class UTCEpochMicros(TypeDecorator[datetime]):
    """A datetime stored in UTC and returned timezone-aware: ``timestamptz`` on PostgreSQL, on SQLite the
    integer microseconds since 1970-01-01 UTC (exact, sorts like the time).

    For tables imported in bulk (migration 0016): a bulk writer computes the integers for a whole column with
    numpy instead of formatting text per value, and an 8-byte integer index key replaces 26 bytes of text.
    Write bulk values with :func:`epoch_micros` semantics (``datetime64[us]`` viewed as int64).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return epoch_micros(value) if dialect.name == "sqlite" else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return EPOCH_UTC + value * _MICROSECOND
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch_micros(value: datetime) -> int:
    """Whole microseconds from 1970-01-01 UTC to the timezone-aware ``value`` (exact integer arithmetic)."""
    return (value - EPOCH_UTC) // _MICROSECOND


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)
