"""Recording who changed what, from where.

Every entry names who acted. A change made by a caller is recorded from their ``Scope``, which
carries the API key when one was used (``details.api_key_id``, beside the key's creator as the
person), so a key's changes are never shown as its creator's own. Only flows where nobody holds
a scope yet (logging in, accepting an invitation, a provider's OAuth redirect) name the person
directly.

``details`` holds identifiers and counts only: never e-mail addresses, tokens or reply texts,
because the audit log is kept longer than the data it describes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from models import AuditEvent
from services.scope import Scope


def record(
    session: Session,
    *,
    request: Request,
    scope: Scope,
    action: str,
    target_type: str | None = None,
    target_id: int | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """A change made by the caller: a person, or an API key (named in details)."""
    record_person(
        session,
        request=request,
        user_id=scope.user_id,
        organisation_id=scope.organisation_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details={**(details or {}), **scope.key_details},
    )


def record_person(
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
    """A change made by a person who holds no scope yet (see the module's note)."""
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
