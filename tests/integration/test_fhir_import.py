"""FHIR import of the Synthea sample: complete, idempotent, all-or-nothing on a bad line, encrypted.

The whole sample (13 patients, about 15,000 events, in `../shared/data`) is imported once per
store, when it is at hand; the other tests use a subset of two patients of the trimmed sample the
project carries (`cli/demo_data/synthea`), written to tmp_path (one with allergies, so an "imported
history" encounter; one with a Device, a type the import skips).
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.imported_resource import ImportedResource, imported_id
from ledger.application import Ledger
from ledger.commands import patients
from ledger.commands.batch import Batch
from ledger.commands.encounters import open_encounter
from ledger.commands.policy import load_access_policy
from ledger.errors import ConflictError, NotAuthorised, UsageError
from ledger.integrity.keys import Identity
from ledger.interfaces.fhir_import import _Importer, import_fhir
from ledger.reads import charts
from ledger.reads.documents import read_document
from tests.conftest import Hospital
from tests.rawdb import RawDB

SAMPLE = Path(__file__).resolve().parents[2] / "cli" / "demo_data" / "synthea"
"""The trimmed sample the project carries: the demo's, and every test's but one."""
FULL = Path(__file__).resolve().parents[3] / "shared" / "data" / "synthea-10-patients"
"""The whole 13-patient sample, outside the project (benchmarks use it too)."""
SUBSET = ("cbc86e51-9eca-3855-76ec-c058f72c5761", "63ee2253-bdd5-da55-2ad2-b4984d0ad700")
ENTRY_KIND = {
    "Procedure": "procedure",
    "MedicationRequest": "medication",
    "AllergyIntolerance": "allergy",
    "Immunization": "treatment",
}


def staff(hospital: Hospital) -> Identity:
    """Enrol the interface that signs the import and the default attending physician."""
    interface = hospital.enrol("fhir-interface", ["interface"])
    hospital.enrol("dr.import", ["physician"])
    return interface


def resources(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.ndjson"))
        if path.name != "log.ndjson"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def subset(target: Path, patients: tuple[str, ...] = SUBSET, skip: tuple[str, ...] = ()) -> Path:
    """A copy of the sample holding only these patients (and every practitioner)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SAMPLE.glob("*.ndjson"):
        if path.name == "log.ndjson" or path.name.split(".")[0] in skip:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if not path.name.startswith("Practitioner."):
            lines = [line for line in lines if any(p in line for p in patients)]
        if lines:
            (target / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def expected_entries(folder: Path) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for resource in resources(folder):
        kind = resource["resourceType"]
        if kind == "Condition":
            categories = {c["code"] for cat in resource["category"] for c in cat["coding"]}
            kinds["diagnosis" if "encounter-diagnosis" in categories else "condition"] += 1
        elif kind in ENTRY_KIND:
            kinds[ENTRY_KIND[kind]] += 1
    return kinds


def encounters(ledger: Ledger) -> list[Encounter]:
    opened = ledger.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[Encounter.Opened.TOPIC]
    )
    return [ledger.encounter(cast(UUID, n.originator_id)) for n in opened]


def filed(ledger: Ledger) -> list[UUID]:
    notes = ledger.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[Document.Filed.TOPIC]
    )
    return [cast(UUID, n.originator_id) for n in notes]


