"""Calls keyed by ``call_id`` alone: one index to write per imported call (issue 16)

The import of 1M calls was bounded by the database's index writes: with the serial key, the unique
``call_id`` and the covering report index (0015), ``INSERT .. SELECT`` of 1M stored calls into an empty copy
of the table took 2.8x ``read_csv`` of their file on SQLite and 8.4x on PostgreSQL, before any reading or
checking. Measured on this machine, PostgreSQL ``COPY`` of the 1M rows: serial key + unique ``call_id``
2.8 s, ``call_id`` as the only key 1.8 s, no key 0.8 s.

* ``call_id`` becomes the primary key; the surrogate ``id`` goes (nothing referenced it; SQLite keeps its
  implicit rowid, which the import uses to count the rows it created).
* ``ix_calls_report`` goes: the reports scan the table. PostgreSQL already did (its planner preferred a
  sequential scan with a hash aggregate for a national month); on SQLite a national month of 1M calls
  groups in about 1 s without it, inside the report's 2 s goal.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ("call_id, started_at, answered_at, ended_at, answer_s, answered_by, routed_to, first_unit, rang_count, "
           "caller_unit, outcome, incident_id, demo, updated_at")
REPORT_INDEX = ("first_unit", "answered_by", "answer_s", "started_at", "rang_count", "outcome")


def _sqlite_table(name: str, *, with_id: bool) -> None:
    key: list[sa.schema.SchemaItem] = (
        [sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("call_id")] if with_id
        else [sa.PrimaryKeyConstraint("call_id")])
    op.create_table(
        name,
        *([sa.Column("id", sa.Integer(), nullable=False)] if with_id else []),
        sa.Column("call_id", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("answered_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=False),
        sa.Column("answer_s", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.String(length=40), nullable=True),
        sa.Column("routed_to", sa.String(length=400), nullable=False),
        sa.Column("first_unit", sa.String(length=40), nullable=False),
        sa.Column("rang_count", sa.Integer(), nullable=False),
        sa.Column("caller_unit", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        *key,
    )


def _sqlite_rebuild(*, with_id: bool) -> None:
    # SQLite cannot change a table's key: a new table, the rows copied in their old order, the old one dropped.
    _sqlite_table("calls_new", with_id=with_id)
    order = "rowid" if with_id else "id"  # the old table's insertion order
    op.execute(f"INSERT INTO calls_new ({COLUMNS}) SELECT {COLUMNS} FROM calls ORDER BY {order}")
    op.drop_table("calls")
    op.rename_table("calls_new", "calls")


def upgrade() -> None:
    op.drop_index("ix_calls_report", table_name="calls")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE calls DROP CONSTRAINT calls_pkey, DROP CONSTRAINT calls_call_id_key, DROP COLUMN id, "
                   "ADD CONSTRAINT calls_pkey PRIMARY KEY (call_id)")
        return
    _sqlite_rebuild(with_id=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE calls DROP CONSTRAINT calls_pkey, ADD COLUMN id serial, "
                   "ADD CONSTRAINT calls_call_id_key UNIQUE (call_id)")
        op.execute("ALTER TABLE calls ADD CONSTRAINT calls_pkey PRIMARY KEY (id)")
    else:
        _sqlite_rebuild(with_id=True)
    op.create_index("ix_calls_report", "calls", list(REPORT_INDEX))
