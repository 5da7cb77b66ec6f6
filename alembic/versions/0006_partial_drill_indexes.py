"""partial drill indexes on feed tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 20:44:36.349187
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_camera_alerts_drill_id'))
        batch_op.create_index('ix_camera_alerts_drill', ['drill_id'], unique=False,
                              sqlite_where=sa.text('drill_id IS NOT NULL'),
                              postgresql_where=sa.text('drill_id IS NOT NULL'))

    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_reports_drill_id'))
        batch_op.create_index('ix_incident_reports_drill', ['drill_id'], unique=False,
                              sqlite_where=sa.text('drill_id IS NOT NULL'),
                              postgresql_where=sa.text('drill_id IS NOT NULL'))

    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_fixes_drill_id'))
        batch_op.create_index('ix_patrol_fixes_drill', ['drill_id'], unique=False,
                              sqlite_where=sa.text('drill_id IS NOT NULL'),
                              postgresql_where=sa.text('drill_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_fixes_drill', sqlite_where=sa.text('drill_id IS NOT NULL'),
                            postgresql_where=sa.text('drill_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_patrol_fixes_drill_id'), ['drill_id'], unique=False)

    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_reports_drill', sqlite_where=sa.text('drill_id IS NOT NULL'),
                            postgresql_where=sa.text('drill_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_incident_reports_drill_id'), ['drill_id'], unique=False)

    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_camera_alerts_drill', sqlite_where=sa.text('drill_id IS NOT NULL'),
                            postgresql_where=sa.text('drill_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_camera_alerts_drill_id'), ['drill_id'], unique=False)

