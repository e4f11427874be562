"""The audit trail on every store: every access, change and disclosure of a patient, by patient,
user and period, with the filters; reading it is itself recorded and limited to its readers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from ledger.commands import access, documents, encounters, entries, patients
from ledger.errors import AccessDenied, NotAuthorised, NotFound, UsageError
from ledger.integrity.keys import Identity
from projections.audit import AuditFilter, audit_between, audit_patient, audit_user
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
BEN = {"given_name": "Ben", "family_name": "Salo", "sex": "male"}


def staff(hospital: Hospital, name: str, role: str) -> Identity:
    person = hospital.enrol(name, [role])
    return person


@dataclass
class Clinic:
    hospital: Hospital
    tech: Identity
    doc: Identity
    coder: Identity
    officer: Identity
    ada: str
    ben: str
    encounter: UUID
    entry: UUID
    started: datetime


@pytest.fixture
def clinic(hospital: Hospital, tmp_path: Path) -> Clinic:
    ledger = hospital.ledger
    started = datetime.now(UTC)
    tech = staff(hospital, "tech1", "technician")
    doc = staff(hospital, "doc1", "physician")
    coder = staff(hospital, "coder1", "coder")
    officer = staff(hospital, "privacy1", "compliance-officer")
    ada = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    ben = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    encounter = encounters.open_encounter(
        ledger,
        ada,
        encounter_class="inpatient",
        attending="doc1",
        service="medicine",
        effective_at=started - timedelta(hours=1),
        actor=tech,
    )
    entry = entries.add_entry(
        ledger, encounter, kind="diagnosis", text="Asthma", effective_at=started, actor=doc
    )
    entries.amend_entry(
        ledger,
        encounter,
        entry,
        text="Severe asthma",
        reason="spirometry",
        requested_by="doc1",
        actor=doc,
    )
    scan = tmp_path / "consent.pdf"
    scan.write_bytes(b"%PDF-1.4 consent")
    documents.file_document(ledger, ada, scan, kind="consent", actor=tech)
    access.record_access(
        ledger, [ada], actor=doc, action="query", sections=["chart"], purpose="treatment"
    )
    access.record_access(
        ledger, [ada], actor=coder, action="print", sections=["diagnosis"], purpose="payment"
    )
    with pytest.raises(AccessDenied):
        access.record_access(
            ledger, [ben], actor=coder, action="query", sections=["chart"], purpose="legal"
        )
    access.record_access(
        ledger,
        [ben],
        actor=doc,
        action="query",
        sections=["chart"],
        purpose="research",
        break_glass_reason="unconscious in the emergency department",
    )
    return Clinic(hospital, tech, doc, coder, officer, ada, ben, encounter, entry, started)


def test_a_patients_trail_holds_every_change_and_access_in_order(clinic: Clinic) -> None:
    mrns, rows = audit_patient(clinic.hospital.ledger, clinic.ada, reader=clinic.officer)
    assert mrns == [clinic.ada]
    assert [(r.actor, r.action, r.categories) for r in rows] == [
        ("tech1", "create", ("demographics",)),
        ("tech1", "create", ("encounters",)),
        ("doc1", "create", ("diagnosis",)),
        ("doc1", "change", ("diagnosis",)),
        ("tech1", "create", ("documents:consent",)),
        ("doc1", "query", ("chart",)),
        ("coder1", "print", ("diagnosis",)),
    ]
    assert all(r.mrn == clinic.ada and r.outcome == "granted" for r in rows)
    assert [r.position for r in rows] == sorted(r.position for r in rows)
    assert rows[5].purpose == "treatment" and rows[5].policy_version
    # Every line carries an event id that proves.
    for row in rows:
        assert clinic.hospital.ledger.find_event(row.event).originator_version >= 1


def test_filters_narrow_the_trail(clinic: Clinic) -> None:
    ledger = clinic.hospital.ledger
    _, denied = audit_patient(
        ledger, clinic.ben, reader=clinic.officer, window=AuditFilter(denied=True)
    )
    assert [(r.actor, r.outcome, r.purpose) for r in denied] == [("coder1", "denied", "legal")]
    glass = audit_user(ledger, "doc1", reader=clinic.officer, window=AuditFilter(break_glass=True))
    assert [(r.mrn, r.break_glass_reason) for r in glass] == [
        (clinic.ben, "unconscious in the emergency department")
    ]
    payment = audit_user(
        ledger, "coder1", reader=clinic.officer, window=AuditFilter(purpose="payment")
    )
    assert [r.action for r in payment] == ["print"]
    later = datetime.now(UTC)
    assert (
        audit_patient(ledger, clinic.ada, reader=clinic.officer, window=AuditFilter(since=later))[1]
        == []
    )


def test_between_takes_a_period_and_reading_the_trail_is_recorded(clinic: Clinic) -> None:
    ledger = clinic.hospital.ledger
    time.sleep(0.01)
    end = datetime.now(UTC)
    rows = audit_between(
        ledger, reader=clinic.officer, window=AuditFilter(since=clinic.started, until=end)
    )
    assert {r.mrn for r in rows} == {clinic.ada, clinic.ben}
    assert not any("audit-trail" in r.categories for r in rows)
    _, again = audit_patient(ledger, clinic.ada, reader=clinic.officer)
    reads = [r for r in again if "audit-trail" in r.categories]
    assert [(r.actor, r.action, r.purpose) for r in reads] == [("privacy1", "query", "operations")]


def test_merged_records_trails_follow_the_survivor(clinic: Clinic) -> None:
    ledger = clinic.hospital.ledger
    patients.merge_patients(ledger, clinic.ada, clinic.ben, reason="same person", actor=clinic.tech)
    mrns, rows = audit_patient(ledger, clinic.ada, reader=clinic.officer)
    assert mrns == [clinic.ada, clinic.ben]
    assert {r.mrn for r in rows} == {clinic.ada, clinic.ben}
    merges = [r for r in rows if "merge" in r.categories]
    assert {r.mrn for r in merges} == {clinic.ada, clinic.ben}


def test_only_compliance_and_him_leadership_read_the_trail(clinic: Clinic) -> None:
    ledger = clinic.hospital.ledger
    before = ledger.recorder.max_notification_id()
    with pytest.raises(NotAuthorised, match="compliance officer"):
        audit_patient(ledger, clinic.ada, reader=clinic.doc)
    assert ledger.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("wrong MRN", NotFound, "MR9999999"),
        ("unknown user", NotFound, "nobody"),
        ("future", UsageError, "future"),
        ("backwards", UsageError, "before its end"),
        ("open period", UsageError, "both"),
    ],
)
def test_bad_requests_are_one_sentence_and_write_nothing(
    clinic: Clinic, case: str, error: type[Exception], match: str
) -> None:
    ledger = clinic.hospital.ledger
    now = datetime.now(UTC)
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error, match=match):
        if case == "wrong MRN":
            audit_patient(ledger, "MR9999999", reader=clinic.officer)
        elif case == "unknown user":
            audit_user(ledger, "nobody", reader=clinic.officer)
        elif case == "future":
            window = AuditFilter(since=now + timedelta(days=1))
            audit_patient(ledger, clinic.ada, reader=clinic.officer, window=window)
        elif case == "backwards":
            window = AuditFilter(since=now, until=now - timedelta(days=1))
            audit_between(ledger, reader=clinic.officer, window=window)
        else:
            audit_between(ledger, reader=clinic.officer, window=AuditFilter(since=now))
    assert ledger.recorder.max_notification_id() == before
