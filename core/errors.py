"""Domain errors: what a service says when it refuses, without knowing who asked.

A service raises one of these; the API's one handler turns it into the error response
(`{"error": {"code", "message", "field"}}`) with the status its class stands for, and a worker
or the CLI reports it in one line. Messages are written by us, never copied from another
exception, so they cannot carry a token, a password or an e-mail address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class DomainError(Exception):
    """A refusal the caller can act on. `status` is the HTTP status the API answers with."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


class BadRequest(DomainError):
    """The request cannot be understood as sent (a broken token or cursor, a body that is not
    JSON), as opposed to understood and refused."""

    status = 400


class Invalid(DomainError):
    """The input cannot be accepted as it is (names the field where there is one)."""

    status = 422


class NotFound(DomainError):
    """Missing, or not visible from the caller's scope: another tenant's rows are not found."""

    status = 404

    def __init__(self, what: str, *, code: str = "not_found", message: str | None = None) -> None:
        super().__init__(code, message or f"{what} not found")


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a reply already sent)."""

    status = 409


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""

    status = 403


class Unauthorized(DomainError):
    """The caller could not be identified (bad credentials, an expired session)."""

    status = 401


class RateLimited(DomainError):
    """Too many attempts; `Retry-After` travels in `headers`."""

    status = 429


class TooLarge(DomainError):
    """The input is over a size limit."""

    status = 413


class UnsupportedMediaType(DomainError):
    """The input comes in a format we do not read."""

    status = 415
