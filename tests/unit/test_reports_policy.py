"""Who issues a statistical report, and what a report's month is (policies.reports, §49)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.reports import (
    may_issue_reports,
    month_of,
    month_period,
    month_problem,
    months_ending,
)
from policies.roles import ROLES


def test_the_him_director_and_an_administrator_issue_reports_and_no_one_else() -> None:
    allowed = {role for role in ROLES if may_issue_reports([role]).allowed}
    assert allowed == {"him-director", "administrator"}
    refused = may_issue_reports(["technician", "coder"])
    assert not refused.allowed and refused.policy_version == "reports/1"
    assert (
        refused.reason == "only the HIM director or an administrator may issue a statistical report"
    )
    assert not may_issue_reports([]).allowed  # no role, no report


def test_months_and_their_days() -> None:
    assert month_period("2026-01") == (date(2026, 1, 1), date(2026, 1, 31))
    assert month_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))  # a leap year
    assert month_period("2100-02") == (date(2100, 2, 1), date(2100, 2, 28))  # not one
    assert month_period("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_period(" 2026-04 ") == (date(2026, 4, 1), date(2026, 4, 30))
    assert months_ending("2026-02", 3) == ("2025-12", "2026-01", "2026-02")
    assert months_ending("2026-01", 1) == ("2026-01",)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "January", "", "0000-01"]
)
def test_what_is_not_a_month_is_one_sentence(text: str) -> None:
    assert month_problem(text) == f"'{text}' is not a month (give YYYY-MM)."
    with pytest.raises(ValueError, match="is not a month"):
        month_period(text)


@given(st.dates(min_value=date(1001, 1, 1), max_value=date(9000, 12, 31)))
def test_a_month_is_its_days_and_twelve_months_end_with_it(day: date) -> None:
    month = month_of(day.replace(day=1))
    first, last = month_period(month)
    assert first <= day <= last and first.day == 1 and 28 <= last.day <= 31
    assert month_of(first) == month
    months = months_ending(month, 12)
    assert len(months) == 12 and months[-1] == month and list(months) == sorted(months)
