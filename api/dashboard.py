"""The dashboard: the single-page app built into ``web/dist``, served at ``/``.

Hashed assets are cached for a year (their name changes with their content); ``index.html`` is
revalidated on every load so a new build is picked up at once. Any other GET path that is not the
API's is a client route and gets ``index.html``: the app's router draws it. The paths of the API,
its docs, the public feedback pages and the webhooks are never shadowed: the app is the router's
fallback for paths no route matched, outside every first path segment the routes use.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
# Vite writes every bundle, stylesheet and image it fingerprints under assets/.
ASSETS = "assets"
# The app loads its own scripts and styles and talks to its own origin only; no inline script
# or style anywhere. Reviewers' photos and media thumbnails come from the providers (https).
# Frames: the feedback settings' previews of the e-mail and the public page (same origin).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; frame-src 'self'; "
    "base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_LONG_CACHE = "public, max-age=31536000, immutable"
_SHORT_CACHE = "public, max-age=3600"
_NOT_BUILT = (
    "The dashboard is not built. `make run` builds it; by hand: cd web && npm ci && npm run build"
)


class _ClientFallback:
    """The router's answer when no route matched: the app for GET and HEAD outside the API's
    first path segments, the router's own 404 otherwise. Being the fallback rather than a
    route, it never hides a route, even one added after it, and leaves 405s as they were."""

    def __init__(self, router: Router, dist: Path) -> None:
        self.router = router
        self.not_found = router.default
        self.dist = dist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or _first_segment(scope["path"]) in self._reserved()
        ):
            await self.not_found(scope, receive, send)
            return
        await self._response(scope["path"])(scope, receive, send)

    def _reserved(self) -> set[str]:
        # Read each time: a router gains routes after the app is built (tests, plugins).
        segments = {_first_segment(getattr(r, "path", "")) for r in self.router.routes}
        return ({"api"} | segments) - {""}

    def _response(self, path: str) -> Response:
        index = self.dist / "index.html"
        if not index.is_file():
            return _headers(PlainTextResponse(_NOT_BUILT, status_code=503), "no-store")
        file = _inside(self.dist, path.lstrip("/"))
        if file is not None and file.is_file() and file != index:
            cache = _LONG_CACHE if _first_segment(path) == ASSETS else _SHORT_CACHE
            return _headers(FileResponse(file), cache)
        if _first_segment(path) == ASSETS:
            # A missing hashed file is a stale page asking for an old build: an HTML answer
            # would only be misread as a script.
            return _headers(PlainTextResponse("Not found", status_code=404), "no-store")
        return _headers(FileResponse(index, media_type="text/html"), "no-cache")


def mount(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the app (from ``dist``, by default the build in ``web/dist``) for every path the
    API does not claim."""
    app.router.default = _ClientFallback(app.router, dist or DIST)


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _inside(root: Path, path: str) -> Path | None:
    if not path:
        return None
    candidate = (root / path).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) else None


def _headers(response: Response, cache: str) -> Response:
    response.headers["Cache-Control"] = cache
    response.headers["Content-Security-Policy"] = CSP
    return response
