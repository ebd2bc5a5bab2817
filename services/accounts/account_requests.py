"""Requests that e-mail an address on a stranger's say-so (password resets, sign-ups): each is
recorded, one address gets at most a few such e-mails an hour, and one client at most a few
dozen requests.

The address's limit is silent — the answer is the same whether the e-mail was sent, held back
or the address is unknown — so that it reveals nothing; the client's limit is a 429, which
says nothing about any account.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core.errors import RateLimited
from core.settings import get_settings
from models import AccountRequest, AccountRequestKind
from services.accounts.windows import wait_for_room

WINDOW = timedelta(hours=1)


def admit(
    session: Session,
    *,
    kind: AccountRequestKind,
    email_index: str,
    client: str,
    wants_email: bool,
) -> bool:
    """Record the request; True when its e-mail may be sent. 429 for a client past its limit."""
    settings = get_settings()
    # One request per address at a time, so that concurrent ones cannot all see room for one
    # more e-mail; the lock ends with the transaction.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(email_index, 0))))
    now: datetime = session.scalar(select(func.now()))
    _refuse_busy_client(session, kind=kind, client=client, now=now)
    session.execute(
        delete(AccountRequest).where(
            AccountRequest.kind == kind,
            or_(AccountRequest.email_index == email_index, AccountRequest.client == client),
            AccountRequest.created_at < now - WINDOW,
        )
    )
    emailed = wants_email and (
        wait_for_room(
            session,
            AccountRequest.created_at,
            AccountRequest.kind == kind,
            AccountRequest.email_index == email_index,
            AccountRequest.emailed,
            limit=settings.account_emails_per_address_per_hour,
            now=now,
            window=WINDOW,
        )
        is None
    )
    session.add(AccountRequest(kind=kind, email_index=email_index, client=client, emailed=emailed))
    return emailed


def _refuse_busy_client(
    session: Session, *, kind: AccountRequestKind, client: str, now: datetime
) -> None:
    wait = wait_for_room(
        session,
        AccountRequest.created_at,
        AccountRequest.kind == kind,
        AccountRequest.client == client,
        limit=get_settings().account_requests_per_client_per_hour,
        now=now,
        window=WINDOW,
    )
    if wait is not None:
        raise RateLimited(
            "too_many_requests",
            "Too many requests from this address; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
