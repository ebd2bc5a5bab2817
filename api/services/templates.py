"""Reply templates with variables, rendered by Jinja2's sandbox.

A template may use only the variables below; anything else (an unknown name, attribute access
to internals, a syntax error) is refused when the template is saved, naming the field. Values
are plain strings and numbers, so even the sandbox has nothing of ours to reach.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.scope import LocationIds
from api.services.inbox import get_item
from api.services.privacy import check_reply_text
from models import Item, Location, Organisation, ReplyTemplate

VARIABLES = {
    "reviewer_first_name": "The reviewer's first name, or an empty string",
    "reviewer_name": "The reviewer's name as the provider shows it",
    "location_name": "The location's name",
    "organisation_name": "The organisation's name",
    "rating": "The star rating (1-5), or an empty string",
}


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Replies are plain text, not HTML: no autoescaping, and undefined names are errors.
    return SandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
    )


def check(body: str) -> None:
    try:
        parsed = _environment().parse(body)
    except TemplateError:
        raise ApiError(422, "invalid_template", "The template is not valid", field="body") from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - VARIABLES.keys())
    if unknown:
        raise ApiError(
            422,
            "invalid_template",
            f"Unknown variables: {', '.join(unknown)}; known: {', '.join(sorted(VARIABLES))}",
            field="body",
        )


def render(body: str, item: Item, *, location_name: str, organisation_name: str) -> str:
    author = item.author_name or ""
    values = {
        "reviewer_first_name": author.split()[0] if author.strip() else "",
        "reviewer_name": author,
        "location_name": location_name,
        "organisation_name": organisation_name,
        "rating": "" if item.rating is None else item.rating,
    }
    try:
        return _environment().from_string(body).render(values).strip()
    except TemplateError:
        # Only templates that passed `check` are stored; a sandbox refusal lands here.
        raise ApiError(
            422, "invalid_template", "The template cannot be rendered", field="body"
        ) from None


def list_templates(session: Session, *, organisation_id: int) -> list[ReplyTemplate]:
    return list(
        session.scalars(
            select(ReplyTemplate)
            .where(ReplyTemplate.organisation_id == organisation_id)
            .order_by(ReplyTemplate.name)
        )
    )


def get_template(session: Session, *, organisation_id: int, template_id: int) -> ReplyTemplate:
    template = session.scalar(
        select(ReplyTemplate).where(
            ReplyTemplate.id == template_id, ReplyTemplate.organisation_id == organisation_id
        )
    )
    if template is None:
        raise not_found("Template")
    return template


def save(
    session: Session,
    *,
    organisation_id: int,
    template: ReplyTemplate | None,
    name: str | None,
    body: str | None,
) -> ReplyTemplate:
    """Create (``template`` None) or change a template."""
    if body is not None:
        check(body)
        # Its text is published in every reply made from it: no card, id or credential in it.
        # Contact details may stay (the business's own address or number), so confirmed.
        check_reply_text(
            session,
            organisation_id=organisation_id,
            text=body,
            confirmed=True,
            field="body",
            what="template",
        )
    if template is None:
        template = ReplyTemplate(organisation_id=organisation_id)
        session.add(template)
    if name is not None:
        template.name = name
    if body is not None:
        template.body = body
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ApiError(409, "conflict", "A template with this name exists", field="name") from None
    return template


def render_for_item(
    session: Session,
    *,
    organisation_id: int,
    template_id: int,
    item_id: int,
    location_ids: LocationIds = None,
) -> str:
    template = get_template(session, organisation_id=organisation_id, template_id=template_id)
    item = get_item(
        session, organisation_id=organisation_id, item_id=item_id, location_ids=location_ids
    )
    location_name = (
        session.scalar(select(Location.name).where(Location.id == item.location_id))
        if item.location_id
        else None
    )
    organisation_name = session.scalar(
        select(Organisation.name).where(Organisation.id == organisation_id)
    )
    return render(
        template.body,
        item,
        location_name=location_name or "",
        organisation_name=organisation_name or "",
    )
