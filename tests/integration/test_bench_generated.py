"""The bench's ledger generator (`bench/hospital.py`), small, on every store: the ledger it
writes verifies, holds what it says it wrote (patients, encounters, entries, documents, reads,
discharges), and every event is signed by the user who caused it, not by one bench key."""

from __future__ import annotations

from collections import Counter

import msgpack

from bench.hospital import generate
from tests.conftest import Hospital


def test_a_generated_ledger_verifies_and_holds_its_plan(hospital: Hospital) -> None:
    ledger = hospital.ledger
    out = generate(ledger, hospital.admin, patients_wanted=40, events_wanted=700, seed=3, chunk=25)
    assert out.events >= 700
    ledger.verify()

    topics: Counter[str] = Counter()
    signers: dict[str, set[bytes]] = {}
    for item in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        topics[item.topic] += 1
        signer = msgpack.unpackb(item.state)["signer"]
        signers.setdefault(item.topic, set()).add(signer)
    assert topics["chartledger/patient/registered"] == out.patients == 40
    assert topics["chartledger/encounter/opened"] == out.encounters
    assert topics["chartledger/encounter/discharged"] == out.encounters
    assert topics["chartledger/encounter/entry-recorded"] == out.entries
    assert topics["chartledger/document/filed"] == out.documents > 0
    assert topics["chartledger/access/record-accessed"] == out.reads == 2 * out.encounters
    assert out.inpatient > 0
    # entries and reads are signed by the physicians' and nurses' own keys, registrations by
    # the registrar's: several signers, none of them the administrator's
    admin = msgpack.unpackb(
        next(iter(ledger.recorder.select_notifications(start=1, limit=1))).state
    )["signer"]
    assert len(signers["chartledger/encounter/entry-recorded"]) > 1
    assert len(signers["chartledger/access/record-accessed"]) > 1
    assert signers["chartledger/patient/registered"].isdisjoint({admin})
    assert signers["chartledger/encounter/entry-recorded"].isdisjoint(
        signers["chartledger/patient/registered"]
    )
