"""PII canaries: one e-mail address, one valid-Luhn card number, one bearer token and one phone
number, pushed through every input the product has — provider text (a sync), Google's and
Facebook's push webhooks, a recipient upload, the public feedback page, replies, notes, reply
templates and their variables, an inbound e-mail — then searched for in a `pg_dump` of the
database, in every log line and in every e-mail sent. A canary may be in clear only where the
README's Privacy section says it must be (an e-mail to that very address carries it in its To
header); a data-subject erasure for the address then removes even that."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text

from core import crypto
from core.logs import JsonFormatter, setup_logging
from core.settings import get_settings
from models.base import Base
from models.db import session_scope
from models.privacy import DataSubjectRequest, RequestKind
from tests.fixtures import consent
from tests.service_calls import process, send_due_requests
from tests.support import ApiServer, free_port, sign_up, wait_for
from tests.workers.facebook_support import connect_through_api, fb_admin, use_facebook_app
from workers.broker import broker
from workers.runner import start_worker

# A served API and a worker commit on their own; the database is dumped by pg_dump.
pytestmark = pytest.mark.commits

TOPIC = "projects/sandbox-project/topics/plaudit"
WEBHOOK_SECRET = "canary-webhook-secret"
NOTE = "Customer said: "


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    digits.append((10 - total % 10) % 10)
    return "".join(map(str, digits))


@pytest.fixture
def canaries() -> dict[str, str]:
    rng = random.Random(uuid.uuid4().int)
    tag = uuid.uuid4().hex[:10]
    return {
        "email": f"canary.{tag}@example.com",
        "card": luhn_card(rng),
        # What follows "Bearer " in a pasted Authorization header: lower-case hex, so only the
        # bearer rule can catch it (the long-random-token rule wants mixed case).
        "token": uuid.uuid4().hex + uuid.uuid4().hex[:8],
        "phone": f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
    }


def typed(c: dict[str, str]) -> str:
    """What a person types: every canary in one text."""
    return f"Refund card {c['card']}, auth Bearer {c['token']}, call {c['phone']} or {c['email']}"


@pytest.fixture
def logs(configure) -> Iterator[list[str]]:
    """Every line the service logs during the test, set up as the service sets up its logging,
    at its most talkative level (PLAUDIT_LOG_LEVEL=DEBUG), as the JSON formatter writes it."""
    lines: list[str] = []
    formatter = JsonFormatter()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    root = logging.getLogger()
    names = ("", "httpx", "urllib3", "googleapiclient.discovery", "pika", "pgserver", "alembic",
             "dramatiq", "uvicorn", "uvicorn.error", "uvicorn.access")  # fmt: skip
    saved = {n: (logging.getLogger(n).level, logging.getLogger(n).handlers[:],
                 logging.getLogger(n).propagate) for n in names}  # fmt: skip
    configure(log_level="DEBUG")
    setup_logging()
    root.handlers[:] = [Keep(level=logging.DEBUG)]  # instead of stderr
    yield lines
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def database_as_text(db) -> str:
    parts = [
        db.execute(
            text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{name}\" t")
        ).scalar()
        for name in Base.metadata.tables
    ]
    return "\n".join(parts)


def dump_database(db) -> str:
    """The whole database as `pg_dump` writes it (every table, sequence and schema object)."""
    binary = shutil.which("pg_dump") or next(
        iter(sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None
    )
    if binary is None:
        print("pg_dump not found: searching the tables' rows as text instead")
        return database_as_text(db)
    url = make_url(get_settings().database_url)
    result = subprocess.run(
        [binary, "--no-owner", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
         "-U", url.username or "postgres", url.database],
        capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, **({"PGPASSWORD": url.password} if url.password else {})},
    )  # fmt: skip
    assert "COPY public.items" in result.stdout, "the dump holds no data: it proves nothing"
    return result.stdout


def mailbox(folder: Path) -> list[tuple[str, str]]:
    """Each e-mail sent: (its To header, everything else — headers and decoded parts)."""
    out = []
    for path in sorted(folder.glob("*/*.eml")):
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        rest = [f"{k}: {v}" for k, v in message.items() if k.lower() != "to"]
        rest += [str(part.get_content()) for part in message.walk() if not part.is_multipart()]
        # The raw text too (encoded words, quoted-printable), less the To line itself.
        raw_lines = raw.decode(errors="replace").splitlines()
        rest += [line for line in raw_lines if not line.lower().startswith("to:")]
        out.append((str(message["To"]), "\n".join(rest)))
    return out


def test_canaries_through_every_input_are_nowhere_in_clear(
    db, sandbox, canaries, logs, configure, tmp_path
):
    c = canaries
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    folder = tmp_path / "mailbox"
    use_facebook_app(configure)
    configure(
        public_url=api_url,
        email_backend="mailbox",
        mailbox_dir=folder,
        inbound_domain="inbound.plaudit.test",
        email_webhook_secret=WEBHOOK_SECRET,
        google_pubsub_audience=f"{api_url}/api/v1/webhooks/google",
        google_pubsub_topic=TOPIC,
    )
    broker.flush_all()
    worker = start_worker(threads=2)
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as api:
            run_every_input(api, sandbox, c, folder)
    finally:
        worker.stop()
    tokens = _token_values(httpx.get(f"{sandbox.url}/_admin/tokens").json())
    assert tokens, "the sandbox issued no tokens to check"

    # Nothing to redact was published: the providers never received a card, a token or a phone.
    published = json.dumps(
        [httpx.get(f"{sandbox.url}/_admin/replies").json(), fb_admin(sandbox, "GET", "/replies")]
    )
    assert "Thank you" in published, "no reply reached the sandbox: the check proves nothing"
    for kind in ("card", "token", "phone"):
        assert c[kind] not in published, f"the {kind} canary was published"

    # The database (all of it, as pg_dump writes it) and the logs hold no canary in clear.
    dumped = dump_database(db)
    logged = "\n".join(logs)
    assert logs, "nothing was logged: the log check proved nothing"
    secrets = {**c, **{f"oauth token {n}": t for n, t in enumerate(tokens)}}
    for kind, value in secrets.items():
        assert value not in dumped, f"the {kind} canary is stored in clear"
        assert value not in logged, f"the {kind} canary reached the log"

    # Every e-mail sent: the address only in the To header of e-mails to it, nothing else ever.
    sent = mailbox(folder)
    assert len([to for to, _ in sent if to == c["email"]]) >= 2  # the request and the reply
    for to, rest in sent:
        for kind, value in c.items():
            assert value not in rest, f"the {kind} canary is in an e-mail to {to[:3]}…"

    # The export has the notes on the person's feedback; erasure removes them and the e-mails.
    exported = subject_request(RequestKind.EXPORT, c["email"])
    assert [n["body"] for n in exported["notes"]] == [NOTE + redacted_typed()]
    counts = subject_request(RequestKind.ERASURE, c["email"])
    assert counts["notes_deleted"] == 1 and counts["mailbox_files_deleted"] >= 2, counts
    assert counts["exports_cleared"] == 1, counts
    assert not [to for to, _ in mailbox(folder) if c["email"] in to]
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert not any(c["email"] in path.read_text(errors="replace") for path in files)
    index = crypto.blind_index(c["email"])
    with session_scope() as session:
        left = session.execute(
            text(
                "SELECT (SELECT count(*) FROM feedback_recipients WHERE email_index = :i), "
                "(SELECT count(*) FROM email_messages WHERE to_index = :i), "
                "(SELECT count(*) FROM item_notes n JOIN items i ON i.id = n.item_id "
                " WHERE i.source = 'plaudit'), "
                "(SELECT count(*) FROM data_subject_requests WHERE result IS NOT NULL)"
            ),
            {"i": index},
        ).one()
    assert tuple(left) == (0, 0, 0, 0)


def redacted_typed() -> str:
    return (
        "Refund card [redacted:card], auth [redacted:secret], call [redacted:phone] "
        "or [redacted:email]"
    )


def run_every_input(api: httpx.Client, sandbox, c: dict[str, str], folder: Path) -> None:
    signup = sign_up(
        api,
        {"email": "owner@canary-bakery.example", "password": "correct horse battery",
         "name": "Olive Owner", "organisation_name": "Canary Bakery"},
    )  # fmt: skip
    api.headers["Authorization"] = f"Bearer {signup['access_token']}"

    # Google, connected through OAuth; its push subscription pointed at the API.
    audience = f"{api.base_url}/api/v1/webhooks/google"
    httpx.patch(
        f"{sandbox.url}/_admin/pubsub/subscription",
        json={"push_url": audience, "audience": audience},
    ).raise_for_status()
    start = api.post("/api/v1/connections/google/authorize", json={}).json()
    api.get("/api/v1/connections/google/callback", params=consent(start["authorization_url"]))
    google = httpx.get(f"{sandbox.url}/_admin/locations").json()["locations"]
    total = sum(location["reviewCount"] for location in google)
    wait_for(lambda: len(items(api, source="google")) == total, timeout=20)

    # Provider text, by Google's push: a review (and a reviewer's name) with every canary.
    review = httpx.post(
        f"{sandbox.url}/_admin/reviews",
        json={"location": google[0]["name"], "starRating": "ONE", "comment": typed(c),
              "reviewer": {"displayName": f"Ann {c['email']} {c['phone']}"}},
    ).json()  # fmt: skip
    pushed = httpx.post(
        f"{sandbox.url}/_admin/pubsub/push",
        json={"type": "NEW_REVIEW", "location": google[0]["name"], "review": review["name"]},
    ).json()
    assert pushed["delivered"] == 200, pushed
    [reviewed] = wait_for(lambda: items(api, q="Refund"), timeout=10)
    assert reviewed["text"] == redacted_typed(), reviewed["text"]

    # Facebook, connected through its dialog; a comment pushed by its webhook.
    pages = fb_admin(sandbox, "GET", "/summary")["pages"]
    hook = f"{api.base_url}/api/v1/webhooks/facebook"
    fb_admin(sandbox, "PATCH", "/settings", json={"webhook_url": hook})
    connect_through_api(api)
    comments = sum(page["comments"] for page in pages)
    wait_for(lambda: len(items(api, source="facebook", kind="comment")) == comments, timeout=20)
    comment = {"parent_id": pages[0]["posts"][0], "message": typed(c),
               "from": {"id": "4242", "name": f"Zoë {c['email']}"}}  # fmt: skip
    sent = fb_admin(sandbox, "POST", "/comments", json=comment)
    assert sent["delivered"] == 200
    wait_for(lambda: items(api, source="facebook", q="Refund"), timeout=10)

    # A recipient upload (the external reference is the card), the request e-mail, the answer.
    location_id = api.get("/api/v1/locations").json()["locations"][0]["id"]
    campaign = api.post("/api/v1/campaigns", json={"name": "Canary", "location_id": location_id})
    campaign_id = campaign.json()["campaign"]["id"]
    upload = api.post(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        content=f"name,email,external_ref\nAnn Canary,{c['email']},{c['card']}\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code < 300, upload.text
    send_due_requests(datetime.now(UTC) + timedelta(minutes=1))
    [request] = wait_for(lambda: [m for m in messages(folder) if m["To"] == c["email"]])
    link = next(
        word for word in request.get_body(("plain",)).get_content().split() if "/feedback/" in word
    )
    page = httpx.get(link)
    token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    answered = httpx.post(link, data={"rating": "1", "comment": typed(c), "form_token": token})
    assert answered.status_code < 400, answered.text
    [feedback] = wait_for(lambda: items(api, source="plaudit"))
    assert feedback["text"] == redacted_typed()

    # Notes, through the API: redacted as they are written.
    for item in (reviewed, feedback):
        note = api.post(f"/api/v1/items/{item['id']}/notes", json={"body": NOTE + typed(c)})
        assert note.status_code == 201 and note.json()["body"] == NOTE + redacted_typed()

    # Replies: a card, id or credential is refused even when confirmed; an address can be meant.
    for leak, kind in ((c["card"], "card"), (f"Bearer {c['token']}", "secret")):
        refused = reply(api, reviewed["id"], f"Sorry! Use {leak}", confirm=True)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "text" and kind in error["message"] and leak not in refused.text
    meant = reply(api, reviewed["id"], f"Thank you! Write to {c['email']}", confirm=True)
    assert meant.status_code == 202, meant.text
    sent_reply(api, meant)

    # Templates: a card in a template is refused; its variables carry only redacted values.
    bad = api.post("/api/v1/reply-templates", json={"name": "Bad", "body": f"Card {c['card']}"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "body", bad.text
    template = api.post(
        "/api/v1/reply-templates",
        json={"name": "Thanks", "body": "Thank you {{ reviewer_name }}, {{ organisation_name }}"},
    )
    assert template.status_code == 201, template.text
    facebook_item = items(api, source="facebook", q="Refund")[0]
    for item in (facebook_item, feedback):
        rendered = api.post(
            f"/api/v1/reply-templates/{template.json()['id']}/render", json={"item_id": item["id"]}
        ).json()["text"]
        assert c["email"] not in rendered
        answer = reply(api, item["id"], rendered)
        assert answer.status_code == 202, answer.text
        sent_reply(api, answer)

    # The reviewer's answer to the reply e-mail, by the inbound webhook.
    [notice] = wait_for(
        lambda: [m for m in messages(folder) if m["To"] == c["email"] and m["Reply-To"]]
    )
    reply_to = notice["Reply-To"].addresses[0]
    inbound = {
        "From": c["email"],
        "FromFull": {"Email": c["email"], "Name": "Ann Canary"},
        "ToFull": [{"Email": str(reply_to.addr_spec), "MailboxHash": ""}],
        "MailboxHash": reply_to.username.removeprefix("reply+"),
        "Subject": f"Re: {notice['Subject']} {c['phone']}",
        "MessageID": f"inbound-{uuid.uuid4().hex}",
        "TextBody": typed(c),
        "StrippedTextReply": "",
    }
    added = httpx.post(
        f"{api.base_url}/api/v1/webhooks/postmark/inbound", json=inbound,
        auth=("postmark", WEBHOOK_SECRET),
    )  # fmt: skip
    assert added.json() == {"status": "added"}, added.text
    thread = api.get(f"/api/v1/items/{feedback['id']}/thread").json()["messages"]
    assert thread[-1]["body"] == redacted_typed()


def sent_reply(api: httpx.Client, created: httpx.Response) -> None:
    url = f"/api/v1/replies/{created.json()['reply']['id']}"

    def sent() -> bool:
        """the reply was delivered"""
        return api.get(url).json()["reply"]["status"] == "sent"

    wait_for(sent)


def items(api: httpx.Client, **params: str) -> list[dict]:
    return api.get("/api/v1/items", params={"limit": 100, **params}).json()["items"]


def reply(api: httpx.Client, item_id: int, body: str, *, confirm: bool = False) -> httpx.Response:
    return api.post(
        f"/api/v1/items/{item_id}/reply",
        json={"text": body, "confirm_personal_data": confirm},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def messages(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*/*.eml"))
    ]


def subject_request(kind: RequestKind, address: str) -> dict:
    """A data-subject request, processed as the worker does (`privacy.subject_request`)."""
    with session_scope() as session:
        organisation_id = session.execute(text("SELECT min(id) FROM organisations")).scalar()
        request = DataSubjectRequest(
            organisation_id=organisation_id,
            kind=kind,
            email_index=crypto.blind_index(address),
            due_at=datetime.now(UTC) + timedelta(days=30),
            counts={},
        )
        session.add(request)
        session.flush()
        request_id = request.id
    process(request_id)
    with session_scope() as session:
        done = session.get_one(DataSubjectRequest, request_id)
        return json.loads(done.result) if kind == RequestKind.EXPORT else dict(done.counts)


def _token_values(tokens: object) -> list[str]:
    """Every access or refresh token string the sandbox lists, whatever its shape."""
    found: list[str] = []
    if isinstance(tokens, dict):
        for key, value in tokens.items():
            if isinstance(value, str) and key in ("access_token", "refresh_token", "token"):
                found.append(value)
            else:
                found += _token_values(value)
    elif isinstance(tokens, list):
        for value in tokens:
            found += _token_values(value)
    return found
