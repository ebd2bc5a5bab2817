"""Column types: text encrypted at rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, Text, event
from sqlalchemy.types import TypeDecorator

from core import crypto


class EncryptedText(TypeDecorator[str]):
    """Text stored as ``<key id>:<Fernet token>``; decrypted on load, never kept in clear
    beside it. ``where`` names the column in errors; it is filled in when the column is attached
    to its table."""

    impl = Text
    cache_ok = True

    def __init__(self, where: str = "an encrypted column") -> None:
        super().__init__()
        self.where = where

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else crypto.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else crypto.decrypt(value, where=self.where)


@event.listens_for(Column, "after_parent_attach")
def _name_the_column(column: Column[Any], table: Any) -> None:
    # A value that cannot be decrypted must say which table and column it came from.
    if isinstance(column.type, EncryptedText) and isinstance(table, Table):
        column.type = EncryptedText(f"{table.name}.{column.name}")
