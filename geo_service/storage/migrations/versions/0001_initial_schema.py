"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:49:42.104608
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo_service.storage.types import GeometryColumn, UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


GIST_INDEXES = (
    ("ix_units_geom", "jurisdiction_units"),
    ("ix_stations_geom", "stations"),
    ("ix_incidents_geom", "incidents"),
)


def upgrade() -> None:
    is_postgis = op.get_bind().dialect.name == "postgresql"
    if is_postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=True),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('last_used_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=60), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_target', ['target_type', 'target_id'], unique=False)

    op.create_table('boundary_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('base_set_id', sa.Integer(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('has_errors', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('published_at', UTCDateTime(), nullable=True),
    sa.Column('published_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('reported_at', UTCDateTime(), nullable=False),
    sa.Column('reported_utc_offset_min', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('first_action_at', UTCDateTime(), nullable=True),
    sa.Column('done_at', UTCDateTime(), nullable=True),
    sa.Column('raw_location', sa.JSON(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('geom', GeometryColumn("POINT"), nullable=True),
    sa.Column('boundary_set_id', sa.Integer(), nullable=True),
    sa.Column('polda_code', sa.String(length=40), nullable=True),
    sa.Column('polres_code', sa.String(length=40), nullable=True),
    sa.Column('polsek_code', sa.String(length=40), nullable=True),
    sa.Column('unit_code', sa.String(length=40), nullable=True),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_polres', ['polres_code'], unique=False)
        batch_op.create_index('ix_incidents_reported', ['reported_at'], unique=False)
        batch_op.create_index('ix_incidents_status', ['status'], unique=False)
        batch_op.create_index('ix_incidents_unit', ['unit_code'], unique=False)

    op.create_table('officer_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jti', sa.String(length=40), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jti')
    )
    op.create_table('station_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('has_errors', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('published_at', UTCDateTime(), nullable=True),
    sa.Column('published_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('app_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('boundary_set_id', sa.Integer(), nullable=True),
    sa.Column('station_set_id', sa.Integer(), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], ),
    sa.ForeignKeyConstraint(['station_set_id'], ['station_sets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('from_unit', sa.String(length=40), nullable=True),
    sa.Column('to_unit', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index('ix_events_incident', ['incident_id'], unique=False)

    op.create_table('jurisdiction_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=True),
    sa.Column('area_m2', sa.Float(), nullable=True),
    sa.Column('geom', GeometryColumn("MULTIPOLYGON"), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['boundary_sets.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id', 'code', name='uq_unit_set_code')
    )
    with op.batch_alter_table('jurisdiction_units', schema=None) as batch_op:
        batch_op.create_index('ix_units_set_level', ['set_id', 'level'], unique=False)

    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('sample', sa.Boolean(), nullable=False),
    sa.Column('geom', GeometryColumn("POINT"), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['station_sets.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id', 'code', name='uq_station_set_code')
    )
    if is_postgis:
        for name, table in GIST_INDEXES:
            op.create_index(name, table, ["geom"], postgresql_using="gist")
    op.execute("INSERT INTO app_state (id, generation, updated_at) VALUES (1, 0, CURRENT_TIMESTAMP)")


def downgrade() -> None:
    op.drop_table('stations')
    with op.batch_alter_table('jurisdiction_units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_set_level')

    op.drop_table('jurisdiction_units')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_incident')

    op.drop_table('incident_events')
    op.drop_table('app_state')
    op.drop_table('users')
    op.drop_table('station_sets')
    op.drop_table('officer_links')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_unit')
        batch_op.drop_index('ix_incidents_status')
        batch_op.drop_index('ix_incidents_reported')
        batch_op.drop_index('ix_incidents_polres')

    op.drop_table('incidents')
    op.drop_table('boundary_sets')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_target')

    op.drop_table('audit_log')
    op.drop_table('api_tokens')
