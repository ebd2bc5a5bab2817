"""Reply templates with variables, rendered by Jinja2's sandbox.

A template may use only the variables below; anything else (an unknown name, attribute access
to internals, a syntax error) is refused when the template is saved, naming the field. Values
are plain strings and numbers, so even the sandbox has nothing of ours to reach.
"""

from __future__ import annotations

import sys
import time
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid
from models import Item, Location, Organisation, ReplyTemplate
from services.inbox.inbox import get_item
from services.privacy.settings import check_reply_text
from services.scope import Scope, get_in_scope, in_scope

VARIABLES = {
    "reviewer_first_name": "The reviewer's first name, or an empty string",
    "reviewer_name": "The reviewer's name as the provider shows it",
    "location_name": "The location's name",
    "organisation_name": "The organisation's name",
    "rating": "The star rating (1-5), or an empty string",
}


# A reply is at most a few thousand characters at any provider; a template is refused long
# before it could tie up a worker thread or the API's memory.
MAX_OUTPUT_CHARS = 20_000
MAX_RENDER_SECONDS = 0.5
MAX_RANGE = 1_000
# What `check` renders a template with: long values, so a template that only explodes with a
# real reviewer's name is refused when saved.
_SAMPLE = {
    "reviewer_first_name": "Maximiliana" * 4,
    "reviewer_name": "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff" * 2,
    "location_name": "The Corner Bakery on the High Street, Upper Town" * 2,
    "organisation_name": "Bakeries of the Realm, Incorporated" * 2,
    "rating": 5,
}


class RenderLimit(Exception):
    """The template would exceed one of the limits above; the message names which."""


class _BoundedEnvironment(SandboxedEnvironment):
    MAX_RANGE = MAX_RANGE
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                sized = isinstance(sequence, str | list | tuple) and isinstance(times, int)
                if sized and len(sequence) * times > MAX_OUTPUT_CHARS:
                    raise RenderLimit(f"output over {MAX_OUTPUT_CHARS:,} characters")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise RenderLimit("exponents over 64")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Replies are plain text, not HTML: no autoescaping, and undefined names are errors.
    return _BoundedEnvironment(
        autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
    )


def _bounded_render(body: str, values: dict[str, Any]) -> str:
    """Render within MAX_OUTPUT_CHARS and MAX_RENDER_SECONDS, or raise RenderLimit."""
    deadline = time.monotonic() + MAX_RENDER_SECONDS

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        # Loops that print nothing never yield output; the clock is checked on every line.
        if time.monotonic() > deadline:
            raise RenderLimit(f"rendering over {MAX_RENDER_SECONDS} s")
        return tracer

    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for chunk in _environment().from_string(body).generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderLimit(f"output over {MAX_OUTPUT_CHARS:,} characters")
            chunks.append(chunk)
    except OverflowError:
        raise RenderLimit(f"ranges over {MAX_RANGE:,} items") from None
    finally:
        sys.settrace(previous)
    return "".join(chunks)


def _limit_error(exc: RenderLimit) -> Invalid:
    return Invalid("template_too_large", f"The template exceeds a limit: {exc}", field="body")


def check(body: str) -> None:
    try:
        parsed = _environment().parse(body)
    except TemplateError:
        raise Invalid("invalid_template", "The template is not valid", field="body") from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - VARIABLES.keys())
    if unknown:
        raise Invalid(
            "invalid_template",
            f"Unknown variables: {', '.join(unknown)}; known: {', '.join(sorted(VARIABLES))}",
            field="body",
        )
    try:
        _bounded_render(body, _SAMPLE)
    except RenderLimit as exc:
        raise _limit_error(exc) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError):
        raise Invalid("invalid_template", "The template cannot be rendered", field="body") from None


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
        return _bounded_render(body, values).strip()
    except RenderLimit as exc:
        raise _limit_error(exc) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError):
        # Only templates that passed `check` are stored; a sandbox refusal lands here.
        raise Invalid("invalid_template", "The template cannot be rendered", field="body") from None


def list_templates(session: Session, *, scope: Scope) -> list[ReplyTemplate]:
    return list(
        session.scalars(
            select(ReplyTemplate)
            .where(*in_scope(ReplyTemplate, scope))
            .order_by(ReplyTemplate.name)
        )
    )


def get_template(session: Session, *, scope: Scope, template_id: int) -> ReplyTemplate:
    return get_in_scope(session, scope, ReplyTemplate, template_id, what="Template")


def save(
    session: Session,
    *,
    scope: Scope,
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
            organisation_id=scope.organisation_id,
            text=body,
            confirmed=True,
            field="body",
            what="template",
        )
    if template is None:
        template = ReplyTemplate(organisation_id=scope.organisation_id)
        session.add(template)
    if name is not None:
        template.name = name
    if body is not None:
        template.body = body
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("conflict", "A template with this name exists", field="name") from None
    return template


def render_for_item(
    session: Session,
    *,
    scope: Scope,
    template_id: int,
    item_id: int,
) -> str:
    template = get_template(session, scope=scope, template_id=template_id)
    item = get_item(session, scope=scope, item_id=item_id)
    location_name = (
        session.scalar(select(Location.name).where(Location.id == item.location_id))
        if item.location_id
        else None
    )
    organisation_name = session.scalar(
        select(Organisation.name).where(Organisation.id == scope.organisation_id)
    )
    return render(
        template.body,
        item,
        location_name=location_name or "",
        organisation_name=organisation_name or "",
    )
