"""The jurisdiction questions answered in SQL by PostGIS (``ST_Covers`` on GiST-indexed geometries).

Same rules as the in-memory index (``geo.index``): a point belongs to the *leaf* units (units
with no children in the set) whose polygon covers it; ties go to a special-area unit
(``Polsek/Polres Kawasan ...``, ``geo.area.SPECIAL_AREA_PREFIXES``), then to the lowest code. Used by
the oracle test, the PostGIS benchmark and ``geo-service locate --engine postgis``.
Only available on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

_LEAF = (
    "NOT EXISTS (SELECT 1 FROM jurisdiction_units c WHERE c.set_id = u.set_id AND c.parent_code = u.code)"
)

# Special areas first (the same name rule as geo.area.is_special_area), then the lowest code; the
# subquery runs only on the one or two covering candidates (unique index on set_id, code).
_SPECIAL_FIRST = (
    "(EXISTS (SELECT 1 FROM jurisdiction_units j WHERE j.set_id = u.set_id AND j.code = u.code"
    " AND (j.name LIKE 'Polsek Kawasan %' OR j.name LIKE 'Polres Kawasan %'))) DESC, u.code"
)

# Point questions use unit_pieces: the leaf units cut into pieces of <= 128 vertices, so the
# GiST index finds one or two small candidates and ST_Covers stays cheap (whole kecamatan
# polygons made batch queries ~20x slower, measured).
LOCATE_ONE = text(
    f"""
    SELECT u.code FROM unit_pieces u
    WHERE u.set_id = :set_id
      AND ST_Covers(u.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY {_SPECIAL_FIRST} LIMIT 1
    """
)

LOCATE_MANY = text(
    f"""
    SELECT p.i, (
        SELECT u.code FROM unit_pieces u
        WHERE u.set_id = :set_id AND ST_Covers(u.geom, p.g)
        ORDER BY {_SPECIAL_FIRST} LIMIT 1)
    FROM (SELECT t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326) AS g
          FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, i)) p
    ORDER BY p.i
    """
)

NEAREST_ONE = text(
    f"""
    SELECT u.code, ST_Distance(u.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d
    FROM jurisdiction_units u
    WHERE u.set_id = :set_id AND {_LEAF}
    ORDER BY u.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT 8
    """
)


def locate_code_sql(session: Session, set_id: int, lon: float, lat: float) -> str | None:
    """The leaf unit code covering ``(lon, lat)``, special area then lowest code on ties; None outside."""
    return session.execute(LOCATE_ONE, {"set_id": set_id, "lon": lon, "lat": lat}).scalar_one_or_none()


def locate_codes_sql(session: Session, set_id: int, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
    """Leaf codes for many points in one statement (input order)."""
    rows = session.execute(LOCATE_MANY, {"set_id": set_id, "xs": list(map(float, lons)),
                                         "ys": list(map(float, lats))}).all()
    return [r[1] for r in rows]


def nearest_code_sql(session: Session, set_id: int, lon: float, lat: float) -> tuple[str, float] | None:
    """Nearest leaf and its geodesic distance in metres (spheroid), among the 8 nearest by bbox."""
    rows = session.execute(NEAREST_ONE, {"set_id": set_id, "lon": lon, "lat": lat}).all()
    if not rows:
        return None
    code, dist = min(rows, key=lambda r: (r[1], r[0]))
    return code, float(dist)
