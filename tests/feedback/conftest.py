"""Feedback fixtures: a real SMTP server on loopback (aiosmtpd) that plaudit sends to."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.api.conftest import client, make_item, make_person, owner, sent  # noqa: F401
from tests.support import free_port, wait_for

SMTP_USER = "plaudit-smtp"
SMTP_PASSWORD = "smtp-password-do-not-leak"
WEBHOOK_SECRET = "webhook-secret-do-not-leak"


class Mailbox:
    """What the SMTP server accepted: parsed messages, with the envelope and who logged in."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.refuse: set[str] = set()  # recipients answered with 550
        self.lock = threading.Lock()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == SMTP_PASSWORD
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def wait(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(db, configure) -> Iterator[Mailbox]:
    """plaudit's SMTP back-end pointed at a fresh aiosmtpd server on loopback, with login."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,  # loopback only; TLS is the server's business in production
    )
    controller.start()
    configure(
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        public_url="http://testserver",
        mail_from="Plaudit <no-reply@plaudit.test>",
        inbound_domain="inbound.plaudit.test",
        email_webhook_secret=WEBHOOK_SECRET,
    )
    try:
        yield mailbox
    finally:
        controller.stop()
