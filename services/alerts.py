"""Alert e-mails to members: at once for new reviews at or below their chosen rating, and a daily
digest. Both only queue messages in the e-mail outbox; the e-mail worker sends them. The
scheduler finds the organisations with digests due and enqueues a job for each, which runs
`send_digests`.

A member limited to some locations hears only about theirs, as the API shows them only theirs
(services/scope.py); alerts stop when the member leaves the organisation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, any_, func, or_, select
from sqlalchemy.orm import Session

from models import AlertPreference, Item, Kind, Membership, User
from services.email import queue_email

BATCH = 200
DAY = timedelta(days=1)
# With Membership joined on the preference's member: the item is one they may see.
_MEMBER_SEES_ITEM = or_(
    Membership.location_ids.is_(None), Item.location_id == any_(Membership.location_ids)
)
_MEMBERSHIP = (Membership.user_id == AlertPreference.user_id) & (
    Membership.organisation_id == AlertPreference.organisation_id
)


def alert_new_items(session: Session, *, organisation_id: int, item_ids: Sequence[int]) -> int:
    """Queue an e-mail per member and per new review or feedback answer at or below their
    threshold."""
    if not item_ids:
        return 0
    rows = session.execute(
        select(User.email, Item.rating, Item.author_name, Item.kind)
        .select_from(AlertPreference)
        .join(User, User.id == AlertPreference.user_id)
        .join(Membership, _MEMBERSHIP)
        .join(
            Item,
            (Item.organisation_id == AlertPreference.organisation_id)
            & (Item.rating <= AlertPreference.immediate_max_rating),
        )
        .where(
            AlertPreference.organisation_id == organisation_id,
            Item.id.in_(list(item_ids)),
            Item.kind.in_([Kind.REVIEW, Kind.FEEDBACK]),
            _MEMBER_SEES_ITEM,
        )
    ).all()
    for email, rating, author, kind in rows:
        # A feedback answer is the unhappy customer a feedback request exists to find first.
        what = "review" if kind == Kind.REVIEW else "feedback answer"
        queue_email(
            session,
            organisation_id=organisation_id,
            to=email,
            template="notice",
            context={
                "subject": f"A new {rating}-star {what}",
                "body": f"{author or 'Someone'} left a {rating}-star {what}. It is in your inbox.",
                "action_url": None,
                "action_label": None,
            },
        )
    return len(rows)


DIGESTS = "alerts.digests"  # the actor that sends one organisation's due digests


def _due(now: datetime) -> ColumnElement[bool]:
    return AlertPreference.daily_digest.is_(True) & (
        func.coalesce(AlertPreference.last_digest_at, now - DAY) <= now - DAY
    )


def organisations_with_digests_due(session: Session, *, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(AlertPreference.organisation_id).where(_due(now)).distinct().limit(BATCH)
        )
    )


def send_digests(session: Session, *, organisation_id: int, now: datetime) -> int:
    """Each member of the organisation who asked for it gets one digest a day. Claimed with
    SKIP LOCKED and stamped in the same transaction, so two jobs send it once."""
    due = session.execute(
        select(AlertPreference, User.email)
        .join(User, User.id == AlertPreference.user_id)
        .where(AlertPreference.organisation_id == organisation_id, _due(now))
        .limit(BATCH)
        .with_for_update(of=AlertPreference, skip_locked=True)
    ).all()
    for preference, email in due:
        _digest(session, preference, email, now)
    return len(due)


def _digest(session: Session, preference: AlertPreference, email: str, now: datetime) -> None:
    since = preference.last_digest_at or now - DAY
    count, average = session.execute(
        select(func.count(Item.id), func.avg(Item.rating))
        .select_from(AlertPreference)
        .join(Membership, _MEMBERSHIP)
        .join(Item, Item.organisation_id == AlertPreference.organisation_id)
        .where(
            AlertPreference.organisation_id == preference.organisation_id,
            AlertPreference.user_id == preference.user_id,
            Item.created_at > since,
            Item.created_at <= now,
            _MEMBER_SEES_ITEM,
        )
    ).one()
    preference.last_digest_at = now
    if count:
        queue_email(
            session,
            organisation_id=preference.organisation_id,
            to=email,
            template="notice",
            context={
                "subject": f"Your daily digest: {count} new items",
                "body": f"{count} new items since yesterday"
                + (f", rated {float(average):.1f} on average." if average else "."),
                "action_url": None,
                "action_label": None,
            },
        )
