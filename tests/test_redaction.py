"""Automatic redaction of identifiers typed into free text."""

from __future__ import annotations

import pytest

from core.redaction import (
    WITHHELD,
    PatternRefused,
    Policy,
    compile_custom,
    find,
    redact,
    redacted_text,
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my card 4111 1111 1111 1111 was charged", "my card [redacted:card] was charged"),
        ("card 4111-1111-1111-1111.", "card [redacted:card]."),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [redacted:iban] please"),
        ("GB82WEST12345698765432", "[redacted:iban]"),
        ("SSN 123-45-6789 on file", "SSN [redacted:ssn] on file"),
        ("write to ann.lee+x@example.co.uk now", "write to [redacted:email] now"),
        ("call +44 20 7946 0958 or (030) 1234-5678", "call [redacted:phone] or [redacted:phone]"),
        ("ring 555-123-4567", "ring [redacted:phone]"),
    ],
)
def test_built_in_detectors(text, expected):
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Visited in 2024, paid 45.50, open 9-17, table 12",
        "The 2023-11-05 visit was great; room 301",
        "😀 مطعم رائع ‏ 5 stars",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text).text == text


@pytest.mark.parametrize(
    "text", ["4111 1111 1111 1112 fails Luhn", "DE89 3704 0044 0532 0130 01 bad checksum"]
)
def test_numbers_failing_their_checksum_are_not_called_cards_or_ibans(text):
    # Such long digit runs may still be withheld as phone numbers: better safe.
    assert not {"card", "iban"} & set(redact(text).counts)


def test_counts_and_the_original_is_not_kept():
    result = redact("a@b.example and c@d.example, 4111111111111111")
    assert result.counts == {"email": 2, "card": 1}
    assert "a@b.example" not in result.text and "4111" not in result.text


def test_detectors_can_be_switched_off_per_organisation():
    policy = Policy.build(disabled=["phone"])
    assert redact("call 030 1234 5678", policy).text == "call 030 1234 5678"
    assert redact("x@y.example", policy).text == "[redacted:email]"


def test_an_organisations_own_pattern():
    policy = Policy.build(patterns=[("member", r"\bMBR-\d{6}\b")])
    assert redact("member MBR-123456 here", policy).text == "member [redacted:member] here"


@pytest.mark.parametrize(
    "pattern,reason",
    [
        ("(unclosed", "not a valid regular expression"),
        ("(a+)+$", "backtracks catastrophically"),
        ("(a|aa)+$", "backtracks catastrophically"),
        (r"^(([a-z])+.)+[A-Z]([a-z])+$", "backtracks catastrophically"),
        ("a*", "matches empty text"),
        ("", "1 to 500 characters"),
    ],
)
def test_bad_organisation_patterns_are_refused_with_the_reason(pattern, reason):
    with pytest.raises(PatternRefused, match=reason):
        compile_custom(pattern)


def test_one_item_has_a_time_limit_and_is_withheld_rather_than_leaked():
    # A pattern that passes the save-time checks (none of their inputs has a letter from c to
    # w, so it fails there at once) but is quadratic on a long run of those letters: tens of
    # seconds on this text, against a limit of a quarter of a second.
    slow = Policy.build(patterns=[("slow", r"[c-w]+\d\d")])
    text = "word" * 12500 + "!"
    result = redact(text, slow)
    assert result.text == WITHHELD
    assert result.counts == {"unprocessable": 1}
    # The same pattern on ordinary text redacts as any other: only the slow text is withheld.
    assert redact("code word12 here", slow).text == "code [redacted:slow] here"


def test_find_reports_what_would_be_removed():
    assert find("mail me at z@q.example") == {"email": 1}
    assert find("thanks!") == {}


