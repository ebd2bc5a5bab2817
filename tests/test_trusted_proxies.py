"""`plaudit api` believes X-Forwarded-For only from PLAUDIT_TRUSTED_PROXIES: by default from
nobody, not even loopback (uvicorn's own default), so a header cannot choose the address that
log-in throttling and the audit log count by."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from models import LoginFailure
from tests.support import Process, free_port, wait_for

# The API runs in a process of its own.
pytestmark = pytest.mark.commits


def _failed_login_seen_from(db: Session, forwarded_for: str, trusted: str) -> str:
    """The client address a real `plaudit api` recorded for a failed log-in sent from loopback
    with this X-Forwarded-For."""
    port = free_port()
    api = Process("api", "--port", str(port), env={"PLAUDIT_TRUSTED_PROXIES": trusted})
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            """plaudit api answers /healthz"""
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, timeout=30)
        response = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"email": "nobody@example.com", "password": "not the password"},
            headers={"X-Forwarded-For": forwarded_for},
            timeout=10,
        )
        assert response.status_code == 401, response.text
    finally:
        api.stop()
    db.expire_all()
    ip = db.scalars(select(LoginFailure.ip).order_by(LoginFailure.id.desc())).first()
    assert ip is not None
    return ip


def test_forwarded_for_is_ignored_by_default_even_from_loopback(db: Session):
    assert _failed_login_seen_from(db, "203.0.113.9", trusted="") == "127.0.0.1"


def test_a_trusted_proxy_names_the_client(db: Session):
    # The right-most address that is not itself a trusted proxy is the client; what the client
    # wrote further left is not believed.
    seen = _failed_login_seen_from(db, "198.51.100.1, 203.0.113.9", trusted="127.0.0.0/8")
    assert seen == "203.0.113.9"


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1,::1").trusted_proxy_list == [
        "10.0.0.0/8",
        "127.0.0.1",
        "::1",
    ]
    with pytest.raises(ValidationError, match="PLAUDIT_TRUSTED_PROXIES"):
        Settings(trusted_proxies="lb.internal")