@pytest.mark.skipif(
    not FULL.is_dir(),
    reason=f"the whole Synthea sample is not at {FULL} (../shared/data beside the project; "
    "the other import tests use the trimmed sample the project carries)",
)
def test_the_whole_synthea_sample_is_imported_completely(hospital: Hospital) -> None:
    interface = staff(hospital)
    ledger = hospital.ledger
    report = import_fhir(ledger, FULL, actor=interface, attending="dr.import")
    source = resources(FULL)
    counts = Counter(r["resourceType"] for r in source)

    assert report.imported == {t: counts[t] for t in (*ENTRY_KIND, "Condition", "Patient")} | {
        "Encounter": counts["Encounter"],
        "DocumentReference": counts["DocumentReference"],
    }
    assert report.skipped == {
        "Device": 16,
        "Location": 44,
        "Organization": 43,
        "PractitionerRole": 43,
    }
    assert len(report.new_mrns) == counts["Patient"] == len(set(report.mrns.values()))
    for pid, mrn in report.mrns.items():
        assert ledger.patient(mrn).mrn == mrn
        assert (
            cast(ImportedResource, ledger.repository.get(imported_id("Patient", pid))).became == mrn
        )

    # What the ledger holds, read back from its aggregates.
    charted = encounters(ledger)
    patients_with_loose = {
        r["patient"]["reference"] for r in source if r["resourceType"] == "AllergyIntolerance"
    }
    assert report.history_encounters == len(patients_with_loose)
    assert len(charted) == counts["Encounter"] + report.history_encounters
    classes = Counter(e.encounter_class for e in charted)
    source_classes = Counter(r["class"]["code"] for r in source if r["resourceType"] == "Encounter")
    assert classes["inpatient"] == source_classes["IMP"]
    assert classes["emergency"] == source_classes["EMER"]
    assert all(e.attending == "dr.import" and e.discharged for e in charted)
    assert sum("; practitioner Dr. " in e.service for e in charted) == counts["Encounter"]
    entries = [entry for e in charted for entry in e.entries.values()]
    assert Counter(entry.kind for entry in entries) == expected_entries(FULL)
    assert all(entry.author == "fhir-interface" for entry in entries)
    assert all(entry.effective_at.tzinfo is not None for entry in entries)
    medications = [entry for entry in entries if entry.kind == "medication"]
    assert all(entry.fields["system"].endswith("rxnorm") for entry in medications)
    assert all(entry.fields["practitioner"].startswith("Dr. ") for entry in medications)
    assert len(filed(ledger)) == counts["DocumentReference"]

    verified = ledger.verify()
    assert verified.documents == counts["DocumentReference"]

    # Bodies are encrypted: no name, nor the source's patient ids, in the stored states.
    stored = b"\n".join(state for *_, state in RawDB(hospital.store_url).rows())
    for resource in source:
        if resource["resourceType"] == "Patient":
            for name in resource["name"]:
                assert name["family"].encode() not in stored
            assert resource["id"].encode() not in stored


def test_a_second_import_writes_nothing(hospital: Hospital, tmp_path: Path) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export")
    first = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert first.events > 0 and first.history_encounters == 1
    before = hospital.ledger.recorder.max_notification_id()
    again = import_fhir(hospital.reopen(), folder, actor=interface, attending="dr.import")
    assert hospital.ledger.recorder.max_notification_id() == before
    assert (again.events, sum(again.imported.values()), again.new_mrns) == (0, 0, [])
    assert again.already == first.imported
    assert again.mrns == first.mrns
    assert again.skipped == first.skipped == {"Device": 1}


def test_an_attachment_is_filed_as_its_decoded_bytes(hospital: Hospital, tmp_path: Path) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    reference = next(r for r in resources(folder) if r["resourceType"] == "DocumentReference")
    record = hospital.ledger.repository.get(imported_id("DocumentReference", reference["id"]))
    document, content = read_document(hospital.ledger, UUID(cast(ImportedResource, record).became))
    assert content == base64.b64decode(reference["content"][0]["attachment"]["data"])
    assert (document.kind, document.media_type) == ("other", "text/plain; charset=utf-8")
    encounter = cast(
        ImportedResource,
        hospital.ledger.repository.get(
            imported_id(
                "Encounter", reference["context"]["encounter"][0]["reference"].split("/")[1]
            )
        ),
    )
    assert document.encounter_id == UUID(encounter.became)


def test_a_later_export_adds_only_what_is_new(hospital: Hospital, tmp_path: Path) -> None:
    """Conditions and procedures arriving later go into the encounters imported before."""
    interface = staff(hospital)
    partial = subset(tmp_path / "partial", skip=("Condition", "Procedure"))
    first = import_fhir(hospital.ledger, partial, actor=interface, attending="dr.import")
    full = subset(tmp_path / "full")
    second = import_fhir(hospital.ledger, full, actor=interface, attending="dr.import")
    counts = Counter(r["resourceType"] for r in resources(full))
    assert second.imported == {"Condition": counts["Condition"], "Procedure": counts["Procedure"]}
    assert second.already == first.imported
    charted = encounters(hospital.ledger)
    assert len(charted) == counts["Encounter"] + 1
    kinds = Counter(entry.kind for e in charted for entry in e.entries.values())
    assert kinds == expected_entries(full)


