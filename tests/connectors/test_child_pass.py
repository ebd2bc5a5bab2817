"""The generic parent → child pass (``connectors.passes.ChildPass``) on a listing of no provider
in particular: page tokens instead of Facebook's cursors, against hand-built answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.base import ChildStream, Listing, ProviderClient
from connectors.errors import ProviderError
from connectors.google.errors import GoogleErrors
from connectors.paging import PageTokenPaginator
from connectors.records import ItemRecord, parse_timestamp
from tests.connectors.scripted import Reply

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class Things(Listing):
    path_template = "v1/{location}/things"
    records_key = "things"
    paginator = PageTokenPaginator


class Parts(ChildStream):
    name = "parts"
    kind = "part"
    parent = Things
    child_path_template = "v1/{parent}/parts"
    records_key = "parts"
    paginator = PageTokenPaginator

    def parent_updated(self, record: dict[str, Any]) -> datetime:
        return parse_timestamp(record.get("updateTime"))

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        created = parse_timestamp(record.get("createTime"))
        return ItemRecord("part", record["id"], created, created)


def thing(thing_id: str, minute: int) -> dict:
    return {"id": thing_id, "updateTime": at(minute)}


def page(key: str, records: list[dict], token: str | None = None) -> Reply:
    return Reply(200, {key: records, **({"nextPageToken": token} if token else {})})


@pytest.fixture
def parts(scripted, slept) -> Parts:
    client = ProviderClient(
        session=requests.Session(),
        base_url=scripted.url,
        error_table=GoogleErrors(),
        sleep=slept.append,
    )
    return Parts(client)


def test_a_first_pass_reads_every_parent_page_and_every_parents_children(scripted, parts):
    scripted.answer(
        page("things", [thing("t1", 30)], token="n2"),
        page("parts", [{"id": "a", "createTime": at(29)}], token="k2"),
        page("parts", [{"id": "b", "createTime": at(28)}]),
        page("things", [thing("t2", 10)]),
        page("parts", [{"id": "c", "createTime": at(9)}]),
    )
    one_pass = parts.read("L", None)
    items = [i.external_id for p in one_pass.pages() for i in p.items]

    assert items == ["a", "b", "c"]
    assert [(r.path, r.query.get("pageToken")) for r in scripted.received] == [
        ("/v1/L/things", None),
        ("/v1/t1/parts", None),
        ("/v1/t1/parts", "k2"),
        ("/v1/L/things", "n2"),
        ("/v1/t2/parts", None),
    ]
    assert one_pass.complete and one_pass.new_cursor == parse_timestamp(at(30))


def test_an_incremental_pass_stops_at_the_page_that_reaches_the_cursor(scripted, parts):
    scripted.answer(
        page("things", [thing("t1", 30), thing("t2", 10)], token="n2"),
        page("parts", [{"id": "a", "createTime": at(29)}]),
    )
    one_pass = parts.read("L", parse_timestamp(at(20)))
    items = [i.external_id for p in one_pass.pages() for i in p.items]

    assert items == ["a"] and len(scripted.received) == 2
    assert one_pass.new_cursor == parse_timestamp(at(30))


def test_a_child_page_token_handed_back_twice_ends_the_pass(scripted, parts):
    scripted.answer(
        page("things", [thing("t1", 30)]),
        page("parts", [], token="same"),
        page("parts", [], token="same"),
    )
    one_pass = parts.read("L", None)
    with pytest.raises(ProviderError, match="same page token"):
        list(one_pass.pages())
    assert not one_pass.complete and one_pass.new_cursor is None
