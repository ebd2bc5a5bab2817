"""Facebook recommendations retired by the v22.0 pin are available again, to read through v21.0.

Before recommendations were read through v21.0 explicitly, a connection pinned to v22.0 (the
default) got error 12 for them and marked them retired for good. v21.0 serves them until
2027-01-21 (``connectors.facebook.versions``), so those retirements are undone: the next sync
reads through v21.0, and from 2027-01-21 the date retires them without a call. Account labels
need no schema change (``connections.account_label`` exists); they are filled as connections
are made or their locations listed.

Revision ID: 0018_account_labels
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_account_labels"
down_revision = "0017_page_answers"
branch_labels = None
depends_on = None

# Only the retirements error 12 caused; a missing permission or a setting stays as it is.
REVIVE_RATINGS = """
UPDATE connections
SET capabilities = capabilities - 'facebook_ratings'
WHERE provider = 'facebook'
  AND capabilities -> 'facebook_ratings' ->> 'state' = 'retired'
  AND capabilities -> 'facebook_ratings' ->> 'message' LIKE 'Facebook error 12%'
"""


def upgrade() -> None:
    op.execute(sa.text(REVIVE_RATINGS))


def downgrade() -> None:
    # Nothing to put back: a revived capability that still gets error 12 is retired again.
    pass
