"""Compliance sees everything (issue 10, item 4), on every store: the audit trail, the alerts and
the accounting of disclosures of restricted and VIP patients are shown to the compliance officer
and the HIM director, each read recorded; a row the policy withholds leaves the rest of the list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from ledger.aggregates.access import Access
from ledger.commands import access, patients
from ledger.commands.policy import load_access_policy
from ledger.errors import AccessDenied
from ledger.integrity.keys import Identity
from projections.audit import AuditFilter, audit_between, audit_patient, audit_user
from projections.monitoring import access_alerts
from projections.release import accounting_of
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
BEN = {"given_name": "Ben", "family_name": "Salo", "sex": "male"}


def accesses(hospital: Hospital) -> list[tuple[str, dict[str, Any]]]:
    """Every access event so far, oldest first: ("granted" | "denied", its facts)."""
    notes = hospital.ledger.recorder.select_notifications(
        start=None,
        limit=1_000_000,
        topics=[Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC],
    )
    return [
        (
            "granted" if n.topic == Access.RecordAccessed.TOPIC else "denied",
            hospital.ledger.repository.get(cast(Any, n.originator_id)).facts,
        )
        for n in notes
    ]


def ward(hospital: Hospital, extra: str = "") -> dict[str, Any]:
    """Ada restricted, Ben a VIP, both looked at (and Ada through the glass)."""
    people = {
        "tech": hospital.enrol("tech1", ["technician"]),
        "doc": hospital.enrol("doc1", ["physician"]),
        "officer": hospital.enrol("privacy1", ["compliance-officer"]),
        "him": hospital.enrol("him1", ["him-director"]),
    }
    ledger = hospital.ledger
    ada = patients.register_patient(ledger, ADA, actor=people["tech"], likely_matches=[])
    ben = patients.register_patient(ledger, BEN, actor=people["tech"], likely_matches=[])
    policy = f'version = "oversight.1"\n[patients]\nrestricted = ["{ada}"]\nvip = ["{ben}"]\n'
    load_access_policy(ledger, policy + extra, actor=people["officer"])
    access.record_access(
ledger,
        [ada, ben], actor=people["tech"], action="query", sections=["demographics"],
        purpose="operations",
    )  # fmt: skip
    with pytest.raises(AccessDenied):  # restricted: the technician may not see the chart
        access.record_access(
            ledger,
            [ada],
            actor=people["tech"],
            action="query",
            sections=["chart"],
            purpose="operations",
        )
    access.record_access(
        ledger,
        [ada],
        actor=people["doc"],
        action="query",
        sections=["chart"],
        purpose="treatment",
        break_glass_reason="found unresponsive",
    )
    access.record_access(
        ledger,
        [ben],
        actor=people["tech"],
        action="print",
        sections=["chart"],
        purpose="operations",
    )
    return {**people, "ada": ada, "ben": ben}


@pytest.mark.parametrize("reader", ["officer", "him"])
def test_compliance_and_him_read_the_trail_of_restricted_and_vip_patients(
    hospital: Hospital, reader: str
) -> None:
    w = ward(hospital)
    ledger, who = hospital.ledger, cast(Identity, w[reader])
    before = len(accesses(hospital))
    mrns, rows = audit_patient(ledger, w["ada"], reader=who)
    assert mrns == [w["ada"]]
    assert {(r.actor, r.outcome) for r in rows if r.action == "query"} >= {
        ("tech1", "granted"),
        ("tech1", "denied"),
        ("doc1", "granted"),
    }
    assert rows.withheld == 0
    vip = audit_patient(ledger, w["ben"], reader=who, purpose_of_use="legal")[1]
    assert any(r.action == "print" for r in vip)
    by_tech = audit_user(ledger, "tech1", reader=who)
    assert {r.mrn for r in by_tech} == {w["ada"], w["ben"]}
    everything = audit_between(
        ledger,
        reader=who,
        window=AuditFilter(since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime.now(UTC)),
    )
    assert {w["ada"], w["ben"]} <= {r.mrn for r in everything}
    found = access_alerts(ledger, reader=who)
    assert {("break-glass-unreviewed", w["ada"]), ("vip", w["ben"])} <= {
        (a.rule, a.mrn) for a in found
    }
    assert found.withheld == 0
    # Each read recorded its own access, granted, naming the MRNs it showed (audit rows only).
    reads = accesses(hospital)[before:]
    assert [outcome for outcome, _ in reads] == ["granted"] * 5
    assert all(f["actor"] == who.name and f["sections"] == ["audit-trail"] for _, f in reads)
    assert reads[0][1]["mrns"] == [w["ada"]] and reads[1][1]["mrns"] == [w["ben"]]
    assert set(reads[2][1]["mrns"]) == {w["ada"], w["ben"]}
    assert set(reads[4][1]["mrns"]) >= {w["ada"], w["ben"]}


@pytest.mark.parametrize("reader", ["officer", "him"])
def test_compliance_and_him_read_the_accounting_of_a_restricted_patient(
    hospital: Hospital, reader: str
) -> None:
    w = ward(hospital)
    who = cast(Identity, w[reader])
    report = accounting_of(hospital.ledger, w["ada"], requested_on=date.today(), actor=who)
    assert list(report.lines) == []
    granted, facts = accesses(hospital)[-1]
    assert (granted, facts["mrns"], facts["sections"]) == ("granted", [w["ada"]], ["disclosures"])
    with pytest.raises(AccessDenied):  # not a clinical read: the chart stays closed to them
        access.record_access(
            hospital.ledger,
            [w["ada"]],
            actor=who,
            action="query",
            sections=["chart"],
            purpose="operations",
        )


def test_others_still_may_not_read_the_trail(hospital: Hospital) -> None:
    w = ward(hospital)
    from ledger.errors import NotAuthorised

    with pytest.raises(NotAuthorised):
        audit_patient(hospital.ledger, w["ada"], reader=w["doc"])
    with pytest.raises(AccessDenied):  # an oversight read is for oversight, not for treatment
        audit_patient(hospital.ledger, w["ada"], reader=w["officer"], purpose_of_use="treatment")


def test_a_withheld_row_leaves_the_rest_of_the_list_and_is_counted(hospital: Hospital) -> None:
    # The officer is herself a patient (Ben): her own rows are withheld, everything else shown.
    w = ward(hospital, "[staff.privacy1]\npatient_mrn = 'MR0000002'\n")
    assert w["ben"] == "MR0000002"
    ledger = hospital.ledger
    before = len(accesses(hospital))
    rows = audit_user(ledger, "tech1", reader=w["officer"])
    assert {r.mrn for r in rows} == {w["ada"]}
    assert rows.withheld == 3  # Ben registered, his demographics read, his chart printed
    found = access_alerts(ledger, reader=w["officer"])
    assert {a.mrn for a in found} == {w["ada"]} and found.withheld >= 1
    reads = accesses(hospital)[before:]
    assert [(o, f["mrns"]) for o, f in reads] == [
        ("granted", [w["ada"]]),
        ("denied", [w["ben"]]),
        ("granted", [w["ada"]]),
        ("denied", [w["ben"]]),
    ]
    # The HIM director, who is no patient here, gets everything.
    assert {r.mrn for r in audit_user(ledger, "tech1", reader=w["him"])} == {w["ada"], w["ben"]}
