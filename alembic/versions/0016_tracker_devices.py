"""the phones that report positions through the OsmAnd adapter, and the patrol unit each is

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tracker_devices',
        sa.Column('device_id', sa.String(length=100), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id']),
        sa.PrimaryKeyConstraint('device_id'),
    )
    op.create_index('ix_tracker_devices_unit_id', 'tracker_devices', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tracker_devices_unit_id', table_name='tracker_devices')
    op.drop_table('tracker_devices')
