"""Tamper tests: change the database with raw SQL and expect the ledger to name the damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.aggregates.user import User
from ledger.commands import users
from ledger.errors import IntegrityViolation
from ledger.integrity.keys import Identity
from ledger.verifier import envelope
from ledger.verifier.envelope import opened_hash
from ledger.verifier.identities import user_id
from tests.conftest import Hospital
from tests.rawdb import RawDB

STAFF = ["tech1", "tech2", "doc1", "doc2", "nurse1"]


def seed(hospital: Hospital) -> list[Identity]:
    """Enrol staff, rotate a key, and sign a checkpoint: a ledger with history."""
    ledger = hospital.ledger
    people = []
    for name in STAFF:
        role = "physician" if name.startswith("doc") else "technician"
        person = hospital.enrol(name, [role])
        people.append(person)
    new_key = Identity.generate("doc1")
    users.rotate_key(ledger, "doc1", new_key.public_raw, actor=people[2])
    ledger.checkpoint(hospital.node())
    return people


def verify_fails(hospital: Hospital) -> IntegrityViolation:
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation) as caught:
        ledger.verify()
    return caught.value


def flip_body_byte(state: bytes) -> bytes:
    opened = envelope.unpack(state)
    at = state.index(opened.body) + len(opened.body) // 2
    return state[:at] + bytes([state[at] ^ 0x01]) + state[at + 1 :]


def test_an_untouched_ledger_verifies(hospital: Hospital) -> None:
    seed(hospital)
    report = hospital.reopen().verify()
    assert report.events == 2 + 2 * len(STAFF) + 1
    assert report.checkpoints == 1
    assert report.genesis == hospital.admin.fingerprint


def test_one_byte_of_one_state_changed(hospital: Hospital) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[3]
    raw.set_state(oid, version, flip_body_byte(state))
    failure = verify_fails(hospital)
    assert failure.position == 3
    assert failure.originator_id == oid and failure.originator_version == version
    assert failure.check == "signature"


def test_a_key_event_whose_body_no_longer_decodes_is_named_by_its_signature(
    hospital: Hospital,
) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, state = raw.rows()[2]
    body = envelope.unpack(state).body
    at = state.index(body)
    raw.set_state(oid, version, state[:at] + b"\xc1" + state[at + 1 :])  # never-valid msgpack
    failure = verify_fails(hospital)
    assert (failure.check, failure.position) == ("signature", 2)


def test_reading_a_tampered_aggregate_fails_loudly(hospital: Hospital) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    oid = user_id("tech2")
    state = next(r[4] for r in raw.rows() if r[1] == oid)
    raw.set_state(oid, 1, flip_body_byte(state))
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation) as caught:
        ledger.user("tech2")
    assert caught.value.check == "log"
    assert caught.value.originator_id == oid


def test_reading_a_tampered_event_the_log_has_not_reached_fails_loudly(
    hospital: Hospital,
) -> None:
    seed(hospital)
    hospital.enrol("late1", ["nurse"])
    raw = RawDB(hospital.store_url)
    oid = user_id("late1")
    state = next(r[4] for r in raw.rows() if r[1] == oid)
    raw.set_state(oid, 1, flip_body_byte(state))
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation) as caught:
        ledger.user("late1")
    assert caught.value.check == "signature"


def test_an_event_deleted_from_the_middle(hospital: Hospital) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    _, oid, version, _, _ = raw.rows()[5]  # tech2's enrolment, the last event of tech2
    raw.delete(oid, version)
    failure = verify_fails(hospital)
    assert failure.position == 5
    assert failure.check == "log"
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation, match=r"missing event|no longer in the store"):
        ledger.repository.get(oid)


def test_the_last_event_deleted(hospital: Hospital) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    rows = raw.rows()
    _, oid, version, _, _ = rows[-1]
    raw.delete(oid, version)
    failure = verify_fails(hospital)
    assert failure.position == len(rows) - 1
    assert failure.check == "missing event"


def test_two_events_states_swapped(hospital: Hospital) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    rows = raw.rows()
    a, b = rows[3], rows[5]
    raw.set_state(a[1], a[2], b[4])
    raw.set_state(b[1], b[2], a[4])
    failure = verify_fails(hospital)
    assert failure.position == 3
    assert failure.check in {"signature", "chain"}


def test_an_event_inserted_that_an_unknown_key_signed(hospital: Hospital) -> None:
    seed(hospital)
    ledger = hospital.ledger
    stranger = Identity.generate("mallory")
    forged = User.register("mallory", ["administrator"], stranger.public_raw, actor="mallory")
    (event,) = forged.collect_events()
    stored, _ = ledger.signed_events.signed_mapper.seal(event, envelope.GENESIS_PREV, stranger)
    raw = RawDB(hospital.store_url)
    count = len(raw.rows())
    raw.insert(stored.originator_id, 1, stored.topic, stored.state)  # type: ignore[arg-type]
    failure = verify_fails(hospital)
    assert failure.position == count
    assert failure.check == "signer"
    assert "unknown key" in str(failure)


def test_an_event_signed_by_a_revoked_key(hospital: Hospital) -> None:
    people = seed(hospital)
    ledger = hospital.ledger
    admin2 = hospital.enrol("admin2", ["administrator"])
    users.revoke_key(ledger, "admin2", "left the hospital", actor=hospital.admin)
    # The revoked administrator forges a key rotation for tech1, chained correctly.
    raw = RawDB(hospital.store_url)
    tech1 = ledger.user("tech1")
    tech1.rotate_key(Identity.generate("tech1").public_raw, actor="admin2")
    (event,) = tech1.collect_events()
    last_state = next(r for r in raw.rows() if r[1] == user_id("tech1"))
    from eventsourcing.persistence import StoredEvent

    prev = opened_hash(StoredEvent(last_state[1], last_state[2], last_state[3], last_state[4]))[2]
    stored, _ = ledger.signed_events.signed_mapper.seal(event, prev, admin2)
    count = len(raw.rows())
    raw.insert(stored.originator_id, stored.originator_version, stored.topic, stored.state)  # type: ignore[arg-type]
    failure = verify_fails(hospital)
    assert failure.position == count
    assert failure.check == "signer"
    assert "revoked" in str(failure)
    assert people  # the seeded staff are still there
    with pytest.raises(IntegrityViolation, match="signer"):
        hospital.ledger.merkle_log.catch_up()


def test_the_log_cut_back_behind_a_checkpoint(hospital: Hospital) -> None:
    seed(hospital)
    size, _ = hospital.ledger.checkpoint(hospital.node())
    raw = RawDB(hospital.store_url)
    raw.cut_log_back_to(size - 2)
    failure = verify_fails(hospital)
    assert failure.check == "checkpoint"
    assert "cut back" in str(failure)


def test_a_damaged_export_is_caught_offline(hospital: Hospital, tmp_path: Path) -> None:
    seed(hospital)
    folder = tmp_path / "export"
    hospital.ledger.export(folder, node=hospital.node())
    from ledger.verifier.export import verify_export
    from ledger.verifier.transcoder import MsgpackTranscoder

    report = verify_export(
        folder, transcoder=MsgpackTranscoder(), expected_genesis=hospital.admin.fingerprint
    )
    assert report.events == 2 + 2 * len(STAFF) + 1 and report.checkpoints == 1
    with pytest.raises(IntegrityViolation, match="genesis"):
        verify_export(folder, transcoder=MsgpackTranscoder(), expected_genesis=bytes(32))
    lines = (folder / "events.ndjson").read_text().splitlines()
    del lines[3]
    (folder / "events.ndjson").write_text("\n".join(lines) + "\n")
    with pytest.raises(IntegrityViolation) as caught:
        verify_export(folder, transcoder=MsgpackTranscoder())
    assert caught.value.position == 3
