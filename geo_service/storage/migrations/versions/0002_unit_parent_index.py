"""index units by (set_id, parent_code) for hierarchy and leaf queries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_units_set_parent", "jurisdiction_units", ["set_id", "parent_code"])


def downgrade() -> None:
    op.drop_index("ix_units_set_parent", table_name="jurisdiction_units")
