"""Productivity's tally, pure: stays per coder per UTC day inside the period, each stay once (its
last signature in the period), the case mix index as the mean weight, unweighted stays counted
but not averaged; and the physician index's length of stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from projections.coding import Signing, length_of_stay, tally

DAY = date(2026, 11, 2)
FOUR = Decimal("0.0001")


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_days_coders_and_the_period_bounds() -> None:
    a, b, c, e = (uuid4() for _ in range(4))
    signed = [
        Signing(a, "coder1", _at(DAY), 291, Decimal("1.3096")),
        Signing(b, "coder1", _at(DAY + timedelta(days=1)), 470, Decimal("1.9065")),
        Signing(c, "coder2", _at(DAY), 194, Decimal("0.8988")),
        Signing(e, "coder2", _at(DAY + timedelta(days=5)), 194, Decimal("0.8988")),  # after
    ]
    report = tally(signed, since=DAY, until=DAY + timedelta(days=1))
    lines = {line.coder: line for line in report.coders}
    assert [(d.day, d.stays) for d in lines["coder1"].days] == [
        (DAY, 1),
        (DAY + timedelta(days=1), 1),
    ]
    mean = (Decimal("1.3096") + Decimal("1.9065")) / 2
    assert lines["coder1"].case_mix_index == mean.quantize(FOUR, ROUND_HALF_UP)
    assert lines["coder1"].per_day == Decimal("1.00")
    assert lines["coder2"].stays == 1 and report.stays == 3
    total = sum((s.relative_weight or Decimal(0)) for s in signed[:3]) / 3
    assert report.case_mix_index == total.quantize(FOUR, ROUND_HALF_UP)


def test_the_day_is_the_utc_day() -> None:
    late = datetime(2026, 11, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 3 Nov UTC
    report = tally([Signing(uuid4(), "coder1", late, 291, Decimal(1))], since=DAY, until=DAY)
    assert report.stays == 0
    report = tally(
        [Signing(uuid4(), "coder1", late, 291, Decimal(1))],
        since=DAY + timedelta(days=1),
        until=DAY + timedelta(days=1),
    )
    assert report.coders[0].days[0].day == DAY + timedelta(days=1)


def test_a_stay_signed_twice_counts_once_for_its_last_signer() -> None:
    stay = uuid4()
    signed = [
        Signing(stay, "coder1", _at(DAY), 292, Decimal("0.9")),
        Signing(stay, "coder2", _at(DAY + timedelta(days=2)), 291, Decimal("1.3")),
    ]
    report = tally(reversed(signed), since=DAY, until=DAY + timedelta(days=2))
    assert [(c.coder, c.stays, c.case_mix_index) for c in report.coders] == [
        ("coder2", 1, Decimal("1.3000"))
    ]
    only_first = tally(signed, since=DAY, until=DAY)  # the re-signing is outside the period
    assert [(c.coder, c.stays) for c in only_first.coders] == [("coder1", 1)]


def test_a_stay_without_a_weight_is_counted_and_not_averaged() -> None:
    signed = [
        Signing(uuid4(), "coder1", _at(DAY), 291, Decimal("1.5")),
        Signing(uuid4(), "coder1", _at(DAY), 999, None),
    ]
    line = tally(signed, since=DAY, until=DAY).coders[0]
    assert (line.stays, line.weighted, line.case_mix_index) == (2, 1, Decimal("1.5000"))
    assert line.days[0].stays == 2


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # which stay
            st.sampled_from(["coder1", "coder2", "coder3"]),
            st.integers(0, 9),  # which day
            st.decimals(min_value=Decimal("0.1"), max_value=Decimal("20"), places=4),
        ),
        max_size=30,
    )
)
def test_days_sum_to_the_coder_and_coders_to_the_department(rows: list) -> None:
    stays = [uuid4() for _ in range(6)]
    signed = [
        Signing(stays[s], coder, _at(DAY + timedelta(days=day), hour=1 + i % 20), 1, weight)
        for i, (s, coder, day, weight) in enumerate(rows)
    ]
    report = tally(signed, since=DAY + timedelta(days=2), until=DAY + timedelta(days=7))
    inside = {s.stay for s in signed if 2 <= (s.signed_at.date() - DAY).days <= 7}
    assert report.stays == len(inside)
    assert sum(c.stays for c in report.coders) == report.stays
    for coder in report.coders:
        assert sum(d.stays for d in coder.days) == coder.stays


def test_length_of_stay_counts_midnights_and_a_same_day_stay_as_one() -> None:
    assert length_of_stay(date(2026, 3, 10), date(2026, 3, 14)) == 4
    assert length_of_stay(date(2026, 5, 1), date(2026, 5, 1)) == 1
    assert length_of_stay(date(2026, 12, 31), date(2027, 1, 2)) == 2
