"""Queries of the gazetteer table ``places`` (both backends).

Loading is a bulk operation: ``COPY ... FROM STDIN`` on PostgreSQL, one ``executemany`` on
SQLite; ~91,000 rows take about a second on either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from geo_service.geo.gazetteer import Place
from geo_service.storage.models import Place as PlaceRow

_COLUMNS = ("code", "kind", "name", "parents", "lon", "lat", "radius_m")


def count_places(session: Session) -> int:
    """Number of places stored."""
    return int(session.execute(select(func.count()).select_from(PlaceRow)).scalar_one())


def replace_places(session: Session, places: Sequence[Place]) -> int:
    """Delete every stored place and insert ``places`` in bulk (inside the caller's transaction)."""
    session.execute(delete(PlaceRow))
    rows = [(p.code, p.kind, p.name, [list(t) for t in p.parents], p.lon, p.lat, p.radius_m) for p in places]
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY places ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:3], json.dumps(row[3], ensure_ascii=False), *row[4:]))
    else:
        # One executemany on the DB-API cursor: the ORM's per-row bookkeeping would triple the time.
        cur = session.connection().connection.driver_connection.cursor()
        cur.executemany(f"INSERT INTO places ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                        [(*row[:3], json.dumps(row[3], ensure_ascii=False), *row[4:]) for row in rows])
    return len(rows)


def load_places(session: Session) -> list[Place]:
    """Every stored place, in code order."""
    result = session.execute(
        select(PlaceRow.kind, PlaceRow.code, PlaceRow.name, PlaceRow.parents, PlaceRow.lon, PlaceRow.lat,
               PlaceRow.radius_m).order_by(PlaceRow.code)
    )
    return [Place(kind, code, name, tuple(tuple(p) for p in parents), lon, lat, radius_m)
            for kind, code, name, parents, lon, lat, radius_m in result]