def test_a_resource_a_later_export_moves_is_not_imported_again(
    hospital: Hospital, tmp_path: Path
) -> None:
    """Its new encounter's record does not list it, but its own record says it is imported."""
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    before = hospital.ledger.recorder.max_notification_id()
    path = folder / "Condition.000.ndjson"
    conditions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    others = {c["encounter"]["reference"] for c in conditions} - {
        conditions[0]["encounter"]["reference"]
    }
    conditions[0]["encounter"]["reference"] = sorted(others)[0]
    path.write_text("\n".join(json.dumps(c) for c in conditions) + "\n", encoding="utf-8")
    again = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert (again.events, sum(again.imported.values())) == (0, 0)
    assert again.already["Condition"] == len(conditions)
    assert hospital.ledger.recorder.max_notification_id() == before


def test_a_patient_merged_away_since_stops_the_import_before_it_writes(
    hospital: Hospital, tmp_path: Path
) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    first = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    (imported,) = first.new_mrns
    survivor = patients.register_patient(
        hospital.ledger,
        {"given_name": "Test", "family_name": "Survivor"},
        actor=interface,
        likely_matches=[],
    )
    patients.merge_patients(
        hospital.ledger, survivor, imported, reason="same person", actor=interface
    )
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as raised:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert str(raised.value) == (
        f"Patient/{SUBSET[0]} was imported as {imported}, which was merged into {survivor}; "
        "nothing was imported."
    )
    assert RawDB(hospital.store_url).rows() == before


def corrupt(folder: Path, name: str, line: int, change: str) -> None:
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines()
    resource = json.loads(lines[line - 1])
    if change == "truncated":
        lines[line - 1] = lines[line - 1][:150]
    elif change == "bad-date":
        resource["onsetDateTime" if "onsetDateTime" in resource else "performedPeriod"] = "soon"
        lines[line - 1] = json.dumps(resource)
    elif change == "no-type":
        del resource["resourceType"]
        lines[line - 1] = json.dumps(resource)
    elif change == "unknown-element":
        resource["colour"] = "blue"
        lines[line - 1] = json.dumps(resource)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("Condition.000.ndjson", "truncated", "it is not JSON"),
        ("Condition.000.ndjson", "bad-date", "onsetDateTime: "),
        ("Condition.000.ndjson", "no-type", "it has no resourceType"),
        ("Procedure.000.ndjson", "unknown-element", "colour: extra inputs are not permitted"),
    ],
)
def test_a_malformed_line_is_named_and_nothing_is_written(
    hospital: Hospital, tmp_path: Path, name: str, change: str, reason: str
) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export")
    corrupt(folder, name, 17, change)
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as raised:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    message = str(raised.value)
    kind = name.split(".")[0]
    assert message.startswith(f"{name} line 17 is not a valid FHIR {kind}: ")
    assert reason in message
    assert message.endswith(".") and "\n" not in message
    assert RawDB(hospital.store_url).rows() == before


@pytest.mark.parametrize(
    ("name", "field", "reference", "message"),
    [
        (
            "Condition.000.ndjson",
            "encounter",
            "Encounter/not-in-the-export",
            "Condition.000.ndjson line 3 cannot be imported: it refers to "
            "Encounter/not-in-the-export, which is neither in the export nor imported before.",
        ),
        (
            "AllergyIntolerance.000.ndjson",
            "patient",
            "Patient/not-in-the-export",
            "AllergyIntolerance.000.ndjson line 3 cannot be imported: it refers to "
            "Patient/not-in-the-export, which is neither in the export nor imported before.",
        ),
    ],
)
def test_a_reference_to_something_not_in_the_export_is_an_error(
    hospital: Hospital, tmp_path: Path, name: str, field: str, reference: str, message: str
) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export")
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines()
    resource = json.loads(lines[2])
    resource[field] = {"reference": reference}
    lines[2] = json.dumps(resource)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as raised:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert str(raised.value) == message
    assert RawDB(hospital.store_url).rows() == before


def test_unknown_types_are_skipped_and_counted(hospital: Hospital, tmp_path: Path) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[1:])
    (folder / "Observation.000.ndjson").write_text(
        json.dumps({"resourceType": "Observation", "id": "o1", "status": "final"}) + "\n\n"
    )
    report = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert report.skipped == {"Device": 1, "Observation": 1}
    assert report.imported["Patient"] == 1


