"""Where a browser may be sent back to: only our own origin (the API's public URL, or a
dashboard origin allowed by CORS). Anything else would make plaudit an open redirect that lends
its name to a phishing link."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.settings import get_settings
from core.url_syntax import carries_credentials, has_control_or_space, port_of, web_url


def _origin(url: str) -> tuple[str, str, int | None] | None:
    parts = web_url(url)
    if parts is None or parts.hostname is None or (port := port_of(parts)) is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def own_origins() -> set[tuple[str, str, int | None]]:
    settings = get_settings()
    urls = [settings.public_url, *settings.cors_allowed_origins.split(",")]
    return {origin for url in urls if url.strip() and (origin := _origin(url.strip()))}


def safe_redirect(value: str) -> str:
    """The target unchanged if it is a path on our origin or a URL of one of our origins;
    ValueError naming the rule otherwise."""
    if has_control_or_space(value) or "\\" in value:
        raise ValueError("must not contain whitespace, control characters or backslashes")
    if value.startswith("/"):
        # "//host/…" is a scheme-relative URL to another host, not a path.
        if value.startswith("//"):
            raise ValueError("must be a path on this site or a URL of this site")
        return value
    if carries_credentials(urlsplit(value)):
        raise ValueError("must not carry credentials")
    origin = _origin(value)
    if origin is None or origin not in own_origins():
        raise ValueError("must be a path on this site or a URL of this site")
    return value
