"""An organisation's feedback settings (own values over deployment defaults) and suppressions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.settings import get_settings
from models import FeedbackSettings, Organisation, Suppression, SuppressionReason
from services.email.compose import Branding
from services.scope import Scope


@dataclass(frozen=True)
class Policy:
    logo_url: str | None
    brand_colour: str | None
    facebook_url: str | None
    frequency_cap_days: int
    hourly_limit: int
    max_reminders: int
    reminder_days: int


def policy(session: Session, *, organisation_id: int) -> Policy:
    own = session.get(FeedbackSettings, organisation_id) or FeedbackSettings()
    defaults = get_settings()

    def pick(value: int | None, default: int) -> int:
        return default if value is None else value

    return Policy(
        logo_url=own.logo_url,
        brand_colour=own.brand_colour,
        facebook_url=own.facebook_url,
        frequency_cap_days=pick(own.frequency_cap_days, defaults.feedback_frequency_cap_days),
        hourly_limit=pick(own.hourly_limit, defaults.feedback_hourly_limit),
        max_reminders=pick(own.max_reminders, defaults.feedback_max_reminders),
        reminder_days=pick(own.reminder_days, defaults.feedback_reminder_days),
    )


def policy_of(session: Session, *, scope: Scope) -> Policy:
    """The policy in force for the caller's organisation."""
    return policy(session, organisation_id=scope.organisation_id)


def update_settings(session: Session, *, scope: Scope, values: dict[str, object]) -> None:
    own = session.get(FeedbackSettings, scope.organisation_id)
    if own is None:
        own = FeedbackSettings(organisation_id=scope.organisation_id)
        session.add(own)
    for name, value in values.items():
        setattr(own, name, value)
    session.flush()


def suppress(
    session: Session, *, organisation_id: int, email_index: str, reason: SuppressionReason
) -> None:
    """Idempotent; a bounce or complaint after an unsubscribe widens it to transactional mail."""
    blocks = reason in (SuppressionReason.BOUNCED, SuppressionReason.COMPLAINED)
    statement = insert(Suppression).values(
        organisation_id=organisation_id,
        email_index=email_index,
        reason=reason,
        blocks_transactional=blocks,
    )
    if blocks:
        statement = statement.on_conflict_do_update(
            index_elements=["organisation_id", "email_index"],
            set_={"reason": reason, "blocks_transactional": True, "updated_at": func.now()},
        )
    else:
        statement = statement.on_conflict_do_nothing()
    session.execute(statement)


def suppress_address(
    session: Session, *, scope: Scope, email: str, reason: SuppressionReason
) -> None:
    suppress(
        session,
        organisation_id=scope.organisation_id,
        email_index=blind_index(email),
        reason=reason,
    )


def suppressed_indexes(session: Session, *, organisation_id: int, indexes: list[str]) -> set[str]:
    if not indexes:
        return set()
    return set(
        session.scalars(
            select(Suppression.email_index).where(
                Suppression.organisation_id == organisation_id,
                Suppression.email_index.in_(indexes),
            )
        )
    )


def list_suppressions(session: Session, *, scope: Scope) -> tuple[int, list[Suppression]]:
    where = Suppression.organisation_id == scope.organisation_id
    total = session.scalar(select(func.count()).select_from(Suppression).where(where)) or 0
    newest = session.scalars(
        select(Suppression).where(where).order_by(Suppression.id.desc()).limit(100)
    )
    return total, list(newest)


def branding(session: Session, organisation_id: int) -> Branding:
    name, logo_url, colour = session.execute(
        select(Organisation.name, FeedbackSettings.logo_url, FeedbackSettings.brand_colour)
        .outerjoin(FeedbackSettings, FeedbackSettings.organisation_id == Organisation.id)
        .where(Organisation.id == organisation_id)
    ).one()
    return Branding(name=name, logo_url=logo_url, colour=colour)
