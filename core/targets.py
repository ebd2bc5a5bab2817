"""Outbound URLs an organisation chooses (webhooks): never a way into our own network.

A URL is checked when it is registered and again at each delivery, and the delivery connects to
exactly the address that passed the check (resolved once), so a name that resolves to a public
address for the check and to a private one for the connection (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.url_syntax import carries_credentials, has_control_or_space, port_of, web_url

# The name resolution every check uses; a test may replace it to play a rebinding DNS server.
resolve: Callable[[str, int], list[str]] = lambda host, port: [  # noqa: E731
    info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
]


class RefusedTarget(ValueError):
    """The URL is not one we will call; the message says why (and never quotes the URL)."""


@dataclass(frozen=True)
class Target:
    url: str  # with the checked address in place of the host name
    host_header: str
    server_name: str | None  # for TLS: the name the certificate must carry (SNI)


def check_syntax(url: str) -> None:
    """What can be known without resolving: scheme, host, no credentials."""
    if has_control_or_space(url):
        raise RefusedTarget("must not contain whitespace or control characters")
    parts = web_url(url)
    if parts is None:
        raise RefusedTarget("must be an absolute http(s) URL")
    if carries_credentials(parts):
        raise RefusedTarget("must not carry credentials")
    if port_of(parts) is None:
        raise RefusedTarget("has an invalid port")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def pin(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host once and check every address; the target to connect to."""
    check_syntax(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except OSError:
        raise RefusedTarget("the host does not resolve") from None
    if not addresses:
        raise RefusedTarget("the host does not resolve")
    if not allow_private and not all(_public(a) for a in addresses):
        raise RefusedTarget("the host is a private or local address")
    address = addresses[0].split("%")[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return Target(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host_header=parts.netloc,
        server_name=host if parts.scheme == "https" else None,
    )
