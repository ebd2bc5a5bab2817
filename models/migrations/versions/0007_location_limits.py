"""Memberships and invitations optionally limited to some locations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As models.organisation.LOCATION_LIMIT_CHECK when this revision was written.
CHECK = "location_ids IS NULL OR (role NOT IN ('owner', 'admin') AND cardinality(location_ids) > 0)"
TABLES = ("memberships", "invitations")


def upgrade() -> None:
    for table in TABLES:
        # Nullable without a default: existing rows keep seeing every location, and adding the
        # column rewrites nothing.
        op.add_column(
            table, sa.Column("location_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True)
        )
        op.create_check_constraint(op.f(f"ck_{table}_location_limit"), table, CHECK)


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_location_limit"), table, type_="check")
        op.drop_column(table, "location_ids")
