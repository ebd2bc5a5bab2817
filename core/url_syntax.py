"""What a URL's text alone says, before deciding where it may lead: the checks that the redirect
rule (core.redirects) and the outbound-URL rule (core.targets) share."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

_SCHEMES = ("http", "https")


def has_control_or_space(value: str) -> bool:
    """Whitespace or control characters, which browsers and clients strip or read differently."""
    return any(c.isspace() or ord(c) < 0x20 for c in value)


def web_url(value: str) -> SplitResult | None:
    """The parts of an absolute http(s) URL with a host; None for anything else."""
    parts = urlsplit(value)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        return None
    return parts


def carries_credentials(parts: SplitResult) -> bool:
    """A user name or password before the host (``https://user:pass@host``)."""
    return parts.username is not None or parts.password is not None or "@" in parts.netloc


def port_of(parts: SplitResult) -> int | None:
    """The port the URL reaches (the scheme's default if none is given); None if malformed."""
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
