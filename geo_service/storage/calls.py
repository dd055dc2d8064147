"""Queries and bulk writes on the 110 call records and the incident milestones (issue 16).

Reports aggregate in SQL: one ``GROUP BY`` over the period's calls returns a few rows per (report child,
answering child, answer second) with conditional sums per outcome; ``services.calls`` adds those groups up.
No loop over call rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, case, column, delete, func, select, true, values
from sqlalchemy.orm import Session

from geo_service.storage.models import Call, Incident, IncidentMilestone
from geo_service.storage.types import UTCDateTime

#: Columns a re-import overwrites (everything but the key and the surrogate id).
CALL_COLUMNS = ("started_at", "answered_at", "ended_at", "answer_s", "answered_by", "routed_to", "first_unit",
                "rang_count", "caller_unit", "outcome", "incident_id", "demo", "updated_at")
UPSERT_CHUNK = 5000  # call ids per IN (...) lookup
ANSWER_THRESHOLDS_S = (10, 15, 20)


def existing_call_ids(session: Session, call_ids: Sequence[str]) -> set[str]:
    """The subset of ``call_ids`` already stored."""
    return set(stored_first_units(session, call_ids))


def stored_first_units(session: Session, call_ids: Sequence[str]) -> dict[str, str]:
    """``call_id -> first_unit`` of the ``call_ids`` already stored."""
    found: dict[str, str] = {}
    for i in range(0, len(call_ids), UPSERT_CHUNK):
        chunk = list(call_ids[i:i + UPSERT_CHUNK])
        for call_id, first_unit in session.execute(select(Call.call_id, Call.first_unit)
                                                   .where(Call.call_id.in_(chunk))):
            found[call_id] = first_unit
    return found


def upsert_calls(session: Session, frame: pd.DataFrame) -> None:
    """Insert or update (by ``call_id``) the validated rows of ``frame`` in the caller's transaction.

    ``frame`` has the columns ``call_id`` and :data:`CALL_COLUMNS` (datetimes tz-aware). Bulk paths:
    PostgreSQL ``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``; SQLite one
    ``executemany`` of ``INSERT ... ON CONFLICT`` with the datetimes already in SQLAlchemy's storage format.
    """
    if frame.empty:
        return
    conn = session.connection()
    cols = ["call_id", *CALL_COLUMNS]
    updates = ", ".join(f"{c} = excluded.{c}" for c in CALL_COLUMNS)
    postgres = conn.dialect.name == "postgresql"
    columns: list[list[Any]] = []
    for col in cols:
        series = frame[col]
        if col in ("started_at", "answered_at", "ended_at", "updated_at"):
            series = _stamps(series, suffix="+00" if postgres else "")
        elif col in ("answer_s", "rang_count", "incident_id"):
            series = series.astype("Int64")
        columns.append(series.astype(object).where(series.notna(), None).tolist())
    rows = list(zip(*columns, strict=True))
    if postgres:
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS calls_in ON COMMIT DROP AS "
                             f"SELECT {', '.join(cols)} FROM calls WITH NO DATA")
        conn.exec_driver_sql("TRUNCATE calls_in")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY calls_in ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.exec_driver_sql(f"INSERT INTO calls ({', '.join(cols)}) SELECT {', '.join(cols)} FROM calls_in "
                             f"ON CONFLICT (call_id) DO UPDATE SET {updates}")
    else:
        marks = ", ".join("?" * len(cols))
        conn.exec_driver_sql(f"INSERT INTO calls ({', '.join(cols)}) VALUES ({marks}) "
                             f"ON CONFLICT (call_id) DO UPDATE SET {updates}", rows)


def _stamps(series: pd.Series, *, suffix: str) -> pd.Series:
    """UTC datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's SQLite storage format) + ``suffix``,
    formatted by numpy in C (``strftime`` runs per value); missing values stay missing."""
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text = np.char.add(np.char.replace(np.datetime_as_string(utc, unit="us"), "T", " "), suffix)
    return pd.Series(text, index=series.index, dtype=object).where(series.notna())


def delete_demo_calls(session: Session) -> int:
    """Delete the demo calls only; returns how many."""
    result = session.execute(delete(Call).where(Call.demo == true()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _period(start: datetime, end: datetime, first_units: Iterable[str] | None) -> list[Any]:
    cond: list[Any] = [Call.started_at >= start, Call.started_at < end]
    if first_units is not None:
        cond.append(Call.first_unit.in_(sorted(first_units)))
    return cond


def call_groups(session: Session, start: datetime, end: datetime, outcomes: Sequence[str],
                buckets: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """``(first bucket, answering bucket, answered, answer_s, calls, overflowed, *per outcome)`` groups of the
    calls that started in ``[start, end)`` and rang a unit of ``buckets`` first, in one scan.

    ``buckets`` maps every unit code of the report's subtree to the row it rolls up to (a child of the
    report unit, or the unit itself); the answering bucket is NULL when nobody or a unit outside the subtree
    answered (``answered`` tells which). Outcome counts are conditional sums and ``answer_s`` (whole seconds)
    is part of the key, so medians and the shares within 10/15/20 s come from the same groups; the group
    count grows with children x answer seconds, not with calls.
    """
    def count_if(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    if session.get_bind().dialect.name != "postgresql":
        # SQLite joins a VALUES CTE row by row (no index): group by the unit codes in SQL instead and
        # map the (few thousand) groups to their buckets here.
        stmt = (select(Call.first_unit, Call.answered_by, Call.answer_s, func.count(),
                       count_if(Call.rang_count > 1), *(count_if(Call.outcome == o) for o in outcomes))
                .where(Call.started_at >= start, Call.started_at < end, Call.first_unit.in_(sorted(buckets)))
                .group_by(Call.first_unit, Call.answered_by, Call.answer_s))
        return [(buckets[first], buckets.get(by) if by else None, 1 if by else 0, *rest)
                for first, by, *rest in session.execute(stmt).all()]
    # A CTE of literal (code, bucket) rows: SQLite has no column list on a VALUES alias, and literals keep
    # a national set (~8,000 units) clear of the bind-parameter limit.
    bucket_map = values(column("code", String), column("bucket", String), name="bucket_values",
                        literal_binds=True).data(sorted(buckets.items())).cte("bucket_map")
    first_map = bucket_map.alias("first_map")
    answer_map = bucket_map.alias("answer_map")
    answered = case((Call.answered_by.is_not(None), 1), else_=0)
    stmt = (select(first_map.c.bucket, answer_map.c.bucket, answered, Call.answer_s, func.count(),
                   count_if(Call.rang_count > 1), *(count_if(Call.outcome == o) for o in outcomes))
            .select_from(Call)
            .join(first_map, first_map.c.code == Call.first_unit)
            .outerjoin(answer_map, answer_map.c.code == Call.answered_by)
            .where(Call.started_at >= start, Call.started_at < end)
            .group_by(first_map.c.bucket, answer_map.c.bucket, answered, Call.answer_s))
    return [tuple(r) for r in session.execute(stmt).all()]  # counts and sums of a group are never NULL


def daily_call_counts(session: Session, start: datetime, end: datetime, first_units: Iterable[str] | None,
                      offset_h: int) -> list[tuple[str, int, int]]:
    """``(local day, offered, answered anywhere)`` per day of the period at a fixed UTC offset (for the trend)."""
    day = _local_day_expr(session, offset_h)
    answered = func.sum(case((Call.answered_by.is_not(None), 1), else_=0))
    stmt = (select(day, func.count(), answered).where(*_period(start, end, first_units))
            .group_by(day).order_by(day))
    return [(str(r[0]), int(r[1]), int(r[2] or 0)) for r in session.execute(stmt)]


def _local_day_expr(session: Session, offset_h: int) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("UTC", Call.started_at) + func.make_interval(0, 0, 0, 0, offset_h)
        return func.to_char(local, "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", Call.started_at, f"{offset_h:+d} hours")


def incident_response_rows(session: Session, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """``(id, unit_code, polda, polres, polsek, status, reported_at, dispatched_at, on_scene_at, location)``
    of the incidents reported in ``[start, end)``; milestone times are the first of each kind."""
    ms = (select(IncidentMilestone.incident_id,
                 func.min(case((IncidentMilestone.kind == "dispatched", IncidentMilestone.at))).label("dispatched"),
                 func.min(case((IncidentMilestone.kind == "on_scene", IncidentMilestone.at))).label("on_scene"))
          .group_by(IncidentMilestone.incident_id).subquery())
    stmt = (select(Incident.id, Incident.unit_code, Incident.polda_code, Incident.polres_code, Incident.polsek_code,
                   Incident.status, Incident.reported_at, ms.c.dispatched, ms.c.on_scene, Incident.location)
            .outerjoin(ms, ms.c.incident_id == Incident.id)
            .where(Incident.reported_at >= start, Incident.reported_at < end)
            .order_by(Incident.id))
    conv = UTCDateTime().process_result_value
    dialect = session.get_bind().dialect
    out = []
    for r in session.execute(stmt):
        # MIN() over a CASE loses the column type: convert like the column would.
        dispatched = _as_utc(r[7], conv, dialect)
        on_scene = _as_utc(r[8], conv, dialect)
        out.append((r[0], r[1], r[2], r[3], r[4], r[5], r[6], dispatched, on_scene, r[9]))
    return out


def _as_utc(value: Any, conv: Any, dialect: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return conv(value, dialect)


def list_milestones(session: Session, incident_id: int) -> list[IncidentMilestone]:
    """The incident's milestones, in time order."""
    return list(session.execute(
        select(IncidentMilestone).where(IncidentMilestone.incident_id == incident_id)
        .order_by(IncidentMilestone.at, IncidentMilestone.id)).scalars())


def find_milestone(session: Session, incident_id: int, kind: str, key: str | None) -> IncidentMilestone | None:
    """The milestone with this idempotency key, else the incident's milestone of this kind."""
    if key:
        row = session.execute(select(IncidentMilestone).where(IncidentMilestone.idempotency_key == key)
                              ).scalar_one_or_none()
        if row is not None:
            return row
    return session.execute(select(IncidentMilestone).where(IncidentMilestone.incident_id == incident_id,
                                                           IncidentMilestone.kind == kind)).scalar_one_or_none()


def calls_of_incident(session: Session, incident_id: int) -> list[Call]:
    """The call records linked to an incident, oldest first."""
    return list(session.execute(select(Call).where(Call.incident_id == incident_id)
                                .order_by(Call.started_at, Call.id)).scalars())
