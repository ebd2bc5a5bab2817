"""Privacy: an append-only, hash-chained audit log; redaction and retention policies;
retention runs; data-subject requests.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# One definition of a row's hash, used by the trigger and by `plaudit audit verify`.
HASH_FUNCTION = """
CREATE FUNCTION audit_event_hash(
    prev text, organisation_id bigint, actor_user_id bigint, action text, target_type text,
    target_id text, ip text, details jsonb, created_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        prev, coalesce(organisation_id::text, ''), coalesce(actor_user_id::text, ''), action,
        coalesce(target_type, ''), coalesce(target_id, ''), coalesce(ip, ''),
        coalesce(details::text, ''),
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
    ), 'UTF8')), 'hex')
$$
"""

CHAIN_FUNCTION = """
CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    -- Serialise appends, so that every row links to the one committed before it.
    PERFORM pg_advisory_xact_lock(hashtext('audit_events_chain'));
    SELECT seq, hash INTO last_seq, last_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.created_at := coalesce(NEW.created_at, now());
    NEW.hash := audit_event_hash(NEW.prev_hash, NEW.organisation_id, NEW.actor_user_id,
        NEW.action, NEW.target_type, NEW.target_id, NEW.ip, NEW.details, NEW.created_at);
    RETURN NEW;
END
$$
"""

GUARD_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The retention job alone may delete, and says so for its own transaction.
    IF TG_OP = 'DELETE' AND current_setting('plaudit.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "redaction_policies",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("disabled_detectors", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("patterns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_redaction_policies_organisation_id_organisations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_redaction_policies")),
    )  # fmt: skip
    op.create_table(
        "retention_policies",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("data_class", sa.String(length=40), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_retention_policies_organisation_id_organisations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "data_class", name=op.f("pk_retention_policies")),
    )  # fmt: skip
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )  # fmt: skip
    op.create_table(
        "data_subject_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("email_index", sa.String(length=64), nullable=True),
        sa.Column("reviewer_id", sa.String(length=300), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_data_subject_requests_organisation_id_organisations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject_requests")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_data_subject_requests_organisation_id"),
        "data_subject_requests",
        ["organisation_id"],
    )
    # A person's name is personal data: encrypted like their address (values written from now on).
    op.alter_column("users", "name", type_=sa.Text(), existing_type=sa.String(length=200))
    op.drop_constraint("fk_audit_events_actor_user_id_users", "audit_events", type_="foreignkey")
    op.drop_constraint(
        "fk_audit_events_organisation_id_organisations", "audit_events", type_="foreignkey"
    )
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_unique_constraint(op.f("uq_audit_events_seq"), "audit_events", ["seq"])
    op.execute(HASH_FUNCTION)
    op.execute(CHAIN_FUNCTION)
    op.execute(GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_chain()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )


def downgrade() -> None:
    op.alter_column("users", "name", type_=sa.String(length=200), existing_type=sa.Text())
    op.drop_table("data_subject_requests")
    op.drop_table("retention_runs")
    op.drop_table("retention_policies")
    op.drop_table("redaction_policies")
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP TRIGGER audit_events_chain ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")
    op.execute("DROP FUNCTION audit_events_chain()")
    op.execute(
        "DROP FUNCTION audit_event_hash(text, bigint, bigint, text, text, text, text, jsonb, timestamptz)"
    )
    op.drop_constraint(op.f("uq_audit_events_seq"), "audit_events", type_="unique")
    op.drop_column("audit_events", "hash")
    op.drop_column("audit_events", "prev_hash")
    op.drop_column("audit_events", "seq")
    op.create_foreign_key(
        "fk_audit_events_organisation_id_organisations", "audit_events", "organisations",
        ["organisation_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
    op.create_foreign_key(
        "fk_audit_events_actor_user_id_users", "audit_events", "users",
        ["actor_user_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
