"""Removing secrets and addresses from anything that leaves the process: log lines and Sentry.

Sentry's default scrubber misses ``access_token``, ``refresh_token`` and ``client_secret`` in query
strings and bodies, and knows nothing of e-mail addresses in messages; this one is applied to
every event and breadcrumb, and to every log line.
"""

from __future__ import annotations

import re
from typing import Any

from core.redaction import Policy, luhn, redact

FILTERED = "[Filtered]"
SENSITIVE_KEYS = frozenset(
    {
        "authorization", "cookie", "set-cookie", "x-api-key", "x-hub-signature-256",
        "access_token", "refresh_token", "id_token", "client_secret", "code", "code_verifier",
        "password", "new_password", "token", "secret", "api_key", "fb_exchange_token",
        "hub.verify_token", "page_token", "email", "to", "from",
    }
)  # fmt: skip
_PATTERNS = (
    # key=value in query strings and form bodies
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|id_token|client_secret|code_verifier|code|"
            r"fb_exchange_token|password|token|api_key)=([^&\s\"']+)"
        ),
        lambda m: f"{m.group(1)}={FILTERED}",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), lambda m: f"Bearer {FILTERED}"),
    (re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"), lambda m: "[email]"),
    # Google access and refresh tokens and Fernet tokens, wherever they turn up
    (re.compile(r"\bya29\.[\w.-]+|\b1//0[\w-]{8,}|\bgAAAAA[\w=-]{20,}"), lambda m: FILTERED),
)


# Card numbers that pass the Luhn check, issuer digit 2 to 6 (ids such as Facebook's begin with
# 1), and credentials: a SQL error's parameters or a provider's error may quote what a customer
# typed.
_CARD = re.compile(r"(?<![\d-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\d-])")
_SECRETS_ONLY = Policy(enabled=frozenset({"secret"}))


def scrub_text(text: str) -> str:
    for pattern, replace in _PATTERNS:
        text = pattern.sub(replace, text)
    text = _CARD.sub(lambda m: "[card]" if luhn(m.group()) else m.group(), text)
    return redact(text, _SECRETS_ONLY).text


def scrub(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` with sensitive keys filtered and strings scrubbed, at any depth."""
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and value[0].lower() in SENSITIVE_KEYS:
            return [value[0], FILTERED]
        return [scrub(v) for v in value]
    return value


_DATABASE_MODULES = ("psycopg2", "sqlalchemy.exc")
WITHHELD_DATABASE_MESSAGE = "(the database's message is withheld: it may quote request data)"


def is_database_error(exc_type: type[BaseException] | None) -> bool:
    """A driver or SQLAlchemy error, whose text quotes the values it failed on."""
    return exc_type is not None and exc_type.__module__.startswith(_DATABASE_MODULES)


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    for value in (event.get("exception") or {}).get("values") or []:
        if str(value.get("module") or "").startswith(_DATABASE_MODULES):
            value["value"] = WITHHELD_DATABASE_MESSAGE
    return scrub(event)


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub(crumb)
