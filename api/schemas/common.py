"""Field types shared by the resource schemas."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Identifiers are BIGINT: a larger number would be a database error, not a 404.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _encodable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate (valid in JSON) cannot be encoded.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


SafeText = Annotated[str, AfterValidator(_encodable)]


def _trimmed_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Name = Annotated[SafeText, Field(max_length=200), AfterValidator(_trimmed_name)]

# Deliberately simple (email-validator is not a dependency): one "@", no spaces, a dot in the
# domain, at most 254 characters (RFC 5321's path limit). Deliverability is proven by use.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an e-mail address")
    return value


Email = Annotated[SafeText, Field(max_length=254), AfterValidator(_email)]


class Input(BaseModel):
    """Base of request bodies: an unknown field is a mistake worth a 422."""

    model_config = ConfigDict(extra="forbid")
