"""Notes and replies: encrypted and redacted.

Internal notes, outbox reply bodies and recipients' external references become encrypted
columns; the rows already there are encrypted here, so nothing is left in clear and the models
can read every row. Notes already written are also redacted with their organisation's policy,
as new ones are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (table, column); `plaudit keys rotate` finds them through the models' EncryptedText type.
ENCRYPTED = (("item_notes", "body"), ("replies", "body"), ("feedback_recipients", "external_ref"))
BATCH = 1000


def _encrypted(value: str) -> bool:
    # "<8 hex digits>:<Fernet token>", as core.crypto writes it; a re-run skips such rows.
    kid, _, token = value.partition(":")
    return len(kid) == 8 and all(c in "0123456789abcdef" for c in kid) and token[:4] == "gAAA"


def _policies(connection: sa.Connection) -> dict:
    from core.redaction import DEFAULT_POLICY, Policy

    rows = connection.execute(
        sa.text("SELECT organisation_id, disabled_detectors, patterns FROM redaction_policies")
    )
    policies = {
        org: Policy.build(
            disabled=disabled or (), patterns=[(p["name"], p["pattern"]) for p in patterns or ()]
        )
        for org, disabled, patterns in rows
    }
    return {"default": DEFAULT_POLICY, **policies}


def _rewrite(table: str, column: str, change) -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                f'SELECT id, organisation_id, "{column}" FROM "{table}" '
                f'WHERE id > :last AND "{column}" IS NOT NULL ORDER BY id LIMIT :batch'
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [
            (row.id, new) for row in rows if (new := change(row.organisation_id, row[2])) != row[2]
        ]
        if changed:
            connection.execute(
                sa.text(
                    f'UPDATE "{table}" AS t SET "{column}" = v.value FROM unnest('
                    "CAST(:ids AS bigint[]), CAST(:values AS text[])) AS v(id, value) "
                    "WHERE t.id = v.id"
                ),
                {"ids": [i for i, _ in changed], "values": [v for _, v in changed]},
            )


def upgrade() -> None:
    from core import crypto
    from core.redaction import redact

    op.alter_column(
        "feedback_recipients", "external_ref", type_=sa.Text(), existing_type=sa.String(200)
    )
    policies = _policies(op.get_bind())

    def note(organisation_id: int, value: str) -> str:
        if _encrypted(value):
            return value
        policy = policies.get(organisation_id, policies["default"])
        return crypto.encrypt(redact(value, policy).text)

    def plain(organisation_id: int, value: str) -> str:
        return value if _encrypted(value) else crypto.encrypt(value)

    _rewrite("item_notes", "body", note)
    _rewrite("replies", "body", plain)
    _rewrite("feedback_recipients", "external_ref", plain)


def downgrade() -> None:
    from core import crypto

    def clear(organisation_id: int, value: str) -> str:
        return crypto.decrypt(value, where="0013 downgrade") if _encrypted(value) else value

    for table, column in ENCRYPTED:
        _rewrite(table, column, clear)
    # References longer than the old column were impossible to upload: they fit again.
    op.alter_column(
        "feedback_recipients", "external_ref", type_=sa.String(200), existing_type=sa.Text()
    )
