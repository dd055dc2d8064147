"""leaf units split into small pieces (PostGIS ST_Subdivide) for fast ST_Covers in SQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo_service.storage.types import GeometryColumn

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_pieces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("geom", GeometryColumn("GEOMETRY"), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["boundary_sets.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pieces_set", "unit_pieces", ["set_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_index("ix_pieces_geom", "unit_pieces", ["geom"], postgresql_using="gist")
        # Sets stored before this revision get their pieces now.
        op.execute(
            "INSERT INTO unit_pieces (set_id, code, geom) "
            "SELECT u.set_id, u.code, ST_Subdivide(u.geom, 128) FROM jurisdiction_units u "
            "WHERE NOT EXISTS (SELECT 1 FROM jurisdiction_units c WHERE c.set_id = u.set_id AND c.parent_code = u.code)"
        )


def downgrade() -> None:
    op.drop_table("unit_pieces")
