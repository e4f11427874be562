"""The bench's hospital generator (`bench/hospital_year.py`), small, on every store: what it
builds through the commands is what it planned. The census the ledger gives for the planned
month equals the plan's own count of stays in beds each day (a plain loop over the plan, not
the formulas), and the view holds every planned stay, transfer and discharge."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from itertools import pairwise

from hypothesis import given, settings
from hypothesis.strategies import integers

from bench.hospital_year import HospitalPlan, build_hospital, plan_hospital
from policies import statistics as st
from policies.limits import discharge_disposition
from projections.statistics import caught_up_statistics, census
from tests.conftest import Hospital


def test_the_same_seed_plans_the_same_hospital() -> None:
    one, two = plan_hospital(60, days=30, seed=5), plan_hospital(60, days=30, seed=5)
    assert one.stays == two.stays
    assert one.patients == two.patients
    assert plan_hospital(60, days=30, seed=6).stays != one.stays


def test_the_plan_is_a_hospital() -> None:
    """The default year: 200 beds, at least 15,000 stays, and the shape the bench promises."""
    plan = plan_hospital()
    adults = [s for s in plan.stays if not s.newborn]
    assert plan.beds == 200
    assert len(adults) >= 15_000
    assert 1_000 < len(plan.stays) - len(adults) < 2_500  # newborns
    facts = plan.facts()
    filled = st.occupancy(facts, plan.bed_counts(), plan.period)
    assert 80 <= filled.percent <= 92
    assert 3.5 <= st.length_of_stay(facts, plan.period).average <= 4.5
    transferred = sum(1 for s in adults if len(s.moves) > 1) / len(adults)
    assert 0.10 <= transferred <= 0.20
    deaths = st.death_rates(facts, plan.period)
    assert 1.5 <= deaths.gross_percent <= 3 and 0 < deaths.early_deaths < deaths.deaths
    readmitted = st.readmissions(facts, plan.period)
    assert 6 <= readmitted.percent <= 11
    assert all(count > 0 for _, count in readmitted.excluded)  # deaths, AMA, acute transfers
    _no_bed_twice(plan)


@settings(max_examples=25, deadline=None)
@given(
    seed=integers(0, 10_000),
    stays=integers(20, 400),
    days=integers(5, 60),
)
def test_any_plan_keeps_its_beds_and_counts_as_the_formulas(
    seed: int, stays: int, days: int
) -> None:
    """For any seed and size: no bed holds two patients at once, the midnight census never
    exceeds the beds, and the plan's own count is what `policies.statistics` computes."""
    plan = plan_hospital(stays, days=days, seed=seed)
    _no_bed_twice(plan)
    period = plan.period
    counts = plan.census_counts(period)
    facts = plan.facts()
    if any(counts):
        assert counts == [c.daily_inpatient_census for c in st.daily_censuses(facts, period)]
    for census_day in st.daily_censuses(facts, period) if any(counts) else ():
        assert census_day.in_beds <= plan.beds


def test_the_built_hospital_has_the_census_the_plan_counts(hospital: Hospital) -> None:
    plan = plan_hospital(60, days=30, start=date(2025, 3, 1), seed=3)
    built = build_hospital(hospital.ledger, hospital.admin, plan, coded=3)
    assert built.stays == len(plan.stays)
    assert built.transfers == plan.transfers > 0
    assert built.coded == 3, built.refusals

    period = plan.period
    report = census(hospital.ledger, start=period.start, end=period.end)
    assert [d.census for d in report.days] == plan.census_counts(period)
    newborns = census(hospital.ledger, start=period.start, end=period.end, newborn=True)
    assert [d.census for d in newborns.days] == plan.census_counts(period, newborn=True)
    assert report.bed_count_days == plan.beds * period.days
    for unit in ("3E", "ICU", "MAT"):
        one = census(hospital.ledger, start=period.start, end=period.end, unit=unit)
        assert [d.census for d in one.days] == plan.census_counts(period, unit=unit), unit

    stays = caught_up_statistics(hospital.ledger).stays()
    assert len(stays) == len(plan.stays)
    assert sum(len(s.moves) - 1 for s in stays) == plan.transfers
    assert Counter(s.disposition for s in stays) == Counter(  # the ledger keeps the word
        None if s.disposition is None else discharge_disposition(s.disposition) for s in plan.stays
    )


def _no_bed_twice(plan: HospitalPlan) -> None:
    """A bed holds one patient at a time: its stays' spans there do not overlap."""
    held: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for stay in plan.stays:
        for i, move in enumerate(stay.moves):
            until = stay.moves[i + 1].at if i + 1 < len(stay.moves) else stay.discharged
            held.setdefault(move.bed, []).append((move.at, until))
    for spans in held.values():
        spans.sort(key=lambda span: span[0])
        for (_, end), (start, _) in pairwise(spans):
            assert end is not None and end <= start
