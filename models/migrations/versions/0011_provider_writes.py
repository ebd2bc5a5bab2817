"""Provider writes: what a write attempt left to read back.

``attempt_started_at``: when the first reply attempt not yet confirmed began (a Facebook read-back
looks for the page's comment created since). ``provider_reply_id``: the provider's id of our reply
(a Facebook comment id), recorded as soon as it is known.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("replies", sa.Column("attempt_started_at", sa.DateTime(timezone=True)))
    op.add_column("replies", sa.Column("provider_reply_id", sa.String(200)))


def downgrade() -> None:
    op.drop_column("replies", "provider_reply_id")
    op.drop_column("replies", "attempt_started_at")
