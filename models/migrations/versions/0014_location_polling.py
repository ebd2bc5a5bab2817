"""Per-location polling: each location's due time and what its polls have found.

The scheduler polls a Google location when ``next_poll_at`` comes (``services.sync.polling``
sets the interval from the location's review rate); ``reviews_seen`` over ``days_watched``
is that rate, both fading with age; ``polled_at`` is when a sync last read the location.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("locations", sa.Column("next_poll_at", sa.DateTime(timezone=True)))
    op.add_column("locations", sa.Column("polled_at", sa.DateTime(timezone=True)))
    op.add_column(
        "locations", sa.Column("reviews_seen", sa.Float(), server_default="0", nullable=False)
    )
    op.add_column(
        "locations", sa.Column("days_watched", sa.Float(), server_default="0", nullable=False)
    )
    op.create_index(
        op.f("ix_locations_next_poll_at"),
        "locations",
        ["next_poll_at"],
        postgresql_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_locations_next_poll_at"), table_name="locations")
    for column in ("days_watched", "reviews_seen", "polled_at", "next_poll_at"):
        op.drop_column("locations", column)
