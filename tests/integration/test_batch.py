"""A batch of commands (`ledger.commands.batch.Batch`), on every store: the commands check as
alone, later ones see what earlier ones left pending, and the batch saves all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from ledger.aggregates.patient import patient_id
from ledger.commands import documents, encounters, entries, patients
from ledger.commands.batch import Batch
from ledger.errors import ConflictError, UsageError
from ledger.integrity.keys import Identity
from ledger.reads import charts
from ledger.reads.documents import read_document
from policies.limits import UnknownDisposition
from tests.conftest import Hospital
from tests.rawdb import RawDB

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
BEN = {"given_name": "Ben", "family_name": "Salo", "sex": "male"}


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@pytest.fixture
def interface(hospital: Hospital) -> Identity:
    """An interface (it registers, admits, charts and files) and the attending it names."""
    hospital.enrol("doc1", ["physician"])
    return hospital.enrol("lab-system", ["interface"])


def admit(
    hospital: Hospital, batch: Batch | None, mrn: str, actor: Identity, **overrides: object
) -> UUID:
    arguments: dict[str, object] = {
        "encounter_class": "inpatient",
        "attending": "doc1",
        "service": "medicine",
        "effective_at": ago(days=3),
    }
    arguments.update(overrides)
    return encounters.open_encounter(
        hospital.ledger,
        mrn,
        actor=actor,
        batch=batch,
        **arguments,  # type: ignore[arg-type]
    )


def stored(hospital: Hospital) -> tuple[list[tuple[int, UUID, int, str, bytes]], int]:
    raw = RawDB(hospital.store_url)
    return raw.rows(), raw.count("document_chunks")


def test_a_batch_saves_what_its_commands_did_in_one_save(
    hospital: Hospital, interface: Identity
) -> None:
    """A later command loads what an earlier one left pending: the patient registered, the
    encounter opened; two registrations take two numbers; one save writes it all."""
    ledger = hospital.ledger
    batch = Batch(ledger)
    first = patients.register_patient(ledger, ADA, actor=interface, likely_matches=[], batch=batch)
    second = patients.register_patient(ledger, BEN, actor=interface, likely_matches=[], batch=batch)
    stay = admit(hospital, batch, first, interface)
    entry = entries.add_entry(
        ledger,
        stay,
        kind="diagnosis",
        text="Community-acquired pneumonia",
        effective_at=ago(days=2),
        actor=interface,
        batch=batch,
    )
    document = documents.file_attachment(
        ledger,
        first,
        b"discharge summary",
        filename="summary.txt",
        media_type="text/plain",
        kind="discharge-summary",
        actor=interface,
        encounter_id=stay,
        batch=batch,
    )
    encounters.discharge(
        ledger, stay, disposition="01", effective_at=ago(days=1), actor=interface, batch=batch
    )
    assert (first, second) == ("MR0000001", "MR0000002")
    before, chunks = stored(hospital)
    assert chunks == 0  # the bytes wait for the save

    recordings = batch.save(signer=interface)

    after, chunks = stored(hospital)
    written = after[len(before) :]
    assert len(recordings) == len(written) and chunks == 1
    assert [row[1] for row in written] == [r.domain_event.originator_id for r in recordings]
    assert {patient_id(first), patient_id(second), stay, document} <= {r[1] for r in written}
    (encounter,) = charts.encounters(ledger, first)
    assert encounter.id == stay and encounter.disposition == "home"
    assert encounter.entry(entry).author == "lab-system"  # author=None: the interface
    assert read_document(ledger, document)[1] == b"discharge summary"
    ledger.verify()
    with pytest.raises(UsageError, match="saved already"):
        batch.save(signer=interface)


def test_a_failing_command_in_the_middle_of_a_batch_leaves_the_ledger_unchanged(
    hospital: Hospital, interface: Identity
) -> None:
    ledger = hospital.ledger
    before = stored(hospital)
    batch = Batch(ledger)
    mrn = patients.register_patient(ledger, ADA, actor=interface, likely_matches=[], batch=batch)
    stay = admit(hospital, batch, mrn, interface)
    documents.file_attachment(
        ledger,
        mrn,
        b"consent",
        filename="consent.txt",
        media_type="text/plain",
        kind="consent",
        actor=interface,
        encounter_id=stay,
        batch=batch,
    )
    with pytest.raises(UsageError, match="The effective time is in the future"):
        entries.add_entry(
            ledger,
            stay,
            kind="diagnosis",
            text="Written ahead",
            effective_at=datetime.now(UTC) + timedelta(days=1),
            actor=interface,
            batch=batch,
        )
    with pytest.raises(UsageError, match="one of its commands failed"):
        batch.save(signer=interface)
    with pytest.raises(UsageError, match="one of its commands failed"):
        batch.add(ledger.user("doc1"))
    assert stored(hospital) == before


def test_a_batch_whose_save_conflicts_writes_none_of_it(
    hospital: Hospital, interface: Identity
) -> None:
    """Another registration takes the batch's number before it saves: the save conflicts, and
    neither the patient nor the encounter, entry or document bytes that build on it are
    written."""
    ledger = hospital.ledger
    batch = Batch(ledger)
    mrn = patients.register_patient(ledger, ADA, actor=interface, likely_matches=[], batch=batch)
    stay = admit(hospital, batch, mrn, interface, encounter_class="outpatient")
    entries.add_entry(
        ledger,
        stay,
        kind="allergy",
        text="Penicillin",
        effective_at=ago(days=2),
        actor=interface,
        batch=batch,
    )
    batch.store(patient_id(mrn), b"bytes")
    taken = patients.register_patient(ledger, BEN, actor=interface, likely_matches=[])
    assert taken == mrn
    before = RawDB(hospital.store_url).rows()
    with pytest.raises(ConflictError):
        batch.save(signer=interface)
    assert RawDB(hospital.store_url).rows() == before
    assert ledger.patient(mrn).demographics["given_name"] == "Ben"
    assert charts.encounters(ledger, mrn) == []


def test_the_checks_see_what_the_batch_holds(hospital: Hospital, interface: Identity) -> None:
    """The one open stay: a second admission in the same batch, or in one planned after it,
    is refused with the command's own sentence; discharged in the batch, it is not."""
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=interface, likely_matches=[])
    batch = Batch(ledger)
    stay = admit(hospital, batch, mrn, interface)
    since = ago(days=3)
    later = batch.next()
    for where in (batch, later):
        with pytest.raises(UsageError) as refused:
            admit(hospital, where, mrn, interface, effective_at=since)
        assert str(refused.value).startswith(
            f"{mrn} cannot be admitted: the patient is already admitted (inpatient) in "
            f"encounter {stay} since "
        )
    fresh = Batch(ledger)
    first = admit(hospital, fresh, mrn, interface)
    encounters.discharge(
        ledger,
        first,
        disposition=UnknownDisposition("not recorded by the laboratory system"),
        effective_at=ago(days=2),
        actor=interface,
        batch=fresh,
    )
    then = fresh.next()
    second = admit(hospital, then, mrn, interface, effective_at=ago(days=1))
    with pytest.raises(ValueError, match="pending in an earlier batch"):
        then.add(fresh.encounter(first))
    fresh.save(signer=interface)
    then.save(signer=interface)
    assert [(e.id, e.disposition) for e in charts.encounters(ledger, mrn)] == [
        (first, "not recorded by the laboratory system"),
        (second, None),
    ]
