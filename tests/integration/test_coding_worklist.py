"""The coding worklist (DNFB) and per-coder productivity on every store, with real codes: the
discharged stays not yet final, oldest first, what holds each (a physician query, what the chart
lacks), signing final takes a stay off; stays per coder per day and the case mix index from the
recorded groupings' weights (computed here from the abstracts, never written down); the access
recorded row by row before anything is returned, and who may read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from uuid import UUID

import pytest

from ledger.aggregates.access import Access
from ledger.aggregates.coding import CodingAbstract, abstract_id
from ledger.application import Ledger
from ledger.commands import coding, encounters, entries, patients, queries
from ledger.errors import AccessDenied, NotAuthorised, UsageError
from ledger.integrity.keys import Identity
from projections.coding import coding_productivity, coding_worklist
from tests.conftest import Hospital

PEOPLE = {
    "Ada": {"given_name": "Ada", "family_name": "Okafor", "sex": "female",
            "birth_date": date(1955, 6, 1)},
    "Bo": {"given_name": "Bo", "family_name": "Lindqvist", "sex": "male",
           "birth_date": date(1950, 7, 9)},
    "Cy": {"given_name": "Cy", "family_name": "Marsh", "sex": "female",
           "birth_date": date(1980, 2, 3)},
}  # fmt: skip
OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]
QUESTION = "Based on the hemoglobin of 7.1 g/dL, what condition is present?"


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Department:
    """A hospital with coders, physicians and five inpatient stays of 2026 (see `department`)."""

    hospital: Hospital
    staff: dict[str, Identity]
    mrns: dict[str, str]
    stays: dict[str, UUID] = field(default_factory=dict)

    @property
    def ledger(self) -> Ledger:
        return self.hospital.ledger

    def events(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def stay(
        self, name: str, who: str, attending: str, admitted: datetime, discharged: datetime
    ) -> UUID:
        encounter = encounters.open_encounter(
            self.ledger, self.mrns[who], encounter_class="inpatient", attending=attending,
            service="medicine", effective_at=admitted, actor=self.staff["tech1"],
        )  # fmt: skip
        encounters.discharge(
            self.ledger, encounter, disposition="home", effective_at=discharged,
            actor=self.staff["tech1"],
        )  # fmt: skip
        self.stays[name] = encounter
        return encounter

    def dx(self, stay: str, code: str, *, principal: bool = False, coder: str = "coder1") -> None:
        coding.code_diagnosis(
            self.ledger, self.stays[stay], code=code, poa="Y", principal=principal,
            actor=self.staff[coder],
        )  # fmt: skip

    def px(self, stay: str, code: str, on: date, surgeon: str, coder: str = "coder1") -> None:
        coding.code_procedure(
            self.ledger, self.stays[stay], code=code, on=on, operating_physician=surgeon,
            actor=self.staff[coder],
        )  # fmt: skip

    def group(self, stay: str, coder: str = "coder1") -> None:
        coding.group_stay(self.ledger, self.stays[stay], actor=self.staff[coder])

    def final(self, stay: str, coder: str = "coder1") -> None:
        coding.sign_final(self.ledger, self.stays[stay], actor=self.staff[coder])

    def abstract(self, stay: str) -> CodingAbstract:
        return cast(CodingAbstract, self.ledger.repository.get(abstract_id(self.stays[stay])))

    def weight(self, stay: str) -> Decimal:
        """The relative weight the stay's last grouping recorded."""
        last = self.abstract(stay).last_grouping
        assert last is not None and last.fields["relative_weight"] is not None
        return Decimal(str(last.fields["relative_weight"]))


def build(hospital: Hospital) -> Department:
    """S1 (Ada, dr1): heart failure, a central line, final by coder1. S2 (Bo, dr2):
    appendicitis and an appendectomy, final by coder2. S3 (Cy, dr1, in and out the same day):
    gallstones, a cholecystectomy, final by coder1. S4 (Ada, dr1): not coded, a query raised.
    S5 (Bo, dr2): pneumonia, grouped, not final."""
    staff = {
        name: hospital.enrol(name, roles)
        for name, roles in {
            "tech1": ["technician"], "dr1": ["physician"], "dr2": ["physician"],
            "coder1": ["coder"], "coder2": ["coder"], "him1": ["him-director"],
            "nurse1": ["nurse"],
        }.items()
    }  # fmt: skip
    mrns = {
        who: patients.register_patient(hospital.ledger, facts, actor=staff["tech1"],
                                       likely_matches=[])
        for who, facts in PEOPLE.items()
    }  # fmt: skip
    d = Department(hospital, staff, mrns)
    d.stay("S1", "Ada", "dr1", at("2026-03-10"), at("2026-03-14", 11))
    d.dx("S1", "I50.21", principal=True)
    d.dx("S1", "N17.9")
    d.dx("S1", "E11.65")
    d.px("S1", "02HV33Z", date(2026, 3, 11), "dr1")
    d.group("S1")
    d.final("S1")
    d.stay("S2", "Bo", "dr2", at("2026-04-01"), at("2026-04-03", 15))
    d.dx("S2", "K35.80", principal=True, coder="coder2")
    d.dx("S2", "E11.9", coder="coder2")
    d.px("S2", "0DTJ4ZZ", date(2026, 4, 2), "dr2", coder="coder2")
    d.group("S2", coder="coder2")
    d.final("S2", coder="coder2")
    d.stay("S3", "Cy", "dr1", at("2026-05-01", 7), at("2026-05-01", 19))
    d.dx("S3", "K80.20", principal=True)
    d.px("S3", "0FT44ZZ", date(2026, 5, 1), "dr1")
    d.group("S3")
    d.stay("S4", "Ada", "dr1", at("2026-06-01"), at("2026-06-05"))
    d.stay("S5", "Bo", "dr2", at("2026-07-01"), at("2026-07-03"))
    d.dx("S5", "J18.9", principal=True, coder="coder2")
    d.group("S5", coder="coder2")
    return d


