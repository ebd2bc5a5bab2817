"""CSV export follows OWASP's CSV-injection guidance: a text cell a spreadsheet could read as a
formula is prefixed with a quote, however it starts; every cell is quoted."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from services.inbox.export import neutralised
from tests.api.conftest import Person

FORMULAS = [
    '=HYPERLINK("http://x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "\x00=1",
    "＝1+1",  # full-width equals
    "＋1",
    "－1",
    "＠SUM(A1)",
    " =1+1",  # leading spaces are skipped by spreadsheets
    "   @x",
    "\u00a0=1",
    "\u3000＝1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_every_formula_start_is_neutralised(text: str):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["Great coffee", "5 stars - would return", "", "'quoted"])
def test_ordinary_text_is_left_alone(text: str):
    assert neutralised(text) == text


def test_the_export_quotes_every_cell_and_neutralises_text(
    client: TestClient, owner: Person, make_item
):
    make_item(owner.organisation, text=" ＝cmd|'/C calc'!A0", author_name='Ann "the" Critic')
    with client.stream("GET", "/api/v1/items/export.csv", headers=owner.headers) as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    header, row = body.splitlines()[:2]
    assert header.startswith('"id","source"')
    parsed = next(csv.DictReader(io.StringIO(body)))
    assert parsed["text"] == "' ＝cmd|'/C calc'!A0"
    assert parsed["author_name"] == 'Ann "the" Critic'
    assert row.startswith('"')
