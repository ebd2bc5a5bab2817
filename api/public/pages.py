"""The public, server-rendered pages a customer reaches from an e-mail.

No JavaScript, labels on every control, one column that fits a phone. A bad link (forged,
expired, already used) gets a page that says so in plain words, never a stack trace or JSON.
Every value a customer typed is autoescaped by the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from core import signed
from models import Item, Location, Organisation, Recipient, RecipientStatus
from services.email import links, policy
from services.email.compose import DEFAULT_COLOUR
from services.email.policy import branding
from services.feedback import answers

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# No script at all; the inline stylesheet and an https logo are all a page loads.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_NOBODY = {"name": "plaudit", "logo_url": None, "colour": DEFAULT_COLOUR}


def _page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # The pages hold a personal link: never cached by a proxy, never framed by another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = _CSP
    return response


def _problem(
    request: Request, heading: str, message: str, *, status_code: int, brand: Any = None
) -> HTMLResponse:
    context = {"brand": brand or _NOBODY, "heading": heading, "message": message}
    return _page(request, "problem.html", context, status_code=status_code)


def _brand(session: Session, organisation_id: int) -> dict[str, Any]:
    b = branding(session, organisation_id)
    return {"name": b.name, "logo_url": b.logo_url, "colour": b.colour or DEFAULT_COLOUR}


def _recipient(session: Session, token: str) -> Recipient | str:
    """The recipient a feedback link names, or what is wrong with the link."""
    try:
        claims = signed.verify(links.FEEDBACK, token)
    except signed.ExpiredToken:
        return "expired"
    except signed.BadToken:
        return "forged"
    recipient = session.get(Recipient, claims.get("r"))
    return recipient if recipient is not None else "forged"


def _bad_link(request: Request, problem: str) -> HTMLResponse:
    if problem == "expired":
        return _problem(
            request,
            "This link has expired",
            "Feedback links work for a limited time. Thank you for wanting to answer!",
            status_code=410,
        )
    return _problem(
        request,
        "This link is not valid",
        "The link may have been cut short when it was copied. "
        "Please open it again from the e-mail.",
        status_code=400,
    )


def _form(
    request: Request,
    session: Session,
    recipient: Recipient,
    token: str,
    *,
    rating: int | None = None,
    comment: str = "",
    error: str | None = None,
) -> HTMLResponse:
    context = {
        "brand": _brand(session, recipient.organisation_id),
        "action": f"/feedback/{token}",
        "form_token": answers.form_token(recipient),
        "answered": recipient.item_id is not None,
        "rating": rating,
        "comment": comment,
        "error": error,
        "max_comment": answers.MAX_COMMENT,
    }
    return _page(request, "feedback.html", context, status_code=422 if error else 200)


def _unsubscribed(request: Request, session: Session, recipient: Recipient) -> HTMLResponse:
    return _problem(
        request,
        "You are unsubscribed",
        "You asked not to receive feedback requests, so this link no longer works.",
        status_code=410,
        brand=_brand(session, recipient.organisation_id),
    )


@router.get("/feedback/{token}", response_class=HTMLResponse)
def feedback_page(token: str, request: Request, session: SessionDep) -> Response:
    recipient = _recipient(session, token)
    if isinstance(recipient, str):
        return _bad_link(request, recipient)
    if recipient.status == RecipientStatus.UNSUBSCRIBED:
        return _unsubscribed(request, session, recipient)
    item = session.get(Item, recipient.item_id) if recipient.item_id else None
    return _form(
        request,
        session,
        recipient,
        token,
        rating=item.rating if item else None,
        comment=(item.text or "") if item else "",
    )


@router.post("/feedback/{token}", response_class=HTMLResponse)
async def submit_feedback(token: str, request: Request, session: SessionDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(_submit, token, request, session, dict(form))


def _submit(token: str, request: Request, session: Session, form: dict[str, Any]) -> Response:
    recipient = _recipient(session, token)
    if isinstance(recipient, str):
        return _bad_link(request, recipient)
    if recipient.status == RecipientStatus.UNSUBSCRIBED:
        return _unsubscribed(request, session, recipient)
    comment = str(form.get("comment") or "").replace("\x00", "")[: answers.MAX_COMMENT]
    raw_rating = str(form.get("rating") or "")
    if raw_rating not in {"1", "2", "3", "4", "5"}:
        return _form(
            request,
            session,
            recipient,
            token,
            comment=comment,
            error="Please choose a rating from 1 to 5 stars.",
        )
    try:
        answers.answer(
            session,
            recipient=recipient,
            token=str(form.get("form_token") or ""),
            rating=int(raw_rating),
            comment=comment,
        )
    except (answers.StaleForm, signed.BadToken):
        return _problem(
            request,
            "This form was already sent",
            "Your answer is saved. To change it, open the link from the e-mail again.",
            status_code=409,
            brand=_brand(session, recipient.organisation_id),
        )
    # Post/redirect/get: reloading the thank-you page does not send the form again.
    return RedirectResponse(f"/feedback/{token}/thanks", status_code=303)


@router.get("/feedback/{token}/thanks", response_class=HTMLResponse)
def thanks_page(token: str, request: Request, session: SessionDep) -> Response:
    recipient = _recipient(session, token)
    if isinstance(recipient, str):
        return _bad_link(request, recipient)
    location = session.get(Location, recipient.location_id) if recipient.location_id else None
    rules = policy.policy(session, organisation_id=recipient.organisation_id)
    # The same public-review links whatever the rating: no review gating.
    context = {
        "brand": _brand(session, recipient.organisation_id),
        "google_url": location.new_review_uri if location else None,
        "facebook_url": rules.facebook_url,
        "change_url": f"/feedback/{token}",
    }
    return _page(request, "thanks.html", context)


def _unsubscribe_claims(token: str) -> dict[str, Any] | None:
    try:
        claims = signed.verify(links.UNSUBSCRIBE, token)
    except signed.BadToken:
        return None
    if not isinstance(claims.get("o"), int) or not isinstance(claims.get("e"), str):
        return None
    return claims


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request, session: SessionDep) -> Response:
    # A GET only asks: mail scanners open links, and must not unsubscribe anyone.
    claims = _unsubscribe_claims(token)
    if claims is None or session.get(Organisation, claims["o"]) is None:
        return _bad_link(request, "forged")
    context = {
        "brand": _brand(session, claims["o"]),
        "action": f"/unsubscribe/{token}",
        "done": False,
    }
    return _page(request, "unsubscribe.html", context)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str, request: Request, session: SessionDep) -> Response:
    """The page's button and RFC 8058 one-click (``List-Unsubscribe=One-Click``) alike."""
    claims = _unsubscribe_claims(token)
    if claims is None or session.get(Organisation, claims["o"]) is None:
        return _bad_link(request, "forged")
    answers.unsubscribe(session, organisation_id=claims["o"], email_index=claims["e"])
    context = {"brand": _brand(session, claims["o"]), "action": "", "done": True}
    return _page(request, "unsubscribe.html", context)