@pytest.mark.parametrize("seen", ["nothing imported yet", "encounters without their entries"])
def test_two_imports_that_race_import_each_resource_once(
    hospital: Hospital, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: str
) -> None:
    """The loser of a race checked before the winner saved; its saves conflict, and it skips.

    The loser reads each record as it was before the winner's save (absent, or an encounter's
    record not yet listing the entries and documents imported into it) until one of its own
    saves conflicts; from then on it sees what the winner saved. It plans every save before
    the first, so it reads most records before any conflict.
    """
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    first = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    before = hospital.ledger.recorder.max_notification_id()

    read: set[str] = set()
    fresh: set[str] = set()
    conflicts: list[str] = []
    real_record, real_save = _Importer._record, _Importer._save

    def record_read_too_early(self: _Importer, key: str) -> ImportedResource | None:
        record = real_record(self, key)
        if key in fresh or record is None:
            return record
        read.add(key)
        if seen == "nothing imported yet":
            return None
        record.included = []
        return record

    def save_and_count_conflicts(self: _Importer, batch: Batch) -> None:
        try:
            real_save(self, batch)
        except ConflictError:
            conflicts.append(type(batch.aggregates[0]).__name__)
            fresh.update(read)
            raise

    monkeypatch.setattr(_Importer, "_record", record_read_too_early)
    monkeypatch.setattr(_Importer, "_save", save_and_count_conflicts)
    with hospital.home.open() as other:
        loser = import_fhir(other, folder, actor=interface, attending="dr.import")
    assert hospital.ledger.recorder.max_notification_id() == before
    # The loser planned on what it read before the winner saved, so its first save conflicted
    # and the rest ran again live. A record it had read while planning it now sees afresh; one
    # it first reads live (the encounters of a patient that looked new, which the plan did not
    # read) is still as before the winner's save, so each of those saves conflicts once; the
    # entries and documents were then each found by their own record.
    if seen == "nothing imported yet":
        assert Counter(conflicts) == {"Patient": 1, "Encounter": first.imported["Encounter"]}
    else:
        assert conflicts == ["Encounter"]
    assert (loser.events, sum(loser.imported.values())) == (0, 0)
    assert loser.already == first.imported
    assert loser.mrns == first.mrns
    hospital.ledger.verify()


def test_only_an_interface_imports_and_the_attending_is_a_physician(
    hospital: Hospital, tmp_path: Path
) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    technician = hospital.enrol("tech1", ["technician"])
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(NotAuthorised, match="Only an interface user may import"):
        import_fhir(hospital.ledger, folder, actor=technician, attending="dr.import")
    with pytest.raises(UsageError, match="tech1 cannot be the attending"):
        import_fhir(hospital.ledger, folder, actor=interface, attending="tech1")
    with pytest.raises(UsageError, match=r"no user named 'dr\.nobody'"):
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.nobody")
    assert RawDB(hospital.store_url).rows() == before


STAYING = "6a4160eb-a793-2f86-2302-378626f46cce"
"""The sample's patient with an inpatient stay (Encounter/aa1e5e89-…, closed in the sample)."""
STAY = "aa1e5e89-847a-beaa-4ea7-da6e1ac3f571"


def still_open(folder: Path, *extra: str) -> None:
    """Make the sample's stay still open (no period.end), and add open copies of it named
    `extra` (each a day later) on the lines after it."""
    path = folder / "Encounter.000.ndjson"
    changed = []
    for line in path.read_text(encoding="utf-8").splitlines():
        resource = json.loads(line)
        if resource["id"] != STAY:
            changed.append(line)
            continue
        del resource["period"]["end"]
        resource["status"] = "in-progress"
        resource.pop("hospitalization", None)
        changed.append(json.dumps(resource))
        for day, name in enumerate(extra, start=1):
            start = f"1989-06-0{day}T10:00:00+00:00"
            changed.append(json.dumps(dict(resource, id=name, period={"start": start})))
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")


def test_a_second_open_inpatient_stay_stops_the_import_before_it_writes(
    hospital: Hospital, tmp_path: Path
) -> None:
    """Issue 17, item 5: closed stays are history and import (the sample's do); an export that
    leaves a patient two open stays is refused in one sentence naming the line, with the
    admission command's own reason (issue 11, item 2: the import runs the command)."""
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=(STAYING,))
    still_open(folder, "second-stay")
    lines = (folder / "Encounter.000.ndjson").read_text(encoding="utf-8").splitlines()
    line = 1 + next(i for i, text in enumerate(lines) if '"id": "second-stay"' in text)
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as raised:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert re.fullmatch(
        rf"Encounter\.000\.ndjson line {line} \(Encounter/second-stay\) cannot be imported: "
        r"MR0000001 cannot be admitted: the patient is already admitted \(inpatient\) in "
        r"encounter [0-9a-f-]{36} since 1989-05-30T19:36\+00:00; transfer the patient within "
        r"that stay, or discharge it first; nothing was imported\.",
        str(raised.value),
    )
    assert RawDB(hospital.store_url).rows() == before


