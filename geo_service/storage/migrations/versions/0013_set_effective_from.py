"""boundary sets carry the day they take effect (dated sets, "at" lookups, scheduled sets)

Revision ID: 0013
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo_service.storage.types import UTCDateTime

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("boundary_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_from", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_boundary_sets_effective_from", ["effective_from"])


def downgrade() -> None:
    with op.batch_alter_table("boundary_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_boundary_sets_effective_from")
        batch_op.drop_column("effective_from")
