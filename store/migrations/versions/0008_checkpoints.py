"""job_checkpoint: finished stages and items that later attempts reuse

Revision ID: 0008_checkpoints
Revises: 0007_batches
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = "0008_checkpoints"
down_revision = "0007_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_checkpoint",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_checkpoint")