def test_an_imported_open_stay_is_the_patients_one_open_stay(
    hospital: Hospital, tmp_path: Path
) -> None:
    """One open stay imported: an admission by hand is refused, and so is a later export that
    opens another; importing the same export again still writes nothing new."""
    interface = staff(hospital)
    first = subset(tmp_path / "first", patients=(STAYING,))
    still_open(first)
    report = import_fhir(hospital.ledger, first, actor=interface, attending="dr.import")
    (mrn,) = report.new_mrns
    (stay,) = [e for e in charts.encounters(hospital.ledger, mrn) if not e.discharged]
    with pytest.raises(UsageError, match=f"{mrn} cannot be admitted: .* encounter {stay.id} "):
        open_encounter(
            hospital.ledger,
            mrn,
            encounter_class="inpatient",
            attending="dr.import",
            service="medicine",
            effective_at=stay.admitted_at,
            actor=interface,
        )
    again = import_fhir(hospital.ledger, first, actor=interface, attending="dr.import")
    assert again.events == 0
    later = subset(tmp_path / "later", patients=(STAYING,))
    still_open(later, "another-stay")
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(
        UsageError,
        match=rf"\(Encounter/another-stay\) cannot be imported: {mrn} cannot be admitted: .*"
        rf"in encounter {stay.id} since .*; nothing was imported\.$",
    ):
        import_fhir(hospital.ledger, later, actor=interface, attending="dr.import")
    assert RawDB(hospital.store_url).rows() == before


# -- the import runs the commands (issue 11, item 2) ---------------------------------------------

NO_INTERFACE_ADMITS = """
version = "no-interfaces"
[access]
admit_roles = ["technician", "nurse", "physician"]
"""


def test_the_import_refuses_what_the_command_refuses_in_its_own_words(
    hospital: Hospital, tmp_path: Path
) -> None:
    """An attending who is not a physician: the admission command's sentence, after the file
    and line of the first encounter, and nothing written."""
    interface = staff(hospital)
    hospital.enrol("tech1", ["technician"])
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    mrn = patients.register_patient(
        hospital.ledger, {"given_name": "Test", "family_name": "Alone"}, actor=interface,
        likely_matches=[],
    )  # fmt: skip
    with pytest.raises(UsageError) as alone:
        open_encounter(
            hospital.ledger,
            mrn,
            encounter_class="outpatient",
            attending="tech1",
            service="clinic",
            effective_at=datetime(2020, 1, 1, tzinfo=UTC),
            actor=interface,
        )
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as imported:
        import_fhir(hospital.ledger, folder, actor=interface, attending="tech1")
    sentence = str(alone.value).rstrip(".")
    assert (
        sentence
        == "tech1 cannot be the attending: the attending of an encounter must be a physician"
    )
    assert re.fullmatch(
        rf"Encounter\.000\.ndjson line \d+ \(Encounter/[\w.-]+\) cannot be imported: "
        rf"{re.escape(sentence)}; nothing was imported\.",
        str(imported.value),
    )
    assert RawDB(hospital.store_url).rows() == before


@pytest.mark.parametrize(
    ("policy", "error", "reason"),
    [
        (
            NO_INTERFACE_ADMITS,
            NotAuthorised,
            "Only technician, nurse, physician may open, transfer or discharge encounters",
        ),
        ('version = "short"\n[limits]\ntext_chars = 20\n', UsageError,
         "The entry text is longer than 20 characters"),
    ],
)  # fmt: skip
def test_the_access_policy_and_its_limits_apply_to_the_import_as_to_a_person(
    hospital: Hospital, tmp_path: Path, policy: str, error: type[Exception], reason: str
) -> None:
    """Judged by the commands: who may admit (`[access] admit_roles`), how long an entry may be
    (`[limits]`); refused before anything is written."""
    interface = staff(hospital)
    load_access_policy(hospital.ledger, policy, actor=hospital.admin)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(error) as refused:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert re.fullmatch(
        rf"\w+\.000\.ndjson line \d+ \(\w+/[\w.-]+\) cannot be imported: {reason}; "
        r"nothing was imported\.",
        str(refused.value),
    )
    assert RawDB(hospital.store_url).rows() == before


