"""The Postmark back-end (through postmarker) against a local stand-in for Postmark's API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models import EmailMessage, EmailStatus, Organisation
from services.email import queue_email
from tests.service_calls import attempt_expecting_a_retry, deliver_email

TOKEN = "postmark-server-token-do-not-leak"


class FakePostmark(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict]] = []
    answer: tuple[int, dict] = (200, {"MessageID": "pm-123", "ErrorCode": 0})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakePostmark.received.append((dict(self.headers), body))
        status, payload = FakePostmark.answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(db, configure):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePostmark)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakePostmark.received = []
    configure(
        email_backend="postmark",
        postmark_token=TOKEN,
        postmark_api_url=f"http://127.0.0.1:{server.server_port}/",
    )
    try:
        yield FakePostmark
    finally:
        server.shutdown()


def queued(db) -> EmailMessage:
    org = Organisation(name="Rosa's")
    db.add(org)
    db.commit()
    row = queue_email(
        db,
        organisation_id=org.id,
        to="ann@example.com",
        template="notice",
        context={"subject": "Hi", "body": "Body", "action_url": None, "action_label": None},
    )
    db.commit()
    return row


def test_a_message_goes_to_postmark_with_both_parts_and_the_unsubscribe_headers(db, postmark):
    postmark.answer = (200, {"MessageID": "pm-123", "ErrorCode": 0})
    row = queued(db)

    assert deliver_email(row.id) == EmailStatus.SENT

    [(headers, body)] = postmark.received
    assert headers["X-Postmark-Server-Token"] == TOKEN
    assert body["To"] == "ann@example.com" and body["Subject"] == "Hi"
    assert "Body" in body["TextBody"] and "Body" in body["HtmlBody"]
    sent_headers = {h["Name"]: h["Value"] for h in body["Headers"]}
    assert sent_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent_headers["List-Unsubscribe"].startswith("<")
    db.expire_all()
    assert db.get(EmailMessage, row.id).provider_message_id == "pm-123"


def test_postmark_refusals_fail_and_its_outages_retry(db, postmark):
    postmark.answer = (422, {"ErrorCode": 406, "Message": "Inactive recipient ann@example.com"})
    refused = queued(db)
    assert deliver_email(refused.id) == EmailStatus.FAILED
    db.expire_all()
    error = db.get(EmailMessage, refused.id).last_error
    assert error == "Postmark refused the message (error 406)"  # no address in it

    postmark.answer = (503, {"ErrorCode": 0, "Message": "down"})
    later = queued(db)
    attempt_expecting_a_retry(deliver_email, "email.send", later.id)
    db.expire_all()
    assert db.get(EmailMessage, later.id).status == EmailStatus.PENDING
