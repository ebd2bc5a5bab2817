"""Paging strategies against hand-made response bodies."""

import pytest

from connectors.errors import ProviderError
from connectors.paging import CursorPaginator, PageTokenPaginator


def test_page_token_paging_follows_next_page_token_until_absent():
    paginator = PageTokenPaginator()
    assert paginator.next_params({"reviews": [], "nextPageToken": "abc"}) == {"pageToken": "abc"}
    assert paginator.next_params({"reviews": [], "nextPageToken": "def"}) == {"pageToken": "def"}
    assert paginator.next_params({"reviews": []}) is None


def test_empty_page_token_is_the_last_page():
    assert PageTokenPaginator().next_params({"nextPageToken": ""}) is None


def test_a_repeated_page_token_is_refused_instead_of_looping_forever():
    paginator = PageTokenPaginator()
    paginator.next_params({"nextPageToken": "same"})
    with pytest.raises(ProviderError, match="same page token"):
        paginator.next_params({"nextPageToken": "same"})


def page(after: str, next_url: str | None) -> dict:
    paging: dict = {"cursors": {"before": "b", "after": after}}
    if next_url:
        paging["next"] = next_url
    return {"data": [], "paging": paging}


def test_cursor_paging_follows_after_until_next_is_missing():
    paginator = CursorPaginator()
    assert paginator.next_params(page("c1", "https://graph/…?after=c1")) == {"after": "c1"}
    # An empty page that still announces more is not the end.
    assert paginator.next_params(page("c2", "https://graph/…?after=c2")) == {"after": "c2"}
    # Cursors are still there on the last page; only the missing `next` ends it.
    assert paginator.next_params(page("c3", None)) is None
    assert CursorPaginator().next_params({"data": []}) is None


def test_cursor_paging_refuses_a_repeated_cursor_and_a_next_without_one():
    paginator = CursorPaginator()
    paginator.next_params(page("same", "n"))
    with pytest.raises(ProviderError, match="same page token"):
        paginator.next_params(page("same", "n"))
    with pytest.raises(ProviderError, match="after cursor"):
        CursorPaginator().next_params({"data": [], "paging": {"next": "n"}})
