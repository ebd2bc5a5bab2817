"""Recording who changed what, from where.

``details`` holds identifiers and counts only: never e-mail addresses, tokens or reply texts,
because the audit log is kept longer than the data it describes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from api.deps import Member
from models import AuditEvent


def record(
    session: Session,
    *,
    request: Request,
    user_id: int | None,
    organisation_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: int | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            organisation_id=organisation_id,
            actor_user_id=user_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            # Behind a proxy, the client only when PLAUDIT_TRUSTED_PROXIES names it (api.proxies).
            ip=request.client.host if request.client else None,
            details=details or {},
        )
    )


def record_by(
    session: Session,
    *,
    request: Request,
    member: Member,
    action: str,
    target_type: str | None = None,
    target_id: int | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """``record`` for a change made by the caller: a person, or an API key (named in details)."""
    if member.api_key_id is not None:
        details = {**(details or {}), "api_key_id": member.api_key_id}
    record(
        session,
        request=request,
        user_id=member.user_id,
        organisation_id=member.organisation_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
