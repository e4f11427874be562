"""The statistics view on every store (decisions §46): its rows are what the encounters say,
after admissions, transfers, discharges and a reopening; a small month's census through the
view equals `policies.statistics` on the same facts, written out by hand here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from ledger.commands import encounters, patients
from ledger.commands.units import open_unit
from ledger.errors import LedgerError, NotFound
from policies import statistics as st
from projections.statistics import caught_up_statistics, census
from tests.conftest import Hospital

D = date.fromisoformat


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 1, day, hour, 0, tzinfo=UTC)


class Month:
    """January 2026: 4W (medicine, 3 beds) and 5E (surgery, 2 beds); four stays."""

    def __init__(self, hospital: Hospital) -> None:
        self.hospital = hospital
        self.tech = hospital.enrol("tech1", ["technician"])
        hospital.enrol("doc1", ["physician"])
        hospital.enrol("doc2", ["physician"])
        him = hospital.enrol("him1", ["him-director"])
        ledger = hospital.ledger
        open_unit(ledger, "4W", name="Four West", beds=3, service="medicine",
                  effective_from=D("2025-12-01"), actor=him)  # fmt: skip
        open_unit(ledger, "5E", name="Five East", beds=2, service="surgery",
                  effective_from=D("2025-12-01"), actor=him)  # fmt: skip
        self.count = 0
        self.ids: dict[str, str] = {}
        self.patients: dict[str, str] = {}

    def admit(self, name: str, when: datetime, bed: str, service: str = "medicine") -> str:
        self.count += 1
        mrn = patients.register_patient(
            self.hospital.ledger,
            {"given_name": "Stat", "family_name": f"Month{chr(96 + self.count)}",
             "sex": "female", "birth_date": date(1960, 1, self.count)},
            actor=self.tech, likely_matches=[],
        )  # fmt: skip
        encounter = encounters.open_encounter(
            self.hospital.ledger, mrn, encounter_class="inpatient", attending="doc1",
            service=service, bed=bed, effective_at=when, actor=self.tech,
        )  # fmt: skip
        self.ids[name] = encounter.hex
        return encounter.hex

    def build(self) -> None:
        ledger = self.hospital.ledger
        self.admit("a", at(1), "4W-1")
        self.admit("b", at(3), "4W-2")
        self.admit("c", at(5), "5E-1", service="surgery")
        self.admit("d", at(10, 8), "4W-3")
        encounters.transfer(ledger, UUID(self.ids["a"]), bed="5E-2", service="surgery",
                            attending="doc2", effective_at=at(4), actor=self.tech)  # fmt: skip
        encounters.discharge(ledger, UUID(self.ids["a"]), disposition="home",
                             effective_at=at(8), actor=self.tech)  # fmt: skip
        encounters.discharge(ledger, UUID(self.ids["d"]), disposition="expired",
                             effective_at=at(10, 18), actor=self.tech)  # fmt: skip
        encounters.discharge(ledger, UUID(self.ids["c"]), disposition="home",
                             effective_at=at(20), actor=self.tech)  # fmt: skip

    def expected(self) -> list[st.Stay]:
        """The same four stays, written from what `build` did (not read from the ledger)."""
        ids = self.ids
        return [
            st.Stay(ids["a"], "a", at(1), at(8),
                    (st.Move(at(1), "4W", "medicine"), st.Move(at(4), "5E", "surgery")),
                    disposition="home", attending="doc2"),
            st.Stay(ids["b"], "b", at(3), None, (st.Move(at(3), "4W", "medicine"),),
                    attending="doc1"),
            st.Stay(ids["c"], "c", at(5), at(20), (st.Move(at(5), "5E", "surgery"),),
                    disposition="home", attending="doc1"),
            st.Stay(ids["d"], "d", at(10, 8), at(10, 18), (st.Move(at(10, 8), "4W", "medicine"),),
                    disposition="expired", attending="doc1"),
        ]  # fmt: skip


@pytest.fixture
def month(hospital: Hospital) -> Month:
    made = Month(hospital)
    made.build()
    return made


def _without_patient(stays: list[st.Stay]) -> list[tuple[object, ...]]:
    return [
        (s.encounter_id, s.admitted, s.discharged, s.moves, s.newborn, s.disposition, s.attending)
        for s in stays
    ]


def test_the_rows_are_what_the_encounters_say_before_and_after_a_restart(month: Month) -> None:
    view = caught_up_statistics(month.hospital.ledger)
    rows = view.stays()
    assert _without_patient(rows) == _without_patient(month.expected())
    for row in rows:  # the patient key is the encounter's patient, and no two stays share one
        encounter = month.hospital.ledger.encounter(UUID(row.encounter_id))
        assert row.patient == encounter.patient_id.hex
    assert len({r.patient for r in rows}) == 4
    positions = view.positions()
    assert positions[month.ids["c"]] > positions[month.ids["d"]] > positions[month.ids["b"]]
    ledger = month.hospital.reopen()
    again = caught_up_statistics(ledger)
    assert again.stays() == rows

    encounters.discharge(ledger, UUID(month.ids["b"]), disposition="home",
                         effective_at=at(25), actor=month.hospital.identity("tech1"))  # fmt: skip
    later = {s.encounter_id: s for s in caught_up_statistics(ledger).stays()}
    assert later[month.ids["b"]].discharged == at(25)
    assert caught_up_statistics(ledger).positions()[month.ids["b"]] > positions[month.ids["c"]]


@pytest.mark.parametrize(
    ("unit", "service"), [(None, None), ("4W", None), ("5E", None), (None, "surgery")]
)
def test_the_census_equals_the_formulas_on_the_same_facts(
    month: Month, unit: str | None, service: str | None
) -> None:
    report = census(month.hospital.ledger, start=D("2026-01-01"), end=D("2026-01-31"),
                    unit=unit, service=service)  # fmt: skip
    facts = month.expected()
    period = st.Period(D("2026-01-01"), D("2026-01-31"))
    scope = st.Scope(unit=unit, service=service)
    beds = {"4W": 3, "5E": 2}
    kept = [u for u in beds if (unit is None or u == unit)
            and (service is None or {"4W": "medicine", "5E": "surgery"}[u] == service)]  # fmt: skip
    counts = [st.BedCount(u, beds[u], 0, D("2025-12-01")) for u in kept]
    censuses = st.daily_censuses(facts, period, scope=scope)
    moved = st.movements(facts, period, scope=scope)
    assert [(d.day, d.census, d.admissions, d.discharges, d.transfers_in, d.transfers_out)
            for d in report.days] == [
        (c.day, c.daily_inpatient_census, m.admissions, m.discharges, m.transfers_in,
         m.transfers_out) for c, m in zip(censuses, moved, strict=True)
    ]  # fmt: skip
    assert report.service_days == st.inpatient_service_days(facts, period, scope=scope)
    filled = st.occupancy(facts, counts, period, scope=scope)
    assert report.bed_count_days == filled.bed_count_days == 31 * sum(beds[u] for u in kept)
    assert report.occupancy_percent == st.rounded(filled.percent)
    assert report.overfilled_days == filled.overfilled_days
    assert report.bed_turnover == st.rounded(
        st.bed_turnover_rate(facts, counts, period, scope=scope)
    )
    assert report.average_daily_census == st.rounded(
        st.average_daily_census(facts, period, scope=scope)
    )


def test_the_hospital_month_by_hand(month: Month) -> None:
    """The whole hospital's January, counted by hand from `build`: a 7 days, b 29 (still in),
    c 15, d once (admitted and discharged on the 10th)."""
    report = census(month.hospital.ledger, start=D("2026-01-01"), end=D("2026-01-31"))
    assert report.service_days == 7 + 29 + 15 + 1
    assert report.bed_count_days == 31 * 5
    assert [d.census for d in report.days][:4] == [1, 1, 2, 2]
    assert sum(d.admissions for d in report.days) == 4
    assert sum(d.discharges for d in report.days) == 3
    four_west = census(month.hospital.ledger, start=D("2026-01-04"), end=D("2026-01-04"), unit="4w")
    assert (four_west.days[0].transfers_out, four_west.days[0].census) == (1, 1)


def test_refusals_are_one_sentence(month: Month) -> None:
    ledger = month.hospital.ledger
    with pytest.raises(NotFound) as unknown:
        census(ledger, start=D("2026-01-01"), end=D("2026-01-31"), unit="9Z")
    with pytest.raises(LedgerError) as backwards:
        census(ledger, start=D("2026-01-31"), end=D("2026-01-01"))
    with pytest.raises(LedgerError) as empty:
        census(ledger, start=D("2025-06-01"), end=D("2025-06-30"))
    for caught in (unknown, backwards, empty):
        text = str(caught.value)
        assert "\n" not in text and text.endswith("."), text
    assert "9Z" in str(unknown.value) and "2025-06-01" in str(empty.value)


def test_a_newborn_is_counted_apart(hospital: Hospital) -> None:
    month = Month(hospital)
    month.admit("baby", at(2), "4W-9", service="newborn")
    month.admit("adult", at(2), "4W-1")
    adults = census(hospital.ledger, start=D("2026-01-02"), end=D("2026-01-02"))
    babies = census(hospital.ledger, start=D("2026-01-02"), end=D("2026-01-02"), newborn=True)
    assert (adults.days[0].census, babies.days[0].census) == (1, 1)
    assert babies.bed_count_days == 0 and babies.occupancy_percent is None
    assert [s.newborn for s in caught_up_statistics(hospital.ledger).stays()] == [True, False]
