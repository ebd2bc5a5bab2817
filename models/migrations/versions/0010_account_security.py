"""Account security: throttling per account and client, reset and sign-up requests.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The account's index gains the client address, so that it serves the pair's count too.
    op.drop_index("ix_login_failures_email_index", table_name="login_failures")
    op.create_index(
        "ix_login_failures_email_index", "login_failures", ["email_index", "ip", "created_at"]
    )
    op.create_table(
        "account_requests",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("email_index", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_requests")),
    )
    op.create_index(
        "ix_account_requests_address", "account_requests", ["kind", "email_index", "created_at"]
    )
    op.create_index(
        "ix_account_requests_client", "account_requests", ["kind", "client", "created_at"]
    )
    op.create_table(
        "signup_requests",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_index", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_signup_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_requests_token_hash")),
    )
    op.create_index(
        op.f("ix_signup_requests_organisation_id"), "signup_requests", ["organisation_id"]
    )
    op.create_index(op.f("ix_signup_requests_expires_at"), "signup_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_table("signup_requests")
    op.drop_table("account_requests")
    op.drop_index("ix_login_failures_email_index", table_name="login_failures")
    op.create_index(
        "ix_login_failures_email_index", "login_failures", ["email_index", "created_at"]
    )
