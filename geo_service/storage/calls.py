"""Queries and bulk writes on the 110 call records and the incident milestones (issue 16).

Reports aggregate in SQL: one ``GROUP BY`` over the period's calls returns a row per (first unit, answering
unit, answer second) with conditional sums per outcome; those rows are merged per (report child, answering
child, answer second) here and ``services.calls`` adds them up. No loop over call rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import BigInteger, case, delete, func, select, text, true, type_coerce
from sqlalchemy.orm import Session

from geo_service.storage.db import SQLITE_STAGE_SCHEMA
from geo_service.storage.models import Call, Incident, IncidentMilestone
from geo_service.storage.types import UTCDateTime

#: Columns a re-import overwrites (everything but the key and the surrogate id).
CALL_COLUMNS = ("started_at", "answered_at", "ended_at", "answer_s", "answered_by", "routed_to", "first_unit",
                "rang_count", "caller_unit", "outcome", "incident_id", "demo", "updated_at")
UPSERT_CHUNK = 5000  # call ids per IN (...) lookup
_TIME_COLUMNS = frozenset({"started_at", "answered_at", "ended_at", "updated_at"})
_INT_COLUMNS = ("answer_s", "rang_count", "incident_id")
_PG_STAGE_TYPES = {"answer_s": "integer", "rang_count": "integer", "incident_id": "integer", "demo": "boolean",
                   **{c: "bigint" for c in _TIME_COLUMNS}}
SQLITE_IMPORT_CACHE_KIB = 262_144
SQLITE_ROWS_PER_STATEMENT = 2_000
SQLITE_SORT_THREADS = 2
_PG_REPORT_WORK_MEM = "64MB"
ANSWER_THRESHOLDS_S = (10, 15, 20)
#: The columns of the SQLite stage image (services.call_rows.STAGE_COLUMNS), in record order.
STAGE_COLUMNS = ("call_id", "started_at", "answered_at", "ended_at", "answer_s", "answered_by", "routed_to",
                 "first_unit", "rang_count", "caller_unit", "outcome", "incident_id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


@dataclass
class CallRows:
    """Checked calls for one bulk write, as the backend takes them fastest (see :func:`bulk_format`):
    binary ``COPY`` data for PostgreSQL (``copy_binary``), a SQLite database image holding them as table
    ``calls_in`` (``sqlite_image``), or per-column values (``columns``); the last two have ``call_id`` and
    :data:`CALL_COLUMNS` but ``demo``/``updated_at``, which are the same for the whole import."""

    count: int
    demo: bool
    updated_at: datetime
    columns: dict[str, list[Any]] | None = None
    copy_binary: bytes | None = None
    sqlite_image: bytes | None = None
    #: Fills one of the three above; :meth:`CallWriter.write` calls it (on the writer's thread) first.
    prepare: Callable[[], None] | None = None


def upsert_calls(session: Session, frame: pd.DataFrame) -> int:
    """Insert or update (by ``call_id``) the validated rows of ``frame`` in the caller's transaction; returns
    how many were new.

    ``frame`` has the columns ``call_id`` and :data:`CALL_COLUMNS` (datetimes tz-aware). Times travel as
    integer microseconds since 1970 UTC, computed per column by numpy (the SQLite storage format of
    :class:`UTCEpochMicros`). Bulk paths: PostgreSQL ``COPY`` into a temporary table, then one
    ``INSERT ... SELECT ... ON CONFLICT``; SQLite multi-row ``INSERT ... ON CONFLICT`` statements.
    """
    if frame.empty:
        return 0
    conn = session.connection()
    cols = ["call_id", *CALL_COLUMNS]
    values = [_column_values(frame[col], col) for col in cols]
    if conn.dialect.name == "postgresql":
        return _upsert_postgresql(conn, cols, list(zip(*values, strict=True)))
    return _upsert_sqlite(conn, cols, values, {})


class CallWriter:
    """Writes the :class:`CallRows` of one import, chunk after chunk, in the caller's transaction.

    New calls (the usual monthly file) go in with plain inserts: PostgreSQL ``COPY`` straight into ``calls``,
    SQLite multi-row ``INSERT``. The key refuses a call that is already stored (a re-import): PostgreSQL's
    ``COPY`` is undone to a savepoint, SQLite's statement is backed out by itself (its default ``ABORT``
    conflict resolution keeps the earlier statements of the transaction), and from then on every row of
    the import goes through ``INSERT ... ON CONFLICT (call_id) DO UPDATE``.
    """

    def __init__(self) -> None:
        self.conflicted = False

    def write(self, session: Session, rows: CallRows) -> int:
        """Insert or update ``rows``; returns how many were new."""
        if not rows.count:
            return 0
        if rows.prepare is not None:
            # Dropped before it runs: the closure refers to ``rows``, and the cycle would keep the chunk and its
            # image alive until the garbage collector came by (about 200 MB more per 1M calls).
            prepare, rows.prepare = rows.prepare, None
            prepare()
        conn = session.connection()
        if rows.copy_binary is not None:
            return self._copy_postgresql(conn, rows.copy_binary, rows.count)
        literals = {"demo": int(rows.demo), "updated_at": micros(rows.updated_at)}
        if rows.sqlite_image is not None:
            return self._insert_image(conn, rows.sqlite_image, literals)
        assert rows.columns is not None
        return self._insert_sqlite(conn, list(rows.columns), list(rows.columns.values()), literals)

    def _insert_image(self, conn: Any, image: bytes, literals: Mapping[str, int]) -> int:
        """``INSERT ... SELECT`` from the image, loaded as the attached stage schema: SQLite reads the rows
        without a value bound from Python (binding 1M rows of 12 values costs about as much as
        ``read_csv`` of their file)."""
        raw = conn.connection.driver_connection
        cols = ", ".join(STAGE_COLUMNS)
        names = ", ".join((*STAGE_COLUMNS, *literals))
        select = f"SELECT {cols}, {', '.join(str(int(v)) for v in literals.values())} FROM {SQLITE_STAGE_SCHEMA}.calls_in"
        raw.deserialize(image, name=SQLITE_STAGE_SCHEMA)
        cur = raw.cursor()
        try:
            with _sqlite_cache(conn):
                if not self.conflicted:
                    try:
                        cur.execute(f"INSERT INTO main.calls ({names}) {select}")
                        return int(cur.rowcount)
                    except sqlite3.IntegrityError:
                        self.conflicted = True  # the statement was backed out, the earlier ones stay
                top = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM calls").scalar_one()
                # "WHERE true": SQLite's parser would read ON CONFLICT as a join constraint of the SELECT.
                cur.execute(f"INSERT INTO main.calls ({names}) {select} WHERE true "
                            f"{_on_conflict((*STAGE_COLUMNS, *literals), 'sqlite')}")
                return int(conn.exec_driver_sql("SELECT count(*) FROM calls WHERE rowid > ?", (top,)).scalar_one())
        finally:
            cur.close()
            raw.deserialize(_empty_sqlite_image(), name=SQLITE_STAGE_SCHEMA)  # frees the chunk's image

    def _insert_sqlite(self, conn: Any, cols: list[str], values: list[list[Any]], literals: Mapping[str, int]) -> int:
        created = 0
        groups = _sqlite_groups(conn, cols, values, literals)
        cur = conn.connection.driver_connection.cursor()
        try:
            with _sqlite_cache(conn):
                for k, (rows, sql, params) in enumerate(groups):
                    if not self.conflicted:
                        try:
                            cur.execute(sql, params)
                            created += rows
                            continue
                        except sqlite3.IntegrityError:
                            self.conflicted = True  # this statement was backed out, the earlier ones stay
                    # this group (refused or not tried) and the rest
                    return created + _upsert_sqlite_groups(conn, cur, cols, literals, groups[k:])
        finally:
            cur.close()
        return created

    def _copy_postgresql(self, conn: Any, data: bytes, count: int) -> int:
        cols = ", ".join(("call_id", *CALL_COLUMNS))
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            if not self.conflicted:
                cur.execute("SAVEPOINT calls_copy")
                try:
                    with cur.copy(f"COPY calls ({cols}) FROM STDIN (FORMAT binary)") as copy:
                        copy.write(data)
                except psycopg.errors.UniqueViolation:
                    cur.execute("ROLLBACK TO SAVEPOINT calls_copy")
                    self.conflicted = True
                else:
                    cur.execute("RELEASE SAVEPOINT calls_copy")
                    return count
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS calls_copy (LIKE calls) ON COMMIT DROP")
            cur.execute("TRUNCATE calls_copy")
            with cur.copy(f"COPY calls_copy ({cols}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)
        return _insert_staged(conn, "calls_copy", ["call_id", *CALL_COLUMNS], cols)


@cache
def _empty_sqlite_image() -> bytes:
    """A one-page database with no table (``deserialize`` refuses zero bytes)."""
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("PRAGMA page_size = 512")
        conn.execute("VACUUM")
        return conn.serialize()


def bulk_format(session: Session) -> str:
    """How :class:`CallWriter` takes rows on this connection: ``"copy"`` (PostgreSQL), ``"image"`` (SQLite
    with the stage schema of :func:`geo_service.storage.db.make_engine` attached) or ``"columns"``."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return "copy"
    schemas = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
    return "image" if SQLITE_STAGE_SCHEMA in schemas else "columns"


