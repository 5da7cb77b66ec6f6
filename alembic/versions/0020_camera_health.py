"""a camera's health as its video system says it (online, degraded, offline, disabled)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'camera_statuses',
        sa.Column('camera_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=True),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('drill_id', sa.String(length=64), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_camera_statuses_camera_since', 'camera_statuses', ['camera_id', 'since'], unique=False)
    op.create_index('ix_camera_statuses_drill', 'camera_statuses', ['drill_id'], unique=False,
                    sqlite_where=sa.text('drill_id IS NOT NULL'), postgresql_where=sa.text('drill_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_camera_statuses_drill', table_name='camera_statuses')
    op.drop_index('ix_camera_statuses_camera_since', table_name='camera_statuses')
    op.drop_table('camera_statuses')
