"""The Graph API version table (PROVIDERS.md §G.4), judged on injected days."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from connectors.facebook import versions
from connectors.facebook.versions import RATINGS, version_for, warnings

V21_ENDS = date(2027, 1, 21)
V22_ENDS = date(2027, 5, 20)


def codes(pinned: str, today: date) -> list[str]:
    return [w.code for w in warnings(pinned, today)]


def test_the_pin_is_warned_about_within_90_days_of_its_end_and_not_before():
    assert codes("v22.0", date(2027, 2, 18)) == []  # 91 days before
    (warning,) = warnings("v22.0", date(2027, 2, 19))  # 90 days before
    assert warning.code == "version_ending" and warning.ends_on == V22_ENDS
    assert "2027-05-20" in warning.message
    assert codes("v22.0", date(2027, 5, 19)) == ["version_ending"]  # its last day


def test_the_default_pin_today_is_not_yet_warned_about_but_v21_is():
    today = date(2026, 12, 3)
    assert codes("v22.0", today) == []
    assert codes("v21.0", today) == ["version_ending"]


def test_a_version_past_its_end_is_served_as_the_oldest_one_still_available():
    (warning,) = warnings("v21.0", V21_ENDS)  # the end date itself: gone
    assert warning.code == "version_ended" and warning.ends_on == V21_ENDS
    assert "v22.0" in warning.message  # what Facebook answers with instead
    (older,) = warnings("20.0", date(2026, 12, 3))
    assert older.code == "version_ended" and "v21.0" in older.message


def test_an_unlisted_or_malformed_version_is_named_not_fatal():
    for pinned in ("v27.0", "v19.0", "latest", ""):
        (warning,) = warnings(pinned, date(2026, 12, 3))
        assert warning.code == "version_unknown" and warning.ends_on is None


def test_a_version_without_an_end_date_is_not_warned_about():
    assert codes("v26.0", date(2030, 1, 1)) == []


def test_recommendations_are_read_through_v21_until_the_day_it_ends():
    assert version_for(RATINGS, date(2026, 12, 3)) == "v21.0"
    assert version_for(RATINGS, date(2027, 1, 20)) == "v21.0"  # its last day
    assert version_for(RATINGS, V21_ENDS) is None
    assert versions.retired_reason(RATINGS, date(2027, 1, 20)) is None
    assert "2027-01-21" in versions.retired_reason(RATINGS, V21_ENDS)


def test_other_capabilities_are_not_bound_to_a_version():
    assert versions.retired_reason("facebook_comments", date(2030, 1, 1)) is None


def test_the_end_of_recommendations_is_warned_about_within_90_days():
    assert versions.ratings_warnings(date(2026, 10, 22)) == []  # 91 days before
    (warning,) = versions.ratings_warnings(date(2026, 12, 3))
    assert warning.code == "capability_ending" and warning.ends_on == V21_ENDS
    assert versions.ratings_warnings(V21_ENDS) == []  # retired by then, not "ending"


@pytest.mark.parametrize("raw", ["22.0", " v22.0 ", "v22.0"])
def test_the_pin_is_read_with_or_without_its_v(raw):
    assert versions.normalise(raw) == "v22.0"


def test_each_warning_is_logged_once_a_day(caplog):
    caplog.set_level(logging.WARNING, logger=versions.__name__)
    day = date(2031, 3, 3)  # a day no other test logs for
    versions.log_warnings("v99.0", day)
    versions.log_warnings("v99.0", day)
    versions.log_warnings("v99.0", date(2031, 3, 4))
    lines = [r.getMessage() for r in caplog.records if "v99.0" in r.getMessage()]
    assert len(lines) == 2
