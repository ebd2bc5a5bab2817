"""Secrets and addresses never leave the process: Sentry events (against a local capture server)
and log lines."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.scrub import FILTERED, scrub, scrub_text

CANARIES = (
    "canary.person@example.com",
    "ya29.canary-access-token",
    "1//0canary-refresh-token",
    "canary-client-secret",
    "canary-code-verifier",
)


class Capture(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Capture.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        return None


SCRIPT = textwrap.dedent(
    """
    import logging, sentry_sdk
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from core.logs import setup_sentry, JsonFormatter

    setup_sentry(DSN)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    app = FastAPI()

    @app.get("/boom")
    def boom(access_token: str = "", refresh_token: str = "", client_secret: str = ""):
        raise RuntimeError("refresh failed for canary.person@example.com: 1//0canary-refresh-token")

    client = TestClient(app, raise_server_exceptions=False)
    client.get(
        "/boom?access_token=ya29.canary-access-token&refresh_token=1//0canary-refresh-token"
        "&client_secret=canary-client-secret&code_verifier=canary-code-verifier",
        headers={
            "Authorization": "Bearer ya29.canary-access-token",
            "Cookie": "s=canary-code-verifier",
        },
    )
    logging.getLogger("plaudit.test").error(
        "token ya29.canary-access-token for canary.person@example.com "
        "(client_secret=canary-client-secret)"
    )
    try:
        raise ValueError("Bearer ya29.canary-access-token rejected for canary.person@example.com")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(5)
    """
)


def test_sentry_events_and_log_lines_carry_no_secret_or_address():
    Capture.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
    try:
        result = subprocess.run(
            [sys.executable, "-c", f"DSN = {dsn!r}\n" + SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    events = b"\n".join(Capture.received).decode()
    # Both errors reached Sentry: what was sent is the scrubbed event, not nothing.
    assert events.count('"type":"event"') >= 2, events[:2000]
    assert "RuntimeError" in events and "ValueError" in events
    assert FILTERED in events and "[email]" in events
    log_lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any("[email]" in line["message"] for line in log_lines), result.stderr
    for canary in CANARIES:
        assert canary not in events, f"{canary} reached Sentry"
        assert canary not in result.stderr, f"{canary} reached the log"


def test_scrub_filters_sensitive_keys_at_any_depth():
    event = {
        "request": {
            "headers": [["Authorization", "Bearer x"], ["Accept", "*/*"]],
            "query_string": "a=1&access_token=ya29.zzz&refresh_token=abc",
            "data": {"password": "hunter2", "note": "mail me at a@b.example"},
        }
    }
    cleaned = scrub(event)
    assert cleaned["request"]["headers"][0] == ["Authorization", FILTERED]
    assert cleaned["request"]["headers"][1] == ["Accept", "*/*"]
    assert "ya29" not in cleaned["request"]["query_string"]
    assert "abc" not in cleaned["request"]["query_string"]
    assert cleaned["request"]["data"] == {"password": FILTERED, "note": "mail me at [email]"}
    assert scrub_text("nothing secret here") == "nothing secret here"


def test_log_lines_lose_card_numbers_and_credentials_but_keep_ids():
    from core.scrub import scrub_text

    line = scrub_text(
        "params ('Card 4111 1111 1111 1111', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', "
        "'Q7fZ2kLm9XpR4sTv8WyB3nDc6HjG1aEu') for page 100000000000777 at 1796222773"
    )
    assert "4111" not in line and "sk_live" not in line and "Q7fZ2kLm" not in line
    assert "[card]" in line and "[redacted:secret]" in line
    assert "page 100000000000777 at 1796222773" in line  # ids and timestamps stay readable


def test_dramatiq_never_logs_a_messages_arguments():
    import logging

    import dramatiq

    from core.logs import JsonFormatter

    message = dramatiq.Message(queue_name="default", actor_name="push.facebook",
                               args=({"message": "call +44 20 7946 0958"},), kwargs={},
                               options={})  # fmt: skip
    records = [
        logging.LogRecord("dramatiq.worker", logging.DEBUG, __file__, 1,
                          "Received message %s with id %r.", (message, message.message_id), None),
        logging.LogRecord("workers.push.push.facebook", logging.DEBUG, __file__, 1,
                          "Received args=%r kwargs=%r.", (message.args, {}), None),
    ]  # fmt: skip
    lines = [json.loads(JsonFormatter().format(record))["message"] for record in records]
    assert lines[0] == f"Received message push.facebook(…) with id {message.message_id!r}."
    assert lines[1] == "Received a message (arguments not logged)."
