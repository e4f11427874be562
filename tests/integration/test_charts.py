"""Encounters and chart entries on every store: admission to discharge, amendments that never
erase, retractions, signatures, denied amendment requests, the chart as of a moment, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from ledger.aggregates.encounter import Encounter
from ledger.application import Ledger
from ledger.commands import encounters, entries, patients, users
from ledger.errors import NotAuthorised, NotFound, PatientNotFound, UsageError
from ledger.integrity.keys import Identity
from ledger.reads import charts
from ledger.reads.as_of import chart_as_of
from policies.limits import UnknownDisposition
from tests.conftest import Hospital
from tests.rawdb import RawDB

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
BEN = {"given_name": "Ben", "family_name": "Salo", "sex": "male"}


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@dataclass
class Ward:
    """A hospital with its staff and one registered patient."""

    hospital: Hospital
    tech: Identity
    nurse: Identity
    nurse2: Identity
    doc: Identity
    doc2: Identity
    coder: Identity
    director: Identity
    lab: Identity
    mrn: str

    @property
    def ledger(self) -> Ledger:
        return self.hospital.ledger

    def admit(self, **overrides: object) -> Encounter:
        arguments: dict[str, Any] = {
            "encounter_class": "inpatient",
            "attending": "doc1",
            "service": "cardiology",
            "bed": "4B-12",
            "effective_at": ago(hours=6),
            "actor": self.tech,
        }
        arguments.update(overrides)
        mrn = str(arguments.pop("mrn", self.mrn))
        return self.ledger.encounter(encounters.open_encounter(self.ledger, mrn, **arguments))


def staff(hospital: Hospital, name: str, role: str) -> Identity:
    person = hospital.enrol(name, [role])
    return person


@pytest.fixture
def ward(hospital: Hospital) -> Ward:
    people = {
        "tech": staff(hospital, "tech1", "technician"),
        "nurse": staff(hospital, "nurse1", "nurse"),
        "nurse2": staff(hospital, "nurse2", "nurse"),
        "doc": staff(hospital, "doc1", "physician"),
        "doc2": staff(hospital, "doc2", "physician"),
        "coder": staff(hospital, "coder1", "coder"),
        "director": staff(hospital, "him1", "him-director"),
        "lab": staff(hospital, "lab-system", "interface"),
    }
    mrn = patients.register_patient(hospital.ledger, ADA, actor=people["tech"], likely_matches=[])
    return Ward(hospital, mrn=mrn, **people)


def writes_nothing(
    ward: Ward, attempt: Callable[[], object], error: type[Exception], match: str
) -> None:
    """The attempt is refused with `error`, and nothing reaches the log."""
    before = ward.ledger.recorder.max_notification_id()
    with pytest.raises(error, match=match):
        attempt()
    assert ward.ledger.recorder.max_notification_id() == before


def test_an_admission_is_charted_transferred_and_discharged(ward: Ward) -> None:
    ledger = ward.ledger
    encounter = ward.admit()
    eid = encounter.id
    symptoms = entries.add_entry(
        ledger,
        eid,
        kind="presenting-symptoms",
        text="Crushing chest pain radiating to the left arm",
        effective_at=ago(hours=6),
        actor=ward.nurse,
    )
    diagnosis = entries.add_entry(
        ledger,
        eid,
        kind="diagnosis",
        text="Acute anterior myocardial infarction",
        fields={"code": "I21.0", "system": "ICD-10", "onset": ago(hours=7)},
        effective_at=ago(hours=5),
        actor=ward.doc,
    )
    lab = entries.add_entry(
        ledger,
        eid,
        kind="laboratory-report",
        text="Troponin I raised",
        fields={"troponin_ng_l": 2400, "flags": ["high"]},
        author="doc1",
        effective_at=ago(hours=5),
        actor=ward.lab,
    )
    entries.add_entry(
        ledger,
        eid,
        kind="medication",
        text="Aspirin 300 mg orally",
        effective_at=ago(hours=5),
        actor=ward.nurse,
    )
    encounters.transfer(
        ledger, eid, bed="CCU-3", attending="doc2", effective_at=ago(hours=4), actor=ward.nurse
    )
    encounters.discharge(
        ledger, eid, disposition="home", effective_at=ago(hours=1), actor=ward.tech
    )

    [charted] = charts.encounters(ledger, ward.mrn.lower())
    assert charted.id == eid and charted.mrn == ward.mrn
    assert (charted.bed, charted.service, charted.attending) == ("CCU-3", "cardiology", "doc2")
    assert [(m.bed, m.attending) for m in charted.movements] == [
        ("4B-12", "doc1"),
        ("CCU-3", "doc2"),
    ]
    assert charted.discharged and charted.disposition == "home"
    assert [e.kind for e in charted.entries.values()] == [
        "presenting-symptoms",
        "diagnosis",
        "laboratory-report",
        "medication",
    ]
    assert charted.entry(symptoms).author == "nurse1"
    assert charted.entry(diagnosis).fields["code"] == "I21.0"
    assert charted.entry(lab).author == "doc1"
    assert charted.entry(lab).current.recorded_by == "lab-system"
    assert not any(e.late for e in charted.entries.values())

    writes_nothing(
        ward,
        lambda: encounters.discharge(
            ledger, eid, disposition="home", effective_at=ago(hours=1), actor=ward.tech
        ),
        UsageError,
        "already discharged",
    )
    writes_nothing(
        ward,
        lambda: encounters.transfer(
            ledger, eid, bed="5A-1", effective_at=ago(minutes=5), actor=ward.nurse
        ),
        UsageError,
        "cannot be transferred",
    )
    stored = b"".join(row[4] for row in RawDB(ward.hospital.store_url).rows())
    for plain in (b"Crushing chest pain", b"myocardial", b"I21.0", b"Troponin", b"CCU-3", b"home"):
        assert plain not in stored
    assert ledger.verify().events > 0


def test_an_amendment_keeps_the_original_and_links_the_new_version(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    entry_id = entries.add_entry(
        ledger,
        eid,
        kind="allergy",
        text="Allergic to penicillin",
        fields={"substance": "penicillin"},
        effective_at=ago(hours=3),
        actor=ward.nurse,
    )
    writes_nothing(
        ward,
        lambda: entries.amend_entry(
            ledger, eid, entry_id, text="x", reason="y", requested_by="nurse2", actor=ward.nurse2
        ),
        NotAuthorised,
        "author or a physician",
    )
    entries.amend_entry(
        ledger,
        eid,
        entry_id,
        text="Allergic to amoxicillin (not penicillin)",
        fields={"substance": "amoxicillin"},
        reason="patient corrected the drug name",
        requested_by="patient",
        actor=ward.nurse,
    )
    entries.amend_entry(
        ledger,
        eid,
        entry_id,
        text="Allergic to amoxicillin: rash",
        reason="reaction added",
        requested_by="doc1",
        actor=ward.doc,
    )
    entry = ledger.encounter(eid).entry(entry_id)
    assert [v.text for v in entry.versions] == [
        "Allergic to penicillin",
        "Allergic to amoxicillin (not penicillin)",
        "Allergic to amoxicillin: rash",
    ]
    assert entry.original.fields == {"substance": "penicillin"}
    assert entry.fields == {"substance": "amoxicillin"}  # fields=None kept them
    assert (entry.versions[1].reason, entry.versions[1].requested_by) == (
        "patient corrected the drug name",
        "patient",
    )
    assert entry.author == "nurse1" and entry.current.recorded_by == "doc1"
    assert entry.current.effective_at == entry.original.effective_at
    writes_nothing(
        ward,
        lambda: entries.amend_entry(
            ledger,
            eid,
            entry_id,
            text="Allergic to amoxicillin: rash",
            reason="again",
            requested_by="doc1",
            actor=ward.doc,
        ),
        UsageError,
        "would not change",
    )
    amended = [
        line for line in charts.chart_history(ledger, ward.mrn) if line.what.endswith("Amended")
    ]
    assert [(line.entry_id, line.reason, line.requested_by) for line in amended] == [
        (entry_id, "patient corrected the drug name", "patient"),
        (entry_id, "reaction added", "doc1"),
    ]


def test_a_retraction_keeps_the_entry_and_marks_it(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    entry_id = entries.add_entry(
        ledger,
        eid,
        kind="progress-note",
        text="Wrong patient's note",
        effective_at=ago(hours=1),
        actor=ward.nurse,
    )
    writes_nothing(
        ward,
        lambda: entries.retract_entry(ledger, eid, entry_id, reason="not mine", actor=ward.nurse2),
        NotAuthorised,
        "author or a physician",
    )
    entries.retract_entry(
        ledger, eid, entry_id, reason="entered on the wrong chart", actor=ward.nurse
    )
    entry = ledger.encounter(eid).entry(entry_id)
    assert entry.retracted and entry.text == "Wrong patient's note"
    assert (entry.retraction_reason, entry.retracted_by) == ("entered on the wrong chart", "nurse1")
    for attempt, match in [
        (
            lambda: entries.retract_entry(ledger, eid, entry_id, reason="again", actor=ward.doc),
            "already",
        ),
        (
            lambda: entries.amend_entry(
                ledger, eid, entry_id, text="x", reason="y", requested_by="doc1", actor=ward.doc
            ),
            "cannot be amended",
        ),
        (lambda: entries.sign_entry(ledger, eid, entry_id, actor=ward.doc), "cannot be signed"),
    ]:
        writes_nothing(ward, attempt, UsageError, match)


def test_only_the_author_or_attending_physician_signs(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    note = entries.add_entry(
        ledger,
        eid,
        kind="examination",
        text="Chest clear",
        effective_at=ago(hours=1),
        actor=ward.nurse,
    )
    own = entries.add_entry(
        ledger,
        eid,
        kind="physician-note",
        text="Plan: PCI",
        effective_at=ago(hours=1),
        actor=ward.doc2,
    )
    writes_nothing(
        ward,
        lambda: entries.sign_entry(ledger, eid, note, actor=ward.nurse),
        NotAuthorised,
        "physician",
    )
    writes_nothing(
        ward,
        lambda: entries.sign_entry(ledger, eid, note, actor=ward.doc2),
        NotAuthorised,
        "author or the encounter's attending",
    )
    entries.sign_entry(ledger, eid, note, actor=ward.doc)  # the attending
    entries.sign_entry(ledger, eid, own, actor=ward.doc2)  # the author
    writes_nothing(
        ward,
        lambda: entries.sign_entry(ledger, eid, note, actor=ward.doc),
        UsageError,
        "already signed",
    )
    encounter = ledger.encounter(eid)
    assert encounter.entry(note).signed and encounter.entry(own).signed
    assert [(s.physician, s.version) for s in encounter.entry(note).signatures] == [("doc1", 1)]
    entries.amend_entry(
        ledger,
        eid,
        note,
        text="Chest clear, no crackles",
        reason="detail",
        requested_by="doc1",
        actor=ward.doc,
    )
    assert not ledger.encounter(eid).entry(note).signed  # an amendment needs a new signature
    entries.sign_entry(ledger, eid, note, actor=ward.doc)
    assert ledger.encounter(eid).entry(note).signed
    with pytest.raises(NotFound, match="There is no entry"):
        entries.sign_entry(ledger, eid, uuid4(), actor=ward.doc)


def test_a_denied_amendment_records_the_statement_of_disagreement(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    entry_id = entries.add_entry(
        ledger,
        eid,
        kind="history",
        text="Smoker, 20 a day",
        effective_at=ago(hours=2),
        actor=ward.doc,
    )
    writes_nothing(
        ward,
        lambda: entries.deny_amendment(
            ledger, eid, entry_id, reason="r", statement_of_disagreement=None, actor=ward.tech
        ),
        NotAuthorised,
        "HIM director or a physician",
    )
    entries.deny_amendment(
        ledger,
        eid,
        entry_id,
        reason="the entry is accurate as recorded at admission",
        statement_of_disagreement="I stopped smoking last year.",
        requested_change="Remove 'smoker'",
        actor=ward.director,
    )
    entry = ledger.encounter(eid).entry(entry_id)
    assert entry.text == "Smoker, 20 a day" and not entry.amended
    [denial] = entry.denied_amendments
    assert denial.statement_of_disagreement == "I stopped smoking last year."
    assert (denial.requested_by, denial.denied_by) == ("patient", "him1")
    assert denial.requested_change == "Remove 'smoker'"
    stored = b"".join(row[4] for row in RawDB(ward.hospital.store_url).rows())
    assert b"stopped smoking" not in stored and b"Smoker" not in stored


def test_the_chart_as_of_a_moment_shows_exactly_what_was_recorded_by_then(ward: Ward) -> None:
    ledger = ward.ledger
    registered_at = ledger.patient(ward.mrn).created_on
    eid = ward.admit().id
    first = entries.add_entry(
        ledger,
        eid,
        kind="condition",
        text="Hypertension",
        effective_at=ago(hours=5),
        actor=ward.doc,
    )
    second = entries.add_entry(
        ledger,
        eid,
        kind="treatment",
        text="Ramipril 5 mg",
        effective_at=ago(hours=4),
        actor=ward.doc,
    )
    entries.amend_entry(
        ledger,
        eid,
        first,
        text="Essential hypertension",
        reason="precision",
        requested_by="doc1",
        actor=ward.doc,
    )
    encounters.discharge(
        ledger, eid, disposition="home", effective_at=ago(hours=1), actor=ward.tech
    )
    now = ledger.encounter(eid)
    opened_at = now.created_on
    first_at = now.entry(first).recorded_at
    second_at = now.entry(second).recorded_at
    amended_at = now.entry(first).current.recorded_at
    assert registered_at < opened_at < first_at < second_at < amended_at

    assert (
        list(chart_as_of(ledger, ward.mrn, registered_at).encounters) == []
    )  # registered, not yet admitted
    [then] = list(chart_as_of(ledger, ward.mrn, opened_at).encounters)
    assert then.entries == {} and not then.discharged
    [then] = list(chart_as_of(ledger, ward.mrn, first_at + (second_at - first_at) / 2).encounters)
    assert list(then.entries) == [first]
    assert then.entry(first).text == "Hypertension"
    [then] = list(chart_as_of(ledger, ward.mrn, second_at).encounters)
    assert list(then.entries) == [first, second] and not then.entry(first).amended
    [then] = list(chart_as_of(ledger, ward.mrn, amended_at).encounters)
    assert then.entry(first).text == "Essential hypertension" and not then.discharged
    [then] = list(chart_as_of(ledger, ward.mrn, datetime.now(UTC)).encounters)
    assert then.discharged and then.version == now.version

    with pytest.raises(UsageError, match="in the future"):
        list(chart_as_of(ledger, ward.mrn, datetime.now(UTC) + timedelta(minutes=1)).encounters)
    with pytest.raises(UsageError, match="time zone"):
        list(chart_as_of(ledger, ward.mrn, datetime.now()).encounters)
    with pytest.raises(PatientNotFound, match=f"no patient with MRN {ward.mrn} at"):
        list(chart_as_of(ledger, ward.mrn, registered_at - timedelta(microseconds=1)).encounters)
    with pytest.raises(PatientNotFound, match="MR0000099"):
        list(chart_as_of(ledger, "MR0000099", datetime.now(UTC)).encounters)


def test_late_entries_are_flagged_in_the_history(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit(effective_at=ago(days=5)).id  # registered long after the fact: late too
    entries.add_entry(
        ledger, eid, kind="outcome", text="Stable", effective_at=ago(hours=1), actor=ward.doc
    )
    old = entries.add_entry(
        ledger, eid, kind="procedure", text="Central line", effective_at=ago(days=3), actor=ward.doc
    )
    encounters.discharge(
        ledger, eid, disposition="home", effective_at=ago(minutes=30), actor=ward.tech
    )
    after = entries.add_entry(
        ledger,
        eid,
        kind="progress-note",
        text="Pain settled before discharge",
        effective_at=ago(minutes=40),
        actor=ward.nurse,
    )
    followup = entries.add_entry(
        ledger,
        eid,
        kind="referral",
        text="Refer to cardiac rehab",
        effective_at=ago(minutes=1),
        actor=ward.doc,
    )
    history = charts.chart_history(ledger, ward.mrn)
    assert [line.what for line in history] == [
        "Patient.Registered",
        "Encounter.Opened",
        "Encounter.EntryRecorded",
        "Encounter.EntryRecorded",
        "Encounter.Discharged",
        "Encounter.EntryRecorded",
        "Encounter.EntryRecorded",
    ]
    late = {line.entry_id for line in history if line.late and line.entry_id}
    assert late == {old, after}  # the follow-up after discharge is effective after it: not late
    assert followup not in late
    assert [line.late for line in history[:2]] == [False, True]
    assert history[1].event_id == f"{eid}/1" and history[1].actor == "tech1"
    assert all(line.recorded_at for line in history)
    assert [line.recorded_at for line in history] == sorted(line.recorded_at for line in history)
    assert ledger.encounter(eid).entry(after).late


def test_refusals_write_nothing(ward: Ward) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    cases: list[tuple[Callable[[], object], type[Exception], str]] = [
        (lambda: ward.admit(actor=ward.coder), NotAuthorised, "open, transfer or discharge"),
        (lambda: ward.admit(encounter_class="day-case"), UsageError, "Unknown encounter class"),
        (lambda: ward.admit(attending="nurse1"), UsageError, "must be a physician"),
        (lambda: ward.admit(attending="nobody"), UsageError, "no user named 'nobody'"),
        (lambda: ward.admit(effective_at=datetime.now()), UsageError, "time zone"),
        (lambda: ward.admit(effective_at=ago(hours=-1)), UsageError, "in the future"),
        (lambda: ward.admit(mrn="MR0000099"), PatientNotFound, "MR0000099"),
        (
            lambda: entries.add_entry(
                ledger, eid, kind="note", text="x", effective_at=ago(hours=1), actor=ward.doc
            ),
            UsageError,
            "Unknown entry kind",
        ),
        (
            lambda: entries.add_entry(
                ledger, eid, kind="history", text=" ", effective_at=ago(hours=1), actor=ward.doc
            ),
            UsageError,
            "Give the entry's text",
        ),
        (
            lambda: entries.add_entry(
                ledger, eid, kind="history", text="x", effective_at=ago(hours=1), actor=ward.coder
            ),
            NotAuthorised,
            "add chart entries",
        ),
        (
            lambda: entries.add_entry(
                ledger,
                eid,
                kind="history",
                text="x",
                author="coder1",
                effective_at=ago(hours=1),
                actor=ward.nurse,
            ),
            UsageError,
            "cannot be an entry's author",
        ),
        (
            lambda: entries.add_entry(
                ledger,
                eid,
                kind="history",
                text="x",
                fields={"at": object()},
                effective_at=ago(hours=1),
                actor=ward.nurse,
            ),
            UsageError,
            "Field 'at'",
        ),
        (
            lambda: entries.add_entry(
                ledger, uuid4(), kind="history", text="x", effective_at=ago(hours=1), actor=ward.doc
            ),
            NotFound,
            "There is no encounter",
        ),
        (
            lambda: entries.add_entry(
                ledger,
                ward.hospital.ledger.user("doc1").id,
                kind="history",
                text="x",
                effective_at=ago(hours=1),
                actor=ward.doc,
            ),
            NotFound,
            "There is no encounter",
        ),
        (
            lambda: entries.amend_entry(
                ledger, eid, uuid4(), text="x", reason="y", requested_by="doc1", actor=ward.doc
            ),
            NotFound,
            "There is no entry",
        ),
        (
            lambda: encounters.transfer(
                ledger, eid, bed="4B-12", effective_at=ago(hours=1), actor=ward.nurse
            ),
            UsageError,
            "changes neither",
        ),
        (
            lambda: encounters.discharge(
                ledger, eid, disposition="home", effective_at=ago(days=1), actor=ward.tech
            ),
            UsageError,
            "before encounter",
        ),
    ]
    for attempt, error, match in cases:
        writes_nothing(ward, attempt, error, match)


def test_only_an_interface_may_say_the_discharge_status_is_not_known(ward: Ward) -> None:
    """Issue 11, item 2: a discharge takes a NUBC status; an interface recording another
    system's encounter may say the status is not known, in its words, which are stored."""
    ledger = ward.ledger
    stay = ward.admit().id
    unknown = UnknownDisposition("not recorded by the referring hospital")
    writes_nothing(
        ward,
        lambda: encounters.discharge(
            ledger, stay, disposition=unknown, effective_at=ago(hours=1), actor=ward.nurse
        ),
        NotAuthorised,
        "Only an interface may discharge without a discharge status",
    )
    writes_nothing(
        ward,
        lambda: encounters.discharge(
            ledger, stay, disposition=unknown.words, effective_at=ago(hours=1), actor=ward.lab
        ),
        UsageError,
        "not a patient discharge status code",
    )
    writes_nothing(
        ward,
        lambda: encounters.discharge(
            ledger,
            stay,
            disposition=UnknownDisposition("two\nlines"),
            effective_at=ago(hours=1),
            actor=ward.lab,
        ),
        UsageError,
        "The discharge disposition contains a control character",
    )
    encounters.discharge(
        ledger, stay, disposition=unknown, effective_at=ago(hours=1), actor=ward.lab
    )
    assert ledger.encounter(stay).disposition == "not recorded by the referring hospital"


