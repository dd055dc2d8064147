"""Calls: fewer, smaller and cheaper index writes for the bulk import (issue 16)

* ``ix_calls_started`` goes: the reports read the covering ``ix_calls_report`` (0015), which holds
  ``started_at`` too; the national report already stayed off the ``started_at`` index on SQLite
  (fetching a month row by row through it cost 2.3 s for 1M calls against 0.8 s for the covering
  index). Every imported call wrote one random entry into it (about a third of SQLite's insert work).
* SQLite: the four times become integers, microseconds since 1970-01-01 UTC (``UTCEpochMicros``), in
  place of 26 characters of text each: the import computes them for a whole column with numpy instead
  of formatting text, and the report index key shrinks. Existing rows are converted exactly
  (SQLAlchemy's stored text ``YYYY-MM-DD HH:MM:SS.ffffff`` -> seconds * 10^6 + microseconds) and back.
* PostgreSQL: the indexed text columns use the "C" collation. The databases here are ``C.UTF-8``,
  which PostgreSQL 15 compares with the C library's ``strcoll``, not ``memcmp``: the unique
  ``call_id`` index and the report index cost about 2x more per insert than with "C" (200,000 rows
  copied into an indexed copy of ``calls``: 4.2 s against 2.6 s, same run). Equality is the same
  (deterministic collations compare bytes for equality); only the order of unit codes could differ,
  and no figure depends on it (rankings break ties by code in Python). Times stay ``timestamptz``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: PostgreSQL columns switched to the "C" collation, with their lengths.
C_COLLATED = {"call_id": 80, "first_unit": 40, "answered_by": 40, "outcome": 20}
TIMES = ("started_at", "answered_at", "ended_at", "updated_at")


def _text_to_micros(column: str) -> str:
    # Seconds from the first 19 characters only (strftime('%s') rounds a fraction, 23:59:59.9999 -> the next
    # day), UTC as the text carries no offset; characters 21-26 are the microseconds (CAST('' AS INTEGER) is 0
    # for a text written without them).
    return (f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr({column}, 21, 6) AS INTEGER)")


def _micros_to_text(column: str) -> str:
    return f"strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch') || printf('.%06d', {column} % 1000000)"


def _set_time_type(time_type: sa.types.TypeEngine, existing: sa.types.TypeEngine) -> None:
    # SQLite cannot change a column's type: batch mode copies the table (indexes included) into a new one.
    with op.batch_alter_table("calls") as batch:
        for column in TIMES:
            batch.alter_column(column, type_=time_type, existing_type=existing,
                               existing_nullable=column == "answered_at")


def _convert_times(convert: Callable[[str], str]) -> None:
    op.execute("UPDATE calls SET " + ", ".join(f"{c} = {convert(c)}" for c in TIMES))


def _collate(collation: str) -> None:
    # One ALTER TABLE: the indexes on these columns are rebuilt once.
    op.execute("ALTER TABLE calls " + ", ".join(f'ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"'
                                                for column, length in C_COLLATED.items()))


def upgrade() -> None:
    op.drop_index("ix_calls_started", table_name="calls")
    if op.get_bind().dialect.name == "postgresql":
        _collate("C")
        return
    # SQLite stores any value in any column: the integers are written in place first, then the declared
    # type follows (the copy's CAST to BIGINT keeps them).
    _convert_times(_text_to_micros)
    _set_time_type(sa.BigInteger(), sa.DateTime(timezone=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _collate("default")
    else:
        _set_time_type(sa.DateTime(timezone=True), sa.BigInteger())
        _convert_times(_micros_to_text)
    op.create_index("ix_calls_started", "calls", ["started_at"])
