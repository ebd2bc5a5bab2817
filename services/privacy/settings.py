"""Privacy settings and requests for one organisation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid
from core.redaction import PatternRefused, compile_custom, find
from models import Item, RedactionPolicy
from models.privacy import DEFAULT_RETENTION_DAYS, DataSubjectRequest, RetentionPolicy
from models.redaction_policy import forget_policy, policy_for
from services.privacy.subject_requests import receive
from services.scope import Scope, get_in_scope, in_scope


def redaction_settings(session: Session, *, scope: Scope) -> dict[str, Any]:
    """The stored settings (``disabled_detectors``, ``patterns``); empty: the defaults."""
    row = session.get(RedactionPolicy, scope.organisation_id)
    if row is None:
        return {}
    return {"disabled_detectors": row.disabled_detectors, "patterns": row.patterns}


def save_redaction(
    session: Session,
    *,
    scope: Scope,
    disabled_detectors: Sequence[str],
    patterns: Sequence[Mapping[str, str]],
) -> None:
    """``patterns``: each a ``name`` and a ``pattern``; one that cannot be used is a 422 naming
    it."""
    for n, custom in enumerate(patterns):
        try:
            compile_custom(custom["pattern"])
        except PatternRefused as exc:
            raise Invalid("invalid_pattern", str(exc), field=f"patterns.{n}.pattern") from None
    organisation_id = scope.organisation_id
    row = session.get(RedactionPolicy, organisation_id) or RedactionPolicy(
        organisation_id=organisation_id
    )
    row.disabled_detectors = list(disabled_detectors)
    row.patterns = [dict(p) for p in patterns]
    session.add(row)
    forget_policy(organisation_id)


def retention_settings(session: Session, *, scope: Scope) -> dict[str, int | None]:
    """Days kept per data class (None: until erased)."""
    days = dict(DEFAULT_RETENTION_DAYS)
    for row in session.scalars(select(RetentionPolicy).where(*in_scope(RetentionPolicy, scope))):
        days[row.data_class] = row.days
    return days


def save_retention(
    session: Session, *, scope: Scope, days_by_class: Mapping[str, int | None]
) -> dict[str, int | None]:
    organisation_id = scope.organisation_id
    for data_class, days in days_by_class.items():
        if days is not None and not 1 <= days <= 36500:
            raise Invalid("invalid", "days must be 1 to 36500, or null", field=f"days.{data_class}")
        row = session.get(RetentionPolicy, (organisation_id, data_class)) or RetentionPolicy(
            organisation_id=organisation_id, data_class=data_class
        )
        row.days = days
        session.add(row)
    session.flush()
    return retention_settings(session, scope=scope)


def redact_item(
    session: Session, *, scope: Scope, item_id: int, start: int | None, end: int | None
) -> Item:
    item = get_in_scope(session, scope, Item, item_id, what="Item")
    if start is None and end is None:
        item.text, item.original_text = "[redacted:request]", None
        return item
    text = item.text or ""
    if start is None or end is None or not start < end <= len(text):
        raise Invalid(
            "invalid",
            f"start and end must satisfy 0 <= start < end <= {len(text)}",
            field="end",
        )
    item.text = text[:start] + "[redacted:request]" + text[end:]
    return item


def get_request(session: Session, *, scope: Scope, request_id: int) -> DataSubjectRequest:
    request = get_in_scope(session, scope, DataSubjectRequest, request_id, what="Request")
    return request


def record_request(
    session: Session, *, scope: Scope, kind: str, email: str | None, reviewer_id: str | None
) -> DataSubjectRequest:
    """A data-subject request about one person, named by e-mail or by their reviewer id (not
    both); it is carried out in the background (services.privacy.subject_requests)."""
    if (email is None) == (reviewer_id is None):
        raise Invalid("invalid", "give exactly one of email or reviewer_id", field="email")
    return receive(
        session,
        organisation_id=scope.organisation_id,
        kind=kind,
        email=email,
        reviewer_id=reviewer_id,
    )


def list_requests(session: Session, *, scope: Scope) -> list[DataSubjectRequest]:
    return list(
        session.scalars(
            select(DataSubjectRequest)
            .where(*in_scope(DataSubjectRequest, scope))
            .order_by(DataSubjectRequest.due_at)
        )
    )


# What no one may publish, even on purpose: a confirmation cannot let these out.
NEVER_PUBLISHED = frozenset({"card", "iban", "ssn", "secret"})


def check_reply_text(
    session: Session,
    *,
    organisation_id: int,
    text: str,
    confirmed: bool,
    field: str = "text",
    what: str = "reply",
) -> None:
    """A reply goes out in public: refuse one that carries payment details, national ids or
    credentials outright (422 naming the kinds, so the sender can take them out), and one that
    carries other personal data (an address, a phone number, the organisation's own patterns)
    unless the sender has confirmed it does so on purpose (a business's own contact details)."""
    found = find(text, policy_for(session, organisation_id))
    never = sorted(NEVER_PUBLISHED & found.keys())
    if never:
        raise Invalid(
            "personal_data",
            f"The {what} contains {', '.join(never)} data, which is never published; "
            f"take it out and send the {what} again",
            field=field,
        )
    if found and not confirmed:
        kinds = ", ".join(sorted(found))
        raise Invalid(
            "personal_data",
            f"The reply looks like it contains personal data ({kinds}); "
            "send it again with confirm_personal_data=true to post it anyway",
            field=field,
        )
