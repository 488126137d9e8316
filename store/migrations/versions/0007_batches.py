"""job tags and parents

Revision ID: 0007_batches
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_batches"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("tags", sa.Text(), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.String(length=32), nullable=True))
    op.create_index("ix_job_parent", "job", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_job_parent", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("parent_id")
        batch.drop_column("tags")
