"""Previews of what a customer sees, with branding that is not saved yet: the feedback e-mail
and the public feedback page, as the settings form would make them.

The draft is carried by a short-lived signed token, so the previews can be loaded in frames
(which send no Authorization header) and still only ever show the organisation that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import errors, signed
from services.email.compose import Branding, Envelope, compose
from services.email.policy import branding

PURPOSE = "feedback-preview"
TTL_SECONDS = 15 * 60
TEMPLATE = "feedback_request"
# A preview's links lead nowhere: it must never send a real answer or unsubscribe anyone.
NOWHERE = "#preview"
SAMPLE_NAME = "Alex"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def preview_token(session: Session, *, organisation_id: int, draft: dict[str, Any]) -> str:
    """A token naming the organisation and its branding with ``draft`` (``logo_url``,
    ``brand_colour``; a key set to None is the default) over the saved values."""
    saved = branding(session, organisation_id)
    logo = draft.get("logo_url", saved.logo_url)
    colour = draft.get("brand_colour", saved.colour)
    payload = {"o": organisation_id, "l": logo, "c": colour}
    return signed.sign(PURPOSE, payload, ttl_seconds=TTL_SECONDS)


def draft_branding(session: Session, *, token: str) -> Branding:
    """The branding a preview token carries, with the organisation's current name."""
    try:
        claims = signed.verify(PURPOSE, token)
    except signed.BadToken:  # expired ones too: the form asks for a fresh one as it changes
        raise errors.NotFound("Preview") from None
    saved = branding(session, int(claims["o"]))
    return Branding(name=saved.name, logo_url=claims.get("l"), colour=claims.get("c"))


def render_email(brand: Branding) -> RenderedEmail:
    """The feedback request as a recipient named Alex would get it."""
    message = compose(
        template=TEMPLATE,
        context={"name": SAMPLE_NAME, "feedback_url": NOWHERE},
        branding=brand,
        envelope=Envelope(
            sender="preview@plaudit.invalid",
            to="alex@example.com",
            message_id="<preview@plaudit.invalid>",
            unsubscribe_url=NOWHERE,
        ),
    )
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None  # compose always writes both parts
    return RenderedEmail(
        subject=str(message["Subject"]), text=text.get_content(), html=html.get_content()
    )
