"""an owner's active jobs counted from an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_owner_status", "job", ["owner", "status"])


def downgrade() -> None:
    op.drop_index("ix_job_owner_status", table_name="job")
