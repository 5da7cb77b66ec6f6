"""a report's address in the reporter's words and a link to its photo (Open311's address and media_url)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('media_url', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_column('media_url')
        batch_op.drop_column('address')
