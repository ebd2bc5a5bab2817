"""The sandbox as one ASGI app: each real provider host is a path prefix with its own routes.

A new provider adds its mounts to `provider_mounts` (one module per host) and nothing else.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from connectors.sandbox import (
    admin,
    facebook_admin,
    facebook_graph,
    google_accounts,
    google_locations,
    google_oauth,
    google_pubsub,
    google_qanda,
    google_reviews,
)
from connectors.sandbox.front_door import FrontDoor
from connectors.sandbox.state import SandboxState

GOOGLE_AUTH_PATH = "/google-accounts/o/oauth2/v2/auth"
GOOGLE_TOKEN_PATH = "/google-oauth2/token"
FACEBOOK_GRAPH_PATH = "/facebook-graph"
FACEBOOK_DIALOG_PATH = "/facebook-www"


def provider_mounts(state: SandboxState) -> list[BaseRoute]:
    return [
        Mount("/google-accounts", routes=google_oauth.authorization_routes(state)),
        Mount("/google-oauth2", routes=google_oauth.token_routes(state)),
        Mount("/accountmanagement", routes=google_accounts.routes(state)),
        Mount("/businessinformation", routes=google_locations.routes(state)),
        Mount("/mybusiness", routes=google_reviews.routes(state)),
        Mount("/qanda", routes=google_qanda.routes(state.qanda, state)),
        Mount("/notifications", routes=google_pubsub.notification_routes(state.pubsub, state)),
        Mount("/googleapis-oauth2", routes=google_pubsub.jwks_routes(state.pubsub)),
        Mount(FACEBOOK_DIALOG_PATH, routes=facebook_graph.dialog_routes(state.facebook)),
        Mount(FACEBOOK_GRAPH_PATH, routes=facebook_graph.graph_routes(state.facebook)),
    ]


def build_app(state: SandboxState) -> ASGIApp:
    routes = [
        *provider_mounts(state),
        Mount("/_admin/facebook", routes=facebook_admin.routes(state.facebook)),
        Mount("/_admin/qanda", routes=google_qanda.admin_routes(state.qanda, state)),
        Mount("/_admin/pubsub", routes=google_pubsub.admin_routes(state.pubsub)),
        Mount("/_admin", routes=admin.routes(state)),
    ]
    return FrontDoor(Starlette(routes=routes), state)


def base_urls(url: str) -> dict[str, str]:
    """The base-URL settings that point plaudit's connectors at a sandbox at `url`."""
    url = url.rstrip("/")
    return {
        "google_auth_uri": url + GOOGLE_AUTH_PATH,
        "google_token_uri": url + GOOGLE_TOKEN_PATH,
        "google_mybusiness_url": url + "/mybusiness/",
        "google_account_management_url": url + "/accountmanagement/",
        "google_business_information_url": url + "/businessinformation/",
        "google_qanda_url": url + "/qanda/",
        "google_notifications_url": url + "/notifications/",
        "google_pubsub_jwks_url": url + "/googleapis-oauth2/v3/certs",
        "facebook_graph_url": url + FACEBOOK_GRAPH_PATH + "/",
        "facebook_dialog_url": url + FACEBOOK_DIALOG_PATH + "/",
    }
