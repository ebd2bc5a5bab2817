"""Automatic redaction of identifiers typed into free text."""

from __future__ import annotations

import pytest

from plaudit.redaction import (
    WITHHELD,
    PatternRefused,
    Policy,
    compile_custom,
    find,
    redact,
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


def test_one_item_has_a_time_limit_and_is_withheld_rather_than_leaked(monkeypatch):
    # A pattern that passed the save-time checks but is slow on this particular text.
    slow = Policy.build(patterns=[("slow", r"(?:\w+\s?)+\$")])
    text = "word " * 4000 + "!"
    result = redact(text, slow)
    assert result.text in (text, WITHHELD)
    if result.text == WITHHELD:
        assert result.counts == {"unprocessable": 1}


def test_find_reports_what_would_be_removed():
    assert find("mail me at z@q.example") == {"email": 1}
    assert find("thanks!") == {}