def micros(when: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (the stored form of the call times)."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def _column_values(series: pd.Series, col: str) -> list[Any]:
    """One column as a list of plain Python values for the driver (None for missing); datetimes as integer
    microseconds since 1970-01-01 UTC. One C pass per column (``astype(object).where(...)`` per column cost
    as much as reading the file)."""
    missing = series.isna().to_numpy()
    if col in _TIME_COLUMNS:
        values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    elif col in _INT_COLUMNS:
        values = np.where(missing, 0, series.to_numpy(dtype=np.float64, na_value=0)).astype(np.int64)
    else:
        return series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[no-any-return]
    if not missing.any():
        return values.tolist()  # type: ignore[no-any-return]
    out = values.astype(object)
    out[missing] = None
    return out.tolist()  # type: ignore[no-any-return]


def _sqlite_groups(conn: Any, cols: list[str], values: list[list[Any]], literals: Mapping[str, int]
                   ) -> list[tuple[int, str, tuple[Any, ...]]]:
    """``(rows, INSERT statement, parameters)`` per group of up to :data:`SQLITE_ROWS_PER_STATEMENT` rows:
    one multi-row ``INSERT ... VALUES (..), (..)`` per group. ``executemany`` of a one-row statement spends
    more time per row (reset, step, releasing and taking the GIL) than the binding and the B-tree work
    together (1M rows: 2.2 s against 1.2 s with the unique key). ``literals``: integer values the same for
    every row, written into the statement instead of bound."""
    n, width = len(values[0]), len(cols)
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, conn.connection.driver_connection.getlimit(
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    row = "(" + ", ".join(["?"] * width + [str(int(v)) for v in literals.values()]) + ")"
    head = f"INSERT INTO calls ({', '.join((*cols, *literals))}) VALUES "
    table = np.empty((n, width), dtype=object)
    for j, column in enumerate(values):
        table[:, j] = column
    full = n - n % per
    sql = head + ", ".join([row] * per)
    groups = [(per, sql, tuple(params)) for params in table[:full].reshape(-1, per * width).tolist()]
    if n > full:
        groups.append((n - full, head + ", ".join([row] * (n - full)), tuple(table[full:].ravel().tolist())))
    return groups


@contextmanager
def _sqlite_pragma(conn: Any, name: str, value: int) -> Iterator[None]:
    """An integer PRAGMA of the connection set for the block, then back to what it was."""
    before = conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()
    conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA {name} = {int(before)}")


def _sqlite_cache(conn: Any) -> Any:
    # The key index takes random inserts: with SQLite's default 2 MB page cache much of the time goes to
    # evicting and re-reading its pages; 256 MB for the bulk statements, back to the default after.
    return _sqlite_pragma(conn, "cache_size", -SQLITE_IMPORT_CACHE_KIB)


def _upsert_sqlite_groups(conn: Any, cur: Any, cols: list[str], literals: Mapping[str, int],
                          groups: Sequence[tuple[int, str, tuple[Any, ...]]]) -> int:
    """The groups as ``INSERT ... ON CONFLICT (call_id) DO UPDATE``; returns how many rows were new."""
    # New rows get rowids above the largest one: our write transaction holds SQLite's only write lock, so
    # the rows above it after the statements are exactly the ones created here.
    top = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM calls").scalar_one()
    clause = _on_conflict((*cols, *literals), "sqlite")
    for _rows, sql, params in groups:
        cur.execute(f"{sql} {clause}", params)
    return int(conn.exec_driver_sql("SELECT count(*) FROM calls WHERE rowid > ?", (top,)).scalar_one())


def _upsert_sqlite(conn: Any, cols: list[str], values: list[list[Any]], literals: Mapping[str, int]) -> int:
    """Insert or update ``values`` (one list per column of ``cols``); returns how many rows were new."""
    cur = conn.connection.driver_connection.cursor()
    try:
        with _sqlite_cache(conn):
            return _upsert_sqlite_groups(conn, cur, cols, literals, _sqlite_groups(conn, cols, values, literals))
    finally:
        cur.close()


def _upsert_postgresql(conn: Any, cols: list[str], rows: list[tuple[Any, ...]]) -> int:
    # The temporary table's times are the integer microseconds, turned into timestamptz in the INSERT
    # (exact: the interval product is rounded to the microsecond); the COPY then formats no text.
    defs = ", ".join(f"{c} {_PG_STAGE_TYPES.get(c, 'text')}" for c in cols)
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS calls_in ({defs}) ON COMMIT DROP")
    conn.exec_driver_sql("TRUNCATE calls_in")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY calls_in ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    select = ", ".join(f"timestamptz 'epoch' + {c} * interval '1 microsecond'" if c in _TIME_COLUMNS else c
                       for c in cols)
    return _insert_staged(conn, "calls_in", cols, select)


def _on_conflict(cols: Sequence[str], dialect: str) -> str:
    """``ON CONFLICT (call_id) DO UPDATE`` of ``cols``, only where a value differs from the stored call:
    a re-import writes the calls that changed (and moves their ``updated_at``), not the month again
    (PostgreSQL wrote a new version of every row and of its key entry: 1M unchanged calls, 5.5 s)."""
    values = [c for c in cols if c not in ("call_id", "updated_at")]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "call_id")
    if dialect == "postgresql":
        changed = (f"({', '.join(f'calls.{c}' for c in values)}) IS DISTINCT FROM "
                   f"({', '.join(f'excluded.{c}' for c in values)})")
    else:
        changed = " OR ".join(f"calls.{c} IS NOT excluded.{c}" for c in values)
    return f"ON CONFLICT (call_id) DO UPDATE SET {updates} WHERE {changed}"


def _insert_staged(conn: Any, stage: str, cols: Sequence[str], select: str) -> int:
    # xmax = 0 marks a row version this statement inserted (an updated row carries our transaction id).
    return int(conn.exec_driver_sql(
        f"WITH up AS (INSERT INTO calls ({', '.join(cols)}) SELECT {select} FROM {stage} "
        f"{_on_conflict(cols, 'postgresql')} RETURNING xmax = 0 AS created) "
        f"SELECT count(*) FILTER (WHERE created) FROM up").scalar_one())


def delete_demo_calls(session: Session) -> int:
    """Delete the demo calls only; returns how many."""
    result = session.execute(delete(Call).where(Call.demo == true()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _period(start: datetime, end: datetime, first_units: Iterable[str] | None) -> list[Any]:
    """WHERE terms: started in ``[start, end)`` and, unless ``first_units`` is None, rang one of them first.

    The table's only index is its key (migration 0017): a report scans the calls (1M: 0.05 s on SQLite) and
    groups them (:func:`_grouping`).
    """
    cond: list[Any] = [Call.started_at >= start, Call.started_at < end]
    if first_units is not None:
        cond.append(Call.first_unit.in_(sorted(first_units)))
    return cond


def call_groups(session: Session, start: datetime, end: datetime, outcomes: Sequence[str],
                buckets: Mapping[str, str], *, every_unit: bool = False) -> list[tuple[Any, ...]]:
    """``(first bucket, answering bucket, answered, answer_s, calls, overflow, *per outcome)`` groups of the
    calls that started in ``[start, end)`` and rang a unit of ``buckets`` first, in one scan.

    ``buckets`` maps every unit code of the report's subtree to the row it rolls up to (a child of the
    report unit, or the unit itself); the answering bucket is NULL when nobody or a unit outside the subtree
    answered (``answered`` tells which). Outcome counts are conditional sums and ``answer_s`` (whole seconds)
    is part of the key, so medians and the shares within 10/15/20 s come from the same groups; the group
    count grows with units x answer seconds, not with calls. ``every_unit``: ``buckets`` holds the whole
    hierarchy (the national report), so no unit filter is needed in SQL.
    """
    def count_if(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    # Grouped by the unit codes themselves and mapped to the report's rows here: joining a (code -> row)
    # table in SQL costs two hash lookups per call (3.5 s for 1M calls on PostgreSQL; SQLite has no index
    # on a VALUES CTE), mapping costs one dict lookup per group.
    stmt = (select(Call.first_unit, Call.answered_by, Call.answer_s, func.count(),
                   *(count_if(Call.outcome == o) for o in outcomes))
            .where(*_period(start, end, None if every_unit else buckets))
            .group_by(Call.first_unit, Call.answered_by, Call.answer_s))
    merged: dict[tuple[Any, ...], list[int]] = {}
    # Straight from the driver's cursor: the columns need no conversion, and Row objects for ~35,000 groups
    # cost as much as the merge below.
    with _grouping(session):
        fetched = session.connection().execute(stmt).cursor.fetchall()
    for first, by, seconds, n, *by_outcome in fetched:
        if first not in buckets:
            continue  # a unit no longer in the published set (as the IN filter drops it)
        key = (buckets[first], buckets.get(by) if by else None, 1 if by else 0, seconds)
        # Overflow (the contract): answered higher up than the first unit rung. ``answered_by`` is one of
        # the route's units and the route has no repeats, so "another unit than the first" is "above it".
        counts = [n, n if by and by != first else 0, *by_outcome]
        sums = merged.get(key)
        if sums is None:
            merged[key] = counts
        else:
            for k, count in enumerate(counts):
                sums[k] += count
    return [(*key, *sums) for key, sums in merged.items()]


def daily_call_counts(session: Session, start: datetime, end: datetime, first_units: Iterable[str] | None,
                      offset_h: int) -> list[tuple[str, int, int]]:
    """``(local day, offered, answered anywhere)`` per day of the period at a fixed UTC offset (for the trend)."""
    day = _local_day_expr(session, offset_h)
    answered = func.sum(case((Call.answered_by.is_not(None), 1), else_=0))
    stmt = (select(day, func.count(), answered).where(*_period(start, end, first_units))
            .group_by(day).order_by(day))
    with _grouping(session):
        return [(str(r[0]), int(r[1]), int(r[2] or 0)) for r in session.execute(stmt).all()]


@contextmanager
def _grouping(session: Session) -> Iterator[None]:
    """Settings for a GROUP BY over a month of calls, for the statement(s) in the block.

    PostgreSQL: ~35,000 groups per national month; with the default 4 MB ``work_mem`` it sorts the month's
    calls on disk to group them (2.5 s for 1M calls), with 64 MB it hashes them (1.0 s); ``SET LOCAL``, for
    this transaction only. SQLite has no hash aggregate and sorts the calls: ``PRAGMA threads = 2`` lets its
    sorter use a helper thread (1M calls: 0.68 s against 1.17 s), set back after.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{_PG_REPORT_WORK_MEM}'"))
        yield
        return
    with _sqlite_pragma(session.connection(), "threads", SQLITE_SORT_THREADS):
        yield


def _local_day_expr(session: Session, offset_h: int) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("UTC", Call.started_at) + func.make_interval(0, 0, 0, 0, offset_h)
        return func.to_char(local, "YYYY-MM-DD")
    micros = type_coerce(Call.started_at, BigInteger)  # UTCEpochMicros: an integer on SQLite
    return func.strftime("%Y-%m-%d", micros // 1_000_000, "unixepoch", f"{offset_h:+d} hours")


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
                                .order_by(Call.started_at, Call.call_id)).scalars())
