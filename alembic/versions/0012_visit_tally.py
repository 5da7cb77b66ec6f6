"""the running tally of cell visits, and live patrol fixes indexed by receipt

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kpi_live_visits',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('cell_code', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('grid_code', sa.String(length=64), nullable=False),
        sa.Column('pieces', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'cell_code', 'unit_id'),
    )
    op.create_table(
        'kpi_visit_tails',
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('fix_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('unit_id'),
    )
    op.create_table(
        'kpi_visit_cursor',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('through', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_fixes_received_live', ['received_at'], unique=False,
                              sqlite_where=sa.text('drill_id IS NULL'), postgresql_where=sa.text('drill_id IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_fixes_received_live', sqlite_where=sa.text('drill_id IS NULL'),
                            postgresql_where=sa.text('drill_id IS NULL'))
    op.drop_table('kpi_visit_cursor')
    op.drop_table('kpi_visit_tails')
    op.drop_table('kpi_live_visits')
