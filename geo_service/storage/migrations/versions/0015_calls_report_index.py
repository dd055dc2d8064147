"""Calls: one covering index for the Anev report in place of (first_unit, started_at) (issue 16)

The national monthly report groups a month of calls by (first unit, answering unit, answer second).
With the rows already in that order in an index that also holds ``started_at``, ``rang_count`` and
``outcome``, SQLite answers from the index alone without sorting (1M calls: 0.8 s instead of 2.8 s,
same run); a Polda's report seeks its units in the same index.

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

REPORT_COLUMNS = ["first_unit", "answered_by", "answer_s", "started_at", "rang_count", "outcome"]


def upgrade() -> None:
    op.drop_index("ix_calls_first_unit", table_name="calls")
    op.create_index("ix_calls_report", "calls", REPORT_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_calls_report", table_name="calls")
    op.create_index("ix_calls_first_unit", "calls", ["first_unit", "started_at"])
