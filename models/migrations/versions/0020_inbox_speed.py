"""Analytics' rollups, kept by triggers on items (models/analytics_rollup.py), filled from the
items already there.

Revision ID: 0020_inbox_speed
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from models.analytics_rollup import ROLLUP_TRIGGERS_SQL, rollup_sql

revision = "0020_inbox_speed"
down_revision = "0018_account_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_days",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.Column("replied", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id", "day", "rating", "deleted", name=op.f("pk_analytics_days")
        ),
    )
    op.create_table(
        "analytics_reply_times",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id", "day", "deleted", "bucket", name=op.f("pk_analytics_reply_times")
        ),
    )
    # Items cannot change between the fill and the triggers: the table is locked for both.
    op.execute("LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE")
    for statement in rollup_sql("items"):
        op.execute(statement)
    for statement in ROLLUP_TRIGGERS_SQL:
        op.execute(statement)


def downgrade() -> None:
    for name in ("inserted", "deleted", "updated"):
        op.execute(f"DROP TRIGGER analytics_items_{name} ON items")
        op.execute(f"DROP FUNCTION analytics_items_{name}()")
    op.drop_table("analytics_reply_times")
    op.drop_table("analytics_days")
