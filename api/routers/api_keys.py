"""API keys: admins create and revoke them, with a person's token (a key cannot make keys)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api import audit
from api.deps import AdminPerson, AdminScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.api_keys import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut
from api.schemas.common import Id
from services.team import api_keys

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", summary="The organisation's API keys (never the keys themselves)")
def list_keys(scope: AdminScope, session: SessionDep) -> ApiKeyList:
    rows = api_keys.list_keys(session, scope=scope)
    return ApiKeyList(api_keys=[ApiKeyOut.model_validate(row) for row in rows])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; the key is in this response only",
)
def create_key(
    body: ApiKeyIn, scope: AdminPerson, session: SessionDep, request: Request
) -> ApiKeyCreated:
    api_key, key = api_keys.create(
        session,
        scope=scope,
        name=body.name,
        scopes=body.scopes,
        expires_at=body.expires_at,
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="api_key.created",
        target_type="api_key",
        target_id=api_key.id,
        details={"scopes": api_key.scopes},
    )
    return ApiKeyCreated(api_key=ApiKeyOut.model_validate(api_key), key=key)


@router.delete(
    "/{api_key_id}",
    summary="Revoke an API key at once",
    responses={404: {"model": ErrorResponse, "description": "No such key here"}},
)
def revoke_key(
    api_key_id: Id, scope: AdminPerson, session: SessionDep, request: Request
) -> ApiKeyOut:
    api_key = api_keys.revoke(session, scope=scope, key_id=api_key_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="api_key.revoked",
        target_type="api_key",
        target_id=api_key.id,
    )
    return ApiKeyOut.model_validate(api_key)
