"""The access policy in the ledger, on every store: relationships from real encounters, the
configuration as signed events, and what each access event records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from ledger.aggregates.access import Access
from ledger.aggregates.access_policy import current_access_config, policy_history
from ledger.commands import access, encounters, entries, patients
from ledger.commands.policy import load_access_policy
from ledger.errors import AccessDenied, NotAuthorised, UsageError
from ledger.integrity.keys import Identity
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
POLICY = """
version = "ward.1"
[patients]
restricted = ["MR0000001"]
[staff.tech1]
patient_mrn = "MR0000002"
"""


def staff(hospital: Hospital, name: str, role: str) -> Identity:
    person = hospital.enrol(name, [role])
    return person


def last_access(hospital: Hospital) -> Any:
    notes = hospital.ledger.recorder.select_notifications(
        start=None,
        limit=1_000_000,
        topics=[Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC],
    )
    return hospital.ledger.repository.get(cast(Any, notes[-1].originator_id)).facts


@pytest.fixture
def ward(hospital: Hospital) -> dict[str, Identity]:
    people = {
        "tech": staff(hospital, "tech1", "technician"),
        "doc": staff(hospital, "doc1", "physician"),
        "doc2": staff(hospital, "doc2", "physician"),
        "nurse": staff(hospital, "nurse1", "nurse"),
        "officer": staff(hospital, "privacy1", "compliance-officer"),
    }
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=people["tech"], likely_matches=[])
    encounter = encounters.open_encounter(
        ledger,
        mrn,
        encounter_class="inpatient",
        attending="doc1",
        service="medicine",
        effective_at=datetime.now(UTC) - timedelta(hours=2),
        actor=people["tech"],
    )
    # The nurse moves the patient (ward work: the care team); charting alone would not do it.
    encounters.transfer(
        ledger,
        encounter,
        bed="4W-2",
        effective_at=datetime.now(UTC) - timedelta(hours=1),
        actor=people["nurse"],
    )
    entries.add_entry(
        ledger,
        encounter,
        kind="progress-note",
        text="Comfortable overnight",
        effective_at=datetime.now(UTC),
        actor=people["nurse"],
    )
    patients.register_patient(
        ledger, {**ADA, "given_name": "Ben"}, actor=people["tech"], likely_matches=[]
    )
    return people


def test_the_relationship_is_found_and_recorded(
    hospital: Hospital, ward: dict[str, Identity]
) -> None:
    ledger = hospital.ledger
    for who, expected in (
        ("doc", "attending"),
        ("nurse", "care-team"),
        ("doc2", "recent-encounter"),
    ):
        decision = access.record_access(
            ledger,
            ["MR0000001"],
            actor=ward[who],
            action="query",
            sections=["chart"],
            purpose="treatment",
        )
        assert decision.relationship == expected
        assert last_access(hospital)["relationship"] == expected
    # No encounter at all: a physician has no treatment relationship, and the refusal is recorded.
    with pytest.raises(AccessDenied, match="no treatment relationship"):
        access.record_access(
            ledger,
            ["MR0000002"],
            actor=ward["doc"],
            action="query",
            sections=["chart"],
            purpose="treatment",
        )
    refused = last_access(hospital)
    assert refused["decision"].startswith("no treatment relationship") and not refused["flagged"]
    glass = access.record_access(
        ledger,
        ["MR0000002"],
        actor=ward["doc"],
        action="query",
        sections=["chart"],
        purpose="treatment",
        break_glass_reason="found unresponsive",
    )
    assert glass.flagged and last_access(hospital)["flagged"] is True


def test_a_loaded_policy_decides_and_is_named_in_each_access(
    hospital: Hospital, ward: dict[str, Identity]
) -> None:
    ledger = hospital.ledger
    assert current_access_config(ledger).policy_version == "access/2+default"
    assert load_access_policy(ledger, POLICY, actor=ward["officer"]) is True
    assert load_access_policy(ledger, POLICY, actor=ward["officer"]) is False  # nothing new
    assert [p.version for p in policy_history(ledger)] == ["ward.1"]
    # Restricted: the attending the technician named sees the chart; a physician with only a
    # recent encounter does not, nor the nurse whose place is only her own move of the patient.
    access.record_access(
        ledger,
        ["MR0000001"],
        actor=ward["doc"],
        action="query",
        sections=["chart"],
        purpose="treatment",
    )
    assert last_access(hospital)["policy_version"] == "access/2+ward.1"
    for who in ("doc2", "nurse"):
        with pytest.raises(AccessDenied, match="restricted"):
            access.record_access(
                ledger,
                ["MR0000001"],
                actor=ward[who],
                action="query",
                sections=["chart"],
                purpose="treatment",
            )
        assert last_access(hospital)["relationship"] == "recent-encounter"
    # The technician is patient MR0000002: not through the staff path.
    with pytest.raises(AccessDenied, match="own chart"):
        access.record_access(
            ledger,
            ["MR0000002"],
            actor=ward["tech"],
            action="query",
            sections=["demographics"],
            purpose="operations",
        )
    # ... and the record is a co-worker's for everyone else: allowed, flagged.
    access.record_access(
        ledger,
        ["MR0000002"],
        actor=ward["nurse"],
        action="query",
        sections=["demographics"],
        purpose="operations",
    )
    assert last_access(hospital)["flagged"] is True


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("version = ", UsageError, "not valid TOML"),
        ("[roles]\nwizard = ['treatment']", UsageError, "unknown role 'wizard'"),
        ("[patients]\nvip = 'MR1'", UsageError, "list of strings"),
    ],
)
def test_a_bad_policy_is_one_sentence_and_writes_nothing(
    hospital: Hospital, ward: dict[str, Identity], text: str, error: type[Exception], match: str
) -> None:
    ledger = hospital.ledger
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error, match=match):
        load_access_policy(ledger, text, actor=ward["officer"])
    with pytest.raises(NotAuthorised, match="administrator or a compliance officer"):
        load_access_policy(ledger, POLICY, actor=ward["doc"])
    assert ledger.recorder.max_notification_id() == before
