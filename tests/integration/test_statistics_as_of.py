"""The statistics view as the ledger stood at a past moment, on every store (decisions §47): a
late discharge changes the new census, not the old one; a stay's coding is its final abstract's,
as of the read (signed final, reopened, changed and signed again); a period's stays are those
that were in the hospital some time in it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from ledger.aggregates.coding import CodingAbstract
from ledger.commands import coding, encounters
from policies import statistics as st
from projections.statistics import caught_up_statistics, census
from tests.conftest import Hospital
from tests.integration.test_coding_worklist import build
from tests.integration.test_statistics_view import Month, at

D = date.fromisoformat


@pytest.fixture
def month(hospital: Hospital) -> Month:
    made = Month(hospital)
    made.build()
    return made


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_late_discharge_changes_the_new_census_not_the_old(month: Month) -> None:
    ledger = month.hospital.ledger
    before = census(ledger, start=D("2026-01-01"), end=D("2026-01-31"))
    stays_before = caught_up_statistics(ledger).stays()
    moment = _now()
    encounters.discharge(ledger, UUID(month.ids["b"]), disposition="home",
                         effective_at=at(25), actor=month.hospital.identity("tech1"))  # fmt: skip
    after = census(ledger, start=D("2026-01-01"), end=D("2026-01-31"))
    then = census(ledger, start=D("2026-01-01"), end=D("2026-01-31"), as_of=moment)
    assert then == before
    assert caught_up_statistics(ledger).stays(as_of=moment) == stays_before
    # the difference is b's last seven days (the 25th, its discharge day, to the 31st) and its
    # discharge on the 25th: nothing else moved
    assert before.service_days - after.service_days == 32 - 25
    changed = [(a.day, a.census - b.census, a.discharges - b.discharges)
               for a, b in zip(after.days, before.days, strict=True)
               if (a.census, a.discharges) != (b.census, b.discharges)]  # fmt: skip
    assert changed == [
        (D("2026-01-25"), -1, 1),
        *[(D(f"2026-01-{d}"), -1, 0) for d in range(26, 32)],
    ]


def test_as_of_before_a_stay_was_recorded_it_is_not_there(month: Month) -> None:
    ledger = month.hospital.ledger
    moment = _now()
    late = month.admit("late", at(30), "4W-1")
    assert late not in {s.encounter_id for s in caught_up_statistics(ledger).stays(as_of=moment)}
    assert late in {s.encounter_id for s in caught_up_statistics(ledger).stays()}
    transfer_moment = _now()
    encounters.transfer(ledger, UUID(late), bed="5E-1", service="surgery", attending="doc2",
                        effective_at=at(31), actor=month.hospital.identity("tech1"))  # fmt: skip
    old = {s.encounter_id: s for s in caught_up_statistics(ledger).stays(as_of=transfer_moment)}
    new = {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}
    assert [m.unit for m in old[late].moves] == ["4W"] and old[late].attending == "doc1"
    assert [m.unit for m in new[late].moves] == ["4W", "5E"] and new[late].attending == "doc2"


def test_between_keeps_the_stays_in_the_hospital_in_the_period(month: Month) -> None:
    view = caught_up_statistics(month.hospital.ledger)
    every = view.stays()
    periods = [
        (D("2026-01-09"), D("2026-01-12")),
        (D("2026-01-21"), D("2026-02-10")),
        (D("2025-12-01"), D("2025-12-31")),
        (D("2026-01-08"), D("2026-01-08")),
    ]
    for first, last in periods:
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        by_hand = [
            s
            for s in every
            if s.admitted < stop and (s.discharged is None or s.discharged >= start)
        ]
        assert view.stays(between=(first, last)) == by_hand


def _abstract(hospital: Hospital, encounter: UUID) -> CodingAbstract:
    from ledger.aggregates.coding import abstract_id

    return hospital.ledger.repository.get(abstract_id(encounter))  # type: ignore[no-any-return]


def test_a_stays_coding_is_its_final_abstract_as_of_the_read(hospital: Hospital) -> None:
    department = build(hospital)
    ledger = hospital.ledger
    stays = {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}
    s1 = department.stays["S1"]
    one = stays[s1.hex]
    signed = _abstract(hospital, s1).groupings[-1].fields
    assert (one.principal_diagnosis, one.procedures) == ("I5021", ("02HV33Z",))
    assert one.drg == f"{signed['drg']:03d}" and one.mdc == signed["mdc"]
    assert one.drg_weight == signed["relative_weight"] and one.gmlos == signed["gmlos"]
    # S3 is grouped but not final, S4 not coded, S5 grouped and not final: no coding yet
    for name in ("S3", "S4", "S5"):
        shown = stays[department.stays[name].hex]
        assert (shown.principal_diagnosis, shown.drg, shown.drg_weight) == (None, None, None)

    while_final = _now()
    coder = department.staff["coder1"]
    coding.reopen(ledger, s1, reason="A late query answer.", actor=coder)
    assert caught_up_statistics(ledger).stays() != list(stays.values())
    reopened = {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}[s1.hex]
    assert (reopened.principal_diagnosis, reopened.drg) == (None, None)
    coding.change_diagnosis(ledger, s1, old="I50.21", new="I50.23", poa="Y",
                            reason="The query answer: acute on chronic.", actor=coder)  # fmt: skip
    coding.group_stay(ledger, s1, actor=coder)
    coding.sign_final(ledger, s1, actor=coder)
    again = {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}[s1.hex]
    resigned = _abstract(hospital, s1).groupings[-1].fields
    assert again.principal_diagnosis == "I5023" and again.drg == f"{resigned['drg']:03d}"
    then = {s.encounter_id: s for s in caught_up_statistics(ledger).stays(as_of=while_final)}
    assert then[s1.hex] == one
    ledger = hospital.reopen()  # and the same from a fresh process
    assert {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}[s1.hex] == again


def test_the_facts_are_those_the_formulas_take(month: Month) -> None:
    """A census as of a moment equals the formulas on the stays as of that moment."""
    ledger = month.hospital.ledger
    moment = _now()
    encounters.discharge(ledger, UUID(month.ids["b"]), disposition="expired",
                         effective_at=at(12), actor=month.hospital.identity("tech1"))  # fmt: skip
    facts = caught_up_statistics(ledger).stays(as_of=moment)
    period = st.Period(D("2026-01-01"), D("2026-01-31"))
    report = census(ledger, start=period.start, end=period.end, as_of=moment)
    assert report.service_days == st.inpatient_service_days(facts, period)
    assert [s.died for s in facts] == [False, False, False, True]
