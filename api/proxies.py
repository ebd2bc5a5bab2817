"""Which proxies uvicorn believes about the client's address (X-Forwarded-For) and scheme.

The address is what log-in throttling, sign-up and reset limits and the audit log count by, so
a header anyone can send must not choose it. uvicorn's own default trusts these headers from
loopback; here nothing is trusted unless PLAUDIT_TRUSTED_PROXIES lists the proxy (or its
network), and then the client is the right-most address in X-Forwarded-For that is not itself a
trusted proxy.
"""

from __future__ import annotations

from typing import Any

from core.settings import get_settings


def uvicorn_proxy_options() -> dict[str, Any]:
    """``proxy_headers`` and ``forwarded_allow_ips`` for ``uvicorn.run`` / ``uvicorn.Config``."""
    trusted = get_settings().trusted_proxy_list
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}
