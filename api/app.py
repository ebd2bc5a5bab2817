"""The FastAPI application: ``create_app()`` is what ``plaudit api`` serves."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import dashboard
from api.errors import ERROR_RESPONSES, document_credential_errors, install_error_handlers
from api.input_guard import InputGuardMiddleware
from api.public import pages
from api.request_id import RequestIdMiddleware
from api.routers import (
    alerts,
    analytics,
    api_keys,
    audit_log,
    auth,
    campaigns,
    connections,
    email_webhooks,
    feedback_settings,
    health,
    invitations,
    items,
    locations,
    mailbox,
    members,
    privacy,
    replies,
    templates,
    threads,
    webhook_endpoints,
    webhooks,
)
from api.security_headers import SecurityHeadersMiddleware
from core.settings import get_settings

API_PREFIX = "/api/v1"


def create_app() -> FastAPI:
    app = FastAPI(
        title="plaudit",
        summary="Reviews from Google and Facebook in one inbox, with replies.",
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    origins = [o.strip() for o in get_settings().cors_allowed_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for module in (
        auth,
        connections,
        locations,
        items,
        replies,
        templates,
        members,
        invitations,
        alerts,
        api_keys,
        audit_log,
        privacy,
        analytics,
        webhook_endpoints,
        campaigns,
        feedback_settings,
        threads,
        email_webhooks,
        mailbox,
        webhooks,
    ):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(health.router)
    app.include_router(pages.router)  # the public feedback pages, outside the JSON API
    document_credential_errors(app)
    dashboard.mount(app)  # the router's fallback: GET paths no route takes
    return app
