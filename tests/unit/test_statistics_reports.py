"""The reports of issue 13, items 3 and 4, over hand-built stays (decisions §47a).

One worked month, every figure computed by hand below from the stays' own dates (the formulas'
definitions are Horton's, `policies.statistics`); then the laws that hold for any stays: the
groups add up to the total, ALOS x discharges = discharge days in every group, the most
frequent codes are sorted and count no more than was counted, the months add up to the span.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import UsageError
from policies.statistics import NEWBORNS, Move, Period, PeriodProblem, Stay, discharges
from projections.statistics_reports import (
    CASEMIX_GROUPINGS,
    DEATH_GROUPINGS,
    LOS_GROUPINGS,
    NOT_CODED,
    READMISSION_GROUPINGS,
    case_mix_by,
    deaths_by,
    group_stays,
    length_of_stay_by,
    month_period,
    monthly_trends,
    months_between,
    readmissions_by,
    top_diagnoses,
    top_procedures,
)

JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31))


def at(day: int, hour: int = 12, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour)


def stay(
    name: str, patient: str, admitted: datetime, discharged: datetime | None,
    moves: tuple[tuple[datetime, str, str], ...], *, attending: str = "dr1",
    disposition: str = "home", dx: str | None = None, drg: str | None = None,
    weight: str | None = None, gmlos: str | None = None, mdc: int | None = None,
    px: tuple[str, ...] = (), newborn: bool = False,
) -> Stay:  # fmt: skip
    return Stay(
        encounter_id=name,
        patient=patient,
        admitted=admitted,
        discharged=discharged,
        moves=tuple(Move(when, unit, service) for when, unit, service in moves),
        newborn=newborn,
        disposition=disposition,
        attending=attending,
        drg=drg,
        drg_weight=None if weight is None else Decimal(weight),
        gmlos=None if gmlos is None else Decimal(gmlos),
        principal_diagnosis=dx,
        procedures=px,
        mdc=mdc,
    )


MED, SURG = ("4W", "medicine"), ("5E", "surgery")

STAYS = (
    # S1: 3 days, medicine, heart failure; readmitted by S2 15 days later.
    stay(
        "S1",
        "p1",
        at(2, 10),
        at(5),
        ((at(2, 10), *MED),),
        dx="I5021",
        drg="291",
        weight="1.3",
        gmlos="3.5",
        mdc=5,
    ),
    stay(
        "S2",
        "p1",
        at(20, 8),
        at(22),
        ((at(20, 8), *MED),),
        dx="I5021",
        drg="291",
        weight="1.3",
        gmlos="3.5",
        mdc=5,
    ),
    # S3: same day (one day), surgery, appendicitis with its appendectomy; S7 readmits 25 days on.
    stay(
        "S3",
        "p2",
        at(3, 9),
        at(3, 17),
        ((at(3, 9), *SURG),),
        attending="dr2",
        dx="K3580",
        drg="343",
        weight="1.0",
        gmlos="1.6",
        mdc=6,
        px=("0DTJ4ZZ",),
    ),
    # S4: admitted to surgery, moved to medicine, died 19 hours after admission; not coded.
    stay(
        "S4",
        "p3",
        at(10, 6),
        at(11, 5),
        ((at(10, 6), *SURG), (at(10, 18), *MED)),
        attending="dr3",
        disposition="expired",
    ),
    # S5: died after 10 days, surgery, pneumonia, two procedures.
    stay(
        "S5",
        "p4",
        at(5, 8),
        at(15),
        ((at(5, 8), *SURG),),
        attending="dr2",
        disposition="expired",
        dx="J189",
        drg="193",
        weight="1.4",
        gmlos="4.0",
        mdc=4,
        px=("0BH17EZ", "5A1955Z"),
    ),
    # S6: discharged in February (9 days); S7: p2 again, admitted in January, out in February.
    stay("S6", "p5", at(25), at(3, month=2), ((at(25), *MED),)),
    stay("S7", "p2", at(28), at(2, month=2), ((at(28), *MED),)),
    # S8: left against medical advice after 2 days: no index discharge.
    stay("S8", "p6", at(12), at(14), ((at(12), *MED),), disposition="07"),
    # S9: a newborn, never counted with adults and children.
    stay("S9", "p7", at(4), at(6), ((at(4), "NUR", "nursery"),), newborn=True),
)


def groups(report: object) -> dict[str, dict[str, object]]:
    shown = report.as_dict()  # type: ignore[attr-defined]
    return {g["group"]: {k: v for k, v in g.items() if k != "group"} for g in shown["groups"]}


def test_length_of_stay_of_the_worked_month() -> None:
    report = length_of_stay_by(list(STAYS), JANUARY)
    # S1 3 + S2 2 + S3 1 (same day) + S4 1 + S5 10 + S8 2 = 19 days over 6 discharges.
    assert report.as_dict()["total"] == {
        "discharges": 6, "discharge_days": 19, "average_length_of_stay": "3.17",
    }  # fmt: skip
    assert report.total.average == Fraction(19, 6)  # exact inside, rounded only for showing
    by_service = groups(length_of_stay_by(list(STAYS), JANUARY, by="service"))
    # Where they lay at discharge: S4 died on medicine though admitted to surgery.
    assert by_service == {
        "medicine": {"discharges": 4, "discharge_days": 8, "average_length_of_stay": "2.00"},
        "surgery": {"discharges": 2, "discharge_days": 11, "average_length_of_stay": "5.50"},
    }
    assert groups(length_of_stay_by(list(STAYS), JANUARY, by="unit")).keys() == {"4W", "5E"}
    by_physician = groups(length_of_stay_by(list(STAYS), JANUARY, by="physician"))
    assert by_physician == {
        "dr1": {"discharges": 3, "discharge_days": 7, "average_length_of_stay": "2.33"},
        "dr2": {"discharges": 2, "discharge_days": 11, "average_length_of_stay": "5.50"},
        "dr3": {"discharges": 1, "discharge_days": 1, "average_length_of_stay": "1.00"},
    }
    newborns = length_of_stay_by(list(STAYS), JANUARY, scope=NEWBORNS)
    assert (newborns.total.discharges, newborns.total.discharge_days) == (1, 2)


def test_death_rates_of_the_worked_month() -> None:
    report = deaths_by(list(STAYS), JANUARY, by="service")
    # Deaths S4 (19 h: under 48 h) and S5: gross 2 x 100 / 6, net (2 - 1) x 100 / (6 - 1).
    assert report.as_dict()["total"] == {
        "discharges": 6, "deaths": 2, "deaths_under_48_hours": 1,
        "gross_death_rate_percent": "33.33", "net_death_rate_percent": "20.00",
    }  # fmt: skip
    assert groups(report) == {
        "medicine": {"discharges": 4, "deaths": 1, "deaths_under_48_hours": 1,
                     "gross_death_rate_percent": "25.00", "net_death_rate_percent": "0.00"},
        "surgery": {"discharges": 2, "deaths": 1, "deaths_under_48_hours": 0,
                    "gross_death_rate_percent": "50.00", "net_death_rate_percent": "50.00"},
    }  # fmt: skip


def test_readmissions_of_the_worked_month_by_diagnosis_group() -> None:
    report = readmissions_by(list(STAYS), JANUARY, by="diagnosis")
    total = report.as_dict()["total"]
    # Index: S1, S2, S3 (S4, S5 died; S8 AMA). S1 -> S2 (15 days), S3 -> S7 (25 days, admitted
    # in the period, discharged after it): 2 of 3.
    assert (total["index_discharges"], total["readmitted"]) == (3, 2)
    assert total["readmission_rate_percent"] == "66.67"
    assert total["measure"] == "crude 30-day readmission rate (unadjusted)"
    assert total["adjusted"] is False and report.report == total["measure"]
    assert [(e["exclusion"], e["discharges"]) for e in total["excluded"]] == [
        ("expired", 2), ("short-term-hospital", 0), ("against-medical-advice", 1),
    ]  # fmt: skip
    shown = groups(report)
    assert list(shown) == ["I5021", "J189", "K3580", NOT_CODED]  # "not coded" last
    assert (shown["I5021"]["index_discharges"], shown["I5021"]["readmitted"]) == (2, 1)
    assert shown["I5021"]["readmission_rate_percent"] == "50.00"
    # S3's readmission S7 is in no diagnosis group of the period (it is not coded, and left in
    # February), and still counts.
    assert shown["K3580"]["readmission_rate_percent"] == "100.00"
    # Every discharge of the group excluded: no index discharge, no rate.
    assert (
        shown["J189"]["index_discharges"] == 0 and shown["J189"]["readmission_rate_percent"] is None
    )
    assert [e["discharges"] for e in shown[NOT_CODED]["excluded"]] == [1, 0, 1]
    assert list(groups(readmissions_by(list(STAYS), JANUARY, by="mdc"))) == [
        "04", "05", "06", NOT_CODED,
    ]  # fmt: skip
    assert list(groups(readmissions_by(list(STAYS), JANUARY, by="category"))) == [
        "I50", "J18", "K35", NOT_CODED,
    ]  # fmt: skip
    # A 10-day window: S2 came back after 15 days, S7 after 25: none readmitted.
    narrow = readmissions_by(list(STAYS), JANUARY, window_days=10).as_dict()["total"]
    assert narrow["readmitted"] == 0 and narrow["measure"].startswith("crude 10-day")


def test_case_mix_of_the_worked_month() -> None:
    report = case_mix_by(list(STAYS), JANUARY, by="drg")
    total = report.as_dict()["total"]
    # Grouped S1 1.3 + S2 1.3 + S3 1.0 + S5 1.4 = 5.0 over 4; S4 and S8 not grouped.
    # O/E: (3 + 2 + 1 + 10) days over 3.5 + 3.5 + 1.6 + 4.0 = 12.6 expected.
    assert total == {
        "discharges": 6, "grouped": 4, "ungrouped": 2, "weight_total": "5.0",
        "case_mix_index": "1.25", "observed_days": 16, "expected_days": "12.6",
        "observed_average_los": "4.00", "expected_average_los": "3.15",
        "observed_expected_ratio": "1.27",
    }  # fmt: skip
    shown = groups(report)
    assert list(shown) == ["193", "291", "343", NOT_CODED]
    assert shown["343"]["observed_expected_ratio"] == "0.63"  # 1 / 1.6 = 0.625, half up
    assert (
        shown["291"]["case_mix_index"] == "1.30"
        and shown["291"]["observed_expected_ratio"] == "0.71"
    )
    assert shown[NOT_CODED]["case_mix_index"] is None and shown[NOT_CODED]["ungrouped"] == 2
    by_service = groups(case_mix_by(list(STAYS), JANUARY, by="service"))
    assert by_service["medicine"]["case_mix_index"] == "1.30"  # S1, S2 (S4, S8 apart)
    assert by_service["surgery"]["case_mix_index"] == "1.20"  # (1.0 + 1.4) / 2
    assert by_service["surgery"]["observed_expected_ratio"] == "1.96"  # 11 / 5.6
    february = Period(date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(PeriodProblem, match="was grouped to a DRG"):
        case_mix_by(list(STAYS), february)


def test_the_most_frequent_diagnoses_and_procedures() -> None:
    titles = {"I5021": "Acute systolic heart failure"}
    report = top_diagnoses(list(STAYS), JANUARY, title=titles.get)
    shown = report.as_dict()
    assert (shown["discharges"], shown["not_coded"], shown["counted"]) == (6, 2, 4)
    assert [(r["code"], r["count"], r["percent"], r["title"]) for r in shown["rows"]] == [
        ("I5021", 2, "50.00", "Acute systolic heart failure"),
        ("J189", 1, "25.00", None),
        ("K3580", 1, "25.00", None),  # ties by code
    ]
    assert [r.code for r in top_diagnoses(list(STAYS), JANUARY, top=2).rows] == ["I5021", "J189"]
    assert [r.code for r in top_diagnoses(list(STAYS), JANUARY, by="category").rows] == [
        "I50", "J18", "K35",
    ]  # fmt: skip
    principal = top_procedures(list(STAYS), JANUARY)
    # Coded: S1, S2 (no procedure), S3 0DTJ4ZZ, S5 0BH17EZ first.
    assert (principal.counted, principal.without_code, principal.not_coded) == (2, 2, 2)
    assert [(r.code, r.count) for r in principal.rows] == [("0BH17EZ", 1), ("0DTJ4ZZ", 1)]
    every = top_procedures(list(STAYS), JANUARY, every=True, by="category")
    assert [(r.code, r.count) for r in every.rows] == [("0BH", 1), ("0DT", 1), ("5A1", 1)]
    assert every.report == "procedures" and principal.report == "principal procedures"


def test_monthly_trends_of_the_worked_quarter() -> None:
    months = months_between(date(2026, 1, 1), date(2026, 3, 31))
    assert [(m.start, m.end) for m in months] == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]
    january, february, march = (m.as_dict() for m in monthly_trends(list(STAYS), months))
    assert january == {
        "month": "2026-01", "discharges": 6, "average_length_of_stay": "3.17",
        "gross_death_rate_percent": "33.33", "net_death_rate_percent": "20.00",
        "readmission_rate_percent": "66.67",
        "readmission_measure": "crude 30-day readmission rate (unadjusted)",
        "case_mix_index": "1.25", "observed_expected_los": "1.27",
    }  # fmt: skip
    # February: S6 (9 days) and S7 (5 days), neither died nor coded nor readmitted.
    assert (february["discharges"], february["average_length_of_stay"]) == (2, "7.00")
    assert february["gross_death_rate_percent"] == "0.00"
    assert february["readmission_rate_percent"] == "0.00"
    assert february["case_mix_index"] is None and february["observed_expected_los"] is None
    assert march["discharges"] == 0
    assert all(
        march[k] is None for k in march if k not in ("month", "discharges", "readmission_measure")
    )
    assert month_period(2024, 2).end == date(2024, 2, 29) and month_period(2026, 12).end == date(
        2026, 12, 31
    )


def test_refusals() -> None:
    with pytest.raises(UsageError, match="'ward' is not a grouping of the length of stay"):
        length_of_stay_by(list(STAYS), JANUARY, by="ward")
    with pytest.raises(UsageError, match="not a grouping of the death rates"):
        deaths_by(list(STAYS), JANUARY, by="unit")
    with pytest.raises(PeriodProblem, match="No adults and children were discharged"):
        length_of_stay_by(list(STAYS), Period(date(2025, 1, 1), date(2025, 1, 31)))
    with pytest.raises(PeriodProblem, match="before they start"):
        months_between(date(2026, 3, 1), date(2026, 1, 1))
    with pytest.raises(UsageError, match="--top must be 1 or more"):
        top_diagnoses(list(STAYS), JANUARY, top=0)


# -- laws -----------------------------------------------------------------------------------------

START = datetime(2026, 1, 1)
DIAGNOSES = ("I5021", "I5022", "K3580", "J189", None)


@st.composite
def stays(draw: st.DrawFn) -> list[Stay]:
    found = []
    for n in range(draw(st.integers(1, 25))):
        admitted = START + timedelta(hours=draw(st.integers(0, 24 * 80)))
        length = timedelta(hours=draw(st.integers(1, 24 * 15)))
        discharged = admitted + length if draw(st.booleans()) or n == 0 else None
        moved = admitted + length / 2
        places = st.sampled_from([("4W", "medicine"), ("5E", "surgery"), ("", "cardiology")])
        moves = [(admitted, *draw(places))]
        if draw(st.booleans()):
            moves.append((moved, *draw(places)))
        dx = draw(st.sampled_from(DIAGNOSES))
        weight = draw(st.sampled_from(["0.8", "1.25", "2.1"])) if dx else None
        found.append(
            stay(
                f"S{n}", f"p{draw(st.integers(0, 6))}", admitted, discharged, tuple(moves),
                attending=draw(st.sampled_from(["dr1", "dr2", ""])),
                disposition=draw(st.sampled_from(["home", "expired", "02", "07", "20", "06"])),
                dx=dx, drg=None if dx is None else f"{len(dx)}9{dx[-1]}", weight=weight,
                gmlos=None if dx is None else draw(st.sampled_from(["1.5", "3.2"])),
                mdc=None if dx is None else ord(dx[0]) % 25,
                px=() if dx is None else tuple(draw(st.lists(
                    st.sampled_from(["0DTJ4ZZ", "0BH17EZ", "5A1955Z", "0DTJ0ZZ"]), max_size=3))),
            )
        )  # fmt: skip
    return found


SPAN = Period(date(2026, 1, 1), date(2026, 4, 30))


def _sum(report: object, key: str) -> int:
    return sum(getattr(g.figures, key) for g in report.groups)  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(stays())
def test_groups_add_up_to_the_total(found: list[Stay]) -> None:
    try:
        length_of_stay_by(found, SPAN)
    except PeriodProblem:
        return  # no discharge in the span: every report refuses alike
    for by in LOS_GROUPINGS:
        report = length_of_stay_by(found, SPAN, by=by)
        assert _sum(report, "discharges") == report.total.discharges
        assert _sum(report, "discharge_days") == report.total.discharge_days
        for group in report.groups:  # ALOS x discharges = discharge days, in every group
            assert group.figures.average * group.figures.discharges == group.figures.discharge_days
    for by in DEATH_GROUPINGS:
        report = deaths_by(found, SPAN, by=by)
        for key in ("discharges", "deaths", "early_deaths"):
            assert _sum(report, key) == getattr(report.total, key)
    by_diagnosis = readmissions_by(found, SPAN, by="diagnosis")
    for group in by_diagnosis.groups:  # against a count of the definition, stay by stay
        index = [
            s for s in discharges(found, SPAN)
            if (s.principal_diagnosis or NOT_CODED) == group.group
            and s.disposition not in ("expired", "20", "02", "07")
        ]  # fmt: skip
        back = [
            s for s in index
            if s.discharged is not None and any(
                o.patient == s.patient and o.encounter_id != s.encounter_id
                and s.discharged <= o.admitted
                and o.admitted.date() <= s.discharged.date() + timedelta(days=30)
                for o in found
            )
        ]  # fmt: skip
        assert (group.figures.index_discharges, group.figures.readmitted) == (len(index), len(back))
    for by in READMISSION_GROUPINGS:
        report = readmissions_by(found, SPAN, by=by)
        assert _sum(report, "index_discharges") == report.total.index_discharges
        assert _sum(report, "readmitted") == report.total.readmitted
        for n, (reason, count) in enumerate(report.total.excluded):
            assert sum(g.figures.excluded[n][1] for g in report.groups) == count, reason
    if any(s.drg_weight is not None for s in discharges(found, SPAN)):
        for by in CASEMIX_GROUPINGS:
            report = case_mix_by(found, SPAN, by=by)
            assert sum(g.figures.discharges for g in report.groups) == report.total.discharges
            mixes = [g.figures.case_mix for g in report.groups if g.figures.case_mix]
            assert report.total.case_mix is not None
            assert sum(m.grouped for m in mixes) == report.total.case_mix.grouped
            assert sum(m.weight_total for m in mixes) == report.total.case_mix.weight_total
            assert sum(g.figures.ungrouped for g in report.groups) == report.total.ungrouped


@settings(max_examples=60, deadline=None)
@given(stays(), st.integers(1, 6), st.booleans(), st.sampled_from(["code", "category"]))
def test_the_most_frequent_codes_are_sorted_and_count_no_more_than_counted(
    found: list[Stay], top: int, every: bool, by: str
) -> None:
    try:
        diagnoses = top_diagnoses(found, SPAN, top=top, by=by)
    except PeriodProblem:
        return
    procedures = top_procedures(found, SPAN, top=top, every=every, by=by)
    for report in (diagnoses, procedures):
        counts = [row.count for row in report.rows]
        assert counts == sorted(counts, reverse=True) and len(counts) <= top
        assert sum(counts) <= report.counted
        assert len({row.code for row in report.rows}) == len(report.rows)
    assert diagnoses.counted + diagnoses.not_coded == diagnoses.discharges
    everything = top_diagnoses(found, SPAN, top=1000, by=by)
    assert sum(row.count for row in everything.rows) == everything.counted


@settings(max_examples=60, deadline=None)
@given(stays())
def test_the_months_add_up_to_their_span(found: list[Stay]) -> None:
    months = months_between(SPAN.start, SPAN.end)
    figures = monthly_trends(found, months)
    total = sum(m.discharges for m in figures)
    if total == 0:
        return
    whole = length_of_stay_by(found, SPAN).total
    assert total == whole.discharges
    days = sum(m.average_length_of_stay * m.discharges for m in figures if m.average_length_of_stay)
    assert days == whole.discharge_days


def test_grouping_keeps_order_and_puts_not_coded_last() -> None:
    grouped = group_stays(STAYS, lambda s: s.principal_diagnosis or NOT_CODED)
    assert [name for name, _ in grouped] == ["I5021", "J189", "K3580", NOT_CODED]
    assert [s.encounter_id for s in grouped[0][1]] == ["S1", "S2"]
