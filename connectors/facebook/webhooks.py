"""Page webhooks from Meta: the signature, and each change handed to the capability that
declares its field (``Push``; what a change means is in ``connectors.facebook.push``).

The signature is an HMAC-SHA256 of the raw body with the app secret; it is checked on the bytes
as received, never on re-serialised JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

from connectors.facebook.account import FacebookAccount
from connectors.facebook.push import Change, PageChange

__all__ = ["SIGNATURE_HEADER", "Change", "PageChange", "changes", "sign", "signature_valid"]

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip().lower())


def changes(payload: Any) -> Iterator[PageChange]:
    """Every change of every entry of one delivery (Meta batches them), each read by the
    capability whose webhook field it is."""
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        page_id = str(entry["id"])
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                continue
            found = _read(page_id, str(change.get("field")), change["value"])
            if found is not None:
                yield found


def _read(page_id: str, field: str, value: dict[str, Any]) -> PageChange | None:
    verb = str(value.get("verb") or "")
    for capability in FacebookAccount.capabilities:
        push = capability.push
        if push is not None and push.read is not None and field in push.topics:
            found: PageChange | None = push.read(page_id, verb, value)
            if found is not None:
                return found
    return None
