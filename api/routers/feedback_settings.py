"""An organisation's feedback settings and its suppression list."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from api import audit
from api.deps import AdminScope, CurrentScope, ManagerScope, SessionDep
from api.public.pages import templates
from api.schemas.feedback import (
    FeedbackPreviewOut,
    FeedbackSettingsIn,
    FeedbackSettingsOut,
    SuppressionIn,
    SuppressionList,
    SuppressionOut,
)
from models import SuppressionReason
from services.email import policy
from services.email.compose import DEFAULT_COLOUR
from services.feedback import preview
from services.feedback.answers import MAX_COMMENT

router = APIRouter(tags=["feedback"])


@router.get("/feedback/settings", summary="Branding, caps, throttle and reminders in force")
def get_settings(scope: CurrentScope, session: SessionDep) -> FeedbackSettingsOut:
    return FeedbackSettingsOut(**vars(policy.policy_of(session, scope=scope)))


@router.patch("/feedback/settings", summary="Change some of them; null restores a default (admin)")
def update_settings(
    body: FeedbackSettingsIn, scope: AdminScope, session: SessionDep, request: Request
) -> FeedbackSettingsOut:
    values = {
        name: None if value is None else str(value) if name.endswith("_url") else value
        for name, value in body.model_dump(exclude_unset=True).items()
    }
    policy.update_settings(session, scope=scope, values=values)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="feedback_settings.updated",
        details={"fields": sorted(values)},
    )
    return get_settings(scope, session)


@router.post(
    "/feedback/settings/preview",
    summary="Preview the e-mail and the public page with these (unsaved) settings",
)
def preview_settings(
    body: FeedbackSettingsIn, scope: CurrentScope, session: SessionDep, request: Request
) -> FeedbackPreviewOut:
    draft = {
        name: None if value is None else str(value)
        for name, value in body.model_dump(exclude_unset=True).items()
        if name in ("logo_url", "brand_colour")
    }
    token = preview.preview_token(session, organisation_id=scope.organisation_id, draft=draft)
    email = preview.render_email(preview.draft_branding(session, token=token))
    # Paths, not URLs: the frames are the dashboard's, on its own origin, behind any proxy.
    email_url, page_url = (
        request.app.url_path_for(name, token=token) for name in ("preview_email", "preview_page")
    )
    return FeedbackPreviewOut(
        subject=email.subject, text=email.text, email_url=email_url, page_url=page_url
    )


# Loaded in the dashboard's frames, which send no credentials: the signed token is the key.
# Their own policy allows the inline styles e-mails and the public pages use, and framing by
# the dashboard (same origin) only.
_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)


@router.get("/feedback/settings/preview/{token}/email", include_in_schema=False)
def preview_email(token: str, session: SessionDep) -> HTMLResponse:
    brand = preview.draft_branding(session, token=token)
    return _framed(HTMLResponse(preview.render_email(brand).html))


@router.get("/feedback/settings/preview/{token}/page", include_in_schema=False)
def preview_page(token: str, session: SessionDep, request: Request) -> HTMLResponse:
    brand = preview.draft_branding(session, token=token)
    context = {
        "brand": {
            "name": brand.name,
            "logo_url": brand.logo_url,
            "colour": brand.colour or DEFAULT_COLOUR,
        },
        "action": preview.NOWHERE,
        "form_token": "",
        "answered": False,
        "rating": None,
        "comment": "",
        "error": None,
        "max_comment": MAX_COMMENT,
    }
    return _framed(templates.TemplateResponse(request, "feedback.html", context))


def _framed(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = _FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/suppressions", summary="Addresses never e-mailed again (the newest 100)")
def list_suppressions(scope: CurrentScope, session: SessionDep) -> SuppressionList:
    total, newest = policy.list_suppressions(session, scope=scope)
    return SuppressionList(
        total=total, suppressions=[SuppressionOut.model_validate(s) for s in newest]
    )


@router.post("/suppressions", status_code=status.HTTP_204_NO_CONTENT, summary="Suppress an address")
def add_suppression(
    body: SuppressionIn, scope: ManagerScope, session: SessionDep, request: Request
) -> None:
    policy.suppress_address(session, scope=scope, email=body.email, reason=SuppressionReason.MANUAL)
    audit.record(session, request=request, scope=scope, action="suppression.added")
