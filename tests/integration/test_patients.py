"""The master patient index on every store: MRNs, duplicates, merges, access events, the index."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.aggregates.access import Access
from ledger.aggregates.patient import Patient
from ledger.commands import access, patients
from ledger.errors import (
    AccessDenied,
    ConflictError,
    IntegrityViolation,
    NotAuthorised,
    PatientNotFound,
    ProbableDuplicate,
    UsageError,
)
from ledger.follower import Follower
from ledger.integrity.keys import Identity
from ledger.reads.patient_index import PatientIndex
from tests.conftest import Hospital
from tests.rawdb import RawDB

ADA = {
    "given_name": "Ada",
    "family_name": "Okafor",
    "birth_date": date(1961, 4, 2),
    "sex": "female",
}
BEN = {"given_name": "Ben", "family_name": "Salo", "birth_date": date(1990, 1, 30), "sex": "male"}


def staff(hospital: Hospital, name: str, role: str) -> Identity:
    person = hospital.enrol(name, [role])
    return person


def test_mrns_are_issued_in_order_and_the_bodies_are_encrypted(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    first = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    second = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    assert (first, second) == ("MR0000001", "MR0000002")
    assert ledger.patient("mr0000001").demographics["family_name"] == "Okafor"
    stored = b"".join(row[4] for row in RawDB(hospital.store_url).rows())
    assert b"Okafor" not in stored and b"Salo" not in stored
    assert ledger.verify().events > 0


def test_a_configured_format_is_used_and_never_changes(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    patients.configure_mrns(ledger, "SM-{number:06d}", actor=tech)
    assert patients.register_patient(ledger, ADA, actor=tech, likely_matches=[]) == "SM-000001"
    with pytest.raises(UsageError, match="already set"):
        patients.configure_mrns(ledger, "X{number}", actor=tech)


def test_two_registrations_at_once_never_share_an_mrn(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    first, second = hospital.ledger, hospital.home.open()
    try:
        patients.register_patient(first, ADA, actor=tech, likely_matches=[])
        mrn_a = patients.next_mrn(first, patients.mrn_registry(first, actor="tech1")[0])
        mrn_b = patients.next_mrn(second, patients.mrn_registry(second, actor="tech1")[0])
        assert mrn_a == mrn_b == "MR0000002"  # both would take the same number...
        first.save(
            Patient.register(mrn_a, BEN, actor="tech1", likely_matches=[], override=None),
            signer=tech,
        )
        with pytest.raises(ConflictError):  # ...but only one can
            second.save(
                Patient.register(mrn_b, BEN, actor="tech1", likely_matches=[], override=None),
                signer=tech,
            )
        assert patients.register_patient(second, BEN, actor=tech, likely_matches=[]) == "MR0000003"
    finally:
        second.close()


@pytest.mark.parametrize(
    ("demographics", "message"),
    [
        ({**ADA, "given_name": " "}, "given name"),
        ({**ADA, "birth_date": date(2999, 1, 1)}, "plausible"),
        ({**ADA, "sex": "x"}, "Sex must be"),
        ({**ADA, "shoe_size": "9"}, "Unknown demographic field"),
    ],
)
def test_bad_registrations_write_nothing(
    hospital: Hospital, demographics: dict[str, object], message: str
) -> None:
    tech = staff(hospital, "tech1", "technician")
    before = hospital.ledger.recorder.max_notification_id()
    with pytest.raises(UsageError, match=message):
        patients.register_patient(hospital.ledger, demographics, actor=tech, likely_matches=[])
    assert hospital.ledger.recorder.max_notification_id() == before


def test_a_probable_duplicate_needs_a_reason(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    with pytest.raises(ProbableDuplicate, match="MR0000001"):
        patients.register_patient(ledger, ADA, actor=tech, likely_matches=["MR0000001"])
    mrn = patients.register_patient(
        ledger, ADA, actor=tech, likely_matches=["MR0000001"], override="twin sister, same name"
    )
    assert ledger.patient(mrn).override == "twin sister, same name"
    assert ledger.patient(mrn).likely_matches == ["MR0000001"]


def test_only_index_staff_register_patients(hospital: Hospital) -> None:
    doc = staff(hospital, "doc1", "physician")
    with pytest.raises(NotAuthorised, match="maintain the index"):
        patients.register_patient(hospital.ledger, ADA, actor=doc, likely_matches=[])


def test_a_merge_keeps_both_histories_and_can_be_undone(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    survivor = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    retired = patients.register_patient(
        ledger,
        {**ADA, "given_name": "Adah"},
        actor=tech,
        likely_matches=[survivor],
        override="unsure",
    )
    patients.merge_patients(ledger, survivor, retired, reason="same person, typo", actor=tech)
    assert ledger.patient(retired).merged_into == survivor
    assert ledger.patient(survivor).absorbed == [retired]
    with pytest.raises(UsageError, match="already merged"):
        patients.merge_patients(ledger, survivor, retired, reason="again", actor=tech)
    patients.undo_merge(ledger, survivor, retired, reason="different people after all", actor=tech)
    assert ledger.patient(retired).merged_into is None
    assert ledger.patient(survivor).absorbed == []
    assert ledger.patient(retired).version == 3  # registered, merged, unmerged: nothing erased
    with pytest.raises(PatientNotFound, match="MR0000099"):
        patients.merge_patients(ledger, survivor, "MR0000099", reason="x", actor=tech)


def test_reads_are_recorded_and_a_refusal_is_recorded_too(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    coder = staff(hospital, "coder1", "coder")
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    decision = access.record_access(
        ledger, [mrn], actor=tech, action="query", sections=["demographics"], purpose="operations"
    )
    assert decision.allowed
    with pytest.raises(AccessDenied, match="does not allow treatment"):
        access.record_access(
            ledger, [mrn], actor=coder, action="query", sections=["chart"], purpose="treatment"
        )
    topics = [n.topic for n in ledger.recorder.select_notifications(start=None, limit=1000)]
    assert topics[-2:] == [Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC]


def test_the_index_follows_the_log_and_skips_nothing(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    index = PatientIndex(ledger.db)
    follower = Follower(ledger, [index])
    a = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    b = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    assert follower.catch_up() > 0
    assert [p.mrn for p in index.all()] == [a, b]
    assert index.get(a).demographics["birth_date"] == date(1961, 4, 2)  # type: ignore[union-attr]
    patients.correct_demographics(ledger, b, {"family_name": "Saló"}, reason="accent", actor=tech)
    patients.merge_patients(ledger, a, b, reason="test", actor=tech)
    follower.catch_up()
    assert [p.mrn for p in index.all()] == [a]
    assert index.get(b).merged_into == a  # type: ignore[union-attr]
    assert index.get(b).demographics["family_name"] == "Saló"  # type: ignore[union-attr]
    again = Follower(hospital.reopen(), [PatientIndex(hospital.ledger.db)])
    assert again.catch_up() == 0  # a restart applies nothing twice


def test_the_index_refuses_a_tampered_row(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    ledger.merkle_log.catch_up()
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[-1]
    raw.set_state(oid, version, state[:-1] + bytes([state[-1] ^ 1]))
    with pytest.raises(IntegrityViolation):
        Follower(hospital.reopen(), [PatientIndex(hospital.ledger.db)]).catch_up()