def test_text_a_save_would_refuse_stops_the_import_before_it_writes_naming_its_line(
    hospital: Hospital, tmp_path: Path
) -> None:
    """A control character in a coding the R4B model takes: `Ledger.save` would refuse it; the
    plan finds it first, and names the resource (not the first one of its save)."""
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    path = folder / "Procedure.000.ndjson"
    lines = path.read_text(encoding="utf-8").splitlines()
    resource = json.loads(lines[4])
    resource["code"]["coding"][0]["display"] = "hip \u001b[31mreplacement"
    lines[4] = json.dumps(resource)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(UsageError) as refused:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert str(refused.value) == (
        f"Procedure.000.ndjson line 5 (Procedure/{resource['id']}) cannot be imported: The "
        "fields contains a control character (only newlines and tabs may be used); nothing was "
        "imported."
    )
    assert RawDB(hospital.store_url).rows() == before


def test_dispositions_become_nubc_statuses_or_say_the_status_is_not_known(
    hospital: Hospital, tmp_path: Path
) -> None:
    interface = staff(hospital)
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    path = folder / "Encounter.000.ndjson"
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    given = [
        {"coding": [{"system": "http://www.nubc.org/patient-discharge", "code": "1"}],
         "text": "Discharge to home"},
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                     "code": "exp"}]},
        {"text": "Left before being seen"},
        {"coding": [{"system": "http://example.org/local", "code": "x"}], "text": "Expired"},
    ]  # fmt: skip
    for resource, disposition in zip(found, given, strict=False):
        resource["hospitalization"] = {"dischargeDisposition": disposition}
    found[len(given)]["status"] = "cancelled"
    del found[len(given)]["period"]["end"]
    path.write_text("\n".join(json.dumps(r) for r in found) + "\n", encoding="utf-8")
    import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")

    def disposition(resource: dict[str, Any]) -> str | None:
        record = hospital.ledger.repository.get(imported_id("Encounter", resource["id"]))
        return hospital.ledger.encounter(UUID(cast(ImportedResource, record).became)).disposition

    assert [disposition(r) for r in found[: len(given) + 2]] == [
        "home",
        "expired",
        "Left before being seen",
        "expired",
        "cancelled (FHIR status)",
        "not recorded in the FHIR export",
    ]


def test_a_refusal_after_a_conflict_stops_the_import_midway_and_running_it_again_completes_it(
    hospital: Hospital, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the plan and the first save someone registers a patient (taking the number the
    plan gave the first) and a policy by which interfaces no longer admit is loaded: the first
    save conflicts, the rest runs live, the patients are registered and the first admission is
    refused, saying what was kept. With interfaces admitting again, the import completes."""
    interface = staff(hospital)
    folder = subset(tmp_path / "export")
    real_write = _Importer.write

    def meanwhile(self: _Importer) -> None:
        patients.register_patient(
            hospital.ledger, {"given_name": "Test", "family_name": "Meanwhile"},
            actor=interface, likely_matches=[],
        )  # fmt: skip
        load_access_policy(hospital.ledger, NO_INTERFACE_ADMITS, actor=hospital.admin)
        real_write(self)

    monkeypatch.setattr(_Importer, "write", meanwhile)
    with pytest.raises(NotAuthorised) as refused:
        import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert re.fullmatch(
        r"Encounter\.000\.ndjson line \d+ \(Encounter/[\w.-]+\) cannot be imported: Only "
        r"technician, nurse, physician may open, transfer or discharge encounters; the import "
        r"stopped there \(what it saved before stays; run it again once this is resolved to "
        r"import the rest\)\.",
        str(refused.value),
    )
    assert encounters(hospital.ledger) == []
    monkeypatch.setattr(_Importer, "write", real_write)
    load_access_policy(hospital.ledger, 'version = "again"\n', actor=hospital.admin)
    again = import_fhir(hospital.ledger, folder, actor=interface, attending="dr.import")
    assert again.already == {"Patient": 2} and again.new_mrns == []
    assert sorted(again.mrns.values()) == ["MR0000002", "MR0000003"]
    counts = Counter(r["resourceType"] for r in resources(folder))
    assert again.imported["Encounter"] == counts["Encounter"]
    assert len(encounters(hospital.ledger)) == counts["Encounter"] + again.history_encounters
    hospital.ledger.verify()
