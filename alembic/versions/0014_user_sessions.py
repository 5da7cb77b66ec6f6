"""sessions of people signed in: signing out ends one for good

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['username'], ['users.username']),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    op.create_index('ix_user_sessions_username', 'user_sessions', ['username'], unique=False)
    op.create_index('ix_user_sessions_started_at', 'user_sessions', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_user_sessions_started_at', table_name='user_sessions')
    op.drop_index('ix_user_sessions_username', table_name='user_sessions')
    op.drop_table('user_sessions')
