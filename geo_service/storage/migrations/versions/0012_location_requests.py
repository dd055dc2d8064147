"""location requests: a signed, expiring, single-use link that asks a caller's phone for its position

Revision ID: 0012
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo_service.storage.types import UTCDateTime

revision = "0012"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "location_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("link_id", sa.String(length=24), nullable=False),
        sa.Column("short_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("denied_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("answer_sha256", sa.String(length=64), nullable=True),
        sa.Column("location", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("link_id"),
    )
    op.create_index("ix_location_requests_incident", "location_requests", ["incident_id"])


def downgrade() -> None:
    op.drop_table("location_requests")
