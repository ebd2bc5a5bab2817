"""Analytics read indexes only: the inbox index includes what they count and filter on, two
partial indexes hold the items with a reply time, and statistics on the day they group by.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As models.item.ANALYTICS_COLUMNS and ANALYTICS_DAY when this revision was written.
COLUMNS = ["rating", "location_id", "deleted", "source", "kind"]
DAY = "date_bin(interval '1 day', posted_at, timestamptz '0001-01-01 00:00:00+00')"
INBOX = ["organisation_id", sa.literal_column("posted_at DESC"), sa.literal_column("id DESC")]
REPLY_TIMES = {
    "ix_items_analytics_replied": "reply_text IS NOT NULL",
    "ix_items_analytics_reply_removed": "reply_text IS NULL AND reply_updated_at IS NOT NULL",
}


def upgrade() -> None:
    op.drop_index("ix_items_inbox", table_name="items")
    op.create_index("ix_items_inbox", "items", INBOX, postgresql_include=COLUMNS)
    for name, predicate in REPLY_TIMES.items():
        op.create_index(
            name,
            "items",
            ["organisation_id", "posted_at"],
            postgresql_include=["reply_updated_at", *COLUMNS],
            postgresql_where=predicate,
        )
    op.execute(
        f"CREATE STATISTICS st_items_analytics_days (ndistinct) ON ({DAY}), rating FROM items"
    )
    # The statistics are empty until the table is next analysed; sampling it takes a moment.
    op.execute("ANALYZE items")


def downgrade() -> None:
    op.execute("DROP STATISTICS st_items_analytics_days")
    for name in REPLY_TIMES:
        op.drop_index(name, table_name="items")
    op.drop_index("ix_items_inbox", table_name="items")
    op.create_index("ix_items_inbox", "items", INBOX)
