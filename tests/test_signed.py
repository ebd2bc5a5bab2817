"""Signed tokens in e-mailed links: made for one purpose, refused for any other or when touched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from core import signed
from services.email import links


def test_a_token_round_trips_for_its_purpose_only():
    token = signed.sign("feedback", {"r": 42})

    assert signed.verify("feedback", token) == {"r": 42}
    with pytest.raises(signed.BadToken):
        signed.verify("unsubscribe", token)


def test_a_touched_token_is_refused():
    token = signed.sign("feedback", {"r": 42})
    body, _, mac = token.rpartition(".")
    forged = signed.sign("feedback", {"r": 43}).rpartition(".")[0] + "." + mac

    for bad in (forged, body, token[:-2], "", ".", "not-a-token"):
        with pytest.raises(signed.BadToken):
            signed.verify("feedback", bad)


def test_an_expired_token_is_refused_as_expired():
    with pytest.raises(signed.ExpiredToken):
        signed.verify("feedback", signed.sign("feedback", {"r": 1}, ttl_seconds=-1))
    assert signed.verify("feedback", signed.sign("feedback", {"r": 1}, ttl_seconds=60))["r"] == 1


def _legacy_token(purpose: str, payload: dict) -> str:
    """The format links were signed in before itsdangerous, written out by hand."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    body = b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(signed._key(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()[:16]
    return f"{body}.{b64(mac)}"


def test_links_in_e_mails_sent_before_the_change_still_work():
    old = _legacy_token(links.UNSUBSCRIBE, {"o": 7, "e": "abc"})

    assert signed.verify(links.UNSUBSCRIBE, old) == {"o": 7, "e": "abc"}
    with pytest.raises(signed.BadToken):
        signed.verify(links.FEEDBACK, old)
    with pytest.raises(signed.BadToken):
        signed.verify(links.UNSUBSCRIBE, old[:-1] + ("A" if old[-1] != "A" else "B"))


def test_a_reply_to_address_fits_an_e_mail_local_part():
    for item_id in (1, 2**31, 10**12):  # up to a trillion items
        local = "reply+" + signed.sign(links.REPLY, {"i": item_id})  # as links.reply_address

        assert len(local) <= 64, item_id  # RFC 5321's limit for the part before the @
        assert signed.verify(links.REPLY, local.removeprefix("reply+")) == {"i": item_id}
