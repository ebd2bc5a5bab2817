"""Outbound webhooks (admins): register endpoints, read their delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api import audit
from api.deps import AdminScope, CursorParam, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.webhook_endpoints import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)
from services import pagination
from services.webhooks import endpoints

router = APIRouter(prefix="/webhook-endpoints", tags=["webhook endpoints"])

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such webhook here"}}


@router.get("", summary="The organisation's webhook endpoints")
def list_webhooks(scope: AdminScope, session: SessionDep) -> WebhookList:
    rows = endpoints.list_webhooks(session, scope=scope)
    return WebhookList(webhooks=[WebhookOut.model_validate(row) for row in rows])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an endpoint; its signing secret is in this response only",
)
def create_webhook(
    body: WebhookIn, scope: AdminScope, session: SessionDep, request: Request
) -> WebhookCreated:
    webhook, secret = endpoints.create(session, scope=scope, url=body.url, events=body.events)
    _audit(session, request, scope, "webhook.created", webhook.id)
    return WebhookCreated(webhook=WebhookOut.model_validate(webhook), secret=secret)


@router.get("/{webhook_id}", summary="One endpoint", responses=_NOT_FOUND)
def get_webhook(webhook_id: Id, scope: AdminScope, session: SessionDep) -> WebhookOut:
    webhook = endpoints.get(session, scope=scope, webhook_id=webhook_id)
    return WebhookOut.model_validate(webhook)


@router.patch(
    "/{webhook_id}", summary="Change the URL or events, or re-enable", responses=_NOT_FOUND
)
def update_webhook(
    webhook_id: Id, body: WebhookPatch, scope: AdminScope, session: SessionDep, request: Request
) -> WebhookOut:
    webhook = endpoints.get(session, scope=scope, webhook_id=webhook_id)
    endpoints.update(webhook, url=body.url, events=body.events, active=body.active)
    _audit(session, request, scope, "webhook.updated", webhook.id)
    return WebhookOut.model_validate(webhook)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an endpoint and its log",
    responses=_NOT_FOUND,
)
def delete_webhook(
    webhook_id: Id, scope: AdminScope, session: SessionDep, request: Request
) -> Response:
    webhook = endpoints.get(session, scope=scope, webhook_id=webhook_id)
    session.delete(webhook)
    _audit(session, request, scope, "webhook.deleted", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The endpoint's delivery log, newest first",
    responses={**_NOT_FOUND, 400: {"model": ErrorResponse, "description": "Bad cursor"}},
)
def list_deliveries(
    webhook_id: Id,
    scope: AdminScope,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: CursorParam = None,
) -> DeliveryPage:
    webhook = endpoints.get(session, scope=scope, webhook_id=webhook_id)
    before_id = pagination.before_id("deliveries", cursor)
    rows, has_more = endpoints.deliveries(
        session, webhook=webhook, before_id=before_id, limit=limit
    )
    return DeliveryPage(
        deliveries=[DeliveryOut.model_validate(row) for row in rows],
        next_cursor=pagination.next_by_id("deliveries", rows, has_more=has_more),
    )


def _audit(
    session: SessionDep, request: Request, scope: AdminScope, action: str, webhook_id: int
) -> None:
    audit.record(
        session,
        request=request,
        scope=scope,
        action=action,
        target_type="webhook",
        target_id=webhook_id,
    )
