"""A waiting sync run keeps the message that continues it, so that a lost one is sent again.

A run paused by a rate limit, or waiting for its capability's lock, is continued by a delayed
message; the broker alone held where that message would carry on. ``continuation`` keeps its
keyword arguments in the run's row, written in the transaction that sends it, and the scheduler
re-sends it once ``resumes_at`` is a lease past (``services.sync.continuations``).

Revision ID: 0023_followups
Revises: 0020_inbox_speed
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023_followups"
down_revision = "0020_inbox_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_runs", sa.Column("continuation", postgresql.JSONB(), nullable=True))
    # The scheduler's look for lost continuations reads only the waiting runs.
    op.create_index(
        op.f("ix_sync_runs_resumes_at"),
        "sync_runs",
        ["resumes_at"],
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_runs_resumes_at"), table_name="sync_runs")
    op.drop_column("sync_runs", "continuation")
