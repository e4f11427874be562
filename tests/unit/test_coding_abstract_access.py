"""What coding needs from the access policy, and no more (issue 12, item 7), pure: a coder reads
a stay's coded abstract under payment or operations, never under treatment or research; payment
shows the abstract and the entries that hold codes, not the rest of the chart; a physician reads
the coding of a stay they were on, not of another."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from ledger.aggregates.coding import CodingAbstract
from ledger.aggregates.encounter import Encounter
from policies.access import PatientFacts, decide
from policies.coding import may_read_coding
from projections.coding import own_stay

PATIENT = PatientFacts("MR0000001")


def test_a_coder_reads_the_abstract_for_payment_and_operations_only() -> None:
    for purpose in ("payment", "operations"):
        decision = decide(["coder"], purpose, patient=PATIENT, sections=["coding"])
        assert decision.allowed and decision.sections == ("coding",), purpose
    for purpose in ("treatment", "research", "legal"):
        assert not decide(["coder"], purpose, patient=PATIENT, sections=["coding"]).allowed


def test_payment_shows_the_entries_that_hold_codes_and_not_the_rest() -> None:
    wanted = ["diagnosis", "procedure", "condition", "medication", "progress-note", "coding"]
    decision = decide(["coder"], "payment", patient=PATIENT, sections=wanted)
    assert decision.allowed
    assert set(decision.sections) == {"diagnosis", "procedure", "condition", "coding"}


def test_coding_is_read_by_coding_roles_and_by_a_stays_own_physician() -> None:
    for roles in (["coder"], ["him-director"], ["compliance-officer"]):
        assert may_read_coding(roles).allowed
    for roles in (["nurse"], ["technician"], ["roi-specialist"], ["administrator"]):
        assert not may_read_coding(roles, own_stay=True).allowed
    assert may_read_coding(["physician"], own_stay=True).allowed
    assert not may_read_coding(["physician"], own_stay=False).allowed


def test_own_stay_is_the_care_team_or_a_surgeon_on_the_abstract() -> None:
    encounter = Encounter.open(
        uuid4(),
        "MR0000001",
        encounter_class="inpatient",
        attending="doc1",
        service="surgery",
        bed=None,
        effective_at=datetime(2026, 3, 10, tzinfo=UTC),
        actor="tech1",
    )
    abstract = CodingAbstract.start(
        encounter_id=encounter.id,
        patient_id=encounter.patient_id,
        mrn="MR0000001",
        actor="coder1",
    )
    assert own_stay(encounter, None, "doc1") and own_stay(encounter, None, "tech1")
    assert not own_stay(encounter, abstract, "doc2")
    abstract.code_procedure(
        "0DTJ4ZZ",
        on=datetime(2026, 3, 11).date(),
        operating_physician="doc2",
        checked_on=datetime(2026, 3, 14).date(),
        actor="coder1",
    )
    assert own_stay(encounter, abstract, "doc2")
