"""Paging strategies against hand-made response bodies."""

import pytest

from connectors.errors import ProviderError
from connectors.paging import PageTokenPaginator


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
