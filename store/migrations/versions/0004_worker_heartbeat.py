"""worker processes' heartbeats; running jobs found by worker

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_job_status_worker", "job", ["status", "worker"])
    op.drop_index("ix_job_status", table_name="job")


def downgrade() -> None:
    op.create_index("ix_job_status", "job", ["status"])
    op.drop_index("ix_job_status_worker", table_name="job")
    op.drop_table("worker")
