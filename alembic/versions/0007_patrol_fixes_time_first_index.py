"""patrol fixes indexed time first

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00.000000
"""
from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_fixes_unit_time')
        batch_op.create_index('ix_patrol_fixes_time_unit', ['fix_at', 'unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_fixes_time_unit')
        batch_op.create_index('ix_patrol_fixes_unit_time', ['unit_id', 'fix_at'], unique=False)
