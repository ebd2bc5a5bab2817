"""The dashboard: the single-page app built into ``web/dist``, served at ``/``.

Hashed assets are cached for a year (their name changes with their content); ``index.html`` is
revalidated on every load so a new build is picked up at once. Any other GET path that is not the
API's is a client route and gets ``index.html``: the app's router draws it. The paths of the API,
its docs, the public feedback pages and the webhooks are never shadowed: they are read off the
app's own routes when the dashboard is mounted, so a route added later is safe too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
# Vite writes every bundle, stylesheet and image it fingerprints under assets/.
ASSETS = "assets"
# The app loads its own scripts and styles and talks to its own origin only; no inline script
# or style anywhere. Reviewers' photos and media thumbnails come from the providers (https).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_LONG_CACHE = "public, max-age=31536000, immutable"
_SHORT_CACHE = "public, max-age=3600"
_NOT_BUILT = (
    "The dashboard is not built. `make run` builds it; by hand: cd web && npm ci && npm run build"
)


class _ClientRoute(Route):
    """Matches GET and HEAD on any path outside the reserved first segments; everything else
    falls through to the API's own 404 and 405 answers, unchanged."""

    def __init__(self, reserved: frozenset[str], dist: Path) -> None:
        super().__init__("/{path:path}", self._serve, methods=["GET", "HEAD"])
        self.reserved = reserved
        self.dist = dist

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        if _first_segment(scope["path"]) in self.reserved:
            return Match.NONE, {}
        return super().matches(scope)

    async def _serve(self, request: Request) -> Response:
        path = request.path_params["path"]
        index = self.dist / "index.html"
        if not index.is_file():
            return _headers(PlainTextResponse(_NOT_BUILT, status_code=503), "no-store")
        file = _inside(self.dist, path)
        if file is not None and file.is_file() and file != index:
            cache = _LONG_CACHE if _first_segment("/" + path) == ASSETS else _SHORT_CACHE
            return _headers(FileResponse(file), cache)
        if _first_segment("/" + path) == ASSETS:
            # A missing hashed file is a stale page asking for an old build: an HTML answer
            # would only be misread as a script.
            return _headers(PlainTextResponse("Not found", status_code=404), "no-store")
        return _headers(FileResponse(index, media_type="text/html"), "no-cache")


def mount(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the app (from ``dist``, by default the build in ``web/dist``) for every path the
    API does not claim; call after every router is included."""
    reserved = {_first_segment(getattr(r, "path", "")) for r in app.router.routes} - {""}
    app.router.routes.append(_ClientRoute(frozenset(reserved | {"api"}), dist or DIST))


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
