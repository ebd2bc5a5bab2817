"""Checking the audit log's hash chain (`plaudit audit verify`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

_ROWS = text(
    "SELECT seq, prev_hash, hash, audit_event_hash(prev_hash, organisation_id, actor_user_id, "
    "action, target_type, target_id, ip, details, created_at) AS expected "
    "FROM audit_events ORDER BY seq"
)


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the log in chain order. The first row is the anchor: retention may have removed
    what came before it, so only its own hash is checked, not its link."""
    checked = 0
    previous_seq: int | None = None
    previous_hash: str | None = None
    for seq, prev_hash, hash_, expected in conn.execution_options(yield_per=5000).execute(_ROWS):
        checked += 1
        if hash_ != expected:
            return ChainReport(checked, seq, "its contents do not match its hash")
        if previous_seq is not None:
            if seq != previous_seq + 1:
                return ChainReport(checked, seq, f"rows {previous_seq + 1}–{seq - 1} are missing")
            if prev_hash != previous_hash:
                return ChainReport(checked, seq, "it does not link to the row before it")
        previous_seq, previous_hash = seq, hash_
    return ChainReport(checked)
