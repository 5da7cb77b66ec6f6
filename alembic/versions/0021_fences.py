"""the fencing token of the one active ingest, and its count of committed transactions

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 11:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fences',
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('epoch', sa.Integer(), nullable=False),
        sa.Column('batches', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('role'),
    )


def downgrade() -> None:
    op.drop_table('fences')
