"""Stored times (the audit trail, the locations view): fixed width, sortable, and read back
exactly, for every moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from projections.audit import _TIME, parse_stamp, stamp

MOMENTS = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(MOMENTS, OFFSETS)
def test_a_stamp_is_the_fixed_format_and_reads_back_exactly(
    moment: datetime, zone: timezone
) -> None:
    local = moment.astimezone(zone)
    text = stamp(local)
    assert text == moment.strftime(_TIME)
    assert len(text) == 27 and text.endswith("Z")
    assert parse_stamp(text) == moment and parse_stamp(text).tzinfo is not None


@given(MOMENTS, MOMENTS)
def test_stamps_sort_as_their_moments_do(first: datetime, second: datetime) -> None:
    assert (stamp(first) < stamp(second)) == (first < second)
