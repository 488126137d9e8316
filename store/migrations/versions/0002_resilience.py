"""attempt budget, retry time, attempt leases, idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(
            sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="3")
        )
        batch.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
    op.create_index("ix_job_finished", "job", ["finished_at"])
    op.create_table(
        "idempotency_key",
        sa.Column("owner", sa.String(length=200), primary_key=True),
        sa.Column("key", sa.String(length=255), primary_key=True),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_idempotency_key_created", "idempotency_key", ["created_at"])
    op.create_index("ix_idempotency_key_job", "idempotency_key", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_key_job", table_name="idempotency_key")
    op.drop_index("ix_idempotency_key_created", table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_index("ix_job_finished", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("worker")
        batch.drop_column("heartbeat_at")
        batch.drop_column("retry_at")
        batch.drop_column("max_attempts")
