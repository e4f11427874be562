"""Each event about a patient shows in `audit patient` as its catalogue entry declares: a
scenario makes one event of as many patient-related classes as it can, then every such event
the log holds must have its row in the trail of the patient it names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.aggregates.access import Access
from ledger.aggregates.chart_volume import ChartVolume
from ledger.aggregates.coding import CodingAbstract
from ledger.aggregates.completion import EncounterCompletion
from ledger.aggregates.discrepancy import Discrepancy
from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.patient import Patient
from ledger.aggregates.query import PhysicianQuery
from ledger.aggregates.release import DisclosureSuspension, ReleaseRequest
from ledger.catalogue import AUDITED, EVERY_PATIENT
from ledger.commands import (
    access,
    coding,
    completion,
    documents,
    encounters,
    entries,
    patients,
    queries,
    release,
)
from ledger.commands import chart_volumes as volumes
from ledger.commands import discrepancies as discrepancy
from ledger.verifier.envelope import opened_hash
from projections.audit import audit_patient
from tests.conftest import Hospital

ADA = {
    "given_name": "Ada",
    "family_name": "Okafor",
    "sex": "female",
    "birth_date": date(1961, 4, 2),
}
BEN = {"given_name": "Ben", "family_name": "Salo", "sex": "male"}


def _scenario(hospital: Hospital, tmp_path: Path) -> tuple[str, str]:
    ledger = hospital.ledger
    now = datetime.now(UTC)
    tech = hospital.enrol("tech1", ["technician"])
    doc = hospital.enrol("doc1", ["physician"])
    roi = hospital.enrol("roi1", ["roi-specialist"])
    ada = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    ben = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    patients.correct_demographics(ledger, ada, {"given_name": "Adah"}, reason="typo", actor=tech)
    patients.merge_patients(ledger, ada, ben, reason="same person", actor=tech)
    patients.undo_merge(ledger, ada, ben, reason="not the same person", actor=tech)
    encounter = encounters.open_encounter(
        ledger,
        ada,
        encounter_class="inpatient",
        attending="doc1",
        service="medicine",
        effective_at=now - timedelta(days=3),
        actor=tech,
    )
    encounters.transfer(
        ledger,
        encounter,
        bed="4B",
        service=None,
        attending=None,
        effective_at=now - timedelta(days=2),
        actor=tech,
    )
    entry = entries.add_entry(
        ledger, encounter, kind="diagnosis", text="Asthma", effective_at=now, actor=doc
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
    entries.sign_entry(ledger, encounter, entry, actor=doc)
    entries.deny_amendment(
        ledger,
        encounter,
        entry,
        reason="accurate as written",
        statement_of_disagreement=None,
        requested_by="the patient",
        requested_change="mild asthma",
        actor=doc,
    )
    other = entries.add_entry(
        ledger, encounter, kind="progress-note", text="wrong chart", effective_at=now, actor=doc
    )
    entries.retract_entry(ledger, encounter, other, reason="entered in error", actor=doc)
    encounters.discharge(
        ledger, encounter, disposition="home", effective_at=now - timedelta(hours=1), actor=tech
    )
    coder = hospital.enrol("coder1", ["coder"])
    coding.code_diagnosis(ledger, encounter, code="J45.51", poa="Y", principal=True, actor=coder)
    coding.code_diagnosis(ledger, encounter, code="I10", poa="Y", principal=False, actor=coder)
    coding.change_diagnosis(
        ledger, encounter, old="I10", new="I10", poa="U", reason="not documented", actor=coder
    )
    coding.remove_diagnosis(ledger, encounter, code="I10", reason="not supported", actor=coder)
    on = (now - timedelta(days=2)).date()
    coding.code_procedure(
        ledger, encounter, code="5A1935Z", on=on, operating_physician="doc1", actor=coder
    )
    coding.change_procedure(
        ledger, encounter, old="5A1935Z", new="5A1935Z", on=on + timedelta(days=1),
        reason="the ventilator record dates it", actor=coder,
    )  # fmt: skip
    coding.remove_procedure(ledger, encounter, code="5A1935Z", reason="not done", actor=coder)
    coding.set_status(ledger, encounter, discharge_status="01", admission_source="1", actor=coder)
    coding.group_stay(ledger, encounter, actor=coder)
    coding.sign_final(ledger, encounter, actor=coder)
    coding.reopen(ledger, encounter, reason="an audit finding", actor=coder)
    scan = tmp_path / "consent.pdf"
    scan.write_bytes(b"%PDF-1.4 consent")
    document = documents.file_document(ledger, ben, scan, kind="consent", actor=tech)
    documents.refile_document(ledger, document, ada, reason="misfiled", actor=tech)
    opened = discrepancy.open_discrepancy(
        ledger,
        ada,
        kind="other",
        description="two birth dates",
        facts=[f"{ledger.patient(ada).id}/1"],
        actor=tech,
    )
    discrepancy.resolve_discrepancy(
        ledger, opened, analysis="checked", correcting=[f"{ledger.patient(ada).id}/2"], actor=tech
    )
    access.record_access(
        ledger, [ada], actor=doc, action="query", sections=["chart"], purpose="treatment"
    )

    request = release.request_release(
        ledger,
        ada,
        requester_kind="patient",
        requester="the patient",
        address=None,
        asks="my records",
        sections=["entries"],
        purpose="patient-request",
        received=date.today() - timedelta(days=10),
        actor=roi,
    )
    release.extend_release(ledger, request, reason="off site", actor=roi)
    release.validate_release(ledger, request, basis="patient-access", actor=roi)
    release.approve_release(ledger, request, actor=roi)
    release.deny_release(ledger, request, reason="withdrawn", exception=None, actor=roi)
    release.suspend_accounting(
        ledger,
        ada,
        agency="State Health Dept",
        until=date.today() + timedelta(days=30),
        oral=False,
        actor=roi,
    )

    volumes.register_volume(
        ledger, ada, barcode="V-1", record_type="medical-record", volume=1, home="HIM", actor=tech
    )
    volumes.request_volume(
        ledger,
        "V-1",
        requestor="doc1",
        needed_by=now + timedelta(days=1),
        purpose="treatment",
        actor=tech,
    )
    due = now + timedelta(days=2)
    volumes.check_out(
        ledger,
        "V-1",
        holder="ED",
        holder_kind="department",
        due=due,
        actor=tech,
        transfer=False,
    )
    volumes.check_out(
        ledger,
        "V-1",
        holder="Ward 4",
        holder_kind="department",
        due=due,
        actor=tech,
        transfer=True,
    )
    volumes.check_in(ledger, "V-1", location="HIM", actor=tech, found=False)
    volumes.file_loose(ledger, "V-1", what="a lab slip", actor=tech)
    volumes.report_lost(ledger, "V-1", note="not on the shelf", actor=tech)
    volumes.check_in(ledger, "V-1", location="HIM", actor=tech, found=True)
    volumes.route_record(
        ledger,
        ada,
        to="Admissions",
        holder_kind="department",
        purpose="operations",
        due=due,
        actor=tech,
    )
    ledger.clock = lambda: now + timedelta(days=40)  # the scan sees the charts 40 days on
    completion.scan(ledger, actor=tech)
    del ledger.clock
    completion.notify(ledger, "doc1", method="email", actor=tech)
    _queries(hospital, encounter, entry, now)
    return ada, ben


def _queries(hospital: Hospital, encounter: UUID, entry: UUID, now: datetime) -> None:
    """A physician query raised, sent, escalated, answered and linked; another withdrawn."""
    ledger = hospital.ledger
    coder = hospital.identity("coder1")
    him = hospital.enrol("him1", ["him-director"])
    doc = hospital.identity("doc1")
    asked = {
        "physician": "doc1",
        "indicators": [str(entry)],
        "question": "What condition do the spirometry results support?",
        "options": ["Mild persistent asthma", "Severe persistent asthma", "Other",
                    "Clinically undetermined"],
    }  # fmt: skip
    query_id = queries.raise_query(ledger, encounter, actor=coder, **asked)
    queries.send_query(ledger, query_id, actor=coder)
    ledger.clock = lambda: now + timedelta(days=8)
    queries.escalate_overdue(ledger, actor=him)
    del ledger.clock
    queries.answer_query(ledger, query_id, choice=2, actor=doc)
    query = queries.query_for_change(ledger, query_id, encounter_id=encounter)
    holder = ledger.encounter(encounter)  # stands in for the coding abstract
    holder.record_entry(
        kind="diagnosis", text="Severe persistent asthma", fields={"code": "J45.50"},
        author="doc1", effective_at=now, actor="doc1",
    )  # fmt: skip
    queries.link_change(query, holder, code="J45.50", actor="doc1")
    ledger.save(holder, query, signer=doc)
    other = queries.raise_query(ledger, encounter, actor=coder, **asked)
    queries.withdraw_query(ledger, other, reason="asked twice", actor=coder)


def _stored(hospital: Hospital) -> list[Any]:
    ledger = hospital.ledger
    mapper = ledger.signed_events.signed_mapper
    notes = ledger.recorder.select_notifications(start=1, limit=1_000_000)
    return [mapper.from_body(note, opened_hash(note)[0]) for note in notes]


def test_every_event_about_a_patient_shows_in_that_patients_trail(
    hospital: Hospital, tmp_path: Path
) -> None:
    ada, ben = _scenario(hospital, tmp_path)
    officer = hospital.enrol("privacy1", ["compliance-officer"])
    stored = _stored(hospital)  # before the trail is read (each read is itself recorded)
    trails = {
        mrn: list(audit_patient(hospital.ledger, mrn, reader=officer)[1]) for mrn in (ada, ben)
    }
    rows = {(r.event, r.mrn): r for trail in trails.values() for r in trail}
    made: set[type] = set()
    for event in stored:
        meaning = AUDITED.get(get_topic(type(event)))
        if meaning is None or meaning.patient == EVERY_PATIENT:
            continue
        ref = f"{event.originator_id}/{event.originator_version}"
        found = [r for (e, _), r in rows.items() if e == ref]
        if not found:
            raise AssertionError(f"{type(event).__qualname__} {ref} is in no patient's trail")
        for row in found:
            wanted = str(event.action) if meaning.action == "access" else meaning.action
            assert row.action == wanted, type(event).__qualname__
            assert row.mrn in (ada, ben)
        made.add(type(event))
    assert {
        Access.RecordAccessed,
        Patient.Registered,
        Patient.DemographicsCorrected,
        Patient.MergedInto,
        Patient.Absorbed,
        Patient.MergeUndone,
        Encounter.Opened,
        Encounter.Transferred,
        Encounter.Discharged,
        Encounter.EntryRecorded,
        Encounter.EntryAmended,
        Encounter.EntryRetracted,
        Encounter.EntrySigned,
        Encounter.AmendmentDenied,
        Document.Filed,
        Document.Refiled,
        Discrepancy.Opened,
        Discrepancy.Resolved,
        ReleaseRequest.Requested,
        ReleaseRequest.Extended,
        ReleaseRequest.Validated,
        ReleaseRequest.Approved,
        ReleaseRequest.Denied,
        DisclosureSuspension.Started,
        DisclosureSuspension.Suspended,
        ChartVolume.Registered,
        ChartVolume.Requested,
        ChartVolume.CheckedOut,
        ChartVolume.Transferred,
        ChartVolume.CheckedIn,
        ChartVolume.LooseFiled,
        ChartVolume.Lost,
        ChartVolume.Found,
        ChartVolume.Routed,
        EncounterCompletion.Started,
        EncounterCompletion.Assigned,
        EncounterCompletion.Notified,
        PhysicianQuery.Raised,
        PhysicianQuery.Sent,
        PhysicianQuery.Escalated,
        PhysicianQuery.Answered,
        PhysicianQuery.LinkedToChange,
        PhysicianQuery.Withdrawn,
        CodingAbstract.Started,
        CodingAbstract.DiagnosisCoded,
        CodingAbstract.DiagnosisChanged,
        CodingAbstract.DiagnosisRemoved,
        CodingAbstract.ProcedureCoded,
        CodingAbstract.ProcedureChanged,
        CodingAbstract.ProcedureRemoved,
        CodingAbstract.DischargeStatusSet,
        CodingAbstract.AdmissionSourceSet,
        CodingAbstract.Grouped,
        CodingAbstract.SignedFinal,
        CodingAbstract.Reopened,
    } <= made


def test_an_imported_patients_trail_shows_the_import_records(
    hospital: Hospital, tmp_path: Path
) -> None:
    from ledger.aggregates.imported_resource import ImportedResource
    from ledger.interfaces.fhir_import import import_fhir
    from tests.integration import test_fhir_import as fhir

    interface = fhir.staff(hospital)
    folder = fhir.subset(tmp_path / "export", patients=fhir.SUBSET[:1])
    import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    officer = hospital.enrol("privacy1", ["compliance-officer"])
    stored = _stored(hospital)
    (mrn,) = {e.mrn for e in stored if isinstance(e, Patient.Registered)}
    rows = {r.event: r for r in audit_patient(hospital.ledger, mrn, reader=officer)[1]}
    made: set[type] = set()
    for event in stored:
        if isinstance(event, ImportedResource.Imported | ImportedResource.Included):
            row = rows[f"{event.originator_id}/{event.originator_version}"]
            assert (row.action, row.categories) == (
                AUDITED[get_topic(type(event))].action,
                ("import",),
            )
            assert row.actor == "fhir-interface"
            made.add(type(event))
    assert made == {ImportedResource.Imported, ImportedResource.Included}
