"""a camera alert followed as it goes on: its end, what it saw, its snapshot and clip

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 10:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seen', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('snapshot_url', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('clip_url', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.drop_column('clip_url')
        batch_op.drop_column('snapshot_url')
        batch_op.drop_column('seen')
        batch_op.drop_column('ended_at')
