"""Reply templates: managers keep them, everyone renders them for an item."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import audit
from api.deps import CurrentScope, ManagerScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.templates import (
    RenderIn,
    RenderOut,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TemplatePatch,
)
from services.replies import templates

router = APIRouter(prefix="/reply-templates", tags=["reply templates"])

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such template here"}}
_CONFLICT = {409: {"model": ErrorResponse, "description": "The name is taken"}}


@router.get("", summary="The organisation's reply templates and the variables they may use")
def list_templates(scope: CurrentScope, session: SessionDep) -> TemplateList:
    rows = templates.list_templates(session, scope=scope)
    return TemplateList(
        templates=[TemplateOut.model_validate(row) for row in rows], variables=templates.VARIABLES
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a template (manager)",
    responses=_CONFLICT,
)
def create_template(
    body: TemplateIn, scope: ManagerScope, session: SessionDep, request: Request
) -> TemplateOut:
    template = templates.save(
        session,
        scope=scope,
        template=None,
        name=body.name,
        body=body.body,
    )
    _audit(session, request, scope, "template.created", template.id)
    return TemplateOut.model_validate(template)


@router.get("/{template_id}", summary="One template", responses=_NOT_FOUND)
def get_template(template_id: Id, scope: CurrentScope, session: SessionDep) -> TemplateOut:
    template = templates.get_template(session, scope=scope, template_id=template_id)
    return TemplateOut.model_validate(template)


@router.patch(
    "/{template_id}",
    summary="Rename or rewrite a template (manager)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
def update_template(
    template_id: Id,
    body: TemplatePatch,
    scope: ManagerScope,
    session: SessionDep,
    request: Request,
) -> TemplateOut:
    template = templates.get_template(session, scope=scope, template_id=template_id)
    templates.save(
        session,
        scope=scope,
        template=template,
        name=body.name,
        body=body.body,
    )
    _audit(session, request, scope, "template.updated", template.id)
    return TemplateOut.model_validate(template)


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a template (manager)",
    responses=_NOT_FOUND,
)
def delete_template(
    template_id: Id, scope: ManagerScope, session: SessionDep, request: Request
) -> Response:
    template = templates.get_template(session, scope=scope, template_id=template_id)
    session.delete(template)
    _audit(session, request, scope, "template.deleted", template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{template_id}/render",
    summary="The template filled in for an item, ready to edit and send",
    responses={404: {"model": ErrorResponse, "description": "No such template or item here"}},
)
def render(template_id: Id, body: RenderIn, scope: CurrentScope, session: SessionDep) -> RenderOut:
    text = templates.render_for_item(
        session,
        scope=scope,
        template_id=template_id,
        item_id=body.item_id,
    )
    return RenderOut(text=text)


def _audit(
    session: SessionDep, request: Request, scope: ManagerScope, action: str, template_id: int
) -> None:
    audit.record(
        session,
        request=request,
        scope=scope,
        action=action,
        target_type="reply_template",
        target_id=template_id,
    )
