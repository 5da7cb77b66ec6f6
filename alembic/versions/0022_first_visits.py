"""when each cell visit was first made, so that a day seen "up to a moment" is read from the visits

The running tally starts again (its rows, tails and cursor are emptied: the job counts the current day's fixes
again at its next ticks). Days stored before keep a NULL first moment and are read from raw fixes when seen up
to a moment, as before.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('kpi_live_visits', 'kpi_visit_tails', 'kpi_visit_cursor'):
        op.execute(f'DELETE FROM {table}')
    with op.batch_alter_table('kpi_live_visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_at', sa.DateTime(timezone=True), nullable=False))
    with op.batch_alter_table('kpi_cell_visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kpi_cell_visits', schema=None) as batch_op:
        batch_op.drop_column('first_at')
    with op.batch_alter_table('kpi_live_visits', schema=None) as batch_op:
        batch_op.drop_column('first_at')
