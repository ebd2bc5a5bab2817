"""Searching the inbox: pages of matches in order, whether the words match nothing, a few items
or many (a search's statement sorts the few it finds in the full-text index, and walks the
inbox's order for the many: both must page alike)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from models import Item
from services.inbox import inbox
from tests.api.conftest import Person

ITEMS = "/api/v1/items"
DAY = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def corpus(owner: Person, make_person, make_item: Callable[..., Item]) -> dict[str, list[Item]]:
    """Twenty items, every one saying "coffee", two of them "tiramisu"; ties on posted_at; and a
    neighbour whose items say both words too."""
    items = [
        make_item(
            owner.organisation,
            text=f"The coffee was hot{' and the tiramisu sweet' if n in (4, 13) else ''}",
            rating=1 + n % 5,
            posted_at=DAY - timedelta(hours=n // 2),
        )
        for n in range(20)
    ]
    neighbour = make_person()
    for n in range(3):
        make_item(neighbour.organisation, text="coffee and tiramisu", posted_at=DAY + timedelta(n))
    rare = [i for i in items if "tiramisu" in (i.text or "")]
    return {"all": items, "coffee": items, "tiramisu": rare}


def _walk(client: TestClient, person: Person, **params: object) -> tuple[list[int], int]:
    """Every page's ids in turn, and how many pages there were."""
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get(
            ITEMS, params=params | ({"cursor": cursor} if cursor else {}), headers=person.headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


def _newest_first(items: list[Item]) -> list[int]:
    return [i.id for i in sorted(items, key=lambda i: (i.posted_at, i.id), reverse=True)]


def _by_rating(items: list[Item]) -> list[int]:
    ordered = sorted(items, key=lambda i: (i.rating or 0, i.posted_at, i.id), reverse=True)
    return [i.id for i in ordered]


# Which way a page is read: a walk of 1,000 rows finds every page here; one of 2 rows finds
# none, and then a sort limit of 3 puts "coffee" (20 matches) past it until the last pages, while
# at 1,000 both words are under it.
WAYS = [(1000, 1000), (2, 3), (2, 1000)]


@pytest.fixture
def reading(request, configure, monkeypatch) -> None:
    nearby, sort_limit = request.param
    monkeypatch.setattr(inbox, "NEARBY_ROWS", nearby)
    configure(inbox_search_sort_limit=sort_limit)


@pytest.mark.parametrize("reading", WAYS, indirect=True)
def test_a_search_pages_through_its_matches_once_each_in_order(
    client: TestClient, owner: Person, corpus, reading
):

    for word in ("coffee", "tiramisu"):
        expected = _newest_first(corpus[word])
        assert _walk(client, owner, q=word, limit=3) == (expected, -(-len(expected) // 3)), word
        by_rating = _by_rating(corpus[word])
        assert _walk(client, owner, q=word, limit=4, sort="rating_desc")[0] == by_rating, word
        oldest = _walk(client, owner, q=word, limit=7, sort="oldest")[0]
        assert oldest == expected[::-1], word


@pytest.mark.parametrize("reading", [(1000, 5000), (2, 1)], indirect=True)
def test_a_search_that_matches_nothing_is_one_empty_page(
    client: TestClient, owner: Person, corpus, reading
):

    for words in ("ti", "tir", "zzz", "coffee -coffee"):
        page = client.get(ITEMS, params={"q": words}, headers=owner.headers).json()

        assert (page["items"], page["next_cursor"]) == ([], None), words


@pytest.mark.parametrize("reading", WAYS, indirect=True)
def test_a_rare_word_with_other_filters_and_past_a_cursor(
    client: TestClient, owner: Person, corpus, reading
):
    rare = corpus["tiramisu"]
    newest, oldest = _newest_first(rare)

    first = client.get(ITEMS, params={"q": "tiramisu", "limit": 1}, headers=owner.headers).json()
    second = client.get(
        ITEMS,
        params={"q": "tiramisu", "limit": 1, "cursor": first["next_cursor"]},
        headers=owner.headers,
    ).json()
    rated = [i.id for i in rare if i.rating == rare[0].rating]
    filtered = client.get(
        ITEMS, params={"q": "tiramisu", "rating": rare[0].rating}, headers=owner.headers
    ).json()

    assert [i["id"] for i in first["items"]] == [newest]
    assert ([i["id"] for i in second["items"]], second["next_cursor"]) == ([oldest], None)
    assert [i["id"] for i in filtered["items"]] == rated
