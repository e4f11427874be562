"""`verify(since_last=True)`: from the latest recorded verification on, and no further back."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.commands import users
from ledger.errors import IntegrityViolation
from ledger.integrity.keys import Identity
from ledger.integrity.verification_record import Verification
from ledger.verifier import envelope
from ledger.verifier.envelope import opened_hash
from ledger.verifier.identities import user_id
from tests.conftest import Hospital
from tests.integration.test_documents import blob_rows, set_blob, setup
from tests.integration.test_tamper import flip_body_byte, seed
from tests.rawdb import RawDB


def verified_and_recorded(hospital: Hospital) -> int:
    """A full verification, recorded by the administrator; the size it verified."""
    ledger = hospital.reopen()
    report = ledger.verify()
    ledger.record_verification(report, hospital.admin)
    return report.tree_size


def grow(hospital: Hospital, people: list[Identity]) -> None:
    """New events after the recorded verification: an enrolment (a new aggregate) and a key
    rotation continuing an aggregate whose earlier events lie before it."""
    hospital.enrol("nurse2", ["nurse"])
    users.rotate_key(hospital.ledger, "doc2", Identity.generate("doc2").public_raw, actor=people[3])


def test_only_the_events_after_the_last_verification_are_checked(hospital: Hospital) -> None:
    people = seed(hospital)
    size = verified_and_recorded(hospital)
    grow(hospital, people)
    total = len(RawDB(hospital.store_url).rows())
    report = hospital.reopen().verify(since_last=True)
    assert report.since == size
    assert report.events == total - size  # the recorded fact itself and the new events
    assert report.tree_size == total
    assert report.root == hospital.reopen().verify().root


def test_without_a_recorded_verification_the_run_is_full(hospital: Hospital) -> None:
    seed(hospital)
    report = hospital.reopen().verify(since_last=True)
    assert (report.since, report.events) == (0, len(RawDB(hospital.store_url).rows()))


def test_the_recorded_fact_is_in_the_log_signed_by_who_verified(hospital: Hospital) -> None:
    seed(hospital)
    size = verified_and_recorded(hospital)
    rows = RawDB(hospital.store_url).rows()
    facts = [row for row in rows if row[3] == Verification.Completed.TOPIC]
    assert len(facts) == 1
    _, oid, _, _, state = facts[0]
    opened = envelope.unpack(state)
    assert opened.signer == hospital.admin.fingerprint
    assert rows.index(facts[0]) == size  # right after what it verified
    fact = hospital.reopen().repository.get(oid)
    assert (fact.actor, fact.tree_size) == ("admin", size)
    hospital.reopen().verify()  # its signature is checked with every other


def test_a_tampered_event_after_the_last_verification_is_caught(hospital: Hospital) -> None:
    people = seed(hospital)
    size = verified_and_recorded(hospital)
    grow(hospital, people)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[size + 1]
    raw.set_state(oid, version, flip_body_byte(state))
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify(since_last=True)
    assert (caught.value.check, caught.value.position) == ("signature", size + 1)


def test_a_tampered_recorded_verification_is_caught(hospital: Hospital) -> None:
    seed(hospital)
    size = verified_and_recorded(hospital)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[size]
    raw.set_state(oid, version, flip_body_byte(state))
    with pytest.raises(IntegrityViolation):
        hospital.reopen().verify(since_last=True)


def test_an_event_appended_out_of_chain_after_it_is_caught(hospital: Hospital) -> None:
    people = seed(hospital)
    verified_and_recorded(hospital)
    ledger = hospital.reopen()
    raw = RawDB(hospital.store_url)
    tech2 = ledger.user("tech2")  # every event of tech2 lies before the recorded verification
    tech2.rotate_key(Identity.generate("tech2").public_raw, actor="tech2")
    (event,) = tech2.collect_events()
    last = [r for r in raw.rows() if r[1] == user_id("tech2")][-1]
    wrong = opened_hash(StoredEvent(last[1], last[2] - 1, last[3], last[4]))[2]  # not its head
    stored, _ = ledger.signed_events.signed_mapper.seal(event, wrong, people[1])
    count = len(raw.rows())
    raw.insert(stored.originator_id, stored.originator_version, stored.topic, stored.state)  # type: ignore[arg-type]
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify(since_last=True)
    assert (caught.value.check, caught.value.position) == ("chain", count)
    assert "does not follow the aggregate's previous event" in str(caught.value)


def test_a_tampered_event_before_it_is_left_to_a_full_verification(hospital: Hospital) -> None:
    """What incremental means: what the last verification covered is not read again."""
    people = seed(hospital)
    size = verified_and_recorded(hospital)
    grow(hospital, people)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[size - 2]
    raw.set_state(oid, version, flip_body_byte(state))
    assert hospital.reopen().verify(since_last=True).since == size
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify()
    assert caught.value.position == size - 2


def test_the_recorded_registry_is_the_registry(hospital: Hospital) -> None:
    """Rotated, revoked and invited: what a resumed run starts from is what the log built."""
    from ledger.verifier.registry import KeyRegistry

    people = seed(hospital)
    users.revoke_key(hospital.ledger, "tech2", "left", actor=hospital.admin)
    users.invite(hospital.ledger, "nurse9", ["nurse"], actor=hospital.admin)
    registry = hospital.reopen().verify().registry
    assert KeyRegistry.from_state(registry.to_state()) == registry
    assert people


def test_only_the_documents_filed_after_it_are_re_hashed(
    hospital: Hospital, tmp_path: Path
) -> None:
    from ledger.commands import documents

    tech, mrn, scan = setup(hospital, tmp_path)
    first = documents.file_document(hospital.ledger, mrn, scan, kind="consent", actor=tech)
    verified_and_recorded(hospital)
    other = tmp_path / "letter.pdf"
    other.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 30)
    documents.file_document(hospital.ledger, mrn, other, kind="correspondence", actor=tech)
    assert hospital.reopen().verify(since_last=True).documents == 1
    assert hospital.reopen().verify().documents == 2
    digest = hospital.ledger.document_info(first).sha256
    rows = {row[0]: row for row in blob_rows(hospital.ledger)}
    set_blob(hospital.ledger, digest, rows[digest][2][:-1] + b"\x00")
    assert hospital.reopen().verify(since_last=True).documents == 1  # filed before: not read
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify()
    assert caught.value.check == "document"
