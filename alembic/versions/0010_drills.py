"""drills: one row per drill (scenario, targets, started and ended by whom, its clock)

Revision ID: 0010_drills
Revises: 0009
Create Date: 2026-11-25 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0010_drills'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'drills',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('scenario', sa.String(length=64), nullable=False),
        sa.Column('title_zh', sa.String(length=100), nullable=False),
        sa.Column('title_en', sa.String(length=100), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('duration_min', sa.Float(), nullable=False),
        sa.Column('starts_at', sa.String(length=5), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_by', sa.String(length=64), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(length=64), nullable=True),
        sa.Column('clock', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drills_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drills_started_at'))
    op.drop_table('drills')