# Shapes of credentials people paste into a review, a note or a reply (made up, not real keys).
_JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Authorization: Bearer ya29.a0AfH6SMBx3xYz-tok_en9", "Authorization: [redacted:secret]"),
        ("use bearer 9f86d081884c7d659a2feaa0c55ad015 ok", "use [redacted:secret] ok"),
        (f"token {_JWT} here", "token [redacted:secret] here"),
        ("key sk_live_4eC39HqLyjWDarjtT1zdp7dc.", "key [redacted:secret]."),
        ("rk_test_51HxAbCdEfGhIjKl and whsec_AbCdEfGh12345678IjKl", "[redacted:secret] and "
         "[redacted:secret]"),
        ("pat ghp_" + "A1b2C3d4" * 5, "pat [redacted:secret]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "[redacted:secret]"),
        ("slack xoxb-123456789012-abcdEFGHijkl", "slack [redacted:secret]"),
        ("aws AKIAIOSFODNN7EXAMPLE, ASIAY34FZKBOKMUTVV7A", "aws [redacted:secret], "
         "[redacted:secret]"),
        ("google ya29.a0ARrdaM-abcdefghijklmnopqrstu", "google [redacted:secret]"),
        ("maps AIzaSyD-abcdefghijklmnopqrstuvwxyz01234", "maps [redacted:secret]"),
        ("reset link ?t=Q7fZ2kLm9XpR4sTv8WyB3nDc6HjG1aEu", "reset link ?t=[redacted:secret]"),
        # The digits of a token are not left behind as a card or phone number.
        ("Bearer 4111111111111111AbCdEfGh", "[redacted:secret]"),
    ],
)  # fmt: skip
def test_credentials_are_redacted(text, expected):
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "The bearer of good news: our waiter. Bearer bonds? Bearer responsibilities!",
        "Supercalifragilisticexpialidocious_Extraordinary2024 was the dessert's name",
        "Our-Family-Loved-The-New-Menu-2024-Edition-Very-Much",
        "Order 123e4567-e89b-12d3-a456-426614174000, receipt d41d8cd98f00b204e9800998ecf8427e",
        "See https://www.google.com/maps/place/Joe%27s+Pizza/@40.7,-73.9,17z/data=!3m1!4b1",
        "Skyline view from the 27th floor; ask_for_the_test_menu, AKIA is my cat's name",
        "Wunderbar! Donaudampfschifffahrtsgesellschaftskapitän empfiehlt es.",
    ],
)
def test_ordinary_long_words_and_ids_are_not_taken_for_credentials(text):
    assert "secret" not in redact(text).counts


def test_random_tokens_are_caught_but_not_review_text():
    import random
    import string

    from connectors.sandbox import texts as corpus

    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits
    tokens = ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(500)]
    caught = sum(redact(f"my key {t} thanks").text == "my key [redacted:secret] thanks"
                 for t in tokens)  # fmt: skip
    assert caught >= 495
    reviews = [*corpus.ENGLISH, *corpus.EMOJI, *corpus.RIGHT_TO_LEFT]
    reviews += [f"{en} {original}" for en, original in corpus.TRANSLATED]
    assert not [r for r in reviews if "secret" in redact(r).counts]


@pytest.mark.parametrize(
    "policy",
    [
        Policy(),
        Policy.build(disabled=["email", "secret"]),
        Policy.build(patterns=[("table", r"table \w+"), ("name", r"(?i)zorro")]),
    ],
    ids=["default", "some off", "own patterns"],
)
def test_the_quick_path_ingest_takes_redacts_exactly_as_redact_does(policy):
    # Given texts of every kind: each detector's, none at all, digits of other scripts (a
    # gate must not miss a digit the detectors see), and ones only an own pattern finds
    from connectors.sandbox import texts as corpus

    texts = [
        "my card 4111 1111 1111 1111 was charged", "IBAN DE89 3704 0044 0532 0130 00 please",
        "SSN 123-45-6789 on file", "write to ann.lee+x@example.co.uk now",
        "call +44 20 7946 0958", f"token {_JWT} here", "key sk_live_4eC39HqLyjWDarjtT1zdp7dc.",
        "call ٠١٢٣٤٥٦٧٨٩ or ５５５１２３４５６７", "the table by the window, ask for Zorro",
        "Lovely staff, great coffee", "", " ",
        *corpus.ENGLISH, *corpus.EMOJI, *corpus.RIGHT_TO_LEFT,
    ]  # fmt: skip
    # Then the quick path's text is redact's, whether or not it scanned
    assert [redacted_text(t, policy) for t in texts] == [redact(t, policy).text for t in texts]
