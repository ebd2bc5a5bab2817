"""The SMTP back-end's STARTTLS and implicit TLS, with a login only over the encrypted channel."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from models import EmailStatus, Organisation
from services.email import queue_email
from tests.feedback.conftest import SMTP_PASSWORD, SMTP_USER, Mailbox
from tests.service_calls import deliver_email
from tests.support import free_port


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE for this test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    return server


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_over_tls_and_logs_in_there(db, smtp, configure, certificate, security):
    mailbox = Mailbox()
    port = free_port()
    # aiosmtpd offers AUTH on an implicit-TLS socket only when told it need not wait for
    # STARTTLS; the whole session is encrypted there.
    tls = (
        {"tls_context": certificate, "require_starttls": True, "auth_require_tls": True}
        if security == "starttls"
        else {"server_hostname": "127.0.0.1", "ssl_context": certificate, "auth_require_tls": False}
    )
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        **tls,
    )
    controller.start()
    try:
        configure(smtp_port=port, smtp_security=security)
        org = Organisation(name="Secure")
        db.add(org)
        db.commit()
        row = queue_email(
            db,
            organisation_id=org.id,
            to="ann@example.com",
            template="notice",
            context={"subject": "Over TLS", "body": "x", "action_url": None, "action_label": None},
        )
        db.commit()

        assert deliver_email(row.id) == EmailStatus.SENT

        [message] = mailbox.wait(1)
        assert message["Subject"] == "Over TLS"
        assert mailbox.logins == [SMTP_USER]
        assert SMTP_PASSWORD not in mailbox.raw[0].decode()
    finally:
        controller.stop()
