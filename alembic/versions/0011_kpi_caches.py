"""caches of the KPI figures: facts of cases, tallies of finished cases, cell visits of settled days

Revision ID: 0011
Revises: 0010_drills
Create Date: 2026-11-25 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0011'
down_revision = '0010_drills'
branch_labels = None
depends_on = None

TALLY_FIELDS = (
    'timely', 'found', 'registered_reports', 'decided', 'patrol_registered', 'patrol_decided',
    'citizen_registered', 'citizen_decided', 'camera_registered', 'camera_decided', 'hotline_registered',
    'hotline_decided', 'verify_on_time', 'verify_due', 'check_on_time', 'check_due', 'closed', 'on_time_closed',
    'due_to_close', 'reworked', 'first_handled', 'handled_on_time', 'handling_due', 'open', 'overdue',
    'handling_us', 'handled', 'dispatch_us', 'dispatched', 'citizen_first', 'registered',
)


def upgrade() -> None:
    op.create_table(
        'kpi_case_facts',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('finished_hour', sa.String(length=13), nullable=True),
        sa.Column('tallied', sa.Integer(), nullable=True),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_kpi_case_facts_tallied', 'kpi_case_facts', ['tallied'], unique=False)
    op.create_table(
        'kpi_tally_batches',
        sa.Column('batch', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rules_key', sa.String(length=16), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('batch'),
    )
    op.create_index('ix_kpi_tally_batches_rules_key', 'kpi_tally_batches', ['rules_key'], unique=False)
    op.create_table(
        'kpi_case_days',
        sa.Column('batch', sa.Integer(), nullable=False),
        sa.Column('finished_hour', sa.String(length=13), nullable=False),
        sa.Column('grid_code', sa.String(length=64), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in TALLY_FIELDS),
        sa.ForeignKeyConstraint(['batch'], ['kpi_tally_batches.batch']),
        sa.PrimaryKeyConstraint('batch', 'finished_hour', 'grid_code', 'day'),
    )
    op.create_index('ix_kpi_case_days_day', 'kpi_case_days', ['day'], unique=False)
    op.create_table(
        'kpi_cell_visits',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('cell_code', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('day', 'unit_id', 'cell_code'),
    )
    op.create_table(
        'kpi_grid_days',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('grid_code', sa.String(length=64), nullable=False),
        sa.Column('visited', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'grid_code'),
    )
    op.create_table(
        'kpi_coverage_days',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )


def downgrade() -> None:
    op.drop_table('kpi_coverage_days')
    op.drop_table('kpi_grid_days')
    op.drop_table('kpi_cell_visits')
    op.drop_index('ix_kpi_case_days_day', table_name='kpi_case_days')
    op.drop_table('kpi_case_days')
    op.drop_index('ix_kpi_tally_batches_rules_key', table_name='kpi_tally_batches')
    op.drop_table('kpi_tally_batches')
    op.drop_index('ix_kpi_case_facts_tallied', table_name='kpi_case_facts')
    op.drop_table('kpi_case_facts')
