"""Migration 0016 (calls for the bulk import) carries stored calls over and back on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from geo_service.storage import db
from geo_service.storage.models import Call
from tests.conftest import create_pg_database, drop_pg_database

COLUMNS = ("call_id, started_at, answered_at, ended_at, answer_s, answered_by, routed_to, first_unit, rang_count, "
           "caller_unit, outcome, incident_id, demo, updated_at")
# (call_id, started_at, answered_at, ended_at, updated_at) as 0015 stored them: SQLAlchemy's UTC text on SQLite.
ROWS = [
    ("m-1", "2033-03-01 01:02:03.000000", "2033-03-01 01:02:10.250000", "2033-03-01 01:05:00.000000",
     "2033-03-02 00:00:00.123456"),
    ("m-2", "1999-12-31 23:59:59.999999", None, "2000-01-01 00:00:30.000001", "2033-03-02 00:00:00.000000"),
]


def _utc(stamp: str | None) -> datetime | None:
    return None if stamp is None else datetime.fromisoformat(stamp).replace(tzinfo=UTC)


@pytest.fixture()
def engine_at_0015(backend: str, tmp_path: Path) -> Iterator[Any]:
    url = create_pg_database() if backend == "postgis" else f"sqlite:///{tmp_path}/m.sqlite3"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), "0015")
        for call_id, started, answered, ended, updated in ROWS:
            suffix = "+00" if backend == "postgis" else ""
            conn.execute(text(f"INSERT INTO calls ({COLUMNS}) VALUES (:id, :s, :a, :e, 7, NULL, 'MABES', 'MABES', "
                              f"1, NULL, 'abandoned', NULL, false, :u)"),
                         {"id": call_id, "s": started + suffix, "a": answered and answered + suffix,
                          "e": ended + suffix, "u": updated + suffix})
    yield engine
    engine.dispose()
    if backend == "postgis":
        drop_pg_database(url)


def _migrate(engine: Any, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(db._alembic_config(conn), revision)


def test_0016_keeps_every_stored_time_exactly_and_downgrades(engine_at_0015: Any, backend: str) -> None:
    engine = engine_at_0015
    _migrate(engine, "0016")
    with engine.connect() as conn:
        calls = {c.call_id: c for c in conn.execute(select(Call)).all()}
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("calls")}
        raw = conn.exec_driver_sql("SELECT started_at, answered_at FROM calls ORDER BY call_id").all()
    assert set(calls) == {"m-1", "m-2"}
    for call_id, started, answered, ended, updated in ROWS:
        call = calls[call_id]
        assert (call.started_at, call.answered_at, call.ended_at, call.updated_at) == \
            (_utc(started), _utc(answered), _utc(ended), _utc(updated))
    assert "ix_calls_started" not in indexes and "ix_calls_report" in indexes
    if backend == "sqlite":
        # microseconds since 1970 UTC
        assert raw == [(1993251723000000, 1993251730250000), (946684799999999, None)]
    else:
        with engine.connect() as conn:
            collations = dict(conn.execute(text(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_name = 'calls' AND collation_name IS NOT NULL")).all())
        assert {collations[c] for c in ("call_id", "first_unit", "answered_by", "outcome")} == {"C"}

    _migrate(engine, "0015", down=True)
    with engine.connect() as conn:
        back = conn.exec_driver_sql("SELECT call_id, started_at, answered_at, ended_at, updated_at FROM calls "
                                    "ORDER BY call_id").all()
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("calls")}
    assert "ix_calls_started" in indexes
    if backend == "sqlite":
        assert [tuple(r) for r in back] == ROWS  # the very text 0015 wrote
    else:
        assert [(r[0], *r[1:]) for r in back] == [
            (c, _utc(s), _utc(a), _utc(e), _utc(u)) for c, s, a, e, u in ROWS]


def test_0017_keys_calls_by_call_id_and_downgrades(engine_at_0015: Any, backend: str) -> None:
    engine = engine_at_0015
    _migrate(engine, "0016")
    with engine.connect() as conn:
        before = conn.exec_driver_sql(f"SELECT {COLUMNS} FROM calls ORDER BY call_id").all()
    _migrate(engine, "0017")
    with engine.connect() as conn:
        after = conn.exec_driver_sql(f"SELECT {COLUMNS} FROM calls ORDER BY call_id").all()
        insp = inspect(conn)
        key = insp.get_pk_constraint("calls")["constrained_columns"]
        columns = {c["name"] for c in insp.get_columns("calls")}
        indexes = {ix["name"] for ix in insp.get_indexes("calls")}
    assert after == before and len(after) == 2
    assert key == ["call_id"] and "id" not in columns and "ix_calls_report" not in indexes
    with engine.begin() as conn, pytest.raises(Exception, match="(?i)unique|duplicate"):
        conn.exec_driver_sql(f"INSERT INTO calls ({COLUMNS}) SELECT {COLUMNS} FROM calls WHERE call_id = 'm-1'")

    _migrate(engine, "0016", down=True)
    with engine.connect() as conn:
        back = conn.exec_driver_sql(f"SELECT {COLUMNS} FROM calls ORDER BY call_id").all()
        ids = conn.exec_driver_sql("SELECT id FROM calls ORDER BY id").scalars().all()
        insp = inspect(conn)
        indexes = {ix["name"] for ix in insp.get_indexes("calls")}
        key = insp.get_pk_constraint("calls")["constrained_columns"]
    assert back == before and ids == [1, 2] and key == ["id"] and "ix_calls_report" in indexes
    _migrate(engine, "0017")
