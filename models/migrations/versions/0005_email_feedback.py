"""e-mail outbox, suppressions, feedback campaigns and recipients, item threads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 20:09:17.393457
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_suppressions",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("email_index", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("blocks_transactional", sa.Boolean(), nullable=False),
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
            name=op.f("fk_email_suppressions_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_suppressions")),
        sa.UniqueConstraint(
            "organisation_id",
            "email_index",
            name=op.f("uq_email_suppressions_organisation_id_email_index"),
        ),
    )
    op.create_table(
        "feedback_settings",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("logo_url", sa.Text(), nullable=True),
        sa.Column("brand_colour", sa.String(length=7), nullable=True),
        sa.Column("facebook_url", sa.Text(), nullable=True),
        sa.Column("frequency_cap_days", sa.Integer(), nullable=True),
        sa.Column("hourly_limit", sa.Integer(), nullable=True),
        sa.Column("max_reminders", sa.Integer(), nullable=True),
        sa.Column("reminder_days", sa.Integer(), nullable=True),
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
            name=op.f("fk_feedback_settings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_feedback_settings")),
    )
    op.create_table(
        "feedback_campaigns",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
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
            ["created_by"],
            ["users.id"],
            name=op.f("fk_feedback_campaigns_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_feedback_campaigns_location_id_locations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_feedback_campaigns_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_campaigns")),
    )
    op.create_index(
        op.f("ix_feedback_campaigns_organisation_id"),
        "feedback_campaigns",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "feedback_recipients",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_index", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requests_sent", sa.Integer(), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
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
            ["campaign_id"],
            ["feedback_campaigns.id"],
            name=op.f("fk_feedback_recipients_campaign_id_feedback_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_feedback_recipients_item_id_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_feedback_recipients_location_id_locations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_feedback_recipients_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_recipients")),
        sa.UniqueConstraint(
            "campaign_id",
            "email_index",
            name=op.f("uq_feedback_recipients_campaign_id_email_index"),
        ),
    )
    op.create_index(
        "ix_feedback_recipients_cap",
        "feedback_recipients",
        ["organisation_id", "email_index", "first_sent_at"],
        unique=False,
    )
    op.create_index(
        "ix_feedback_recipients_due",
        "feedback_recipients",
        ["next_send_at", "organisation_id"],
        unique=False,
        postgresql_where="status IN ('queued', 'sent') AND next_send_at IS NOT NULL",
    )
    op.create_table(
        "email_messages",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("to_address", sa.Text(), nullable=False),
        sa.Column("to_index", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("stream", sa.String(length=20), nullable=False),
        sa.Column("reply_to", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("fk_email_messages_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["feedback_recipients.id"],
            name=op.f("fk_email_messages_recipient_id_feedback_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_messages_message_id")),
    )
    op.create_index(
        op.f("ix_email_messages_provider_message_id"),
        "email_messages",
        ["provider_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_messages_recipient_id"), "email_messages", ["recipient_id"], unique=False
    )
    op.create_index(
        "ix_email_messages_throttle",
        "email_messages",
        ["organisation_id", "stream", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_email_messages_unfinished",
        "email_messages",
        ["updated_at"],
        unique=False,
        postgresql_where="status IN ('pending', 'sending')",
    )
    op.create_table(
        "item_thread_messages",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_id", sa.BigInteger(), nullable=True),
        sa.Column("inbound_message_id", sa.String(length=200), nullable=True),
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
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_thread_messages_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_item_thread_messages_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["replies.id"],
            name=op.f("fk_item_thread_messages_reply_id_replies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_thread_messages")),
        sa.UniqueConstraint(
            "inbound_message_id", name=op.f("uq_item_thread_messages_inbound_message_id")
        ),
    )
    op.create_index(
        op.f("ix_item_thread_messages_item_id"), "item_thread_messages", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_item_thread_messages_item_id"), table_name="item_thread_messages")
    op.drop_table("item_thread_messages")
    op.drop_index(
        "ix_email_messages_unfinished",
        table_name="email_messages",
        postgresql_where="status IN ('pending', 'sending')",
    )
    op.drop_index("ix_email_messages_throttle", table_name="email_messages")
    op.drop_index(op.f("ix_email_messages_recipient_id"), table_name="email_messages")
    op.drop_index(op.f("ix_email_messages_provider_message_id"), table_name="email_messages")
    op.drop_table("email_messages")
    op.drop_index(
        "ix_feedback_recipients_due",
        table_name="feedback_recipients",
        postgresql_where="status IN ('queued', 'sent') AND next_send_at IS NOT NULL",
    )
    op.drop_index("ix_feedback_recipients_cap", table_name="feedback_recipients")
    op.drop_table("feedback_recipients")
    op.drop_index(op.f("ix_feedback_campaigns_organisation_id"), table_name="feedback_campaigns")
    op.drop_table("feedback_campaigns")
    op.drop_table("feedback_settings")
    op.drop_table("email_suppressions")
