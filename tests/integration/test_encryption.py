"""PHI bodies are encrypted before they are signed: provable without the key, shreddable."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from ledger.errors import ConfigurationError, IntegrityViolation
from ledger.integrity.data_keys import DataDestroyed
from ledger.stores.database import parse_store_url
from ledger.verifier import envelope
from ledger.verifier.export import verify_export
from ledger.verifier.transcoder import MsgpackTranscoder
from tests.conftest import Hospital
from tests.rawdb import RawDB

SECRET = "penicillin anaphylaxis"


class Note(Aggregate):
    """A stand-in for a patient's chart: every event about it is PHI."""

    TOPIC = "test/note"

    class Created(Aggregate.Created):
        TOPIC = "test/note/created"

    class Opened(Aggregate.Created):
        TOPIC = "test/note/opened"
        ENCRYPT_FOR = "originator_id"
        text: str

    class Amended(Aggregate.Event):
        TOPIC = "test/note/amended"
        ENCRYPT_FOR = "originator_id"
        text: str

        def apply(self, aggregate: Any) -> None:
            aggregate.text = self.text

    def __init__(self, text: str) -> None:
        self.text = text

    @classmethod
    def open(cls, text: str) -> Note:
        return cls._create(cls.Opened, id=uuid4(), text=text)

    def amend(self, text: str) -> None:
        self.trigger_event(self.Amended, text=text)


def written(hospital: Hospital) -> UUID:
    note = Note.open(SECRET)
    note.amend(SECRET + ", confirmed")
    hospital.ledger.save(note, signer=hospital.admin)
    hospital.ledger.checkpoint(hospital.node())
    return note.id


def test_bodies_are_stored_encrypted_and_read_back(hospital: Hospital) -> None:
    oid = written(hospital)
    rows = [r for r in RawDB(hospital.store_url).rows() if r[1] == oid]
    assert len(rows) == 2
    for row in rows:
        assert SECRET.encode() not in row[4]
        opened = envelope.unpack(row[4])
        assert opened.enc == {"alg": "A256GCM", "kid": f"subject:{oid.hex}"}
    assert hospital.reopen().repository.get(oid).text == SECRET + ", confirmed"


def test_verify_and_export_need_no_data_key(hospital: Hospital, tmp_path: Path) -> None:
    from ledger.application import Ledger

    oid = written(hospital)
    hospital.ledger.export(tmp_path / "export", node=hospital.node())
    without_key = Ledger(parse_store_url(hospital.store_url))
    try:
        assert without_key.verify().events == 4
        with pytest.raises(ConfigurationError, match="master key is not available"):
            without_key.repository.get(oid)
    finally:
        without_key.close()
    assert verify_export(tmp_path / "export", transcoder=MsgpackTranscoder()).events == 4


def test_a_destroyed_key_leaves_the_ledger_provable_but_unreadable(hospital: Hospital) -> None:
    oid = written(hospital)
    hospital.ledger.data_keys.destroy(oid)
    ledger = hospital.reopen()
    with pytest.raises(DataDestroyed, match="destroyed"):
        ledger.repository.get(oid)
    assert ledger.verify().events == 4
    assert ledger.prove(f"{oid}/2").leaf.originator_version == 2


def test_tampered_ciphertext_is_caught(hospital: Hospital) -> None:
    oid = written(hospital)
    raw = RawDB(hospital.store_url)
    _, _, version, _, state = next(r for r in raw.rows() if r[1] == oid)
    body = envelope.unpack(state).body
    at = state.index(body) + len(body) - 3
    raw.set_state(oid, version, state[:at] + bytes([state[at] ^ 1]) + state[at + 1 :])
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify()
    assert caught.value.check == "signature" and caught.value.originator_id == oid


def test_an_export_made_under_the_first_key_rules_is_refused_by_name(
    hospital: Hospital, tmp_path: Path
) -> None:
    import json

    written(hospital)
    hospital.ledger.export(tmp_path / "export", node=hospital.node())
    keys = tmp_path / "export" / "keys.json"
    document = json.loads(keys.read_text())
    assert document["format"] == "chartledger-export/3"
    document["format"] = "chartledger-export/1"
    keys.write_text(json.dumps(document))
    with pytest.raises(IntegrityViolation, match="chartledger-export/1, made under the key rules"):
        verify_export(tmp_path / "export", transcoder=MsgpackTranscoder())
