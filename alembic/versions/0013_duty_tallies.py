"""tallies of finished cases per person, grid and department; patrol units' cells visited per grid and day;
case facts indexed by the hours they finished and were reported

The tallies already made count no duties, and the stored facts have no hour of report: both are dropped,
and the KPI job writes the facts and counts every finished case again on its next pass (the figures replay
the cases' trails meanwhile). The units' days are filled from the stored cell visits.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DUTY_FIELDS = (
    'reports_registered', 'reports_decided', 'verify_on_time', 'verify_due', 'check_on_time', 'check_due',
    'citizen_first', 'registered', 'handled_on_time', 'handling_due', 'reworked', 'first_handled',
    'handling_us', 'handled', 'holding',
)


def upgrade() -> None:
    op.create_table(
        'kpi_duty_days',
        sa.Column('batch', sa.Integer(), nullable=False),
        sa.Column('finished_hour', sa.String(length=13), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('grid_code', sa.String(length=64), nullable=False),
        sa.Column('holder_kind', sa.String(length=10), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in DUTY_FIELDS),
        sa.ForeignKeyConstraint(['batch'], ['kpi_tally_batches.batch']),
        sa.PrimaryKeyConstraint('batch', 'finished_hour', 'day', 'grid_code', 'holder_kind', 'holder'),
    )
    op.create_index('ix_kpi_duty_days_day', 'kpi_duty_days', ['day'], unique=False)
    op.create_table(
        'kpi_unit_days',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('grid_code', sa.String(length=64), nullable=False),
        sa.Column('visited', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'unit_id', 'grid_code'),
    )
    op.execute("DELETE FROM kpi_case_days")
    op.execute("DELETE FROM kpi_tally_batches")
    op.execute("DELETE FROM kpi_case_facts")
    with op.batch_alter_table('kpi_case_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_hour', sa.String(length=13), nullable=False))
        batch_op.create_index('ix_kpi_case_facts_finished_reported', ['finished_hour', 'reported_hour'], unique=False)
    op.execute("INSERT INTO kpi_unit_days (day, unit_id, grid_code, visited) "
               "SELECT v.day, v.unit_id, a.parent_code, count(*) FROM kpi_cell_visits v "
               "JOIN areas a ON a.code = v.cell_code AND a.level = 'cell' "
               "GROUP BY v.day, v.unit_id, a.parent_code")


def downgrade() -> None:
    with op.batch_alter_table('kpi_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_case_facts_finished_reported')
        batch_op.drop_column('reported_hour')
    op.drop_table('kpi_unit_days')
    op.drop_index('ix_kpi_duty_days_day', table_name='kpi_duty_days')
    op.drop_table('kpi_duty_days')
