"""Google's 2026 review fields: media items, the reply URL, and replies under moderation.

Items keep what the provider shows (media, reply URL, the reply's moderation state and raw
policy violation); outbox replies keep what Google said of the reply they sent, and when to
ask again while it is pending.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("media", postgresql.JSONB(), nullable=True))
    op.add_column("items", sa.Column("reply_url", sa.Text(), nullable=True))
    op.add_column("items", sa.Column("reply_state", sa.String(20), nullable=True))
    op.add_column("items", sa.Column("reply_policy_violation", sa.Text(), nullable=True))
    op.add_column("replies", sa.Column("moderation_state", sa.String(20), nullable=True))
    op.add_column("replies", sa.Column("policy_violation", sa.Text(), nullable=True))
    op.add_column(
        "replies", sa.Column("moderation_check_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "replies",
        sa.Column("moderation_checks", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "sync_runs",
        sa.Column("reconciled", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_replies_moderation_due",
        "replies",
        ["moderation_check_at"],
        postgresql_where=sa.text("moderation_state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_replies_moderation_due", table_name="replies")
    op.drop_column("sync_runs", "reconciled")
    for column in ("moderation_checks", "moderation_check_at", "policy_violation"):
        op.drop_column("replies", column)
    op.drop_column("replies", "moderation_state")
    for column in ("reply_policy_violation", "reply_state", "reply_url", "media"):
        op.drop_column("items", column)
