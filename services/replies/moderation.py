"""Replies the provider moderates (Google since 2026, PROVIDERS.md §G.1).

A 200 from the provider is not "published": the reply may be ``pending`` for minutes or days,
and a ``rejected`` one is never shown. So a reply stays ``sent`` only while the provider has not
rejected it: a pending one is read back (``reviews.get``) on a doubling schedule, and a
rejected one fails its outbox row with the provider's reason, tells the webhook endpoints
(``reply.failed``) and e-mails the organisation's managers and the reply's author. The item
shows the verdict too; the reply can then be edited and sent again as any failed one.

The provider's violation is kept as it words it: its members are not documented.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, any_, or_, select
from sqlalchemy.orm import Session

from connectors import errors
from connectors.account import PostedReply, WriteMarker
from connectors.records import ReplyState
from core.settings import get_settings
from models import (
    Connection,
    ConnectionStatus,
    Item,
    Location,
    Membership,
    Reply,
    ReplyStatus,
    Role,
    User,
)
from services.email import queue_email
from services.jobs import send_after_commit
from services.outbox import utcnow
from services.replies.events import announce
from services.sync.accounts import location_ref, mark_needs_reauth, open_account, save_tokens

log = logging.getLogger(__name__)
CHECK = "reply.check_moderation"  # the actor that reads one pending reply back
BATCH = 500
_TOLD = (Role.OWNER, Role.ADMIN, Role.MANAGER)


def _first_wait() -> timedelta:
    return timedelta(seconds=get_settings().reply_moderation_first_check_seconds)


def _wait(checks: int) -> timedelta:
    settings = get_settings()
    seconds = settings.reply_moderation_first_check_seconds * 2**checks
    return timedelta(seconds=min(seconds, settings.reply_moderation_max_check_seconds))


def record(
    session: Session, reply: Reply, item: Item, posted: PostedReply | None, now: datetime
) -> None:
    """What the provider said of the reply it just accepted (or found after a lost answer)."""
    state = posted.state if posted else None
    violation = posted.policy_violation if posted else None
    item.reply_state, item.reply_policy_violation = state, violation
    reply.moderation_state, reply.policy_violation = state, violation
    reply.moderation_checks = 0
    reply.moderation_check_at = now + _first_wait() if state == ReplyState.PENDING else None
    if state == ReplyState.REJECTED:
        _rejected(session, reply, item)


def _rejected(session: Session, reply: Reply, item: Item) -> None:
    reply.status = ReplyStatus.FAILED
    reply.moderation_check_at = None
    reason = reply.policy_violation or "no reason given"
    reply.last_error = f"the provider rejected the reply: {reason}"[:1000]
    log.warning("reply %s was rejected by the provider", reply.id)
    _alert(session, reply, item, reason)


def _alert(session: Session, reply: Reply, item: Item, reason: str) -> None:
    """The reply's author and the managers who see the item (as alerts reach members)."""
    query = (
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == reply.organisation_id,
            or_(Membership.role.in_(_TOLD), User.id == reply.author_user_id),
        )
        .distinct()
    )
    if item.location_id is not None:
        query = query.where(
            or_(
                Membership.location_ids.is_(None),
                item.location_id == any_(Membership.location_ids),
            )
        )
    rows = session.scalars(query).all()
    for email in rows:
        queue_email(
            session,
            organisation_id=reply.organisation_id,
            to=email,
            template="notice",
            context={
                "subject": "A reply was rejected by Google",
                "body": (
                    f"Google did not publish a reply to a {item.kind} (its reason: {reason}). "
                    "The reply is marked failed in your inbox; edit it and send it again."
                ),
                "action_url": None,
                "action_label": None,
            },
        )


# -- reading pending replies back -------------------------------------------------------------


def _due(now: datetime) -> Select[tuple[Reply]]:
    return select(Reply).where(
        Reply.moderation_state == ReplyState.PENDING,
        Reply.status == ReplyStatus.SENT,
        Reply.moderation_check_at <= now,
    )


def organisations_due(session: Session, *, now: datetime) -> list[int]:
    query = _due(now).with_only_columns(Reply.organisation_id).distinct().limit(BATCH)
    return list(session.scalars(query))


