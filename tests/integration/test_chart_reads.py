"""The chart reads return types (issue 11, item 2): `chart_record`, `patient_record` and
`chart_history` give frozen dataclasses whose `as_dict()` is exactly what `--json` prints, and
the rules the CLI used to apply to dicts (an imported entry, a transcription) are on the type."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from ledger.commands import encounters, entries, patients
from ledger.reads.charts import HistoryLine
from projections.queries import (
    ChartRecord,
    EntryRecord,
    PatientRecord,
    Purpose,
    chart_history,
    chart_record,
    patient_record,
)
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
TREATMENT = Purpose("treatment")


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_the_chart_reads_are_typed_and_print_as_their_dicts(hospital: Hospital) -> None:
    tech = hospital.enrol("tech1", ["technician"])
    doc = hospital.enrol("doc1", ["physician"])
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    stay = encounters.open_encounter(
        ledger,
        mrn,
        encounter_class="inpatient",
        attending="doc1",
        service="cardiology",
        effective_at=ago(hours=6),
        actor=tech,
    )
    entries.add_entry(
        ledger,
        stay,
        kind="progress-note",
        text="Stable.",
        author="doc1",  # entered by the technician for the physician: a transcription
        effective_at=ago(hours=1),
        actor=tech,
    )
    entries.add_entry(
        ledger,
        stay,
        kind="laboratory-report",
        text="Troponin normal.",
        fields={"fhir": "Observation/1"},
        effective_at=ago(days=3),
        actor=doc,
    )

    record = chart_record(ledger, mrn, actor=doc, why=TREATMENT)
    assert isinstance(record, ChartRecord) and isinstance(record.patient, PatientRecord)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.purpose = "other"  # type: ignore[misc]
    (shown,) = record.encounters
    transcribed, imported = shown.entries
    assert isinstance(transcribed, EntryRecord)
    assert transcribed.transcribed and not transcribed.imported
    assert imported.imported and imported.late  # late by its times, shown as imported
    data = record.as_dict()
    assert json.loads(json.dumps(data, default=str)) == data  # plain JSON already
    assert list(data)[:3] == ["mrn", "demographics", "registered_at"]
    assert list(data)[-4:] == ["as_of", "encounters", "withheld", "purpose"]
    assert data["encounters"][0]["entries"][0]["transcribed"] is True

    patient = patient_record(ledger, mrn, actor=doc, why=TREATMENT)
    assert patient.mrn == mrn and list(patient.as_dict())[-1] == "withheld"

    lines = chart_history(ledger, mrn, actor=doc, why=TREATMENT)
    assert lines and all(isinstance(line, HistoryLine) for line in lines)
    (recorded,) = [x for x in lines if x.what == "Encounter.EntryRecorded" and x.actor == "tech1"]
    assert recorded.entered_for == "doc1" and recorded.actor == "tech1"
    assert recorded.as_dict()["entered_for"] == "doc1"
    assert recorded.as_dict()["event"] == recorded.event_id
