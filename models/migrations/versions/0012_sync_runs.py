"""Sync runs: the truth about a run.

A run that waits out a rate limit is one run across the messages that carry it (``waiting``,
then its outcome); it records its waits, the class of the error that ended it, and, for a
provider push, the one location it synced. Listing a connection's runs newest first walks
``(connection_id, id)``. An OAuth state keeps the redirect URI of its consent request, so that
the worker exchanging the code need not share the API's `PLAUDIT_PUBLIC_URL`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_runs", sa.Column("location_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_sync_runs_location_id_locations"),
        "sync_runs",
        "locations",
        ["location_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("sync_runs", sa.Column("error_class", sa.String(length=60), nullable=True))
    op.add_column(
        "sync_runs",
        sa.Column("rate_limit_waits", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("sync_runs", sa.Column("resumes_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f("ix_sync_runs_connection_id"), table_name="sync_runs")
    op.create_index(
        op.f("ix_sync_runs_connection_id"), "sync_runs", ["connection_id", "id"], unique=False
    )
    # The redirect URI the API sent the person to, for the worker's code exchange.
    op.add_column("oauth_states", sa.Column("redirect_uri", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("oauth_states", "redirect_uri")
    op.drop_index(op.f("ix_sync_runs_connection_id"), table_name="sync_runs")
    op.create_index(
        op.f("ix_sync_runs_connection_id"), "sync_runs", ["connection_id"], unique=False
    )
    op.drop_column("sync_runs", "resumes_at")
    op.drop_column("sync_runs", "rate_limit_waits")
    op.drop_column("sync_runs", "error_class")
    op.drop_constraint(op.f("fk_sync_runs_location_id_locations"), "sync_runs", type_="foreignkey")
    op.drop_column("sync_runs", "location_id")
