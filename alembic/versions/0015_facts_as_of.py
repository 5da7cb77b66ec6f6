"""figures as of their period's end: case facts keep each extension with its time and split a handle step
at a reassignment

The stored facts have the old shape and the tallies of finished cases were counted by the old rules: both
are dropped, and the KPI job writes the facts and counts every finished case again on its next pass (the
figures replay the cases' trails meanwhile).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:30:00.000000
"""
from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM kpi_duty_days")
    op.execute("DELETE FROM kpi_case_days")
    op.execute("DELETE FROM kpi_tally_batches")
    op.execute("DELETE FROM kpi_case_facts")


def downgrade() -> None:
    op.execute("DELETE FROM kpi_duty_days")
    op.execute("DELETE FROM kpi_case_days")
    op.execute("DELETE FROM kpi_tally_batches")
    op.execute("DELETE FROM kpi_case_facts")