def enqueue_due(session: Session, *, organisation_id: int, now: datetime) -> int:
    """Claim the organisation's due checks (SKIP LOCKED, pushed forward by a lease so several
    schedulers never double them) and ask for each; the messages go out on commit."""
    due = session.scalars(
        _due(now)
        .where(Reply.organisation_id == organisation_id)
        .order_by(Reply.moderation_check_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    lease = timedelta(seconds=get_settings().reply_stuck_seconds)
    for reply in due:
        reply.moderation_check_at = now + lease
        send_after_commit(session, CHECK, reply.id)
    return len(due)


def check(session: Session, *, reply_id: int, now: datetime | None = None) -> str | None:
    """Read one pending reply back from the provider; returns its moderation state after
    (None: not pending, busy elsewhere or gone). Commits."""
    now = now or utcnow()
    reply = session.scalars(
        select(Reply)
        .where(
            Reply.id == reply_id,
            Reply.moderation_state == ReplyState.PENDING,
            Reply.status == ReplyStatus.SENT,
        )
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if reply is None:
        return None
    item = session.get(Item, reply.item_id)
    connection = (
        session.get(Connection, item.connection_id) if item and item.connection_id else None
    )
    if item is None or connection is None or _superseded(session, reply):
        # A later reply replaced it; that one is followed instead.
        reply.moderation_check_at = None
        session.commit()
        return reply.moderation_state
    if connection.status != ConnectionStatus.ACTIVE:
        _again(reply, now)
        session.commit()
        return reply.moderation_state
    found = _read_back(session, reply, item, connection, now)
    if found is not False:
        _apply(session, reply, item, found, now)
    session.commit()
    return reply.moderation_state


def _superseded(session: Session, reply: Reply) -> bool:
    later = session.scalar(
        select(Reply.id)
        .where(
            Reply.item_id == reply.item_id,
            Reply.id > reply.id,
            Reply.status.in_((ReplyStatus.PENDING, ReplyStatus.SENDING, ReplyStatus.SENT)),
        )
        .limit(1)
    )
    return later is not None


def _read_back(
    session: Session, reply: Reply, item: Item, connection: Connection, now: datetime
) -> PostedReply | bool | None:
    """The reply as the provider has it, None if it no longer has ours, False if it could
    not tell now (the check is then due again)."""
    account = open_account(connection)
    try:
        replier = account.replier(item.kind)
        if replier is None:
            reply.moderation_check_at = None
            return False
        location = location_ref(session.get_one(Location, item.location_id))
        marker = WriteMarker(None, reply.provider_reply_id)
        return replier.find(location, item.external_id, reply.body, marker)
    except errors.NeedsReauth as exc:
        mark_needs_reauth(session, connection_id=connection.id, message=str(exc))
        _again(reply, now)
    except errors.Transient as exc:
        _again(reply, now, after=exc.retry_after)
    except errors.ProviderError as exc:
        # The review is gone, or the grant lost access: nothing more to learn of this reply.
        log.info("reply %s: moderation no longer readable: %s", reply.id, exc)
        reply.moderation_check_at = None
    finally:
        save_tokens(session, connection_id=connection.id, account=account)
    return False


def _again(reply: Reply, now: datetime, after: float | None = None) -> None:
    wait = timedelta(seconds=after) if after else _wait(reply.moderation_checks)
    reply.moderation_check_at = now + wait


def _apply(
    session: Session, reply: Reply, item: Item, found: PostedReply | None, now: datetime
) -> None:
    if found is None:
        # Changed or removed at the provider since: no longer ours to follow.
        reply.moderation_check_at = None
        return
    state = found.state or ReplyState.PUBLISHED
    item.reply_state, item.reply_policy_violation = state, found.policy_violation
    reply.moderation_state, reply.policy_violation = state, found.policy_violation
    reply.moderation_checks += 1
    if state == ReplyState.REJECTED:
        _rejected(session, reply, item)
        announce(session, reply)
    elif state == ReplyState.PUBLISHED:
        reply.moderation_check_at = None
    elif reply.sent_at and now - reply.sent_at > timedelta(
        days=get_settings().reply_moderation_max_days
    ):
        reply.moderation_check_at = None  # longer than Google says it takes: stop asking
    else:
        _again(reply, now)