@pytest.fixture
def department(hospital: Hospital) -> Department:
    return build(hospital)


def _access_events(ledger: Ledger) -> list[Any]:
    notes = ledger.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC]
    )
    return [ledger.mapper.to_domain_event(note) for note in notes]


def _query_on_s4(d: Department) -> UUID:
    lab = entries.add_entry(
        d.ledger, d.stays["S4"], kind="laboratory-report", text="Hemoglobin 7.1 g/dL",
        effective_at=at("2026-06-03"), actor=d.staff["dr1"],
    )  # fmt: skip
    return queries.raise_query(
        d.ledger, d.stays["S4"], physician="dr1", indicators=[str(lab)], question=QUESTION,
        options=OPTIONS, actor=d.staff["coder1"],
    )  # fmt: skip


def test_the_worklist_is_oldest_first_held_and_signing_final_takes_a_stay_off(
    department: Department,
) -> None:
    d = department
    query = _query_on_s4(d)
    before = len(_access_events(d.ledger))
    rows = coding_worklist(d.ledger, purpose="operations", actor=d.staff["coder1"])
    assert [r.encounter_id for r in rows] == [d.stays["S3"], d.stays["S4"], d.stays["S5"]]
    assert [r.discharged_at for r in rows] == sorted(r.discharged_at for r in rows)
    s3, s4, s5 = rows
    assert (s3.status, s3.drg, s3.drg_current) == ("grouped", d.abstract("S3").last_grouping.drg,
                                                   True)  # fmt: skip
    assert s3.relative_weight == d.weight("S3")
    assert s4.status == "not coded" and s4.drg is None and s4.coders == ()
    assert s5.status == "grouped" and s5.coders == ("coder2",)
    today = d.ledger.now().astimezone(UTC).date()
    assert s4.days_since_discharge == (today - date(2026, 6, 5)).days
    held = {h.kind: h for h in s4.holds}
    assert held["query"].reference == str(query) and held["query"].what == "raised"
    assert held["query"].physician == "dr1"
    # The chart lacks its discharge summary: due 30 days after discharge, long overdue now.
    summary = next(h for h in s4.holds if h.what == "discharge-summary")
    assert summary.due_at == at("2026-06-05") + timedelta(days=30) and summary.overdue
    # Five days after discharge the summary still holds the stay, but is not overdue yet.
    early = coding_worklist(
        d.ledger, purpose="operations", actor=d.staff["coder1"], now=at("2026-06-10")
    )
    early_summary = next(
        h for r in early if r.encounter_id == d.stays["S4"] for h in r.holds
        if h.what == "discharge-summary"
    )  # fmt: skip
    assert not early_summary.overdue
    # The access was recorded first: one event naming exactly the MRNs shown, section coding.
    recorded = _access_events(d.ledger)[before]
    assert isinstance(recorded, Access.RecordAccessed)
    assert sorted(recorded.mrns) == sorted({r.mrn for r in rows})
    assert recorded.sections == ["coding"] and recorded.purpose == "operations"
    # Signing S3 final takes it off; answering the query lifts S4's query hold.
    d.final("S3")
    queries.send_query(d.ledger, query, actor=d.staff["coder1"])
    sent = coding_worklist(d.ledger, purpose="operations", actor=d.staff["coder1"])
    assert d.stays["S3"] not in {r.encounter_id for r in sent}
    assert next(h for h in sent[0].holds if h.kind == "query").what == "sent"
    queries.answer_query(d.ledger, query, choice=1, actor=d.staff["dr1"])
    answered = coding_worklist(d.ledger, purpose="operations", actor=d.staff["coder1"])
    assert [h.kind for h in answered[0].holds if h.kind == "query"] == []
    assert answered[0].held  # the discharge summary still holds it
    # --coder: only the stays that coder worked on.
    mine = coding_worklist(d.ledger, purpose="operations", actor=d.staff["coder1"], coder="coder2")
    assert [r.encounter_id for r in mine] == [d.stays["S5"]]


