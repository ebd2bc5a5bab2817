"""Reading an upload of recipients: CSV or JSON rows in, valid rows and reasons out, as the
campaign service takes them (`services.feedback.campaigns`). It parses the request body, so it is
the API's: the rows are validated against the request schema.

A bad row never spoils the others: it is reported by its line with the reason, and the rest are
accepted. Rows are counted before any is validated, so an oversized upload costs little.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from api.schemas.feedback import MAX_RECIPIENTS, RecipientRow, RecipientsIn
from core.errors import Invalid, TooLarge, UnsupportedMediaType
from services.feedback.campaigns import NewRecipient, Rejected

COLUMNS = ("name", "email", "location_id", "external_ref")
# Generous for 50,000 rows of name, address, location and reference; a cap before parsing.
MAX_BYTES = 25 * 1024 * 1024


@dataclass
class Parsed:
    rows: list[NewRecipient]
    rejected: list[Rejected]


def too_many(count: int) -> TooLarge:
    return TooLarge(
        "too_many_recipients",
        f"An upload can hold at most {MAX_RECIPIENTS:,} recipients; this one has {count:,}",
        field="recipients",
    )


def parse(body: bytes, content_type: str) -> Parsed:
    if len(body) > MAX_BYTES:
        raise TooLarge(
            "too_large", f"An upload can be at most {MAX_BYTES // 2**20} MiB", field="body"
        )
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return _validate(_csv_rows(body))
    if media == "application/json":
        return _validate(_json_rows(body))
    raise UnsupportedMediaType(
        "unsupported_media_type", "Send text/csv or application/json", field="Content-Type"
    )


def _csv_rows(body: bytes) -> list[tuple[int, dict[str, object]]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("invalid", "The CSV file must be UTF-8", field="body") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "email") if c not in header]
    if missing:
        raise Invalid(
            "invalid",
            f"The CSV header must name the columns {', '.join(COLUMNS)}",
            field="body",
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, object]]] = []
    for record in reader:
        rows.append((reader.line_num, record))
        if len(rows) > MAX_RECIPIENTS:
            # Counted to the end only to tell the caller the size of what was sent.
            raise too_many(len(rows) + sum(1 for _ in reader))
    return rows


def _json_rows(body: bytes) -> list[tuple[int, dict[str, object]]]:
    try:
        data = json.loads(body)
    except ValueError:
        raise Invalid("invalid", "The request body is not valid JSON") from None
    raw = data.get("recipients") if isinstance(data, dict) else None
    if isinstance(raw, list) and len(raw) > MAX_RECIPIENTS:
        raise too_many(len(raw))
    try:
        upload = RecipientsIn.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or None
        raise Invalid("invalid", str(error["msg"]), field=field) from None
    return list(enumerate(upload.recipients, start=1))


def _validate(rows: Iterable[tuple[int, dict[str, object]]]) -> Parsed:
    parsed = Parsed(rows=[], rejected=[])
    for line, record in rows:
        if record.get(None):  # type: ignore[call-overload]  (csv's restkey for extra cells)
            parsed.rejected.append(
                Rejected(line=line, field=None, reason="more cells than the header has columns")
            )
            continue
        # A CSV cell left empty means "not given", as a missing JSON key does.
        values = {k: v for k, v in record.items() if k is not None and v not in ("", None)}
        extra = [k for k in values if k not in COLUMNS]
        if extra:
            parsed.rejected.append(Rejected(line=line, field=extra[0], reason="unknown column"))
            continue
        try:
            row = RecipientRow.model_validate(values)
            parsed.rows.append(
                NewRecipient(
                    line=line,
                    name=row.name,
                    email=row.email,
                    location_id=row.location_id,
                    external_ref=row.external_ref,
                )
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or None
            parsed.rejected.append(Rejected(line=line, field=field, reason=str(error["msg"])))
    return parsed
