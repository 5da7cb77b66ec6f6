"""feeds, territory and dead letters

Revision ID: 0001
Revises:
Create Date: 2026-11-22 18:48:57.512074
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('areas',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['areas.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_parent_code'), ['parent_code'], unique=False)

    op.create_table('camera_alerts',
    sa.Column('camera_id', sa.String(length=64), nullable=False),
    sa.Column('alert_class', sa.String(length=64), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('drill_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_alerts_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_alerts_drill_id'), ['drill_id'], unique=False)

    op.create_table('dead_letters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_received_at'), ['received_at'], unique=False)

    op.create_table('incident_reports',
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('grid_code', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reporter_id', sa.String(length=64), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('drill_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_reports_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_reports_drill_id'), ['drill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_reports_grid_code'), ['grid_code'], unique=False)

    op.create_table('map_features',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('layer', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('map_features', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_map_features_layer'), ['layer'], unique=False)

    op.create_table('patrol_fixes',
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=False),
    sa.Column('speed_mps', sa.Float(), nullable=True),
    sa.Column('fix_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('drill_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_fixes_drill_id'), ['drill_id'], unique=False)
        batch_op.create_index('ix_patrol_fixes_unit_time', ['unit_id', 'fix_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('patrol_fixes', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_fixes_unit_time')
        batch_op.drop_index(batch_op.f('ix_patrol_fixes_drill_id'))

    op.drop_table('patrol_fixes')
    with op.batch_alter_table('map_features', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_map_features_layer'))

    op.drop_table('map_features')
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_reports_grid_code'))
        batch_op.drop_index(batch_op.f('ix_incident_reports_drill_id'))
        batch_op.drop_index(batch_op.f('ix_incident_reports_category'))

    op.drop_table('incident_reports')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_received_at'))

    op.drop_table('dead_letters')
    with op.batch_alter_table('camera_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_camera_alerts_drill_id'))
        batch_op.drop_index(batch_op.f('ix_camera_alerts_camera_id'))

    op.drop_table('camera_alerts')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_code'))
        batch_op.drop_index(batch_op.f('ix_areas_level'))

    op.drop_table('areas')