def test_a_merged_record_brings_its_encounters_and_the_retired_mrn_points_to_the_survivor(
    ward: Ward,
) -> None:
    ledger = ward.ledger
    other = patients.register_patient(ledger, BEN, actor=ward.tech, likely_matches=[])
    mine = ward.admit().id
    theirs = ward.admit(mrn=other, encounter_class="emergency", bed=None).id
    before_merge = datetime.now(UTC)
    patients.merge_patients(ledger, ward.mrn, other, reason="same person", actor=ward.tech)
    assert [e.id for e in charts.encounters(ledger, ward.mrn)] == [mine, theirs]
    assert ledger.encounter(theirs).mrn == other  # the encounter keeps the MRN it was opened on
    assert {line.event_id.split("/")[0] for line in charts.chart_history(ledger, ward.mrn)} >= {
        str(mine),
        str(theirs),
        str(ledger.patient(other).id),
    }
    for read in (charts.encounters, charts.chart_history):
        with pytest.raises(UsageError, match=f"merged into {ward.mrn}"):
            read(ledger, other)
    writes_nothing(ward, lambda: ward.admit(mrn=other), UsageError, f"merged into {ward.mrn}")
    assert [e.id for e in list(chart_as_of(ledger, other, before_merge).encounters)] == [theirs]
    assert [e.id for e in list(chart_as_of(ledger, ward.mrn, before_merge).encounters)] == [mine]
    with pytest.raises(UsageError, match="had been merged"):
        list(chart_as_of(ledger, other, datetime.now(UTC)).encounters)
    assert ledger.verify().events > 0


