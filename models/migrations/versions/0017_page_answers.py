"""The provider's id of an item's reply: a Facebook page's own comment, which an edit changes.

Revision ID: 0017_page_answers
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_page_answers"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("reply_external_id", sa.String(300), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "reply_external_id")