def test_a_reopened_stay_returns_to_the_worklist(department: Department) -> None:
    d = department
    coding.reopen(d.ledger, d.stays["S1"], reason="late pathology report", actor=d.staff["coder1"])
    rows = coding_worklist(d.ledger, purpose="payment", actor=d.staff["coder2"])
    first = rows[0]
    assert first.encounter_id == d.stays["S1"] and first.status == "reopened"
    assert first.drg == d.abstract("S1").last_grouping.drg


def test_who_reads_the_worklist_and_a_restricted_row_is_withheld_and_counted(
    department: Department,
) -> None:
    from ledger.commands import policy as policy_commands

    d = department
    before = d.events()
    with pytest.raises(AccessDenied, match="coding"):
        coding_worklist(d.ledger, purpose="operations", actor=d.staff["nurse1"])
    assert d.events() == before + 1  # the refusal is recorded, naming no patient
    denied = _access_events(d.ledger)[-1]
    assert denied.mrns == [] and denied.actor == "nurse1"
    privacy = d.hospital.enrol("privacy1", ["compliance-officer"])
    policy_commands.load_access_policy(
        d.ledger, f'version = "guard.1"\n[patients]\nrestricted = ["{d.mrns["Bo"]}"]\n',
        actor=privacy,
    )  # fmt: skip
    rows = coding_worklist(d.ledger, purpose="operations", actor=d.staff["coder1"])
    assert d.mrns["Bo"] not in {r.mrn for r in rows} and rows.withheld == 1  # S5
    assert [r.encounter_id for r in rows] == [d.stays["S3"], d.stays["S4"]]
    withheld = _access_events(d.ledger)[-1]
    assert withheld.mrns == [d.mrns["Bo"]] and isinstance(withheld, Access.AccessDenied)


# -- productivity ---------------------------------------------------------------------------------


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def test_productivity_counts_stays_per_coder_per_day_and_the_case_mix_index(
    department: Department,
) -> None:
    d = department
    d.final("S3")
    today = d.ledger.now().astimezone(UTC).date()
    before = d.events()
    report = coding_productivity(
        d.ledger, since=today - timedelta(days=1), until=today, actor=d.staff["him1"]
    )
    assert d.events() == before  # it names no patient: no access is recorded
    signed = {
        stay: d.abstract(stay).signed_by for stay in ("S1", "S2", "S3")
    }  # who signed each, as recorded
    by_coder: dict[str, list[Decimal]] = {}
    for stay, coder in signed.items():
        by_coder.setdefault(str(coder), []).append(d.weight(stay))
    assert [c.coder for c in report.coders] == sorted(by_coder)
    for line in report.coders:
        weights = by_coder[line.coder]
        assert line.stays == len(weights) and line.weighted == len(weights)
        assert line.case_mix_index == _mean(weights)
        days = {x.day: x.stays for x in line.days}
        signed_on = {
            d.abstract(s).signed_at.astimezone(UTC).date() for s, c in signed.items()
            if c == line.coder
        }  # fmt: skip
        assert set(days) == signed_on and sum(days.values()) == len(weights)
    every = [w for ws in by_coder.values() for w in ws]
    assert report.stays == 3 and report.case_mix_index == _mean(every)
    # A period before the signatures counts nothing; a coder reads their own line only.
    empty = coding_productivity(
        d.ledger, since=date(2026, 1, 1), until=date(2026, 1, 31), actor=d.staff["him1"]
    )
    assert empty.stays == 0 and empty.coders == () and empty.case_mix_index is None
    own = coding_productivity(d.ledger, since=today, until=today, actor=d.staff["coder2"])
    assert [c.coder for c in own.coders] == ["coder2"] and own.stays == 1
    assert own.case_mix_index == _mean(by_coder["coder2"])
    with pytest.raises(NotAuthorised, match="own productivity"):
        coding_productivity(
            d.ledger, since=today, until=today, actor=d.staff["coder2"], coder="coder1"
        )
    with pytest.raises(NotAuthorised):
        coding_productivity(d.ledger, since=today, until=today, actor=d.staff["dr1"])
    with pytest.raises(UsageError, match=r"ends .* before it starts"):
        coding_productivity(d.ledger, since=today, until=date(2026, 1, 1), actor=d.staff["him1"])


def test_a_stay_signed_again_after_reopening_counts_once_with_its_new_weight(
    department: Department,
) -> None:
    d = department
    coding.reopen(d.ledger, d.stays["S1"], reason="query answered late", actor=d.staff["coder2"])
    coding.remove_diagnosis(
        d.ledger, d.stays["S1"], code="N17.9", reason="not supported by the record",
        actor=d.staff["coder2"],
    )  # fmt: skip
    d.group("S1", coder="coder2")
    d.final("S1", coder="coder2")
    today = d.ledger.now().astimezone(UTC).date()
    report = coding_productivity(d.ledger, since=today, until=today, actor=d.staff["him1"])
    assert report.stays == 2  # S1 and S2, S1 once
    lines = {c.coder: c for c in report.coders}
    assert set(lines) == {"coder2"}  # S1's standing signature is coder2's now
    assert lines["coder2"].case_mix_index == _mean([d.weight("S1"), d.weight("S2")])