def test_an_entry_that_loses_a_race_is_added_after_the_winner(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ward.ledger
    eid = ward.admit().id
    other = ward.hospital.home.open()
    try:
        save = ledger.save
        raced: list[bool] = []

        def save_after_a_rival(*aggregates: Any, signer: Identity, **kwargs: Any) -> Any:
            if not raced:  # another node records an entry between our read and our write
                raced.append(True)
                entries.add_entry(
                    other,
                    eid,
                    kind="history",
                    text="rival",
                    effective_at=ago(hours=1),
                    actor=ward.nurse,
                )
            return save(*aggregates, signer=signer, **kwargs)

        monkeypatch.setattr(ledger, "save", save_after_a_rival)
        mine = entries.add_entry(
            ledger, eid, kind="history", text="mine", effective_at=ago(hours=1), actor=ward.doc
        )
    finally:
        other.close()
    recorded = list(ledger.encounter(eid).entries.values())
    assert [e.text for e in recorded] == ["rival", "mine"] and recorded[1].id == mine


def test_a_physician_whose_key_was_revoked_cannot_be_made_attending(ward: Ward) -> None:
    users.revoke_key(ward.ledger, "doc2", "left the hospital", actor=ward.hospital.admin)
    writes_nothing(ward, lambda: ward.admit(attending="doc2"), UsageError, "revoked")
    assert ward.admit(attending="doc1").attending == "doc1"


def test_a_second_inpatient_admission_is_refused_while_one_is_open(ward: Ward) -> None:
    """One open stay per patient (issue 17, item 5): the refusal names the open stay and when it
    began, and records nothing, not even the access event a break-the-glass admission brings."""
    ledger = ward.ledger
    admitted = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    stay = ward.admit(effective_at=admitted).id
    named = rf"admitted \(inpatient\) in encounter {stay} since 2026-01-02T03:04\+00:00"
    writes_nothing(ward, lambda: ward.admit(bed="5C-1"), UsageError, named)
    # doc2 has no relationship: naming themself attending breaks the glass, which alone would
    # record a flagged access; refused, nothing is saved.
    writes_nothing(
        ward,
        lambda: ward.admit(actor=ward.doc2, attending="doc2", break_glass_reason="the ER is full"),
        UsageError,
        "transfer the patient within that stay, or discharge it first",
    )
    # Visits during the stay are normal (imaging, a clinic, the emergency department).
    visit = ward.admit(encounter_class="outpatient", bed=None, service="radiology").id
    ward.admit(encounter_class="emergency", bed=None, service="emergency")
    encounters.discharge(
        ledger, stay, disposition="home", effective_at=ago(hours=1), actor=ward.tech
    )
    again = ward.admit(effective_at=ago(minutes=30)).id  # after the discharge: a new stay
    assert [e.id for e in charts.encounters(ledger, ward.mrn)][-1] == again
    assert not ledger.encounter(visit).discharged  # the visit stayed open, and did not block it


def test_an_open_stay_of_a_merged_record_blocks_an_admission_of_the_survivor(ward: Ward) -> None:
    ledger = ward.ledger
    other = patients.register_patient(ledger, BEN, actor=ward.tech, likely_matches=[])
    theirs = ward.admit(mrn=other).id
    patients.merge_patients(ledger, ward.mrn, other, reason="same person", actor=ward.tech)
    writes_nothing(ward, ward.admit, UsageError, f"{ward.mrn} cannot be admitted: .*{theirs}")
