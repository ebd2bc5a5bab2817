"""Facebook page tokens on locations; push-enabled connections; shared rate-limit windows

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index(op.f("ix_rate_limit_windows_expires_at"), "rate_limit_windows", ["expires_at"])
    op.add_column("locations", sa.Column("access_token", sa.Text(), nullable=True))
    op.add_column(
        "connections",
        sa.Column("push_enabled", sa.Boolean(), server_default="false", nullable=False),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_windows_expires_at"), table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
    op.drop_column("connections", "push_enabled")
    op.drop_column("locations", "access_token")
